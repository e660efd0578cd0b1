//! Execution logs end to end: real Exec jobs, real signed `POST /requester/logs`
//! requests, chunked bodies read as they arrive (NDJSON, SSE, text), history from SQLite
//! after eviction, completion and restart, and the errors answered before streaming.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::log_client::*;

const BOTH_STREAMS: &str =
    "i=1; while [ $i -le 20 ]; do echo \"out $i\"; sleep 0.01; echo \"err $i\" >&2; sleep 0.01; i=$((i+1)); done";

#[tokio::test]
async fn following_a_job_delivers_every_line_once_in_order_then_end_with_the_exit_code() {
    let app = spawn_app().await;
    let id = app.submit_ok(sh(BOTH_STREAMS)).await;
    let all = frames(&app, &id, json!({"Follow": true})).await;
    let recs = records(&all);
    assert_eq!(recs.len(), 40, "{all:?}");
    let mut last_time = String::new();
    let (mut outs, mut errs) = (Vec::new(), Vec::new());
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["Seq"], i as u64, "every seq once, in order");
        let time = r["Time"].as_str().unwrap().to_owned();
        assert!(
            time.len() == 30 && time.ends_with('Z'),
            "nanosecond RFC 3339: {time}"
        );
        assert!(time >= last_time, "times never go back");
        last_time = time;
        match r["Tag"].as_u64().unwrap() {
            1 => outs.push(r["Data"].as_str().unwrap().to_owned()),
            2 => errs.push(r["Data"].as_str().unwrap().to_owned()),
            t => panic!("tag {t}"),
        }
    }
    assert_eq!(
        outs,
        (1..=20).map(|i| format!("out {i}\n")).collect::<Vec<_>>()
    );
    assert_eq!(
        errs,
        (1..=20).map(|i| format!("err {i}\n")).collect::<Vec<_>>()
    );
    assert_eq!(
        end(&all),
        &json!({"Reason": "completed", "State": "Completed", "ExitCode": 0})
    );

    let failing = app.submit_ok(sh("echo bye; echo oops >&2; exit 3")).await;
    let all = frames(&app, &failing, json!({"Follow": true})).await;
    assert_eq!(texts(&all).len(), 2);
    assert_eq!(
        end(&all),
        &json!({"Reason": "failed", "State": "Failed", "ExitCode": 3})
    );
}

#[tokio::test]
async fn a_disconnected_follower_resumes_with_after_seq_and_last_event_id_without_loss() {
    let app = spawn_app().await;
    let script = "i=0; while [ $i -lt 60 ]; do echo \"line $i\"; sleep 0.02; i=$((i+1)); done";
    let id = app.submit_ok(sh(script)).await;

    let mut first =
        Frames::new(open(&app, &payload(&app, &id, json!({"Follow": true})), &[]).await);
    let mut seen = Vec::new();
    while seen.len() < 10 {
        let f = first.next().await.expect("records before the end");
        if f["Tag"] != 0 {
            seen.push((
                f["Seq"].as_u64().unwrap(),
                f["Data"].as_str().unwrap().to_owned(),
            ));
        }
    }
    drop(first);
    let after = seen.last().unwrap().0;
    let rest = frames(&app, &id, json!({"Follow": true, "AfterSeq": after})).await;
    for f in records(&rest) {
        seen.push((
            f["Seq"].as_u64().unwrap(),
            f["Data"].as_str().unwrap().to_owned(),
        ));
    }
    let expected: Vec<_> = (0..60).map(|i| (i as u64, format!("line {i}\n"))).collect();
    assert_eq!(seen, expected, "no duplicate, no loss");

    // The same over SSE with Last-Event-ID.
    let id = app.submit_ok(sh(script)).await;
    let sse = [("accept", "text/event-stream")];
    let body = open(&app, &payload(&app, &id, json!({"Follow": true})), &sse).await;
    assert_eq!(body.headers()["content-type"], "text/event-stream");
    let mut events = Sse::new(body);
    let mut ids = Vec::new();
    while ids.len() < 15 {
        let ev = events.next().await.expect("events before the end");
        if ev.event.is_none() {
            ids.push(ev.id.unwrap().parse::<u64>().unwrap());
        }
    }
    drop(events);
    let last = ids.last().unwrap().to_string();
    let headers = [
        ("accept", "text/event-stream"),
        ("last-event-id", last.as_str()),
    ];
    let resumed =
        Sse::new(open(&app, &payload(&app, &id, json!({"Follow": true})), &headers).await)
            .rest()
            .await;
    for ev in &resumed {
        if ev.event.is_none() {
            let data: Value = serde_json::from_str(&ev.data).unwrap();
            assert_eq!(Some(data["Seq"].to_string()), ev.id);
            ids.push(data["Seq"].as_u64().unwrap());
        }
    }
    assert_eq!(ids, (0..60).collect::<Vec<u64>>());
    let last = resumed.last().unwrap();
    assert_eq!(last.event.as_deref(), Some("end"));
    assert!(
        last.data.contains("\"Reason\":\"completed\""),
        "{}",
        last.data
    );
}

