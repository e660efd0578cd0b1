//! The checked-in `openapi.yaml` is exactly what the code generates and what the server
//! serves. Regenerate with `cargo run -- openapi > openapi.yaml`.

use crate::helpers::*;

fn checked_in() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("openapi.yaml at the repo root")
}

#[test]
fn checked_in_openapi_yaml_matches_the_code() {
    assert!(
        checked_in() == hake::api::openapi::yaml(),
        "openapi.yaml is stale: run `cargo run -- openapi > openapi.yaml`"
    );
}

#[tokio::test]
async fn the_server_serves_the_same_document_and_a_docs_page() {
    let app = spawn_app().await;
    let served = app.get_text("/openapi.yaml").await;
    assert_eq!(served, checked_in());
    let page = app.get_text("/docs").await;
    assert!(page.contains("POST /requester/submit"), "{page}");
}

#[test]
fn every_route_and_error_status_is_documented() {
    let doc: serde_json::Value =
        serde_json::to_value(<hake::api::openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for route in ["submit", "list", "states", "events", "results", "cancel"] {
        let op = &doc["paths"][format!("/requester/{route}")]["post"];
        assert!(op.is_object(), "{route} missing");
        assert!(
            op["responses"]["400"].is_object() || route == "list",
            "{route} lacks its 400"
        );
    }
    assert!(doc["paths"]["/requester/cancel"]["post"]["responses"]["409"].is_object());
}
