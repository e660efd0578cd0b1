//! Signature checks, in DESIGN §2's order, each failure with its own status and code.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use hake::auth::Signer;

fn payload(signer: &Signer) -> String {
    json!({"ClientID": signer.client_id(), "APIVersion": "V1beta1", "Spec": noop_spec()})
        .to_string()
}

#[tokio::test]
async fn malformed_envelope_is_400_malformed_json() {
    let app = spawn_app().await;
    let (status, body) = app.post_raw("/requester/submit", "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "malformed-json");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("signed envelope"));
}

#[tokio::test]
async fn missing_payload_is_400() {
    let app = spawn_app().await;
    let body = json!({"client_public_key": app.signer.public_key_b64(), "signature": "AAAA"});
    let (status, body) = app.post("/requester/submit", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "missing-payload");
}

#[tokio::test]
async fn missing_key_or_signature_is_401() {
    let app = spawn_app().await;
    let p = payload(&app.signer);
    let body = format!(
        "{{\"signature\":\"{}\",\"payload\":{p}}}",
        app.signer.sign(p.as_bytes())
    );
    let (status, resp) = app.post_raw("/requester/submit", body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp["code"], "missing-field");
    let body = format!(
        "{{\"client_public_key\":\"{}\",\"payload\":{p}}}",
        app.signer.public_key_b64()
    );
    let (status, _) = app.post_raw("/requester/submit", body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_base64_is_401_bad_base64() {
    let app = spawn_app().await;
    let p = payload(&app.signer);
    let body = format!("{{\"client_public_key\":\"%%%\",\"signature\":\"AAAA\",\"payload\":{p}}}");
    let (status, resp) = app.post_raw("/requester/submit", body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp["code"], "bad-base64");
}

#[tokio::test]
async fn wrong_key_length_is_401_bad_key() {
    let app = spawn_app().await;
    let p = payload(&app.signer);
    // 31 bytes: neither Ed25519 nor DER.
    let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 31]);
    let body = format!(
        "{{\"client_public_key\":\"{key}\",\"signature\":\"{}\",\"payload\":{p}}}",
        app.signer.sign(p.as_bytes())
    );
    let (status, resp) = app.post_raw("/requester/submit", body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp["code"], "bad-key");
}

#[tokio::test]
async fn signature_over_different_bytes_is_401_bad_signature() {
    let app = spawn_app().await;
    let p = payload(&app.signer);
    let other = payload(&Signer::generate_ed25519());
    let body = format!(
        "{{\"client_public_key\":\"{}\",\"signature\":\"{}\",\"payload\":{p}}}",
        app.signer.public_key_b64(),
        app.signer.sign(other.as_bytes())
    );
    let (status, resp) = app.post_raw("/requester/submit", body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp["code"], "bad-signature");
}

#[tokio::test]
async fn client_id_not_matching_the_key_is_401() {
    let app = spawn_app().await;
    let someone = Signer::generate_ed25519();
    let p = json!({"ClientID": someone.client_id(), "APIVersion": "V1beta1", "Spec": noop_spec()})
        .to_string();
    let (status, resp) = app.post_signed("/requester/submit", &app.signer, &p).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp["code"], "client-id-mismatch");
    let upper = json!({"ClientID": app.signer.client_id().to_uppercase(), "APIVersion": "V1beta1", "Spec": noop_spec()});
    let (status, _) = app
        .post_signed("/requester/submit", &app.signer, &upper.to_string())
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "exact lower-case compare, as Bacalhau"
    );
}

#[tokio::test]
async fn rsa_key_of_1024_bits_is_refused() {
    let app = spawn_app().await;
    let weak = Signer::generate_rsa(1024).unwrap();
    let (status, resp) = app.submit_as(&weak, noop_spec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp["code"], "bad-key");
    assert!(resp["message"].as_str().unwrap().contains("1024"));
}

#[tokio::test]
async fn stale_timestamp_is_401_and_fresh_one_passes() {
    let app = spawn_app().await;
    let old = chrono::Utc::now().timestamp_millis() - 10 * 60 * 1000;
    let p = json!({"ClientID": app.signer.client_id(), "APIVersion": "V1beta1", "Spec": noop_spec(),
                   "Timestamp": old, "Nonce": "a"});
    let (status, resp) = app
        .post_signed("/requester/submit", &app.signer, &p.to_string())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp["code"], "stale-timestamp");
}

#[tokio::test]
async fn required_freshness_rejects_payloads_without_timestamp_and_nonce() {
    let app = spawn_with(|c| c.require_fresh_signatures = true).await;
    let (status, resp) = app.submit_as(&app.signer, noop_spec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp["code"], "freshness-required");
}

#[tokio::test]
async fn authorized_keys_file_admits_only_listed_clients() {
    let listed = Signer::generate_rsa(2048).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authorized_keys");
    // One entry as a base64 public key, one as a ClientID, plus a comment.
    let other = Signer::generate_ed25519();
    std::fs::write(
        &file,
        format!(
            "# team\n{}\n{}  # laptop\n",
            listed.public_key_b64(),
            other.client_id()
        ),
    )
    .unwrap();
    let app = spawn_with(|c| c.authorized_keys = Some(file.clone())).await;
    let (status, _) = app.submit_as(&listed, noop_spec()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.submit_as(&other, noop_spec()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, resp) = app.submit_as(&app.signer, noop_spec()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(resp["code"], "not-authorized");
}