#[tokio::test]
async fn history_larger_than_the_ring_is_served_from_sqlite_and_the_cap_shows_as_a_gap() {
    let app = spawn_with(|c| {
        c.log_ring_bytes = 4096;
        c.log_ring_lines = 50;
    })
    .await;
    let id = app
        .submit_ok(sh(
            "i=0; while [ $i -lt 3000 ]; do echo \"line $i\"; i=$((i+1)); done",
        ))
        .await;
    app.wait_terminal(&id, 60).await;
    let all = frames(&app, &id, json!({})).await;
    assert_eq!(
        texts(&all),
        (0..3000).map(|i| format!("line {i}\n")).collect::<Vec<_>>()
    );
    assert!(records(&all)
        .iter()
        .enumerate()
        .all(|(i, r)| r["Seq"] == i as u64));
    assert_eq!(end(&all)["Reason"], "completed");

    let capped = spawn_with(|c| {
        c.log_ring_bytes = 4096;
        c.log_ring_lines = 50;
        c.log_max_bytes = 1000;
    })
    .await;
    // 10-byte lines: exactly seqs 0..=99 fit under the 1000-byte cap.
    let id = capped
        .submit_ok(sh(
            "i=0; while [ $i -lt 500 ]; do printf 'line %04d\\n' $i; i=$((i+1)); done",
        ))
        .await;
    capped.wait_terminal(&id, 60).await;
    let all = frames(&capped, &id, json!({})).await;
    assert_eq!(
        texts(&all),
        (0..100)
            .map(|i| format!("line {i:04}\n"))
            .collect::<Vec<_>>()
    );
    assert_eq!(all[100], json!({"Tag": 0, "Gap": {"From": 100, "To": 499}}));
    assert_eq!(all.len(), 102, "records, the gap, the end");
    assert_eq!(end(&all)["Reason"], "completed");
}

