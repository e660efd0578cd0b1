//! The web console in a real headless Chromium: live rows, live logs, cancel signed in the
//! browser, keys imported as PEM, markup shown as text, and no console errors.

use fantoccini::Locator;
use hake::auth::Signer;
use serde_json::{json, Value};

use crate::browser_support::Browser;
use crate::helpers::*;
use crate::log_client::sh;

/// The `data-state` of a job row or the job page's badge, as the page shows it now.
async fn job_state_on_page(b: &Browser) -> String {
    b.js("return document.querySelector('[data-job-state]').dataset.jobState;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_job_submitted_through_the_api_appears_and_turns_completed_without_a_reload() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    b.run("live_rows", async {
        b.open(&app, "/ui/").await;
        b.wait_css("#jobs tbody", 10).await;
        b.js("window.__sameLoad = true; return 1;").await;
        let script = format!("while [ ! -f {} ]; do sleep 0.05; done", go.display());
        let id = app.submit_ok(sh(&script)).await;
        let row = b.wait_css(&format!("tr[data-job-id=\"{id}\"]"), 15).await;
        assert_ne!(
            row.attr("data-state").await.unwrap().as_deref(),
            Some("Completed")
        );
        std::fs::write(&go, "").unwrap();
        b.wait_css(
            &format!("tr[data-job-id=\"{id}\"][data-state=\"Completed\"]"),
            30,
        )
        .await;
        assert_eq!(
            b.js("return window.__sameLoad === true;").await,
            json!(true),
            "the page was reloaded"
        );
        assert_eq!(app.state(&id).await["State"], "Completed");
    })
    .await;
}

#[tokio::test]
async fn logs_appear_while_the_job_runs_then_follow_with_stderr_marked_and_an_end_marker() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    b.run("live_logs", async {
        b.import_key(&app, &app.signer.to_pem(), &app.signer.client_id())
            .await;
        let script = format!(
            "echo MARK1; while [ ! -f {} ]; do sleep 0.05; done; echo MARK2; echo ERR1 >&2",
            go.display()
        );
        let mut spec = sh(&script);
        spec["Annotations"] = json!(["nightly", "etl"]);
        let id = app.submit_ok(spec).await;
        b.open(&app, &format!("/ui/jobs/{id}")).await;
        b.wait_js(
            "document.querySelector('#logs').textContent.includes('MARK1')",
            20,
        )
        .await;
        // The job waits for the file: it is still running and nothing else was printed.
        assert_eq!(app.state(&id).await["State"], "InProgress");
        assert_eq!(
            b.js("return document.querySelectorAll('[data-log-end]').length;")
                .await,
            json!(0)
        );
        assert_eq!(
            b.js("return document.querySelector('#logs').textContent.includes('MARK2');")
                .await,
            json!(false)
        );
        // A dropped connection: the page reconnects and resumes after the last seq it has.
        b.js("window.hakeConsole.dropLogStream(); return 1;").await;
        b.wait_js(
            "window.hakeConsole.reconnects === 1 && \
             document.querySelector('#log-status').textContent === 'following'",
            20,
        )
        .await;
        std::fs::write(&go, "").unwrap();
        let end = b.wait_css("#logs [data-log-end]", 30).await;
        assert_eq!(
            end.attr("data-state").await.unwrap().as_deref(),
            Some("Completed")
        );
        assert_eq!(
            end.attr("data-exit-code").await.unwrap().as_deref(),
            Some("0")
        );
        let lines = b
            .js(
                "return Array.from(document.querySelectorAll('#logs .line[data-seq]'), \
                 l => [l.className, l.textContent, l.dataset.seq]);",
            )
            .await;
        let lines = lines.as_array().unwrap();
        let text: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l[0].as_str().unwrap(), l[1].as_str().unwrap()))
            .collect();
        assert_eq!(
            text,
            [
                ("line stdout", "MARK1"),
                ("line stdout", "MARK2"),
                ("line stderr", "ERR1")
            ]
        );
        let mut seqs: Vec<&str> = lines.iter().map(|l| l[2].as_str().unwrap()).collect();
        seqs.dedup();
        assert_eq!(seqs.len(), 3, "no line shown twice: {lines:?}");
        // The page itself followed the job to its end, without a reload.
        b.wait_js(
            "document.querySelector('[data-job-state]').dataset.jobState === 'Completed'",
            20,
        )
        .await;
        assert_eq!(
            b.js("return document.querySelectorAll('tr[data-execution-id]').length;")
                .await,
            json!(1)
        );
        assert_eq!(
            b.js("return window.hakeConsole.reconnects;").await,
            json!(1)
        );
        // The README's screenshot: HAKE_CONSOLE_SCREENSHOT=docs/console-job.png.
        if let Some(path) = std::env::var_os("HAKE_CONSOLE_SCREENSHOT") {
            std::fs::write(&path, b.client.screenshot().await.unwrap()).unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn cancel_from_the_page_is_signed_in_the_browser_exactly_as_rust_signs() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    b.run("cancel", async {
        b.import_key(&app, &app.signer.to_pem(), &app.signer.client_id())
            .await;
        let id = app.submit_ok(sh("sleep 60")).await;
        app.wait_for(&id, 20, |s| s["State"] == "InProgress").await;
        b.open(&app, &format!("/ui/jobs/{id}")).await;
        b.wait_css("[data-action=cancel]:not([disabled])", 10)
            .await
            .click()
            .await
            .unwrap();
        let question = b.client.get_alert_text().await.expect("a confirm() dialog");
        assert!(question.contains(&id), "{question}");
        b.client.accept_alert().await.unwrap();
        let state = app.wait_terminal(&id, 20).await;
        assert_eq!(state["State"], "Cancelled");
        b.wait_js(
            "document.querySelector('[data-job-state]').dataset.jobState === 'Cancelled'",
            20,
        )
        .await;
        assert_eq!(job_state_on_page(&b).await, "Cancelled");
        assert!(b
            .client
            .find_all(Locator::Css("[data-action=cancel]"))
            .await
            .unwrap()
            .is_empty());
        // What the browser sent: the signature is the one Rust makes over the same bytes.
        let sent = b.js("return window.hakeConsole.signed.cancel;").await;
        let payload = sent["payload"].as_str().expect("payload text");
        let p: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(p["JobID"], id.as_str());
        assert_eq!(p["ClientID"], app.signer.client_id().as_str());
        assert!(p["Timestamp"].is_i64() && p["Nonce"].is_string(), "{p}");
        assert_eq!(
            sent["client_public_key"],
            app.signer.public_key_b64().as_str()
        );
        assert_eq!(
            sent["signature"],
            app.signer.sign(payload.as_bytes()).as_str()
        );
    })
    .await;
}

