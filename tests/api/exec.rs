//! The Exec engine on real processes: success, failure, timeout, queueing, inputs,
//! outputs and the Local publisher.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn exec_success_captures_output_and_exit_code() {
    let app = spawn_app().await;
    let id = app
        .submit_ok(exec_spec(&["sh", "-c", "echo hello; echo oops >&2"]))
        .await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let out = &state["Executions"][0]["RunOutput"];
    assert_eq!(out["stdout"], "hello\n");
    assert_eq!(out["stderr"], "oops\n");
    assert_eq!(out["exitCode"], 0);
    assert_eq!(out["stdouttruncated"], false);
}

#[tokio::test]
async fn non_zero_exit_fails_the_execution_and_errors_the_job() {
    let app = spawn_app().await;
    let id = app.submit_ok(exec_spec(&["sh", "-c", "exit 3"])).await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Error");
    let e = &state["Executions"][0];
    assert_eq!(e["State"], "Failed");
    assert_eq!(e["Status"], "exit code 3");
    assert_eq!(e["RunOutput"]["exitCode"], 3);
    let events = app.events(&id).await;
    assert_eq!(events.last().unwrap()["Comment"], "exit code 3");
    let (_, results) = app.post("/requester/results", &json!({"job_id": id})).await;
    assert_eq!(
        results["results"],
        json!([]),
        "no results for a failed execution"
    );
}

#[tokio::test]
async fn a_program_that_cannot_start_fails_with_the_reason() {
    let app = spawn_app().await;
    let id = app.submit_ok(exec_spec(&["/definitely/not/here"])).await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Error");
    let status = state["Executions"][0]["Status"].as_str().unwrap();
    assert!(status.contains("cannot start"), "{status}");
}

#[tokio::test]
async fn timeout_kills_the_execution_and_says_so() {
    let app = spawn_app().await;
    let mut spec = exec_spec(&["sleep", "30"]);
    spec["Timeout"] = json!(1);
    let id = app.submit_ok(spec).await;
    let started = std::time::Instant::now();
    let state = app.wait_terminal(&id, 20).await;
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(state["State"], "Error");
    assert_eq!(state["Executions"][0]["State"], "Failed");
    assert_eq!(state["Executions"][0]["Status"], "timed out after 1s");
    assert_ne!(state["TimeoutAt"], "0001-01-01T00:00:00Z");
}

#[tokio::test]
async fn output_over_the_capture_limit_is_cut_and_flagged() {
    let app = spawn_with(|c| c.output_capture_bytes = 100).await;
    let id = app.submit_ok(exec_spec(&["sh", "-c", "seq 1 1000"])).await;
    let state = app.wait_terminal(&id, 20).await;
    let out = &state["Executions"][0]["RunOutput"];
    assert_eq!(out["stdout"].as_str().unwrap().len(), 100);
    assert_eq!(out["stdouttruncated"], true);
}

#[tokio::test]
async fn jobs_beyond_the_bound_are_queued_and_start_in_submit_order() {
    // The jobs append to one file in a writable LocalDirectory input: the only place
    // outside its own workspace a confined job may write.
    let dir = tempfile::tempdir().unwrap();
    let root = writable_root(dir.path());
    let app = spawn_with(|c| {
        c.max_concurrent_executions = Some(1);
        c.allowed_input_dirs = vec![root];
    })
    .await;
    let log = dir.path().join("order");
    let appending = |script: &str| shared_input(exec_spec(&["sh", "-c", script]), dir.path());
    let first = app
        .submit_ok(appending(
            "echo first >> \"$HAKE_INPUTS/shared/order\"; sleep 1",
        ))
        .await;
    let mut rest = Vec::new();
    for i in 0..4 {
        rest.push(
            app.submit_ok(appending(&format!(
                "echo {i} >> \"$HAKE_INPUTS/shared/order\""
            )))
            .await,
        );
    }
    let queued = app.state(&rest[0]).await;
    assert_eq!(queued["State"], "Queued", "{queued}");
    for id in std::iter::once(&first).chain(&rest) {
        assert_eq!(app.wait_terminal(id, 30).await["State"], "Completed");
    }
    let order = std::fs::read_to_string(&log).unwrap();
    assert_eq!(order, "first\n0\n1\n2\n3\n");
    let events = app.events(&rest[0]).await;
    assert_eq!(events[1]["JobState"]["New"], "Queued");
}

#[tokio::test]
async fn exec_sees_its_inputs_outputs_and_environment() {
    let app = spawn_app().await;
    let spec = json!({
        "Engine": "Exec",
        "Deal": {"Concurrency": 1},
        "PublisherSpec": {"Type": "Local"},
        "Exec": {"Command": ["sh", "-c",
            "cat \"$HAKE_INPUTS/inputs/greeting.txt\"; echo \"$GREETING\"; pwd; echo made > \"$HAKE_OUTPUTS/out/made.txt\""],
                 "EnvironmentVariables": {"GREETING": "hi there"}},
        "inputs": [{"StorageSource": "Inline", "URL": "data:text/plain;base64,aGVsbG8gaW5wdXQ=", "path": "/inputs/greeting.txt"}],
        "outputs": [{"Name": "out", "path": "/outputs"}],
    });
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let stdout = run_stdout(&state);
    assert!(stdout.starts_with("hello inputhi there\n"), "{stdout}");
    assert!(stdout.contains("/work"), "scratch dir as cwd: {stdout}");

    let files = download_results(&app, &id).await;
    assert_eq!(
        files.get("out/made.txt").map(String::as_str),
        Some("made\n")
    );
    assert_eq!(files.get("exitCode").map(String::as_str), Some("0"));
    assert!(files["stdout"].contains("hi there"));
}

