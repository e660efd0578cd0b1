//! The web console's pages without a browser: status, content type, security headers,
//! the hooks the script and the browser tests rely on, escaping, and bad input.

use reqwest::header::{HeaderMap, ACCEPT, IF_NONE_MATCH};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// GETs `path`; returns status, headers and body text.
async fn page(app: &TestApp, path: &str) -> (StatusCode, HeaderMap, String) {
    let resp = app
        .http
        .get(app.url(path))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("request sent");
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.text().await.expect("body"))
}

/// A console page: HTML, with the CSP (no inline script) and its companions.
fn assert_console_html(status: StatusCode, h: &HeaderMap, want: StatusCode, body: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(!body.contains("<script>"), "no inline script: {body}");
    assert!(body.contains("/ui/assets/app.js?v="), "{body}");
}

#[tokio::test]
async fn jobs_page_lists_jobs_newest_first_with_row_hooks_and_escaped_tags() {
    let app = spawn_app().await;
    let mut spec = noop_spec();
    spec["Annotations"] = json!(["<b>bold</b>&\"q\""]);
    let first = app.submit_ok(spec).await;
    let second = app.submit_ok(noop_spec()).await;
    app.wait_terminal(&first, 20).await;
    let (status, h, body) = page(&app, "/ui/").await;
    assert_console_html(status, &h, StatusCode::OK, &body);
    let row = |id: &str| format!("<tr data-job-id=\"{id}\" data-state=\"");
    let (a, b) = (
        body.find(&row(&first)).expect("first row"),
        body.find(&row(&second)).expect("second row"),
    );
    assert!(b < a, "newest first");
    assert!(
        body.contains(&format!("{}Completed\"", row(&first))),
        "{body}"
    );
    assert!(
        body.contains("&#60;b&#62;bold&#60;/b&#62;&#38;&#34;q&#34;")
            || body.contains("&lt;b&gt;bold&lt;/b&gt;&amp;&quot;q&quot;"),
        "{body}"
    );
    assert!(!body.contains("<b>bold</b>"));
}

#[tokio::test]
async fn jobs_page_filters_by_state_tag_id_prefix_and_client() {
    let app = spawn_app().await;
    let mut tagged = noop_spec();
    tagged["Annotations"] = json!(["nightly"]);
    let a = app.submit_ok(tagged).await;
    let other = hake::auth::Signer::generate_ed25519();
    let (status, body) = app.submit_as(&other, noop_spec()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let b = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
    app.wait_terminal(&a, 20).await;
    app.wait_terminal(&b, 20).await;

    let (_, _, by_tag) = page(&app, "/ui/?tag=nightly").await;
    assert!(by_tag.contains(&a) && !by_tag.contains(&b), "{by_tag}");
    let (_, _, by_id) = page(&app, &format!("/ui/?id={}", &b[..10])).await;
    assert!(by_id.contains(&b) && !by_id.contains(&a), "{by_id}");
    let (_, _, mine) = page(&app, &format!("/ui/?client={}", app.signer.client_id())).await;
    assert!(mine.contains(&a) && !mine.contains(&b), "{mine}");
    assert!(mine.contains("everyone&#39;s") || mine.contains("everyone's"));
    let (_, _, running) = page(&app, "/ui/?state=InProgress").await;
    assert!(!running.contains(&a) && running.contains("No jobs match."));
    let (status, h, unknown) = page(&app, "/ui/?id=ffffffffffff").await;
    assert_console_html(status, &h, StatusCode::OK, &unknown);
    assert!(unknown.contains("No jobs match."));
}

#[tokio::test]
async fn jobs_page_pages_with_next_links() {
    let app = spawn_with(|c| c.list_page_cap = 2).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.submit_ok(noop_spec()).await);
    }
    let (_, _, first) = page(&app, "/ui/").await;
    assert!(first.contains(&ids[2]) && first.contains(&ids[1]) && !first.contains(&ids[0]));
    let start = first.find("href=\"/ui/?next=").expect("a next link") + 6;
    let href = &first[start..start + first[start..].find('"').unwrap()];
    let (_, _, second) = page(&app, &href.replace("&#38;", "&").replace("&amp;", "&")).await;
    assert!(
        second.contains(&ids[0]) && !second.contains(&ids[2]),
        "{second}"
    );
    assert!(!second.contains("rel=\"next\""));
}

#[tokio::test]
async fn a_bad_state_filter_or_page_token_is_a_400_page_that_says_why() {
    let app = spawn_app().await;
    let (status, h, body) = page(&app, "/ui/?state=Sleeping").await;
    assert_console_html(status, &h, StatusCode::BAD_REQUEST, &body);
    assert!(
        body.contains("Sleeping") && body.contains("InProgress"),
        "{body}"
    );
    let (status, h, body) = page(&app, "/ui/?next=not-a-token").await;
    assert_console_html(status, &h, StatusCode::BAD_REQUEST, &body);
    assert!(body.contains("not a token this server issued"), "{body}");
}

