//! Bad input of every class gets the right status and a JSON error body, never a 500.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_on_unsigned_routes_is_400() {
    let app = spawn_app().await;
    for route in ["list", "states", "events", "results"] {
        let (status, body) = app
            .post_raw(&format!("/requester/{route}"), "{\"job_id\": ")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{route}");
        assert_eq!(body["code"], "malformed-json", "{route}");
    }
}

#[tokio::test]
async fn wrong_field_types_are_400_naming_the_problem() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/requester/list", &json!({"max_jobs": "ten"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "invalid-request");
    assert!(
        body["message"].as_str().unwrap().contains("invalid type"),
        "{body}"
    );
}

#[tokio::test]
async fn error_bodies_are_json_with_code_message_details() {
    let app = spawn_app().await;
    let resp = app
        .http
        .post(app.url("/requester/states"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["code"].is_string() && body["message"].is_string() && body["details"].is_object(),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_job_is_404_job_not_found_everywhere() {
    let app = spawn_app().await;
    let id = uuid::Uuid::new_v4().to_string();
    for route in ["states", "events", "results"] {
        let (status, body) = app
            .post(&format!("/requester/{route}"), &json!({"job_id": id}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{route}");
        assert_eq!(body["code"], "job-not-found");
        assert_eq!(body["details"]["id"], id);
    }
    let (status, _) = app
        .post("/requester/list", &json!({"id": "deadbeef"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.cancel_as(&app.signer, &id, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn short_and_ambiguous_ids() {
    let app = spawn_app().await;
    let id = app.submit_ok(noop_spec()).await;
    // A unique 8-character prefix works everywhere.
    let (status, body) = app
        .post("/requester/states", &json!({"job_id": &id[..8]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["state"]["JobID"], id);
    let (status, body) = app
        .post("/requester/events", &json!({"job_id": &id[..8]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Shorter than 8 is refused.
    let (status, body) = app
        .post("/requester/states", &json!({"job_id": &id[..5]}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("too short"));
}

#[tokio::test]
async fn an_ambiguous_prefix_is_400_listing_the_matches() {
    let app = spawn_app().await;
    let id = app.submit_ok(noop_spec()).await;
    app.wait_terminal(&id, 20).await;
    let (config, _keep_dir, _) = app.stop().await;
    // Two stored jobs whose ids share their first 8 characters, written straight into the
    // SQLite file while the server is down.
    let url = format!("sqlite://{}", config.data_dir.join("hake.db").display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    for suffix in ["1111-4111-8111-111111111111", "2222-4222-8222-222222222222"] {
        let new_id = format!("abcdef12-{suffix}");
        sqlx::query(
            "INSERT INTO jobs (id, client_id, created_at, job, state, version, update_time)
             SELECT ?, client_id, created_at, job, state, version, update_time FROM jobs WHERE id = ?",
        )
        .bind(&new_id)
        .bind(&id)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    drop(conn);
    let app = start_again(config).await;
    let (status, body) = app
        .post("/requester/states", &json!({"job_id": "abcdef12"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "ambiguous-job-id");
    assert_eq!(body["details"]["matches"].as_array().unwrap().len(), 2);
    let (status, _) = app
        .post("/requester/states", &json!({"job_id": "abcdef12-1111"}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn submit_validation_errors_are_400_with_clear_messages() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"Engine": "Noop", "Deal": {"Concurrency": 0}}),
            "Deal.Concurrency",
        ),
        (
            json!({"Deal": {"Concurrency": 1}}),
            "Spec.Engine is required",
        ),
        (
            json!({"Engine": "Kubernetes", "Deal": {"Concurrency": 1}}),
            "unknown Engine",
        ),
        (
            json!({"Engine": "Noop", "Deal": {"Concurrency": 1}, "PublisherSpec": {"Type": "ipfs"}}),
            "publisher Ipfs is not supported",
        ),
        (
            json!({"Engine": "Noop", "Deal": {"Concurrency": 1}, "Network": {"Type": "Bogus"}}),
            "unknown Network",
        ),
        (
            json!({"Engine": "Noop", "Deal": {"Concurrency": 1},
                "inputs": [{"StorageSource": "IPFS", "CID": "Qm", "path": "/in"}]}),
            "URLDownload",
        ),
        (
            json!({"Engine": "Noop", "Deal": {"Concurrency": 1},
                "inputs": [{"StorageSource": "LocalDirectory", "SourcePath": "/etc", "path": "/in"}]}),
            "LocalDirectory inputs are disabled",
        ),
        (
            json!({"Engine": "Docker", "Deal": {"Concurrency": 1}, "Docker": {"Image": "x"}}),
            "engine Docker is not enabled",
        ),
        (
            json!({"Engine": "Language", "Deal": {"Concurrency": 1}}),
            "engine Language is not enabled",
        ),
        (
            json!({"Engine": "Exec", "Deal": {"Concurrency": 1}}),
            "Spec.Exec.Command",
        ),
        (
            json!({"Engine": "Noop", "Deal": {"Concurrency": 1}, "Timeout": -1}),
            "Spec.Timeout",
        ),
        (
            json!({"Engine": "Noop", "Deal": {"Concurrency": 1}, "outputs": [{"Name": "o", "path": "rel"}]}),
            "absolute",
        ),
    ];
    for (spec, expect) in cases {
        let (status, body) = app.submit_as(&app.signer, spec.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{spec}: {body}");
        let msg = body["message"].as_str().unwrap();
        assert!(
            msg.contains(expect),
            "{spec}: expected {expect:?} in {msg:?}"
        );
    }
}

#[tokio::test]
async fn missing_spec_and_api_version_are_400() {
    let app = spawn_app().await;
    let p = json!({"ClientID": app.signer.client_id(), "APIVersion": "V1beta1"}).to_string();
    let (status, body) = app.post_signed("/requester/submit", &app.signer, &p).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Spec is required"));
    let p = json!({"ClientID": app.signer.client_id(), "Spec": noop_spec()}).to_string();
    let (status, body) = app.post_signed("/requester/submit", &app.signer, &p).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("APIVersion"));
}

#[tokio::test]
async fn x_bacalhau_job_id_header_is_rejected_like_bacalhau() {
    let app = spawn_app().await;
    let p =
        json!({"ClientID": app.signer.client_id(), "APIVersion": "V1beta1", "Spec": noop_spec()})
            .to_string();
    let resp = app
        .http
        .post(app.url("/requester/submit"))
        .header("X-Bacalhau-Job-ID", "mine")
        .body(app.signer.envelope(&p))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("X-Bacalhau-Job-ID"));
}

#[tokio::test]
async fn body_over_the_limit_is_413_json() {
    let app = spawn_with(|c| c.max_body_bytes = 1024).await;
    let big = format!("{{\"job_id\": \"{}\"}}", "x".repeat(4096));
    let (status, body) = app.post_raw("/requester/states", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "body-too-large");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = spawn_app().await;
    let (status, body) = app.post("/requester/nope", &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "route-not-found");
    let resp = app
        .http
        .delete(app.url("/requester/list"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn nulls_are_read_as_absent_like_go_zero_values() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/requester/list",
            &json!({"include_tags": null, "exclude_tags": null, "client_id": null, "max_jobs": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let spec = json!({"Engine": "Noop", "Deal": {"Concurrency": 1}, "Annotations": null, "inputs": null,
                      "Docker": {"Entrypoint": null}});
    let (status, body) = app.submit_as(&app.signer, spec).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn node_routes_answer() {
    let app = spawn_app().await;
    let text = app.get_text("/livez").await;
    assert_eq!(text, "OK");
    let text = app.get_text("/readyz").await;
    assert_eq!(text, "READY");
    let id: String = app.get_json("/id").await;
    assert_eq!(id, app.app.jobs.node_id());
    let info: serde_json::Value = app.get_json("/node_info").await;
    assert_eq!(info["PeerInfo"]["ID"], id);
    assert!(info["Engines"].as_array().unwrap().contains(&json!("Exec")));
    let health: serde_json::Value = app.get_json("/healthz").await;
    assert!(health["FreeSpace"]["root"]["All"].as_u64().unwrap() > 0);
    let (status, body) = app.post_raw("/version", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["build_version_info"]["gitversion"], "v0.0.0-xxxxxxx");
    let metrics = app.get_text("/metrics").await;
    assert!(metrics.contains("hake_jobs_submitted_total"), "{metrics}");
}
