//! Schemathesis (PyPI) against the `/openapi.yaml` a live server serves: every operation,
//! a bounded number of generated requests each, and no 5xx, no answer that contradicts
//! the document (schema, status code, content type, headers). The virtualenv is made by
//! `scripts/setup-test-env.sh`.

use std::path::Path;
use std::time::Instant;

use crate::helpers::*;

/// Generated requests per operation and phase.
const MAX_EXAMPLES: &str = "20";
/// The checks that must pass. Schemathesis' `positive_data_acceptance` and
/// `negative_data_rejection` are left out on purpose: hake parses leniently, as Bacalhau's
/// Go server did (nulls are absent fields, an empty body is `{}`).
const CHECKS: &str = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,response_headers_conformance";

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let st = root.join(".venv-schemathesis/bin/schemathesis");
    if !st.exists() {
        let why = format!("{} is missing: run scripts/setup-test-env.sh", st.display());
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why} (CI=true: a missing tool is a failure)");
        }
        eprintln!("skipping the Schemathesis test: {why}");
        return;
    }
    let app = spawn_app().await;
    let seed = std::env::var("HAKE_SCHEMATHESIS_SEED").unwrap_or_else(|_| "8".to_owned());
    // Its own working directory: Schemathesis keeps a Hypothesis database in the cwd.
    let cwd = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = tokio::process::Command::new(&st)
        .arg("run")
        .arg(app.url("/openapi.yaml"))
        .args(["--url", &app.base])
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--workers", "2", "--seed", &seed])
        .args(["--request-timeout", "20"])
        .current_dir(cwd.path())
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems (seed {seed}):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.contains("generated"))
        .unwrap_or("");
    eprintln!(
        "schemathesis: {} in {:.1}s",
        summary.trim(),
        started.elapsed().as_secs_f64()
    );
    // Every operation of the document is exercised: "N selected / N total".
    let line = stdout
        .lines()
        .find(|l| l.contains("selected /"))
        .unwrap_or("");
    let counts: Vec<&str> = line
        .split_whitespace()
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert!(
        counts.len() == 2 && counts[0] == counts[1] && counts[0].parse::<u32>().unwrap_or(0) >= 15,
        "every operation: {stdout}"
    );
}
