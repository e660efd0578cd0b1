//! The PostgreSQL store end to end: the database alone describes every job (a node with
//! an empty data dir serves them all), an outage is answered with 503 and survived with
//! nothing acknowledged lost, and a URL of another kind is refused at start-up. The other
//! store-facing modules run on PostgreSQL too, through the harness switch (`testdb`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::log_client::{self, sh};
use crate::testdb::{fresh_database, pg_or_skip, PgServer};

/// The full text of a job's logs as one client reads them through `app`.
async fn log_text(app: &TestApp, job: &str) -> (Vec<String>, Value) {
    let frames = log_client::frames(app, job, json!({"WithHistory": true})).await;
    (log_client::texts(&frames), log_client::end(&frames).clone())
}

#[tokio::test]
async fn a_node_with_an_empty_data_dir_on_the_same_database_serves_every_job_history_and_log() {
    let Some(admin) = pg_or_skip("a_node_with_an_empty_data_dir…") else {
        return;
    };
    let url = fresh_database(&admin);
    let a = spawn_with(|c| c.database_url = Some(url.clone())).await;
    // More lines than the ring holds, so most of the log exists only as persisted chunks.
    let long = a
        .submit_ok(sh("seq 1 25000; echo 'to stderr' >&2; exit 3"))
        .await;
    let short = a.submit_ok(noop_spec()).await;
    for id in [&long, &short] {
        a.wait_terminal(id, 60).await;
    }
    let states = [a.state(&long).await, a.state(&short).await];
    let histories = [a.events(&long).await, a.events(&short).await];
    let (lines, end) = log_text(&a, &long).await;
    assert_eq!(lines.len(), 25_001);
    assert_eq!(end["ExitCode"], 3, "{end}");
    let node_a = a.get_text("/id").await;
    let signer = a.signer.clone();
    let _ = a.stop().await;

    // A new node: a fresh temporary data dir, the same database, the same client.
    let b = spawn_as(signer, |c| c.database_url = Some(url.clone())).await;
    assert!(!b.app.config.data_dir.join("hake.db").exists());
    assert_ne!(b.get_text("/id").await, node_a, "a new node id");
    for (i, id) in [&long, &short].into_iter().enumerate() {
        assert_eq!(b.state(id).await, states[i]);
        assert_eq!(b.events(id).await, histories[i]);
    }
    assert_eq!(log_text(&b, &long).await, (lines, end));
    let (_, list) = b
        .post("/requester/list", &json!({"return_all": true}))
        .await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 2, "{list}");
}

/// A signed submit of a Noop job, given 20 s to be answered.
async fn submit_noop(app: &TestApp) -> reqwest::Result<reqwest::Response> {
    let payload = json!({"ClientID": app.signer.client_id(), "APIVersion": "V1beta1",
                         "Spec": noop_spec()})
    .to_string();
    app.http
        .post(app.url("/requester/submit"))
        .timeout(Duration::from_secs(20))
        .body(app.signer.envelope(&payload))
        .send()
        .await
}

/// Submits noop jobs one after another until `stop`; keeps the ids of those acknowledged
/// and the status and code of every other answer.
async fn submit_load(
    app: Arc<TestApp>,
    stop: Arc<AtomicBool>,
) -> (Vec<String>, Vec<(u16, String)>) {
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match submit_noop(&app).await {
            Ok(r) if r.status() == StatusCode::OK => {
                let body: Value = r.json().await.unwrap();
                acked.push(body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned());
            }
            Ok(r) => {
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                refused.push((status, body["code"].as_str().unwrap_or("").to_owned()));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("a submit got no answer within 20 s during the outage: {e}"),
        }
    }
    (acked, refused)
}

#[tokio::test]
async fn postgres_stopped_mid_load_gives_503_then_serves_again_with_nothing_acknowledged_lost() {
    let Some(pg) = PgServer::start("postgres_stopped_mid_load…") else {
        return;
    };
    let app = Arc::new(
        spawn_with(|c| {
            c.database_url = Some(pg.url());
            c.database_connect_timeout_secs = 5;
        })
        .await,
    );
    // A job that is running when the database goes away and ends while it is away.
    let running = app.submit_ok(sh("sleep 3; echo finished")).await;
    app.wait_for(&running, 20, |s| s["State"] == "InProgress")
        .await;

    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(submit_load(app.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    pg.stop();

    // While it is down: 503 database-unavailable with Retry-After, and not ready.
    let deadline = Instant::now() + Duration::from_secs(20);
    let seen_503 = Arc::new(Mutex::new(None));
    while seen_503.lock().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "no 503 while the database was down"
        );
        let r = submit_noop(&app)
            .await
            .expect("an answer within 20 s, not a hang");
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(r.headers().contains_key("retry-after"));
            let body: Value = r.json().await.unwrap();
            *seen_503.lock().unwrap() = Some(body);
        }
    }
    let body = seen_503.lock().unwrap().take().unwrap();
    assert_eq!(body["code"], "database-unavailable", "{body}");
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Long enough for the running job to end while the database is away.
    tokio::time::sleep(Duration::from_secs(4)).await;
    pg.start_again();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app.http.get(app.url("/readyz")).send().await.unwrap();
        if r.status() == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready again after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (acked, refused) = load.await.unwrap();
    assert!(
        refused
            .iter()
            .all(|(s, c)| *s == 503 && c == "database-unavailable"),
        "{refused:?}"
    );
    assert!(!acked.is_empty());

    // Every acknowledged job is stored, and the job that ended during the outage was
    // recorded once the database was back.
    for id in &acked {
        let (status, body) = app.post("/requester/states", &json!({"job_id": id})).await;
        assert_eq!(status, StatusCode::OK, "acknowledged job {id} lost: {body}");
    }
    let state = app.wait_terminal(&running, 60).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let (lines, _) = log_text(&app, &running).await;
    assert_eq!(lines, ["finished\n"]);
    let after = app.submit_ok(noop_spec()).await;
    app.wait_terminal(&after, 30).await;
}

#[test]
fn a_database_url_of_another_kind_is_refused_at_start_up_naming_the_accepted_schemes() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hake"))
        .args(["serve", "--listen", "127.0.0.1:0", "--docker", "off"])
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--database-url", "mysql://root:hunter2@127.0.0.1/hake"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sqlite://, postgres:// or postgresql://"),
        "{err}"
    );
    assert!(
        !err.contains("hunter2"),
        "the password is not printed: {err}"
    );
}
