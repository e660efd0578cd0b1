//! Submitting jobs: the happy path on both prefixes, the stored job's shape, and the
//! Noop lifecycle with its history.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn noop_job_runs_to_completed_with_one_execution_and_full_history() {
    let app = spawn_app().await;
    let id = app.submit_ok(noop_spec()).await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Completed");
    assert_eq!(
        state["Version"], 3,
        "New(1) → InProgress(2) → Completed(3): {state}"
    );
    let execs = state["Executions"].as_array().unwrap();
    assert_eq!(execs.len(), 1);
    assert_eq!(execs[0]["State"], "Completed");
    assert!(execs[0]["ComputeReference"]
        .as_str()
        .unwrap()
        .starts_with("e-"));
    assert_eq!(execs[0]["NodeId"], app.app.jobs.node_id());
    assert!(execs[0]["DurationMs"].is_i64());

    let events = app.events(&id).await;
    let kinds: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e["Type"].as_str().unwrap(),
                e["NewVersion"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("JobLevel", 1),
            ("JobLevel", 2),
            ("ExecutionLevel", 1),
            ("ExecutionLevel", 2),
            ("JobLevel", 3)
        ]
    );
    assert_eq!(events[0]["Comment"], "Job created");
    assert_eq!(
        events[0]["JobState"],
        json!({}),
        "New→New is all zero values, omitted as Go does"
    );
    assert_eq!(
        events[4]["JobState"],
        json!({"Previous": "InProgress", "New": "Completed"})
    );

    let (status, body) = app.post("/requester/results", &json!({"job_id": id})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    assert_eq!(body["results"][0]["NodeID"], app.app.jobs.node_id());
}

#[tokio::test]
async fn submit_answers_the_stored_job_with_server_filled_metadata() {
    let app = spawn_app().await;
    let (status, body) = app.submit_as(&app.signer, noop_spec()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = &body["job"];
    assert_eq!(job["APIVersion"], "V1beta1");
    assert_eq!(job["Metadata"]["ClientID"], app.signer.client_id());
    assert_eq!(
        job["Metadata"]["Requester"]["RequesterNodeID"],
        app.app.jobs.node_id()
    );
    let id = job["Metadata"]["ID"].as_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 4),
        "{id}"
    );
    assert_eq!(job["Spec"]["Timeout"], 1800.0, "Timeout defaulted");
    assert_eq!(job["Spec"]["Publisher"], "Noop", "deprecated copy synced");
    assert_eq!(job["Spec"]["Network"]["Type"], "None");
}

#[tokio::test]
async fn every_route_answers_under_the_api_v1_prefix_too() {
    let app = spawn_app().await;
    let payload =
        json!({"ClientID": app.signer.client_id(), "APIVersion": "V1beta1", "Spec": noop_spec()});
    let (status, body) = app
        .post_signed(
            "/api/v1/requester/submit",
            &app.signer,
            &payload.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
    app.wait_terminal(&id, 20).await;
    for route in ["states", "events", "results"] {
        let (s, b) = app
            .post(
                &format!("/api/v1/requester/{route}"),
                &json!({"job_id": id}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{route}: {b}");
    }
    let (s, b) = app
        .post("/api/v1/requester/list", &json!({"return_all": true}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["jobs"].as_array().unwrap().len(), 1);
    let (s, b) = app
        .post("/api/v1/version", &json!({"client_id": "x"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["build_version_info"]["gitversion"], "v0.0.0-xxxxxxx");
}

#[tokio::test]
async fn get_with_a_body_is_tolerated_like_bacalhau() {
    let app = spawn_app().await;
    let id = app.submit_ok(noop_spec()).await;
    let resp = app
        .http
        .get(app.url("/requester/states"))
        .body(json!({"job_id": id}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["state"]["JobID"], id);
}

#[tokio::test]
async fn spaced_python_style_payload_with_non_ascii_verifies_over_raw_bytes() {
    let app = spawn_app().await;
    // Exactly how Bacalhau's Python SDK serialises: ", " and ": " separators, \u escapes.
    let payload = format!(
        "{{\"APIVersion\": \"V1beta1\", \"ClientID\": \"{}\", \"Spec\": {{\"Annotations\": [\"caf\\u00e9 <&>\", \"日本\"], \"Deal\": {{\"Concurrency\": 1}}, \"Engine\": \"noop\", \"PublisherSpec\": {{\"Type\": \"noop\"}}, \"Verifier\": \"Noop\"}}}}",
        app.signer.client_id()
    );
    let (status, body) = app
        .post_signed("/requester/submit", &app.signer, &payload)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["job"]["Spec"]["Annotations"],
        json!(["café <&>", "日本"])
    );

    // The same signature over a compact re-serialisation must fail: we verify raw bytes.
    let value: serde_json::Value = serde_json::from_str(&payload).unwrap();
    let sig = app.signer.sign(payload.as_bytes());
    let forged = json!({"client_public_key": app.signer.public_key_b64(), "signature": sig, "payload": value});
    let (status, body) = app.post_raw("/requester/submit", forged.to_string()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "bad-signature");
}

#[tokio::test]
async fn rsa_keys_made_like_the_python_sdk_are_accepted() {
    let app = spawn_app().await;
    let rsa = hake::auth::Signer::generate_rsa(2048).unwrap();
    let (status, body) = app.submit_as(&rsa, noop_spec()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["job"]["Metadata"]["ClientID"], rsa.client_id());
}

#[tokio::test]
async fn a_repeated_nonce_returns_the_original_job() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp_millis();
    let payload =
        json!({"ClientID": app.signer.client_id(), "APIVersion": "V1beta1", "Spec": noop_spec(),
                         "Timestamp": now, "Nonce": "n-123"})
        .to_string();
    let (s1, b1) = app
        .post_signed("/requester/submit", &app.signer, &payload)
        .await;
    let (s2, b2) = app
        .post_signed("/requester/submit", &app.signer, &payload)
        .await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{b1} {b2}");
    assert_eq!(b1["job"]["Metadata"]["ID"], b2["job"]["Metadata"]["ID"]);
    let (_, list) = app
        .post("/requester/list", &json!({"return_all": true}))
        .await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 1, "no second job");
}

#[tokio::test]
async fn concurrency_three_runs_three_executions() {
    let app = spawn_app().await;
    let mut spec = noop_spec();
    spec["Deal"]["Concurrency"] = json!(3);
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Completed");
    assert_eq!(state["Executions"].as_array().unwrap().len(), 3);
    let (_, body) = app.post("/requester/results", &json!({"job_id": id})).await;
    assert_eq!(body["results"].as_array().unwrap().len(), 3);
}
