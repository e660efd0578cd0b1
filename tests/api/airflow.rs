//! The Bacalhau Airflow provider (`bacalhau-airflow==1.3.2`, PyPI's one third-party
//! Bacalhau integration) against a live server. It sends lower-case keys (`apiversion`,
//! `clientid`, `spec`, `engine`, …) that only Go's case-insensitive key matching accepts,
//! and checks completion over `events(...).to_dict()`. The virtualenvs are made by
//! `scripts/setup-test-env.sh`: `.venv-bacalhau` (the SDK alone) and `.venv-airflow` (the
//! provider with Apache Airflow).

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::python_clients::venv_python;

/// Runs tests/python/airflow_provider.py in `mode` and checks what the server recorded.
async fn run_provider(venv: &str, mode: &'static str) {
    let Some(python) = venv_python(venv) else {
        return;
    };
    let app = spawn_app().await;
    let bacdir = tempfile::tempdir().unwrap();
    let airflow_home = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/airflow_provider.py");
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let (bac, home) = (bacdir.path().to_owned(), airflow_home.path().to_owned());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(mode)
            .env("BACALHAU_DIR", bac)
            .env("BACALHAU_API_HOST", "127.0.0.1")
            .env("BACALHAU_API_PORT", port)
            .env("AIRFLOW_HOME", home)
            .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
            .output()
    })
    .await
    .unwrap()
    .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the provider failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let facts: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(facts["final"], "Completed");
    let key =
        hake::auth::Signer::load(&bacdir.path().join("user_id.pem")).expect("SDK key readable");
    assert_eq!(facts["client_id"], key.client_id());
    let id = facts["job_id"].as_str().unwrap();
    let (_, body) = app.post("/requester/list", &json!({"id": id})).await;
    let job = &body["jobs"][0]["Job"];
    assert_eq!(job["Metadata"]["ClientID"], key.client_id(), "{body}");
    assert_eq!(job["APIVersion"], "V1beta1");
    let spec = &job["Spec"];
    assert_eq!(spec["Engine"], "Noop", "{body}");
    assert_eq!(spec["Docker"]["Image"], "ubuntu");
    assert_eq!(
        spec["Docker"]["Entrypoint"],
        json!(["echo", "Hello World!"])
    );
    assert_eq!(spec["Deal"]["Concurrency"], 1);
    assert_eq!(body["jobs"][0]["State"]["State"], "Completed");
}

#[tokio::test]
async fn the_airflow_provider_payload_through_bacalhau_sdk_submit_completes() {
    run_provider(".venv-bacalhau", "sdk").await;
}

#[tokio::test]
async fn the_airflow_provider_hook_submits_and_its_completion_check_sees_completed() {
    run_provider(".venv-airflow", "hook").await;
}
