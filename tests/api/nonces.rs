//! Freshness nonces: a repeated cancel is idempotent, a nonce belongs to one request, and
//! expired nonces are deleted so the table stays bounded.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use hake::auth::Signer;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn submit_payload(signer: &Signer, nonce: &str) -> String {
    json!({"ClientID": signer.client_id(), "APIVersion": "V1beta1", "Spec": noop_spec(),
           "Timestamp": now_ms(), "Nonce": nonce})
    .to_string()
}

fn cancel_payload(signer: &Signer, job: &str, nonce: &str) -> String {
    json!({"ClientID": signer.client_id(), "JobID": job, "Reason": "enough",
           "Timestamp": now_ms(), "Nonce": nonce})
    .to_string()
}

async fn running_job(app: &TestApp) -> String {
    let id = app.submit_ok(exec_spec(&["sleep", "30"])).await;
    app.wait_for(&id, 20, |s| s["Executions"][0]["State"] == "BidAccepted")
        .await;
    id
}

#[tokio::test]
async fn a_repeated_cancel_with_the_same_nonce_answers_the_current_state() {
    let app = spawn_app().await;
    let id = running_job(&app).await;
    let envelope = app
        .signer
        .envelope(&cancel_payload(&app.signer, &id, "c-1"));
    let (status, first) = app.post_raw("/requester/cancel", envelope.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["state"]["State"], "Cancelled");
    // The same request again (a retry after a lost answer): 200 and the same state.
    let (status, again) = app.post_raw("/requester/cancel", envelope).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["state"], first["state"]);
    // A new cancel of the ended job is still a conflict.
    let (status, body) = app
        .post_signed(
            "/requester/cancel",
            &app.signer,
            &cancel_payload(&app.signer, &id, "c-2"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "job-terminal");
    let (status, _) = app.cancel_as(&app.signer, &id, "no nonce").await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn identical_cancels_at_the_same_time_both_get_200() {
    let app = spawn_app().await;
    let id = running_job(&app).await;
    let envelope = app
        .signer
        .envelope(&cancel_payload(&app.signer, &id, "same"));
    let (a, b) = tokio::join!(
        app.post_raw("/requester/cancel", envelope.clone()),
        app.post_raw("/requester/cancel", envelope)
    );
    assert_eq!(a.0, StatusCode::OK, "{}", a.1);
    assert_eq!(b.0, StatusCode::OK, "{}", b.1);
    assert_eq!(a.1["state"]["State"], "Cancelled");
    assert_eq!(b.1["state"]["State"], "Cancelled");
    let cancelled = app
        .events(&id)
        .await
        .into_iter()
        .filter(|e| e["JobState"]["New"] == "Cancelled")
        .count();
    assert_eq!(cancelled, 1, "the job was cancelled once");
}

#[tokio::test]
async fn a_nonce_serves_one_request_only() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_signed(
            "/requester/submit",
            &app.signer,
            &submit_payload(&app.signer, "n-1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
    // The submit's nonce cannot cancel.
    let (status, body) = app
        .post_signed(
            "/requester/cancel",
            &app.signer,
            &cancel_payload(&app.signer, &id, "n-1"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "nonce-reused");

    // A cancel's nonce cannot submit, nor cancel another job.
    let other = running_job(&app).await;
    let (status, _) = app
        .post_signed(
            "/requester/cancel",
            &app.signer,
            &cancel_payload(&app.signer, &other, "n-2"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .post_signed(
            "/requester/submit",
            &app.signer,
            &submit_payload(&app.signer, "n-2"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "nonce-reused");
    let third = running_job(&app).await;
    let (status, body) = app
        .post_signed(
            "/requester/cancel",
            &app.signer,
            &cancel_payload(&app.signer, &third, "n-2"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // Another client may use the same nonce.
    let bob = Signer::generate_ed25519();
    let (status, _) = app
        .post_signed("/requester/submit", &bob, &submit_payload(&bob, "n-1"))
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn nonce_count(app: &TestApp) -> i64 {
    app.app.jobs.store().nonce_count().await.unwrap()
}

#[tokio::test]
async fn expired_nonces_are_deleted_so_the_table_stays_bounded() {
    // A window long enough that a loaded machine still submits all five inside it.
    let app = spawn_with(|c| c.freshness_window_secs = 3).await;
    let mut first: Option<(String, String)> = None;
    for i in 0..5 {
        let payload = submit_payload(&app.signer, &format!("n-{i}"));
        let envelope = app.signer.envelope(&payload);
        let (status, body) = app.post_raw("/requester/submit", envelope.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
        first.get_or_insert((envelope, id));
    }
    let (envelope, id) = first.unwrap();
    // Within the window a retry returns the original job.
    let (status, body) = app.post_raw("/requester/submit", envelope.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["job"]["Metadata"]["ID"], id.as_str());
    assert_eq!(nonce_count(&app).await, 5);

    // Two windows later the sweeper (every second here) has deleted them all.
    let deadline = Instant::now() + Duration::from_secs(30);
    while nonce_count(&app).await > 0 {
        assert!(Instant::now() < deadline, "nonces were not deleted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The old envelope can no longer be replayed: its timestamp is stale.
    let (status, body) = app.post_raw("/requester/submit", envelope).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "stale-timestamp");
    let metrics = app.get_text("/metrics").await;
    assert!(metrics.contains("hake_nonces_expired_total 5"), "{metrics}");
    let listed: Value = app
        .post("/requester/list", &json!({"return_all": true}))
        .await
        .1;
    assert_eq!(
        listed["jobs"].as_array().unwrap().len(),
        5,
        "no job was made twice"
    );
}
