//! Bacalhau's real Python clients against a live server: `bacalhau-sdk==1.2.1` with
//! `bacalhau-apiclient==1.0.0` (root paths) and with `==1.0.4` (`/api/v1` paths).
//! The virtualenvs are made by `scripts/setup-test-env.sh`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::*;

/// The venv's python, or None (after printing why) when it is absent outside CI.
pub fn venv_python(name: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(name).join("bin/python");
    if python.exists() {
        return Some(python);
    }
    let why = format!(
        "{} is missing: run scripts/setup-test-env.sh",
        python.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why} (CI=true: a missing client is a failure)");
    }
    eprintln!("skipping Python client test: {why}");
    None
}

async fn run_clients(venv: &str, script: &str) {
    let Some(python) = venv_python(venv) else {
        return;
    };
    let app = spawn_app().await;
    let bacdir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .env("BACALHAU_DIR", bacdir.path())
            .env("BACALHAU_API_HOST", "127.0.0.1")
            .env("BACALHAU_API_PORT", port)
            .output()
            .map(|o| (o, bacdir))
    })
    .await
    .unwrap()
    .expect("python runs");
    let (out, bacdir) = out;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python client failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The SDK made an RSA key in BACALHAU_DIR; its ClientID is what the server recorded.
    let key =
        hake::auth::Signer::load(&bacdir.path().join("user_id.pem")).expect("SDK key readable");
    let facts: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(facts["client_id"], key.client_id());
    let state = app.state(facts["cancelled"].as_str().unwrap()).await;
    assert_eq!(state["State"], "Cancelled");
    let (_, body) = app
        .post("/requester/list", &serde_json::json!({"id": facts["noop"]}))
        .await;
    assert_eq!(
        body["jobs"][0]["Job"]["Metadata"]["ClientID"],
        key.client_id()
    );
    assert_eq!(body["jobs"][0]["State"]["State"], "Completed");
}

#[tokio::test]
async fn bacalhau_sdk_with_apiclient_1_0_0_uses_root_paths() {
    run_clients(".venv-bacalhau", "bacalhau_clients.py").await;
}

#[tokio::test]
async fn bacalhau_sdk_with_apiclient_1_0_4_uses_api_v1_paths() {
    run_clients(".venv-bacalhau-v1", "bacalhau_apiclient_v1.py").await;
}
