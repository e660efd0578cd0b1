//! Requests decoded as Bacalhau's Go server decodes them: keys match field names
//! case-insensitively at every level (envelope, payload, spec, unsigned requests), the
//! last of repeated keys wins, unknown keys are ignored, and the signature still covers
//! the payload's raw bytes. Responses keep Bacalhau's exact casing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use hake::auth::Signer;

use crate::cli_support::Cli;
use crate::helpers::*;

/// An envelope with the given member names, the payload sent byte for byte.
fn envelope(names: [&str; 3], signer: &Signer, payload: &str) -> String {
    format!(
        r#"{{"{}": {}, "{}": {}, "{}": {payload}}}"#,
        names[0],
        Value::from(signer.public_key_b64()),
        names[1],
        Value::from(signer.sign(payload.as_bytes())),
        names[2],
    )
}

async fn submit_text(app: &TestApp, payload: &str) -> (StatusCode, Value) {
    app.post_signed("/requester/submit", &app.signer, payload)
        .await
}

#[tokio::test]
async fn lower_case_envelope_and_payload_keys_submit_a_job_that_completes() {
    let app = spawn_app().await;
    let payload = format!(
        r#"{{"apiversion": "V1beta1", "clientid": "{}", "spec": {{"engine": "noop",
            "publisher": "noop", "deal": {{"concurrency": 1}}}}}}"#,
        app.signer.client_id()
    );
    for names in [
        ["CLIENT_PUBLIC_KEY", "Signature", "Payload"],
        ["client_public_key", "SIGNATURE", "payload"],
    ] {
        let (status, body) = app
            .post_raw("/requester/submit", envelope(names, &app.signer, &payload))
            .await;
        assert_eq!(status, StatusCode::OK, "{names:?}: {body}");
        let job = &body["job"];
        assert_eq!(job["Spec"]["Engine"], "Noop", "{body}");
        assert_eq!(job["APIVersion"], "V1beta1");
        assert_eq!(job["Metadata"]["ClientID"], app.signer.client_id());
        assert!(job.get("spec").is_none() && job["Spec"].get("engine").is_none());
        let id = job["Metadata"]["ID"].as_str().unwrap();
        assert_eq!(app.wait_terminal(id, 30).await["State"], "Completed");
    }
}

