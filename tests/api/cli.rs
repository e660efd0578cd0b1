//! The `hake` binary as a client: `id`, `sign`, `openapi`.

use std::process::Command;

use reqwest::StatusCode;

use crate::helpers::*;

fn hake(key: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hake"))
        .env("HAKE_KEY", key)
        .args(args)
        .output()
        .expect("hake runs")
}

fn stdout(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "hake failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn id_creates_a_key_once_and_shows_the_same_client_id_after() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let first: serde_json::Value =
        serde_json::from_str(&stdout(&hake(&key, &["id", "--json"]))).unwrap();
    let second: serde_json::Value =
        serde_json::from_str(&stdout(&hake(&key, &["id", "--json"]))).unwrap();
    assert_eq!(first["client_id"], second["client_id"]);
    assert_eq!(first["scheme"], "ed25519");
    assert_eq!(
        hake::auth::Signer::load(&key).unwrap().client_id(),
        first["client_id"]
    );
}

#[test]
fn id_can_reuse_a_bacalhau_user_id_pem() {
    let dir = tempfile::tempdir().unwrap();
    let bacalhau = hake::auth::Signer::generate_rsa(2048).unwrap();
    let pem = dir.path().join("user_id.pem");
    bacalhau.save(&pem).unwrap();
    let key = dir.path().join("k.pem");
    let out: serde_json::Value = serde_json::from_str(&stdout(&hake(
        &key,
        &["id", "--json", "--bacalhau-key", pem.to_str().unwrap()],
    )))
    .unwrap();
    assert_eq!(out["client_id"], bacalhau.client_id());
    assert_eq!(out["scheme"], "rsa");
}

#[tokio::test]
async fn signed_envelopes_from_hake_sign_are_accepted_by_the_server() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        "Engine: Exec\nExec:\n  Command: [sleep, \"30\"]\nDeal:\n  Concurrency: 1\n",
    )
    .unwrap();
    let env = stdout(&hake(
        &key,
        &["sign", "submit", "-f", spec.to_str().unwrap()],
    ));
    let (status, body) = app.post_raw("/requester/submit", env.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
    // The same envelope again is an idempotent retry (same nonce).
    let (_, again) = app.post_raw("/requester/submit", env).await;
    assert_eq!(again["job"]["Metadata"]["ID"], id);

    let env = stdout(&hake(
        &key,
        &["sign", "cancel", &id[..8], "--reason", "from curl"],
    ));
    let (status, body) = app.post_raw("/requester/cancel", env).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"]["State"], "Cancelled");
}

#[test]
fn openapi_command_prints_the_checked_in_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(&hake(&dir.path().join("k.pem"), &["openapi"]));
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    assert!(
        out == checked_in,
        "`hake openapi` differs from openapi.yaml"
    );
}