#[tokio::test]
async fn an_rsa_key_as_bacalhau_writes_it_submits_from_the_submit_page() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let rsa = Signer::generate_rsa(2048).unwrap();
    let pem = rsa.to_pem();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    b.run("rsa_submit", async {
        b.import_key(&app, &pem, &rsa.client_id()).await;
        b.open(&app, "/ui/submit").await;
        let yaml = "Engine: Noop\nVerifier: Noop\nPublisherSpec:\n  Type: Noop\nAnnotations: [from-the-browser]\nDeal:\n  Concurrency: 1\n";
        b.client
            .execute(
                "document.querySelector('textarea[name=spec]').value = arguments[0];",
                vec![json!(yaml)],
            )
            .await
            .unwrap();
        b.wait_css("[data-action=submit]:not([disabled])", 10)
            .await
            .click()
            .await
            .unwrap();
        b.wait_css("#job[data-job-id]", 20).await;
        let id = b
            .js("return document.querySelector('#job').dataset.jobId;")
            .await;
        let id = id.as_str().unwrap();
        let (status, list) = app
            .post("/requester/list", &json!({"client_id": rsa.client_id()}))
            .await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["jobs"][0]["Job"]["Metadata"]["ID"], id);
        assert_eq!(
            list["jobs"][0]["Job"]["Spec"]["Annotations"],
            json!(["from-the-browser"])
        );
        // The server verified the browser's RSA signature and took the modulus' hash as
        // the owner: the ClientID the CLI computes for the same key.
        assert_eq!(
            list["jobs"][0]["Job"]["Metadata"]["ClientID"],
            rsa.client_id().as_str()
        );
    })
    .await;
}

#[tokio::test]
async fn markup_in_annotations_and_logs_is_shown_as_text_and_never_runs() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let tag = "<img src=x onerror=\"window.__pwnedTag=1\">";
    let line = "<script>window.__pwnedLog=1</script><img src=y onerror=window.__pwnedImg=1>";
    b.run("markup", async {
        b.import_key(&app, &app.signer.to_pem(), &app.signer.client_id())
            .await;
        let mut spec = sh(&format!("printf '%s\\n' '{line}'"));
        spec["Annotations"] = json!([tag]);
        let id = app.submit_ok(spec).await;
        app.wait_terminal(&id, 30).await;
        b.open(&app, "/ui/").await;
        let cell = b
            .wait_css(&format!("tr[data-job-id=\"{id}\"] td.tags"), 10)
            .await;
        assert_eq!(cell.text().await.unwrap(), tag);
        b.open(&app, &format!("/ui/jobs/{id}")).await;
        b.wait_css("#logs [data-log-end]", 20).await;
        let shown = b
            .js("return document.querySelector('#logs .line.stdout').textContent;")
            .await;
        assert_eq!(shown, json!(line));
        let dd = b
            .js("return document.querySelector('#summary .tags').textContent;")
            .await;
        assert_eq!(dd, json!(tag));
        assert_eq!(
            b.js(
                "return [window.__pwnedTag, window.__pwnedLog, window.__pwnedImg, \
                  document.querySelectorAll('main img, main script').length];"
            )
            .await,
            json!([null, null, null, 0])
        );
    })
    .await;
}

