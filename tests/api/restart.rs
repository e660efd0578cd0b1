//! Restarts: graceful (in process) and kill -9 (the real binary as a child process).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::process::serve;

#[tokio::test]
async fn every_job_and_its_history_survive_a_restart() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = app.submit_ok(noop_spec()).await;
        app.wait_terminal(&id, 20).await;
        ids.push(id);
    }
    let before: Vec<_> = futures::future::join_all(ids.iter().map(|id| app.events(id))).await;
    let app = app.restart().await;
    for (id, history) in ids.iter().zip(before) {
        let state = app.state(id).await;
        assert_eq!(state["State"], "Completed");
        assert_eq!(app.events(id).await, history);
    }
    let (_, list) = app
        .post("/requester/list", &json!({"return_all": true}))
        .await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn kill_9_during_a_run_fails_running_executions_and_reruns_queued_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let signer = hake::auth::Signer::generate_ed25519();
    let http = reqwest::Client::new();
    let post = |base: String, path: &'static str, body: String| {
        let http = http.clone();
        async move {
            let r = http
                .post(format!("{base}{path}"))
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let submit = |base: String, spec: serde_json::Value| {
        let payload =
            json!({"ClientID": signer.client_id(), "APIVersion": "V1beta1", "Spec": spec})
                .to_string();
        post(base, "/requester/submit", signer.envelope(&payload))
    };

    let first = serve(&data, &["--allow-exec", "--max-concurrent-executions", "1"]);
    let (s, running) = submit(first.base.clone(), exec_spec(&["sleep", "60"])).await;
    assert_eq!(s, StatusCode::OK);
    let running = running["job"]["Metadata"]["ID"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, queued) = submit(
        first.base.clone(),
        exec_spec(&["echo", "ran after restart"]),
    )
    .await;
    let queued = queued["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
    // Wait until the first job runs and the second is queued behind it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, a) = post(
            first.base.clone(),
            "/requester/states",
            json!({"job_id": running}).to_string(),
        )
        .await;
        let (_, b) = post(
            first.base.clone(),
            "/requester/states",
            json!({"job_id": queued}).to_string(),
        )
        .await;
        if a["state"]["State"] == "InProgress" && b["state"]["State"] == "Queued" {
            break;
        }
        assert!(Instant::now() < deadline, "{a} {b}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(first); // SIGKILL: no graceful anything.

    let second = serve(&data, &["--allow-exec", "--max-concurrent-executions", "1"]);
    let (s, a) = post(
        second.base.clone(),
        "/requester/states",
        json!({"job_id": running}).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(a["state"]["State"], "Error", "{a}");
    assert_eq!(a["state"]["Executions"][0]["State"], "Failed");
    assert_eq!(
        a["state"]["Executions"][0]["Status"],
        "interrupted by node restart"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let b = loop {
        let (_, b) = post(
            second.base.clone(),
            "/requester/states",
            json!({"job_id": queued}).to_string(),
        )
        .await;
        if b["state"]["State"] == "Completed" {
            break b;
        }
        assert!(
            Instant::now() < deadline,
            "queued job did not run after restart: {b}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        b["state"]["Executions"][0]["RunOutput"]["stdout"],
        "ran after restart\n"
    );
}

#[tokio::test]
async fn graceful_shutdown_records_running_executions_as_interrupted() {
    let app = spawn_app().await;
    let id = app.submit_ok(exec_spec(&["sleep", "60"])).await;
    app.wait_for(&id, 20, |s| s["Executions"][0]["State"] == "BidAccepted")
        .await;
    let app = app.restart().await;
    let state = app.state(&id).await;
    assert_eq!(state["Executions"][0]["State"], "Failed", "{state}");
    assert_eq!(
        state["Executions"][0]["Status"],
        "interrupted by node shutdown"
    );
    assert_eq!(state["State"], "Error");
}