#[tokio::test]
async fn upper_case_keys_reach_every_nested_field_and_map_keys_stay_as_sent() {
    let app = spawn_app().await;
    let payload = json!({
        "CLIENTID": app.signer.client_id(),
        "APIVERSION": "V1beta1",
        "SPEC": {
            "ENGINE": "EXEC",
            "EXEC": {"COMMAND": ["sh", "-c", "printf '%s %s' \"$Mixed\" \"$MIXED\""],
                     "ENVIRONMENTVARIABLES": {"Mixed": "one", "MIXED": "two"}},
            "PUBLISHERSPEC": {"TYPE": "NOOP"},
            "DEAL": {"CONCURRENCY": 1},
            "ANNOTATIONS": ["upper"],
        },
    });
    let (status, body) = submit_text(&app, &payload.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let spec = &body["job"]["Spec"];
    assert_eq!(
        spec["Exec"]["EnvironmentVariables"],
        json!({"MIXED": "two", "Mixed": "one"})
    );
    assert_eq!(spec["Annotations"], json!(["upper"]));
    let id = body["job"]["Metadata"]["ID"].as_str().unwrap();
    let state = app.wait_terminal(id, 30).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(state["Executions"][0]["RunOutput"]["stdout"], "one two");
}

#[tokio::test]
async fn the_signature_still_covers_the_payload_bytes_as_sent() {
    let app = spawn_app().await;
    let signed = format!(
        r#"{{"ClientID": "{}", "APIVersion": "V1beta1", "Spec": {{"Engine": "Noop", "Deal": {{"Concurrency": 1}}}}}}"#,
        app.signer.client_id()
    );
    let sig = Value::from(app.signer.sign(signed.as_bytes()));
    let key = Value::from(app.signer.public_key_b64());
    // The same payload re-cased decodes the same, but it is not the bytes signed.
    let recased = signed.replace("ClientID", "clientid");
    let body =
        format!(r#"{{"client_public_key": {key}, "signature": {sig}, "payload": {recased}}}"#);
    let (status, answer) = app.post_raw("/requester/submit", body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(answer["code"], "bad-signature");
    // Two payload members: the last one is the payload, so it is what must be signed.
    let body = format!(
        r#"{{"client_public_key": {key}, "signature": {sig}, "payload": {signed}, "PAYLOAD": {recased}}}"#
    );
    let (status, answer) = app.post_raw("/requester/submit", body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(answer["code"], "bad-signature");
    let body = format!(
        r#"{{"client_public_key": {key}, "signature": {sig}, "PAYLOAD": {recased}, "payload": {signed}}}"#
    );
    let (status, answer) = app.post_raw("/requester/submit", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn repeated_payload_keys_resolve_as_go_does_the_last_one_wins() {
    let app = spawn_app().await;
    let me = app.signer.client_id();
    let spec = r#"{"Engine": "Noop", "Deal": {"Concurrency": 1}}"#;
    let last_is_mine = format!(
        r#"{{"ClientID": "someone", "clientid": "{me}", "apiVersion": "V1beta1", "Spec": {spec}}}"#
    );
    let (status, body) = submit_text(&app, &last_is_mine).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let last_is_not = format!(
        r#"{{"clientid": "{me}", "ClientID": "someone", "apiVersion": "V1beta1", "Spec": {spec}}}"#
    );
    let (status, body) = submit_text(&app, &last_is_not).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "client-id-mismatch");
    // The same key twice, exactly: the later member, not a "duplicate field" error.
    let twice = format!(
        r#"{{"ClientID": "{me}", "APIVersion": "V1beta1", "Spec": {spec}, "spec": {{"Annotations": ["second"]}}}}"#
    );
    let (status, body) = submit_text(&app, &twice).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["job"]["Spec"]["Engine"], "Noop",
        "objects merge: {body}"
    );
    assert_eq!(body["job"]["Spec"]["Annotations"], json!(["second"]));
}

#[tokio::test]
async fn every_unsigned_request_accepts_keys_in_any_case() {
    let app = spawn_app().await;
    let id = app.submit_ok(noop_spec()).await;
    app.wait_terminal(&id, 30).await;

    let (status, body) = app
        .post(
            "/requester/states",
            &json!({"JOB_ID": id, "After_Version": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"]["State"], "Completed");
    assert_eq!(body["state"]["JobID"], id);

    let (status, body) = app
        .post(
            "/requester/events",
            &json!({"Job_Id": id, "FILTERS": {"EXCLUDE_EXECUTION_LEVEL": true}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = body["events"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["Type"] == "JobLevel"), "{body}");

    let (status, body) = app.post("/requester/results", &json!({"job_ID": id})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"].as_array().unwrap().len(), 1, "{body}");

    let (status, body) = app
        .post(
            "/requester/list",
            &json!({"CLIENT_ID": app.signer.client_id(), "ID": id, "Max_Jobs": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["jobs"][0]["Job"]["Metadata"]["ID"], id);

    let (status, body) = app
        .post(
            "/api/v1/requester/list",
            &json!({"RETURN_ALL": true, "SORT_BY": "id"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["jobs"].as_array().unwrap().len(), 1);

    let (status, body) = app
        .post(
            "/api/v1/version",
            &json!({"CLIENT_ID": "x", "unknown": [1]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["build_version_info"]["gitversion"].is_string());
}

#[tokio::test]
async fn a_key_that_is_not_a_case_variant_is_still_unknown() {
    let app = spawn_app().await;
    let id = app.submit_ok(noop_spec()).await;
    // `jobid` is not `job_id` in any case: Go ignores it, so job_id is missing.
    let (status, body) = app.post("/requester/states", &json!({"jobid": id})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("job_id"),
        "{body}"
    );
    // A case variant with a value of the wrong type is an error naming the field's type.
    let (status, body) = app
        .post(
            "/requester/states",
            &json!({"JOB_ID": id, "WAIT_SECONDS": "long"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "invalid-request");
}

#[tokio::test]
async fn signed_cancel_and_logs_payloads_accept_keys_in_any_case() {
    let app = spawn_app().await;
    let me = app.signer.client_id();
    let id = app
        .submit_ok(exec_spec(&["sh", "-c", "echo hi; sleep 30"]))
        .await;
    app.wait_for(&id, 30, |s| s["State"] == "InProgress").await;

    let logs =
        format!(r#"{{"CLIENTID": "{me}", "jobid": "{id}", "WithHISTORY": true, "tail": 1}}"#);
    let resp = app
        .http
        .post(app.url("/requester/logs"))
        .body(envelope(
            ["Client_Public_Key", "SIGNATURE", "Payload"],
            &app.signer,
            &logs,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert!(last["End"].is_object(), "{text}");

    let cancel = format!(r#"{{"clientid": "{me}", "JOBID": "{id}", "REASON": "upper"}}"#);
    let (status, body) = app
        .post_signed("/requester/cancel", &app.signer, &cancel)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"]["State"], "Cancelled");
}

#[tokio::test]
async fn a_spec_file_with_lower_case_keys_behaves_as_on_the_server() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let yaml = "spec:\n  engine: exec\n  exec:\n    command: [sh, -c, \"echo lower\"]\n  \
                deal:\n    concurrency: 1\n";
    let run = cli
        .run_with_stdin(&["submit", "-f", "-", "--follow"], Some(yaml))
        .await
        .expect(0);
    assert_eq!(run.stdout, "lower\n", "{run:?}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spec.json");
    std::fs::write(
        &file,
        r#"{"SPEC": {"Engine": "Exec", "exec": {"Command": ["sh", "-c", "exit 3"]}, "DEAL": {"Concurrency": 1}},
            "Spec": {"EXEC": {"COMMAND": ["sh", "-c", "exit 4"]}}}"#,
    )
    .unwrap();
    // The two Spec members merge as the server merges them: the later Command wins.
    let run = cli
        .run(&["submit", "-f", file.to_str().unwrap(), "--wait"])
        .await;
    let id = run.stdout.trim().to_owned();
    assert_eq!(id.len(), 36, "{run:?}");
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(
        state["Executions"][0]["RunOutput"]["exitCode"], 4,
        "{state}"
    );
}