#[tokio::test]
async fn on_a_plain_http_origin_that_is_not_local_signed_actions_are_off_and_the_page_says_why() {
    // console.test resolves to the test server, but is not a secure context as
    // 127.0.0.1 is.
    let Some(b) = Browser::start_with(&["--host-resolver-rules=MAP console.test 127.0.0.1"]).await
    else {
        return;
    };
    let app = spawn_app().await;
    let id = app.submit_ok(sh("sleep 30")).await;
    let origin = format!("http://console.test:{}", app.addr.port());
    b.run("insecure_origin", async {
        b.client
            .goto(&format!("{origin}/ui/jobs/{id}"))
            .await
            .unwrap();
        b.wait_js("document.body.dataset.ready === 'true'", 10).await;
        let notice = b
            .js("const n = document.querySelector('#signing-off'); return [n.hidden, n.textContent];")
            .await;
        assert_eq!(notice[0], json!(false), "{notice}");
        assert!(
            notice[1].as_str().unwrap().contains("not a secure context"),
            "{notice}"
        );
        let cancel = b.wait_css("[data-action=cancel]", 10).await;
        assert_eq!(cancel.attr("disabled").await.unwrap().as_deref(), Some("true"));
        b.client.goto(&format!("{origin}/ui/keys")).await.unwrap();
        b.wait_js("document.body.dataset.ready === 'true'", 10).await;
        assert_eq!(
            b.js("return document.querySelector('[data-action=save-key]').disabled;")
                .await,
            json!(true)
        );
        app.cancel_as(&app.signer, &id, "done").await;
    })
    .await;
}

#[tokio::test]
async fn a_key_that_does_not_own_the_job_gets_no_logs_or_cancel_and_a_reason() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let stranger = Signer::generate_ed25519();
    let id = app.submit_ok(sh("sleep 30")).await;
    b.run("not_owner", async {
        b.import_key(&app, &stranger.to_pem(), &stranger.client_id())
            .await;
        b.open(&app, &format!("/ui/jobs/{id}")).await;
        let status = b
            .js("return document.querySelector('#log-status').textContent;")
            .await;
        assert!(status.as_str().unwrap().contains("owner only"), "{status}");
        let cancel = b.wait_css("[data-action=cancel]", 10).await;
        assert_eq!(
            cancel.attr("disabled").await.unwrap().as_deref(),
            Some("true")
        );
        let why = cancel.attr("title").await.unwrap().unwrap_or_default();
        assert!(why.contains("owner"), "{why}");
        app.cancel_as(&app.signer, &id, "done").await;
    })
    .await;
}

#[tokio::test]
async fn the_console_error_check_sees_what_the_page_logs() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    b.run("console_probe", async {
        b.open(&app, "/ui/nodes").await;
        b.js("console.error('probe-error'); return 1;").await;
        let logged = b.console().await;
        assert!(
            logged.iter().any(|e| e["level"] == "SEVERE"
                && e["message"].as_str().unwrap().contains("probe-error")),
            "{logged:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn auto_scroll_follows_the_log_and_pauses_while_the_reader_is_further_up() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    b.run("auto_scroll", async {
        b.import_key(&app, &app.signer.to_pem(), &app.signer.client_id())
            .await;
        let script = format!(
            "i=0; while [ $i -lt 150 ]; do echo line $i; i=$((i+1)); done; \
             while [ ! -f {} ]; do sleep 0.05; done; echo LAST",
            go.display()
        );
        let id = app.submit_ok(sh(&script)).await;
        b.open(&app, &format!("/ui/jobs/{id}")).await;
        b.wait_js(
            "document.querySelectorAll('#logs .line').length === 150",
            20,
        )
        .await;
        // Following: the newest line is in view.
        b.wait_js(
            "(() => { const l = document.querySelector('#logs'); \
              return l.scrollTop > 0 && l.scrollHeight - l.scrollTop - l.clientHeight < 8; })()",
            10,
        )
        .await;
        // The reader scrolls up; new lines must not pull the view back down.
        b.js("document.querySelector('#logs').scrollTop = 0; return 1;")
            .await;
        std::fs::write(&go, "").unwrap();
        b.wait_css("#logs [data-log-end]", 30).await;
        assert!(b
            .js("return document.querySelector('#logs').textContent.includes('LAST');")
            .await
            .as_bool()
            .unwrap());
        assert_eq!(
            b.js("return document.querySelector('#logs').scrollTop;")
                .await,
            json!(0)
        );
    })
    .await;
}