#[tokio::test]
async fn tail_since_stream_with_history_and_text_select_the_right_records() {
    let app = spawn_app().await;
    let script =
        "for i in 1 2 3; do echo \"out $i\"; echo \"err $i\" >&2; sleep 0.01; done; sleep 0.4; \
                  for i in 4 5 6; do echo \"out $i\"; echo \"err $i\" >&2; sleep 0.01; done";
    let id = app.submit_ok(sh(script)).await;
    app.wait_terminal(&id, 30).await;
    let all = frames(&app, &id, json!({})).await;
    assert_eq!(records(&all).len(), 12);

    let tail = frames(&app, &id, json!({"Tail": 3})).await;
    assert_eq!(
        records(&tail)
            .iter()
            .map(|r| r["Seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![9, 10, 11]
    );
    let errs = frames(&app, &id, json!({"Stream": "stderr"})).await;
    assert_eq!(
        texts(&errs),
        (1..=6).map(|i| format!("err {i}\n")).collect::<Vec<_>>()
    );
    assert!(records(&errs).iter().all(|r| r["Tag"] == 2));
    let last_errs = frames(&app, &id, json!({"Stream": "stderr", "Tail": 2})).await;
    assert_eq!(texts(&last_errs), vec!["err 5\n", "err 6\n"]);

    let second_half = records(&all)
        .into_iter()
        .find(|r| r["Data"] == "out 4\n")
        .unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(second_half["Time"].as_str().unwrap()).unwrap();
    let since = frames(&app, &id, json!({"SinceMs": t.timestamp_millis()})).await;
    let got = texts(&since);
    assert_eq!(got.len(), 6, "{got:?}");
    assert!(
        got.iter()
            .all(|t| t.ends_with("4\n") || t.ends_with("5\n") || t.ends_with("6\n")),
        "{got:?}"
    );

    let none = frames(&app, &id, json!({"WithHistory": false})).await;
    assert_eq!(
        none.len(),
        1,
        "a finished job without history is just End: {none:?}"
    );
    assert_eq!(end(&none)["Reason"], "completed");

    let resp = open(
        &app,
        &payload(&app, &id, json!({"Stream": "all"})),
        &[("accept", "text/plain")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-accel-buffering"], "no");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.get("content-encoding").is_none());
    let text = resp.text().await.unwrap();
    assert_eq!(text, texts(&all).concat(), "raw bytes merged in seq order");
}

#[tokio::test]
async fn with_history_false_on_a_running_job_starts_at_the_live_tail() {
    let app = spawn_app().await;
    let id = app
        .submit_ok(sh("echo early; sleep 2; echo late; sleep 0.2"))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while texts(&frames(&app, &id, json!({})).await).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no output");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let live = frames(&app, &id, json!({"Follow": true, "WithHistory": false})).await;
    assert_eq!(texts(&live), vec!["late\n"]);
    assert_eq!(records(&live)[0]["Seq"], 1);
    assert_eq!(end(&live)["Reason"], "completed");
}

#[tokio::test]
async fn a_follow_started_while_the_job_is_queued_waits_with_heartbeats_then_streams() {
    let app = spawn_with(|c| {
        c.max_concurrent_executions = Some(1);
        c.log_heartbeat_secs = 0.2;
    })
    .await;
    let blocker = app.submit_ok(sh("sleep 1.5")).await;
    let id = app.submit_ok(sh("echo hello")).await;
    let state = app.state(&id).await;
    assert!(
        matches!(state["State"].as_str(), Some("New" | "Queued")),
        "{state}"
    );
    let all = frames(&app, &id, json!({"Follow": true})).await;
    let first_record = all.iter().position(|f| f["Tag"] != 0).expect("a record");
    let heartbeats = all[..first_record]
        .iter()
        .filter(|f| f["Heartbeat"] == true)
        .count();
    assert!(heartbeats >= 2, "heartbeats while queued: {all:?}");
    assert_eq!(texts(&all), vec!["hello\n"]);
    assert_eq!(end(&all)["Reason"], "completed");
    assert_eq!(app.wait_terminal(&blocker, 20).await["State"], "Completed");
}

#[tokio::test]
async fn a_job_cancelled_before_it_ran_ends_the_follow_with_cancelled() {
    let app = spawn_with(|c| c.max_concurrent_executions = Some(1)).await;
    let blocker = app.submit_ok(sh("sleep 2")).await;
    let id = app.submit_ok(sh("echo never")).await;
    let quick = frames(&app, &id, json!({})).await;
    assert_eq!(end(&quick)["Reason"], "not_started", "{quick:?}");
    let follow = tokio::spawn({
        let (http, url, body) = (
            app.http.clone(),
            app.url("/requester/logs"),
            app.signer
                .envelope(&payload(&app, &id, json!({"Follow": true}))),
        );
        async move {
            Frames::new(http.post(url).body(body).send().await.unwrap())
                .rest()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = app.cancel_as(&app.signer, &id, "not needed").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let all = follow.await.unwrap();
    assert!(texts(&all).is_empty());
    assert_eq!(
        end(&all),
        &json!({"Reason": "cancelled", "State": "Cancelled"})
    );
    app.cancel_as(&app.signer, &blocker, "done").await;
}

#[tokio::test]
async fn logs_of_a_finished_job_are_served_after_a_restart() {
    let app = spawn_with(|c| {
        c.log_ring_bytes = 4096;
        c.log_ring_lines = 50;
    })
    .await;
    let id = app
        .submit_ok(sh(
            "i=0; while [ $i -lt 300 ]; do echo \"line $i\"; i=$((i+1)); done; exit 2",
        ))
        .await;
    app.wait_terminal(&id, 30).await;
    let app = app.restart().await;
    let all = frames(&app, &id[..8], json!({"Follow": true})).await;
    assert_eq!(
        texts(&all),
        (0..300).map(|i| format!("line {i}\n")).collect::<Vec<_>>()
    );
    assert_eq!(
        end(&all),
        &json!({"Reason": "failed", "State": "Failed", "ExitCode": 2})
    );
}

#[tokio::test]
async fn errors_are_json_with_the_right_status_before_any_streaming() {
    let app = spawn_app().await;
    let id = app.submit_ok(sh("echo hi")).await;
    app.wait_terminal(&id, 20).await;
    let check = |status: StatusCode, body: &Value, want: StatusCode, code: &str| {
        assert_eq!(status, want, "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert!(body["message"].is_string());
    };

    let other = hake::auth::Signer::generate_ed25519();
    let p = json!({"ClientID": other.client_id(), "JobID": id}).to_string();
    let (s, b) = app.post_signed("/requester/logs", &other, &p).await;
    check(s, &b, StatusCode::FORBIDDEN, "not-job-owner");

    let p = payload(&app, &id, json!({}));
    let forged = json!({"client_public_key": app.signer.public_key_b64(), "signature": app.signer.sign(b"other"), "payload": serde_json::from_str::<Value>(&p).unwrap()});
    let resp = app
        .http
        .post(app.url("/requester/logs"))
        .body(forged.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let (s, b) = (resp.status(), resp.json::<Value>().await.unwrap());
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");

    let unknown = uuid::Uuid::new_v4().to_string();
    let (s, b) = app
        .post_signed(
            "/requester/logs",
            &app.signer,
            &payload(&app, &unknown, json!({})),
        )
        .await;
    check(s, &b, StatusCode::NOT_FOUND, "job-not-found");

    let p = payload(&app, &id, json!({"ExecutionID": "e-nope"}));
    let (s, b) = app
        .post_signed("/api/v1/requester/logs", &app.signer, &p)
        .await;
    check(s, &b, StatusCode::BAD_REQUEST, "unknown-execution");

    let (s, b) = app
        .post_signed(
            "/requester/logs",
            &app.signer,
            &payload(&app, &id, json!({"Stream": "both"})),
        )
        .await;
    check(s, &b, StatusCode::BAD_REQUEST, "invalid-request");

    // The execution named explicitly works, at both prefixes.
    let exec = app.state(&id).await["Executions"][0]["ComputeReference"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = payload(&app, &id, json!({"ExecutionID": exec}));
    let resp = app
        .http
        .post(app.url("/api/v1/requester/logs"))
        .body(app.signer.envelope(&p))
        .send()
        .await
        .unwrap();
    assert_eq!(texts(&Frames::new(resp).rest().await), vec!["hi\n"]);
}

#[tokio::test]
async fn two_hundred_followers_of_one_chatty_job_receive_identical_sequences() {
    // One client opens all 200 streams: lift the per-client cap (64 by default).
    let app = spawn_with(|c| c.max_log_streams_per_client = 0).await;
    let script = "sleep 0.5; i=0; while [ $i -lt 400 ]; do echo \"line $i\"; \
                  [ $((i % 40)) -eq 0 ] && sleep 0.05; i=$((i+1)); done";
    let id = app.submit_ok(sh(script)).await;
    let body = app
        .signer
        .envelope(&payload(&app, &id, json!({"Follow": true})));
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (http, url, body) = (app.http.clone(), app.url("/requester/logs"), body.clone());
        tasks.push(tokio::spawn(async move {
            let all = Frames::new(http.post(url).body(body).send().await.unwrap())
                .rest()
                .await;
            all.into_iter()
                .filter(|f| f["Tag"] != 0 || f.get("End").is_some())
                .map(|f| {
                    if f["Tag"] == 0 {
                        f["End"]["Reason"].to_string()
                    } else {
                        format!("{} {}", f["Seq"], f["Data"])
                    }
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut seqs: HashMap<Vec<String>, usize> = HashMap::new();
    for t in tasks {
        *seqs.entry(t.await.unwrap()).or_default() += 1;
    }
    assert_eq!(seqs.len(), 1, "every follower saw the same sequence");
    let (seq, n) = seqs.into_iter().next().unwrap();
    assert_eq!(n, 200);
    assert_eq!(seq.len(), 401);
    assert_eq!(seq[399], "399 \"line 399\\n\"");
    assert_eq!(seq[400], "\"completed\"");
}

#[tokio::test]
async fn server_shutdown_ends_an_open_follow_with_server_shutdown_within_the_grace_period() {
    let app = spawn_app().await;
    let id = app.submit_ok(sh("echo $$; sleep 30")).await;
    let mut follow =
        Frames::new(open(&app, &payload(&app, &id, json!({"Follow": true})), &[]).await);
    let first = follow.next().await.unwrap();
    let pid: i32 = first["Data"].as_str().unwrap().trim().parse().unwrap();
    assert!(process_alive(pid));
    let started = std::time::Instant::now();
    let stop = tokio::spawn(app.stop());
    let rest = follow.rest().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the stream ended promptly"
    );
    assert_eq!(end(&rest)["Reason"], "server_shutdown", "{rest:?}");
    tokio::time::timeout(Duration::from_secs(10), stop)
        .await
        .expect("shutdown within the grace period")
        .unwrap();
    assert!(!process_alive(pid), "the execution was stopped too");
}

#[tokio::test]
async fn a_lone_line_is_sent_at_once_in_a_chunked_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let id = app.submit_ok(sh("echo one; sleep 3; echo two")).await;
    let body = app
        .signer
        .envelope(&payload(&app, &id, json!({"Follow": true})));
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let req = format!(
        "POST /requester/logs HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nAccept-Encoding: gzip\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("\"Data\":\"one\\n\"") {
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(
            n > 0,
            "connection closed early: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the first line did not wait for more"
    );
    let head = String::from_utf8_lossy(&got).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(
        head.contains("content-type: application/x-ndjson"),
        "{head}"
    );
    assert!(
        !head.contains("content-encoding"),
        "never compressed: {head}"
    );
}

#[tokio::test]
async fn a_follower_that_falls_behind_the_ring_catches_up_from_sqlite_without_loss() {
    let app = spawn_with(|c| {
        c.log_ring_bytes = 4096;
        c.log_ring_lines = 50;
    })
    .await;
    let script =
        "echo first; sleep 0.3; i=0; while [ $i -lt 20000 ]; do echo \"line $i\"; i=$((i+1)); done";
    let id = app.submit_ok(sh(script)).await;
    let mut follow =
        Frames::new(open(&app, &payload(&app, &id, json!({"Follow": true})), &[]).await);
    assert_eq!(follow.next().await.unwrap()["Data"], "first\n");
    // Stop reading while the job writes 20,000 lines through a 50-line ring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rest = follow.rest().await;
    let recs = records(&rest);
    assert_eq!(recs.len(), 20000);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["Seq"], i as u64 + 1);
        assert_eq!(r["Data"], format!("line {i}\n"));
    }
    assert_eq!(end(&rest)["Reason"], "completed");
}

#[tokio::test]
async fn a_timed_out_execution_ends_the_stream_with_timed_out() {
    let app = spawn_app().await;
    let mut spec = sh("echo waiting; sleep 30");
    spec["Timeout"] = json!(1);
    let id = app.submit_ok(spec).await;
    let all = frames(&app, &id, json!({"Follow": true})).await;
    assert_eq!(texts(&all), vec!["waiting\n"]);
    let end = end(&all);
    assert_eq!(
        (&end["Reason"], &end["State"]),
        (&json!("timed_out"), &json!("Failed")),
        "{end}"
    );
}

#[tokio::test]
async fn a_client_over_its_log_stream_cap_gets_429_until_one_of_its_streams_ends() {
    let app = spawn_with(|c| {
        c.max_log_streams_per_client = 1;
        c.log_heartbeat_secs = 0.2;
    })
    .await;
    // Streams that run to their end free their slot: many in a row all succeed.
    let done = app.submit_ok(sh("echo done")).await;
    app.wait_terminal(&done, 20).await;
    for _ in 0..3 {
        assert_eq!(texts(&frames(&app, &done, json!({})).await), vec!["done\n"]);
    }

    let running = app.submit_ok(sh("echo started; sleep 60")).await;
    let mut first =
        Frames::new(open(&app, &payload(&app, &running, json!({"Follow": true})), &[]).await);
    assert_eq!(first.next().await.expect("a record")["Data"], "started\n");

    let refused = open(&app, &payload(&app, &done, json!({})), &[]).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(refused.headers()["content-type"], "application/json");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "too-many-streams", "{body}");
    assert_eq!(body["details"]["max_streams"], 1, "{body}");

    // Another client has its own cap.
    let other = hake::auth::Signer::generate_ed25519();
    let theirs = app.submit_as(&other, sh("echo theirs")).await.1["job"]["Metadata"]["ID"]
        .as_str()
        .expect("job id")
        .to_owned();
    app.wait_terminal(&theirs, 20).await;
    let p = json!({"ClientID": other.client_id(), "JobID": theirs}).to_string();
    let resp = app
        .http
        .post(app.url("/requester/logs"))
        .body(other.envelope(&p))
        .send()
        .await
        .unwrap();
    assert_eq!(texts(&Frames::new(resp).rest().await), vec!["theirs\n"]);

    // Closing the follow frees the slot once the server notices (at the next heartbeat).
    drop(first);
    let mut freed = false;
    for _ in 0..100 {
        let resp = open(&app, &payload(&app, &done, json!({})), &[]).await;
        if resp.status() == StatusCode::OK {
            assert_eq!(texts(&Frames::new(resp).rest().await), vec!["done\n"]);
            freed = true;
            break;
        }
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "the slot of a closed stream was never freed");
    app.cancel_as(&app.signer, &running, "done").await;
}