#[tokio::test]
async fn job_page_shows_summary_executions_history_results_and_spec_escaped() {
    let app = spawn_app().await;
    let mut spec = exec_spec(&["sh", "-c", "echo hi; exit 3"]);
    spec["Annotations"] = json!(["</pre><script>alert(1)</script>"]);
    let id = app.submit_ok(spec).await;
    app.wait_terminal(&id, 20).await;
    let (status, h, body) = page(&app, &format!("/ui/jobs/{}", &id[..12])).await;
    assert_console_html(status, &h, StatusCode::OK, &body);
    assert!(body.contains(&format!("data-job-id=\"{id}\"")), "{body}");
    assert!(body.contains("data-job-state=\"Error\""), "{body}");
    assert!(body.contains("<tr data-execution-id="), "{body}");
    assert!(body.contains("<td>3</td>"), "exit code shown: {body}");
    assert!(
        body.contains("class=\"failure\""),
        "failure marked in history: {body}"
    );
    assert!(body.contains("id=\"logs\""));
    assert!(body.contains("&#34;Engine&#34;") || body.contains("&quot;Engine&quot;"));
    assert!(!body.contains("<script>alert(1)</script>"), "{body}");
    assert!(
        !body.contains("data-action=\"cancel\""),
        "no cancel once terminal"
    );
}

#[tokio::test]
async fn an_active_job_has_a_cancel_button_and_its_results_link_only_http_urls() {
    let app = spawn_app().await;
    let id = app.submit_ok(exec_spec(&["sleep", "30"])).await;
    app.wait_for(&id, 20, |s| s["State"] == "InProgress").await;
    let (_, _, body) = page(&app, &format!("/ui/jobs/{id}")).await;
    assert!(body.contains("data-action=\"cancel\""), "{body}");
    assert!(body.contains("data-active=\"true\""));
    app.cancel_as(&app.signer, &id, "test").await;

    let mut local = exec_spec(&["sh", "-c", "echo made > \"$HAKE_OUTPUTS/out/made.txt\""]);
    local["PublisherSpec"] = json!({"Type": "Local"});
    local["outputs"] = json!([{"Name": "out", "path": "/outputs"}]);
    let done = app.submit_ok(local).await;
    assert_eq!(app.wait_terminal(&done, 30).await["State"], "Completed");
    let (_, _, body) = page(&app, &format!("/ui/jobs/{done}")).await;
    assert!(
        body.contains(&format!("<a href=\"{}/results/", app.base))
            || body.contains(&format!("<a href=\"{}&#47;results", app.base)),
        "{body}"
    );
}

#[tokio::test]
async fn an_unknown_job_is_a_404_page() {
    let app = spawn_app().await;
    let (status, h, body) = page(&app, "/ui/jobs/j-00000000-nope").await;
    assert_console_html(status, &h, StatusCode::NOT_FOUND, &body);
    assert!(
        body.contains("job-not-found") && body.contains("j-00000000-nope"),
        "{body}"
    );
}

#[tokio::test]
async fn nodes_submit_and_key_pages_render_with_their_hooks() {
    let app = spawn_app().await;
    let (status, h, nodes) = page(&app, "/ui/nodes").await;
    assert_console_html(status, &h, StatusCode::OK, &nodes);
    let node_id = app.app.jobs.node_id().to_owned();
    assert!(
        nodes.contains(&format!("data-node-id=\"{node_id}\"")),
        "{nodes}"
    );
    assert!(
        nodes.contains("data-liveness=\"alive\"") && nodes.contains("Exec"),
        "{nodes}"
    );
    let (status, h, submit) = page(&app, "/ui/submit").await;
    assert_console_html(status, &h, StatusCode::OK, &submit);
    assert!(submit.contains("textarea name=\"spec\"") && submit.contains("data-action=\"submit\""));
    let (status, h, keys) = page(&app, "/ui/keys").await;
    assert_console_html(status, &h, StatusCode::OK, &keys);
    assert!(keys.contains("textarea name=\"key\"") && keys.contains("data-action=\"save-key\""));
    assert!(keys.contains("never sent anywhere"));
}

#[tokio::test]
async fn root_redirects_browsers_to_the_console_and_stays_a_json_404_for_others() {
    let app = spawn_app().await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirect
        .get(app.url("/"))
        .header(ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/ui/");
    let resp = no_redirect.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "route-not-found");
    let resp = no_redirect.get(app.url("/ui")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
}

#[tokio::test]
async fn assets_are_cached_by_version_and_revalidated_by_etag() {
    let app = spawn_app().await;
    let (_, _, body) = page(&app, "/ui/").await;
    let start = body.find("/ui/assets/app.js?v=").unwrap();
    let url = &body[start..start + body[start..].find('"').unwrap()];
    let resp = app.http.get(app.url(url)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(resp.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let etag = resp.headers()["etag"].clone();
    assert!(resp.text().await.unwrap().contains("textContent"));
    let again = app
        .http
        .get(app.url("/ui/assets/app.js"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["cache-control"], "no-cache");
    let css = app
        .http
        .get(app.url("/ui/assets/app.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let missing = app
        .http
        .get(app.url("/ui/assets/x.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "asset-not-found");
}

#[tokio::test]
async fn spec_conversion_turns_yaml_into_json_and_explains_bad_text() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_raw(
            "/ui/spec",
            "Spec:\n  Engine: Noop\n  Deal: {Concurrency: 1}\n",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"Engine": "Noop", "Deal": {"Concurrency": 1}}));
    let (status, body) = app.post_raw("/ui/spec", r#"{"Engine": "Noop"}"#).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"Engine": "Noop"})));
    for bad in ["", "  \n", "[1, 2]", "Engine: [unclosed"] {
        let (status, body) = app.post_raw("/ui/spec", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert_eq!(body["code"], "invalid-spec", "{bad:?}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}
