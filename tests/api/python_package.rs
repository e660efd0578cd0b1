//! The Python client package (`clients/python`, `hake-client`) against a live server: its
//! pytest suite (`clients/python/tests`) runs with `HAKE_SERVER` pointing at a server on
//! port 0, and its generated layer is checked against what `openapi.yaml` generates now.
//! `scripts/setup-test-env.sh` makes the venvs (`.venv-hake-client`, `.venv-pygen`).

use std::process::Command;

use crate::cli_support::repo_path;
use crate::helpers::*;
use crate::python_clients::venv_python;

/// The counts in pytest's last line (`42 passed in 19.4s`), by outcome.
fn outcome(summary: &str, what: &str) -> u64 {
    let words: Vec<&str> = summary
        .split([' ', ','])
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .find(|w| w[1] == what)
        .and_then(|w| w[0].parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_python_client_package_passes_its_pytest_suite_against_a_live_server() {
    let Some(python) = venv_python(".venv-hake-client") else {
        return;
    };
    let app = spawn_app().await;
    let scratch = tempfile::tempdir().unwrap();
    let base = app.base.clone();
    let (basetemp, config) = (scratch.path().join("pytest"), scratch.path().join("config"));
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args(["-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider"])
            .arg(format!("--basetemp={}", basetemp.display()))
            .arg(repo_path("clients/python/tests"))
            .current_dir(repo_path("clients/python"))
            .env("HAKE_SERVER", base)
            .env("HAKE_BIN", env!("CARGO_BIN_EXE_hake"))
            // The source tree, not the venv's copy: the suite tests the code checked out.
            .env("PYTHONPATH", repo_path("clients/python/src"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            // Never the developer's key or config dir.
            .env("XDG_CONFIG_HOME", config)
            .env_remove("HAKE_KEY")
            .output()
    })
    .await
    .unwrap()
    .expect("pytest runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the hake-client suite failed (exit {:?}):\n{stdout}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = stdout.lines().last().unwrap_or("");
    assert!(
        outcome(summary, "passed") >= 40,
        "the suite collected its tests: {summary}"
    );
    assert_eq!(outcome(summary, "skipped"), 0, "nothing skipped: {summary}");
}

#[tokio::test]
async fn the_checked_in_python_client_layer_is_what_openapi_yaml_generates() {
    if venv_python(".venv-pygen").is_none() {
        return;
    }
    let out = tokio::process::Command::new("bash")
        .arg(repo_path("scripts/gen-python-client.sh"))
        .arg("--check")
        .output()
        .await
        .expect("the generator runs");
    assert!(
        out.status.success(),
        "clients/python/src/hake_client/_generated differs from what openapi.yaml generates \
         (run scripts/gen-python-client.sh and commit):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn pytest_summaries_are_read_by_outcome() {
    assert_eq!(outcome("42 passed in 19.44s", "passed"), 42);
    assert_eq!(
        outcome("1 failed, 40 passed, 2 skipped in 3s", "skipped"),
        2
    );
    assert_eq!(outcome("no tests ran in 0.01s", "passed"), 0);
}
