//! What operators do to the real binary: SIGHUP reloads `--authorized-keys`; SIGTERM
//! shuts down gracefully (503 for new requests during the grace period, the database
//! closed cleanly, every acknowledged job still there after a restart).

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection as _, SqliteConnection};

use crate::deploy::open_logs;
use crate::helpers::*;
use crate::log_client::Frames;
use crate::process::{serve, Proc};
use hake::auth::Signer;

async fn submit(p: &Proc, signer: &Signer, spec: Value) -> (StatusCode, Value) {
    let payload =
        json!({"ClientID": signer.client_id(), "APIVersion": "V1beta1", "Spec": spec}).to_string();
    p.post("/requester/submit", signer.envelope(&payload)).await
}

/// Submits until the answer has `status`, sending SIGHUP first; panics after 10 s.
async fn after_reload(p: &Proc, signer: &Signer, status: StatusCode) -> Value {
    p.signal(Signal::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (s, body) = submit(p, signer, noop_spec()).await;
        if s == status {
            return body;
        }
        assert!(Instant::now() < deadline, "still {s} after SIGHUP: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sighup_reloads_the_authorized_keys_file() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("authorized_keys");
    let alice = Signer::generate_ed25519();
    let bob = Signer::generate_ed25519();
    std::fs::write(&keys, format!("# the team\n{}\n", bob.client_id())).unwrap();
    let p = serve(
        &dir.path().join("data"),
        &["--authorized-keys", keys.to_str().unwrap()],
    );
    let (s, body) = submit(&p, &alice, noop_spec()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "not-authorized");

    // Alice's base64 public key is added: after SIGHUP she may submit.
    std::fs::write(
        &keys,
        format!("{}\n{}  # alice\n", bob.client_id(), alice.public_key_b64()),
    )
    .unwrap();
    after_reload(&p, &alice, StatusCode::OK).await;

    // A broken file is refused and the previous list stays in force.
    std::fs::write(&keys, "not a key at all\n").unwrap();
    p.signal(Signal::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !p.logged("reloading authorized keys failed") {
        assert!(Instant::now() < deadline, "no reload error logged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(submit(&p, &alice, noop_spec()).await.0, StatusCode::OK);

    // Removed again: 403 again.
    std::fs::write(&keys, format!("{}\n", bob.client_id())).unwrap();
    after_reload(&p, &alice, StatusCode::FORBIDDEN).await;
    assert_eq!(submit(&p, &bob, noop_spec()).await.0, StatusCode::OK);
}

/// The database's own consistency check (`PRAGMA integrity_check` on SQLite; "ok" on
/// PostgreSQL, which checks itself), and the ids of its jobs in submit order. Every stored
/// job must have its history.
pub async fn inspect_database(data_dir: &Path) -> (String, Vec<String>) {
    const IDS: &str = "SELECT id FROM jobs ORDER BY seq";
    const HEADLESS: &str = "SELECT COUNT(*) FROM jobs j WHERE NOT EXISTS \
        (SELECT 1 FROM job_history h WHERE h.job_seq = j.seq)";
    let (check, ids, headless): (String, Vec<String>, i64) =
        match crate::testdb::database_url_for(data_dir) {
            Some(url) => {
                let pool = hake::store::postgres::connect(&url).await.unwrap();
                let ids = sqlx::query_scalar(IDS).fetch_all(&pool).await.unwrap();
                let headless = sqlx::query_scalar(HEADLESS).fetch_one(&pool).await.unwrap();
                pool.close().await;
                ("ok".into(), ids, headless)
            }
            None => {
                let url = format!("sqlite://{}", data_dir.join("hake.db").display());
                let mut conn = SqliteConnection::connect(&url).await.unwrap();
                let check = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                let ids = sqlx::query_scalar(IDS).fetch_all(&mut conn).await.unwrap();
                let headless = sqlx::query_scalar(HEADLESS)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.unwrap();
                (check, ids, headless)
            }
        };
    assert_eq!(headless, 0, "every stored job has its history");
    (check, ids)
}

#[tokio::test]
async fn sigterm_refuses_new_requests_with_503_and_closes_the_database_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let signer = Signer::generate_ed25519();
    // The stubborn job keeps the shutdown busy for the 5 s kill grace: long enough that a
    // loaded machine still sends requests inside it.
    let flags = [
        "--allow-exec",
        "--kill-grace-secs",
        "5",
        "--shutdown-grace-secs",
        "10",
    ];
    let mut p = serve(&data, &flags);
    let mut acked = Vec::new();
    for _ in 0..20 {
        let (s, body) = submit(&p, &signer, noop_spec()).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        acked.push(body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned());
    }
    // A job that ignores SIGTERM keeps the shutdown busy for the kill grace period.
    // It says so once its trap is set: a SIGTERM that came before would end it at once.
    let stubborn = exec_spec(&["sh", "-c", "trap '' TERM; echo armed; sleep 30"]);
    let (s, body) = submit(&p, &signer, stubborn).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let stubborn = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
    acked.push(stubborn.clone());
    let mut log = Frames::new(open_logs(&p.http, &p.base, &signer, &stubborn).await);
    loop {
        let frame = log.next().await.expect("the job said it was armed");
        assert!(frame.get("End").is_none(), "the job ended early: {frame}");
        if frame["Data"] == "armed\n" {
            break;
        }
    }
    drop(log);

    let signalled = Instant::now();
    p.signal(Signal::SIGTERM);
    let mut refused = Vec::new();
    loop {
        let r = p
            .http
            .post(format!("{}/requester/list", p.base))
            .body("{}")
            .send()
            .await;
        match r {
            Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => {
                let retry = r.headers().get("retry-after").cloned();
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["code"], "shutting-down", "{body}");
                assert!(retry.is_some(), "503 without Retry-After");
                refused.push(body);
            }
            Ok(r) => assert_eq!(r.status(), StatusCode::OK, "before the signal took effect"),
            Err(_) => break, // the listener is closed
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(15),
            "still serving"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !refused.is_empty(),
        "new requests during the grace period got 503"
    );
    let status = p.wait_exit(15);
    assert!(status.success(), "clean exit: {status:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "within the grace period"
    );
    assert!(p.logged("\"stopped\""), "the server logged its clean stop");

    let (check, ids) = inspect_database(&data).await;
    assert_eq!(check, "ok");
    for id in &acked {
        assert!(ids.contains(id), "acknowledged job {id} is stored");
    }
    let wal = data.join("hake.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "the WAL was checkpointed when the database was closed"
    );

    let again = serve(&data, &flags);
    for id in &acked {
        let state = again.state(id).await;
        assert_eq!(state["JobID"], id.as_str());
    }
    let state = again.state(&stubborn).await;
    assert_eq!(state["Executions"][0]["State"], "Failed", "{state}");
    assert_eq!(
        state["Executions"][0]["Status"],
        "interrupted by node shutdown"
    );
}
