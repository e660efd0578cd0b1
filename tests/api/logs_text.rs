//! The text/plain rendering of a history held in the database: the stored text goes out
//! as it is stored, and is byte for byte the data of the NDJSON rendering's records with
//! each gap as its line, under every filter.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::log_client::*;

/// The text/plain body the NDJSON frames stand for.
fn as_text(frames: &[Value]) -> String {
    frames
        .iter()
        .map(|f| match (&f["Data"], &f["Gap"]) {
            (Value::String(data), _) => data.clone(),
            (_, Value::Object(gap)) => format!(
                "[hake: log records {}..={} were dropped]\n",
                gap["From"], gap["To"]
            ),
            _ => String::new(),
        })
        .collect()
}

#[tokio::test]
async fn text_history_from_the_database_is_the_ndjson_data_with_gap_lines_under_any_filter() {
    // Chunks of about 50 records (64 KB), so stored runs are long enough to go out as
    // they are stored; the cap drops the last part of the log.
    let app = spawn_with(|c| {
        c.log_ring_bytes = 256 * 1024;
        c.log_ring_lines = 200;
        c.log_max_bytes = 400_000;
    })
    .await;
    let id = app
        .submit_ok(sh(
            "pad=$(printf '%0990d' 0); i=0; while [ $i -lt 600 ]; do echo \"$i $pad\"; \
             if [ $((i % 10)) = 9 ]; then echo \"err $i\" >&2; fi; i=$((i+1)); done",
        ))
        .await;
    app.wait_terminal(&id, 60).await;
    let all = frames(&app, &id, json!({})).await;
    assert!(
        all.iter().any(|f| f["Gap"].is_object()),
        "the cap shows as a gap"
    );
    assert!(records(&all).iter().any(|r| r["Tag"] == 2));
    for extra in [
        json!({}),
        json!({"Stream": "stdout"}),
        json!({"Stream": "stderr"}),
        json!({"Stream": "stdout", "AfterSeq": 123}),
        json!({"Tail": 30}),
        json!({"Stream": "stderr", "Tail": 5}),
    ] {
        let want = as_text(&frames(&app, &id, extra.clone()).await);
        let resp = open(
            &app,
            &payload(&app, &id, extra.clone()),
            &[("accept", "text/plain")],
        )
        .await;
        assert_eq!(resp.status(), 200);
        let got = resp.text().await.unwrap();
        assert!(
            got == want,
            "{extra}: text/plain has {} bytes, the NDJSON records {}",
            got.len(),
            want.len()
        );
    }
}
