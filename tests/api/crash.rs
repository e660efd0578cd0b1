//! kill -9 of the real binary in the middle of a load of concurrent signed submits, then a
//! restart: every acknowledged job is there with its history, and the executions that were
//! running are recorded as interrupted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::process::serve;
use crate::signals::inspect_database;
use hake::auth::Signer;

/// Concurrent submitters.
const WORKERS: usize = 8;
/// The load stops by itself after this many acknowledged submits (or the kill).
const MAX_ACKED: usize = 2000;

/// One submitter: signed submits in a loop until `stop`, recording every acknowledged id.
async fn submitter(
    base: String,
    signer: Signer,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        // Mostly Noop; every fourth job a host process, so some executions are running.
        let spec = if n % 4 == 0 {
            exec_spec(&["true"])
        } else {
            noop_spec()
        };
        let payload = json!({"ClientID": signer.client_id(), "APIVersion": "V1beta1",
            "Spec": spec, "Timestamp": chrono::Utc::now().timestamp_millis(),
            "Nonce": uuid::Uuid::new_v4().to_string()})
        .to_string();
        let sent = http
            .post(format!("{base}/requester/submit"))
            .body(signer.envelope(&payload))
            .send()
            .await;
        let Ok(resp) = sent else { break };
        if resp.status() != StatusCode::OK {
            break;
        }
        // Only a complete 200 answer is an acknowledgement.
        let Ok(body) = resp.json::<Value>().await else {
            break;
        };
        let id = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
        let mut a = acked.lock().unwrap();
        a.push(id);
        if a.len() >= MAX_ACKED {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

#[tokio::test]
async fn kill_9_during_a_submit_load_loses_no_acknowledged_job() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let signer = Signer::generate_ed25519();
    let flags = ["--allow-exec", "--max-concurrent-executions", "3"];
    let first = serve(&data, &flags);

    // Two long executions hold two of the three slots when the kill comes.
    let mut sleepers = Vec::new();
    for _ in 0..2 {
        let payload = json!({"ClientID": signer.client_id(), "APIVersion": "V1beta1",
            "Spec": exec_spec(&["sleep", "60"])})
        .to_string();
        let (s, body) = first
            .post("/requester/submit", signer.envelope(&payload))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        sleepers.push(body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned());
    }
    for id in &sleepers {
        let deadline = Instant::now() + Duration::from_secs(20);
        while first.state(id).await["Executions"][0]["State"] != "BidAccepted" {
            assert!(Instant::now() < deadline, "sleeper did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            tokio::spawn(submitter(
                first.base.clone(),
                signer.clone(),
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    // Let the load run, then kill the server while submits are in flight.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < 300 {
        assert!(Instant::now() < deadline, "the load did not get going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!stop.load(Ordering::Relaxed), "the load was still running");
    drop(first); // SIGKILL
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let (check, stored) = inspect_database(&data).await;
    assert_eq!(check, "ok");
    let stored: std::collections::HashSet<_> = stored.into_iter().collect();
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged jobs lost",
        lost.len(),
        acked.len()
    );

    let second = serve(&data, &flags);
    for id in &sleepers {
        let s = second.state(id).await;
        assert_eq!(s["State"], "Error", "{s}");
        assert_eq!(s["Executions"][0]["State"], "Failed");
        assert_eq!(s["Executions"][0]["Status"], "interrupted by node restart");
    }
    for id in &acked {
        let (s, body) = second
            .post("/requester/events", json!({"job_id": id}).to_string())
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["events"][0]["Comment"], "Job created", "{id}: {body}");
        assert_eq!(body["events"][0]["JobID"], id.as_str());
    }
    // Nothing is left running or half-started: every job ends (queued ones run now).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = second
            .post(
                "/requester/list",
                json!({"return_all": true, "max_jobs": 0, "states": ["New", "Queued", "InProgress"]})
                    .to_string(),
            )
            .await;
        let open = body["jobs"].as_array().map_or(0, Vec::len);
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} jobs still unfinished after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "kill -9 under load: {} acknowledged submits, all present",
        acked.len()
    );
}
