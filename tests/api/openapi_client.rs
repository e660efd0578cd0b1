//! openapi.yaml from the outside: openapi-spec-validator validates it, and a Python client
//! generated from it by openapi-python-client drives a live server
//! (`tests/python/generated_client.py`). `scripts/setup-test-env.sh` makes the venv
//! (`.venv-openapi`) and generates the client into `.generated/hake_client`.

use std::path::Path;
use std::process::Command;

use sha2::{Digest as _, Sha256};

use crate::cli_support::repo_path;
use crate::helpers::*;
use crate::python_clients::venv_python;

/// Skips (or fails in CI) with `why`.
fn missing(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why} (CI=true: a missing generated client is a failure)");
    }
    eprintln!("skipping the generated-client test: {why}");
}

#[tokio::test]
async fn openapi_spec_validator_accepts_the_checked_in_openapi_yaml() {
    let Some(python) = venv_python(".venv-openapi") else {
        return;
    };
    let validator = python.with_file_name("openapi-spec-validator");
    let out = tokio::process::Command::new(validator)
        .arg(repo_path("openapi.yaml"))
        .output()
        .await
        .expect("openapi-spec-validator runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("OK"),
        "openapi-spec-validator: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_python_client_generated_from_openapi_yaml_drives_a_live_server() {
    let Some(python) = venv_python(".venv-openapi") else {
        return;
    };
    let generated = repo_path(".generated");
    let stamp = std::fs::read_to_string(generated.join("openapi.sha256")).unwrap_or_default();
    let spec_hash = hex::encode(Sha256::digest(
        std::fs::read(repo_path("openapi.yaml")).unwrap(),
    ));
    if stamp.lines().next() != Some(spec_hash.as_str()) || !generated.join("hake_client").is_dir() {
        missing(
            "the client in .generated/hake_client was not generated from this openapi.yaml: \
             run scripts/setup-test-env.sh",
        );
        return;
    }
    let app = spawn_app().await;
    let script = repo_path("tests/python/generated_client.py");
    let base = app.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(&script)
            .env("HAKE_URL", base)
            .env("PYTHONPATH", Path::new(&generated))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
    })
    .await
    .unwrap()
    .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the generated client failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let facts: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("facts")).unwrap();
    assert!(facts["long_polls"].as_u64().unwrap() >= 1);
    let (_, body) = app
        .post(
            "/requester/list",
            &serde_json::json!({"id": facts["completed"]}),
        )
        .await;
    assert_eq!(
        body["jobs"][0]["Job"]["Metadata"]["ClientID"], facts["client_id"],
        "the job is owned by the key the script signed with"
    );
    assert_eq!(body["jobs"][0]["State"]["State"], "Completed");
    let cancelled = app.state(facts["cancelled"].as_str().unwrap()).await;
    assert_eq!(cancelled["State"], "Cancelled");
    assert_eq!(
        cancelled["Executions"][0]["Status"],
        "from the generated client"
    );
}
