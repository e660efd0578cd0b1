//! Cancel: owner only, atomic over executions, 409 once terminal, and nothing keeps
//! running afterwards.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn cancel_of_a_running_job_kills_the_whole_process_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = writable_root(dir.path());
    let app = spawn_with(|c| c.allowed_input_dirs = vec![root]).await;
    let pids = dir.path().join("pids");
    let script =
        "P=\"$HAKE_INPUTS/shared/pids\"; sleep 300 & echo $! > \"$P\"; echo $$ >> \"$P\"; wait";
    let id = app
        .submit_ok(shared_input(exec_spec(&["sh", "-c", script]), dir.path()))
        .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&pids)
        .map(|s| s.lines().count() < 2)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "job never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pids: Vec<i32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert!(pids.iter().all(|&p| process_alive(p)));

    let (status, body) = app.cancel_as(&app.signer, &id, "no longer needed").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"]["State"], "Cancelled");
    let exec = &body["state"]["Executions"][0];
    assert_eq!(exec["State"], "Cancelled");
    assert_eq!(exec["Status"], "no longer needed");
    for p in pids {
        assert!(
            !process_alive(p),
            "process {p} still alive after the job says Cancelled"
        );
    }
    let events = app.events(&id).await;
    let last = events.last().unwrap();
    assert_eq!(last["JobState"]["New"], "Cancelled");
    assert_eq!(last["Comment"], "no longer needed");
}

#[tokio::test]
async fn cancel_of_finished_job_is_409() {
    let app = spawn_app().await;
    let id = app.submit_ok(noop_spec()).await;
    app.wait_terminal(&id, 20).await;
    let (status, body) = app.cancel_as(&app.signer, &id, "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "job-terminal");
    assert_eq!(body["details"]["state"], "Completed");
}

#[tokio::test]
async fn cancel_by_another_client_is_403_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.submit_ok(exec_spec(&["sleep", "30"])).await;
    let stranger = hake::auth::Signer::generate_rsa(2048).unwrap();
    let (status, body) = app.cancel_as(&stranger, &id, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "not-job-owner");
    let state = app.state(&id).await;
    assert_ne!(state["State"], "Cancelled");
    let (status, _) = app.cancel_as(&app.signer, &id[..8], "").await;
    assert_eq!(status, StatusCode::OK, "owner may cancel by short id");
}

#[tokio::test]
async fn cancel_of_a_queued_job_never_runs_it() {
    let app = spawn_with(|c| c.max_concurrent_executions = Some(1)).await;
    let blocker = app.submit_ok(exec_spec(&["sleep", "30"])).await;
    app.wait_for(&blocker, 20, |s| s["State"] == "InProgress")
        .await;
    let queued = app.submit_ok(exec_spec(&["true"])).await;
    app.wait_for(&queued, 20, |s| s["State"] == "Queued").await;
    let (status, body) = app.cancel_as(&app.signer, &queued, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"]["State"], "Cancelled");
    assert_eq!(body["state"]["Executions"], json!([]));
    let (status, _) = app.cancel_as(&app.signer, &blocker, "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.cancel_as(&app.signer, &blocker, "").await;
    assert_eq!(status, StatusCode::CONFLICT, "second cancel");
}

#[tokio::test]
async fn cancel_with_an_rsa_key_like_bacalhau_sdk_works() {
    let app = spawn_app().await;
    let rsa = hake::auth::Signer::generate_rsa(2048).unwrap();
    let (status, body) = app.submit_as(&rsa, exec_spec(&["sleep", "30"])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
    // The SDK signs {"ClientID", "JobID"} with ", " / ": " separators and no Reason.
    let payload = format!(
        "{{\"ClientID\": \"{}\", \"JobID\": \"{id}\"}}",
        rsa.client_id()
    );
    let (status, body) = app.post_signed("/requester/cancel", &rsa, &payload).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"]["State"], "Cancelled");
}
