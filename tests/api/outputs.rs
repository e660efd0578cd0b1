//! Complete outputs: a published result holds the execution's whole stdout and stderr,
//! not the 64 KiB copy kept in `RunOutput`, up to the node's per-stream cap.

use serde_json::{json, Value};

use crate::helpers::*;

/// Prints 40 000 numbered lines (about 229 KB) to stdout and 100 000 bytes to stderr.
fn loud_job() -> (Value, String, String) {
    let spec = json!({
        "Engine": "Exec",
        "Deal": {"Concurrency": 1},
        "PublisherSpec": {"Type": "Local"},
        "Exec": {"Command": ["/bin/sh", "-c",
            "/usr/bin/seq 1 40000; /usr/bin/head -c 100000 /dev/zero | /usr/bin/tr '\\0' e >&2"]},
    });
    let stdout: String = (1..=40000).map(|i| format!("{i}\n")).collect();
    (spec, stdout, "e".repeat(100_000))
}

#[tokio::test]
async fn local_results_hold_the_whole_stdout_and_stderr() {
    let app = spawn_app().await;
    let (spec, stdout, stderr) = loud_job();
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 60).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let run = &state["Executions"][0]["RunOutput"];
    assert_eq!(
        run["stdouttruncated"], true,
        "RunOutput keeps a bounded copy"
    );
    assert!(run["stdout"].as_str().unwrap().len() < stdout.len());

    let files = download_results(&app, &id).await;
    assert_eq!(files["stdout"].len(), stdout.len());
    assert!(files["stdout"] == stdout, "stdout differs");
    assert!(files["stderr"] == stderr, "stderr differs");
    assert_eq!(files["exitCode"], "0");
}

#[tokio::test]
async fn published_streams_stop_at_the_node_cap() {
    let app = spawn_with(|c| c.max_published_output_bytes = 70_000).await;
    let (spec, stdout, stderr) = loud_job();
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 60).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let files = download_results(&app, &id).await;
    assert!(
        files["stdout"] == stdout[..70_000],
        "stdout is its first 70 000 bytes"
    );
    assert!(
        files["stderr"] == stderr[..70_000],
        "stderr is its first 70 000 bytes"
    );
}