#[tokio::test]
async fn unknown_result_files_are_404_json() {
    let app = spawn_app().await;
    let (status, body) = {
        let resp = app
            .http
            .get(app.url("/results/nope/e-1.tar.gz"))
            .send()
            .await
            .unwrap();
        (resp.status(), resp.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "result-not-found");
    let resp = app
        .http
        .get(app.url("/results/..%2F..%2Fetc/passwd.tar.gz"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn url_download_inputs_are_fetched_and_capped() {
    // A tiny HTTP server of our own on loopback serves the input.
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("data.csv"), "a,b\n1,2\n").unwrap();
    std::fs::write(files.path().join("big.bin"), vec![b'x'; 4096]).unwrap();
    let router =
        axum::Router::new().fallback_service(tower_http::services::ServeDir::new(files.path()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let app = spawn_with(|c| c.max_input_bytes = 1024).await;
    let spec = |file: &str| {
        json!({"Engine": "Exec", "Deal": {"Concurrency": 1},
               "Exec": {"Command": ["sh", "-c", "cat \"$HAKE_INPUTS\"/in/*"]},
               "inputs": [{"StorageSource": "URLDownload", "URL": format!("http://{addr}/{file}"), "path": "/in"}]})
    };
    let id = app.submit_ok(spec("data.csv")).await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(state["Executions"][0]["RunOutput"]["stdout"], "a,b\n1,2\n");

    let id = app.submit_ok(spec("big.bin")).await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Error");
    let status = state["Executions"][0]["Status"].as_str().unwrap();
    assert!(status.contains("1024-byte input limit"), "{status}");

    let id = app.submit_ok(spec("missing.txt")).await;
    let state = app.wait_terminal(&id, 20).await;
    assert!(
        state["Executions"][0]["Status"]
            .as_str()
            .unwrap()
            .contains("404"),
        "{state}"
    );

    let (status, body) = app
        .submit_as(&app.signer, {
            let mut s = spec("x");
            s["inputs"][0]["URL"] = json!("ftp://example/x");
            s
        })
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn local_directory_inputs_only_under_allowed_roots() {
    let allowed = tempfile::tempdir().unwrap();
    std::fs::write(allowed.path().join("note.txt"), "from the host\n").unwrap();
    let root = allowed.path().to_path_buf();
    let app = spawn_with(|c| c.allowed_input_dirs = vec![root.clone()]).await;
    let spec = |src: &str| {
        json!({"Engine": "Exec", "Deal": {"Concurrency": 1},
               "Exec": {"Command": ["cat", "inputs/host/note.txt"], "WorkingDirectory": ""},
               "inputs": [{"StorageSource": "LocalDirectory", "SourcePath": src, "path": "/host"}]})
    };
    let mut s = spec(root.to_str().unwrap());
    s["Exec"]["Command"] = json!(["sh", "-c", "cat \"$HAKE_INPUTS/host/note.txt\""]);
    let id = app.submit_ok(s).await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(
        state["Executions"][0]["RunOutput"]["stdout"], "from the host\n",
        "{state}"
    );

    let (status, body) = app.submit_as(&app.signer, spec("/etc")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("not under an allowed input directory"));
    let escape = format!("{}/../", root.display());
    let (status, _) = app.submit_as(&app.signer, spec(&escape)).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a .. escape is resolved before the check"
    );
}

#[tokio::test]
async fn exec_is_refused_unless_allowed() {
    let app = spawn_with(|c| c.allow_exec = false).await;
    let (status, body) = app.submit_as(&app.signer, exec_spec(&["true"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("engine Exec is not enabled on this node"),
        "{body}"
    );
}

#[tokio::test]
async fn states_long_poll_answers_when_the_version_moves() {
    let app = spawn_app().await;
    let id = app.submit_ok(exec_spec(&["sleep", "1"])).await;
    let state = app.wait_for(&id, 20, |s| s["State"] == "InProgress").await;
    let v = state["Version"].as_i64().unwrap();
    let started = std::time::Instant::now();
    let (status, body) = app
        .post(
            "/requester/states",
            &json!({"job_id": id, "after_version": v, "wait_seconds": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["state"]["Version"].as_i64().unwrap() > v);
    assert_eq!(body["state"]["State"], "Completed");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "answered by the change, not the deadline"
    );
    // At the deadline, the current state.
    let (_, body) = app
        .post(
            "/requester/states",
            &json!({"job_id": id, "after_version": 99, "wait_seconds": 0.2}),
        )
        .await;
    assert_eq!(body["state"]["State"], "Completed");
    let (status, _) = app
        .post(
            "/requester/states",
            &json!({"job_id": id, "after_version": 1, "wait_seconds": -1}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
