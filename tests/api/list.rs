//! `list`: filter, then sort, then limit; paging with next_token; tags; states.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

fn ids(body: &Value) -> Vec<String> {
    body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["Job"]["Metadata"]["ID"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn list_sorts_before_limiting() {
    let app = spawn_app().await;
    let mut submitted = Vec::new();
    for _ in 0..6 {
        submitted.push(app.submit_ok(noop_spec()).await);
    }
    // Newest first, 2 of them: must be the two last submitted, not any two.
    let (status, body) = app
        .post("/requester/list", &json!({"return_all": true, "max_jobs": 2, "sort_by": "created_at", "sort_reverse": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&body), vec![submitted[5].clone(), submitted[4].clone()]);
    // By id ascending.
    let (_, body) = app
        .post(
            "/requester/list",
            &json!({"return_all": true, "sort_by": "id"}),
        )
        .await;
    let mut sorted = submitted.clone();
    sorted.sort();
    assert_eq!(ids(&body), sorted);
    assert!(body["jobs"][0]["State"]["State"].is_string());
}

#[tokio::test]
async fn next_token_pages_through_everything_once() {
    let app = spawn_app().await;
    let mut submitted = Vec::new();
    for _ in 0..7 {
        submitted.push(app.submit_ok(noop_spec()).await);
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let (status, body) = app
            .post(
                "/requester/list",
                &json!({"return_all": true, "max_jobs": 3, "next_token": token}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        seen.extend(ids(&body));
        match body["next_token"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, submitted, "oldest first, every job once");
    let (status, body) = app
        .post("/requester/list", &json!({"next_token": "garbage!"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn client_id_scopes_the_list_unless_return_all() {
    let app = spawn_app().await;
    let other = hake::auth::Signer::generate_ed25519();
    let mine = app.submit_ok(noop_spec()).await;
    let (s, _) = app.submit_as(&other, noop_spec()).await;
    assert_eq!(s, StatusCode::OK);
    let (_, body) = app
        .post(
            "/requester/list",
            &json!({"client_id": app.signer.client_id()}),
        )
        .await;
    assert_eq!(ids(&body), vec![mine]);
    let (_, body) = app
        .post(
            "/requester/list",
            &json!({"client_id": app.signer.client_id(), "return_all": true}),
        )
        .await;
    assert_eq!(ids(&body).len(), 2);
    let (_, body) = app.post("/requester/list", &json!({})).await;
    assert_eq!(ids(&body).len(), 2, "no client_id: every job, as Bacalhau");
}

#[tokio::test]
async fn tags_follow_the_first_matching_annotation() {
    let app = spawn_app().await;
    let tagged = |tags: Value| {
        let mut s = noop_spec();
        s["Annotations"] = tags;
        s
    };
    let a = app.submit_ok(tagged(json!(["red", "big"]))).await;
    let b = app.submit_ok(tagged(json!(["big", "red"]))).await;
    let c = app.submit_ok(tagged(json!(["blue"]))).await;
    let (_, body) = app
        .post(
            "/requester/list",
            &json!({"include_tags": ["red"], "exclude_tags": ["big"]}),
        )
        .await;
    assert_eq!(
        ids(&body),
        vec![a.clone()],
        "b's first match is the excluded 'big'"
    );
    let (_, body) = app
        .post("/requester/list", &json!({"exclude_tags": ["red"]}))
        .await;
    assert_eq!(ids(&body), vec![c]);
    let (_, body) = app
        .post(
            "/requester/list",
            &json!({"include_tags": ["big"], "exclude_tags": ["red"]}),
        )
        .await;
    assert_eq!(ids(&body), vec![b], "a's first match is the excluded 'red'");
    let (_, body) = app.post("/requester/list", &json!({"id": &a[..8]})).await;
    assert_eq!(ids(&body), vec![a]);
}

#[tokio::test]
async fn states_filter_and_bad_values() {
    let app = spawn_app().await;
    let done = app.submit_ok(noop_spec()).await;
    app.wait_terminal(&done, 20).await;
    let (_, body) = app
        .post("/requester/list", &json!({"states": ["completed"]}))
        .await;
    assert_eq!(ids(&body), vec![done]);
    let (_, body) = app
        .post("/requester/list", &json!({"states": ["InProgress"]}))
        .await;
    assert!(ids(&body).is_empty());
    let (status, _) = app
        .post("/requester/list", &json!({"states": ["Sleeping"]}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .post("/requester/list", &json!({"sort_by": "name"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.post("/requester/list", &json!({"max_jobs": -1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn max_jobs_zero_means_the_server_page_cap() {
    let app = spawn_with(|c| c.list_page_cap = 3).await;
    for _ in 0..5 {
        app.submit_ok(noop_spec()).await;
    }
    let (_, body) = app.post("/requester/list", &json!({"max_jobs": 0})).await;
    assert_eq!(ids(&body).len(), 3);
    assert!(body["next_token"].is_string());
}
