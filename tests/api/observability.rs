//! Observability: every metric family issue 8 lists is exported, and every request has an
//! id (`x-request-id`, taken from the client or made) that is echoed and logged.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::*;
use crate::process::serve_with_env;

#[tokio::test]
async fn metrics_export_every_family_operators_need() {
    let app = spawn_app().await;
    let id = app.submit_ok(noop_spec()).await;
    app.wait_terminal(&id, 20).await;
    let _ = app.post_raw("/requester/submit", "{}").await;
    let text = app.get_text("/metrics").await;
    let families = [
        ("hake_jobs_submitted", "counter"),
        ("hake_jobs_finished", "counter"),
        ("hake_executions_running", "gauge"),
        ("hake_executions_queued", "gauge"),
        ("hake_jobs_waiting", "gauge"),
        ("hake_submit_latency_seconds", "histogram"),
        ("hake_log_bytes", "counter"),
        ("hake_log_records", "counter"),
        ("hake_log_followers", "gauge"),
        ("hake_log_ring_evictions", "counter"),
        ("hake_log_gaps", "counter"),
        ("hake_signature_failures", "counter"),
        ("hake_http_requests", "counter"),
        ("hake_nonces_expired", "counter"),
    ];
    for (name, kind) in families {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "{name} ({kind}) missing:\n{text}"
        );
    }
    assert!(text.contains("hake_jobs_submitted_total 1\n"), "{text}");
    assert!(
        text.contains(r#"hake_jobs_finished_total{state="Completed"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"hake_http_requests_total{route="/requester/submit",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("hake_submit_latency_seconds_count 1\n"),
        "{text}"
    );
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_a_given_one_is_echoed() {
    let app = spawn_app().await;
    let r = app.http.get(app.url("/livez")).send().await.unwrap();
    let made = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made.len(), 36, "a UUID: {made}");
    let r = app
        .http
        .post(app.url("/requester/states"))
        .header("x-request-id", "my-trace-17")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["x-request-id"], "my-trace-17");
    // Errors made before the handler (unknown route) carry one too.
    let r = app.http.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn the_request_id_is_in_the_servers_json_log() {
    let dir = tempfile::tempdir().unwrap();
    let p = serve_with_env(
        &dir.path().join("data"),
        &[],
        &[("RUST_LOG", "hake=debug,tower_http=debug")],
    );
    let r = p
        .http
        .post(format!("{}/version", p.base))
        .header("x-request-id", "req-4711-abc")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = p
            .lines
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains("req-4711-abc"))
            .cloned();
        if let Some(line) = line {
            let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
            let span = &v["span"];
            assert_eq!(span["request_id"], "req-4711-abc", "{line}");
            assert_eq!(span["path"], "/version", "{line}");
            break;
        }
        assert!(Instant::now() < deadline, "no log line with the request id");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
