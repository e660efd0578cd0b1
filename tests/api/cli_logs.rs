//! `hake logs` with the real binary: streams to stdout and stderr, `--tail`, `--stream`,
//! `--since`, `--timestamps`, `--execution`, following to the job's exit status, and
//! reconnecting through a proxy whose connections the test cuts mid-stream.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::cli_support::*;
use crate::helpers::*;

/// Alternating streams, spaced so their arrival order (and so the seq order) is fixed.
const BOTH: &str = "for i in 1 2 3; do echo out $i; sleep 0.1; echo err $i >&2; sleep 0.1; done";

#[tokio::test]
async fn logs_sends_each_stream_to_its_own_and_filters_by_tail_stream_since_and_execution() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let id = cli.exec(&["--wait"], BOTH).await;
    let short = &id[..8];

    let run = cli.run(&["logs", short]).await.expect(0);
    assert_eq!(run.stdout, "out 1\nout 2\nout 3\n");
    assert_eq!(run.stderr, "err 1\nerr 2\nerr 3\n");

    let run = cli.run(&["logs", short, "--tail", "2"]).await.expect(0);
    assert_eq!(
        (run.stdout.as_str(), run.stderr.as_str()),
        ("out 3\n", "err 3\n")
    );

    let run = cli
        .run(&["logs", short, "--stream", "stderr", "--tail", "1"])
        .await
        .expect(0);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", "err 3\n"));

    let run = cli
        .run(&["logs", short, "--stream", "stdout", "--timestamps"])
        .await
        .expect(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    for (i, l) in lines.iter().enumerate() {
        let (time, text) = l.split_once(' ').unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(time).is_ok(),
            "an RFC 3339 prefix: {l}"
        );
        assert_eq!(text, format!("out {}", i + 1));
    }

    let run = cli.run(&["logs", short, "--since", "1h"]).await.expect(0);
    assert_eq!(run.stdout.lines().count(), 3);
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let run = cli
        .run(&["logs", short, "--since", &future])
        .await
        .expect(0);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));

    let exec_id = app.state(&id).await["Executions"][0]["ComputeReference"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = cli
        .run(&["logs", short, "--execution", &exec_id, "--stream", "stdout"])
        .await
        .expect(0);
    assert_eq!(run.stdout.lines().count(), 3);
    let run = cli
        .run(&["logs", short, "--execution", "e-nope"])
        .await
        .expect(5);
    assert!(
        run.stderr.contains("has no execution e-nope"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn logs_follow_waits_for_the_output_and_exits_with_the_job_status() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let ok = cli
        .exec(&[], "sleep 0.3; echo first; sleep 0.3; echo second")
        .await;
    let run = cli.run(&["logs", "-f", &ok[..8]]).await.expect(0);
    assert_eq!(run.stdout, "first\nsecond\n");

    let failing = cli.exec(&[], "echo going; exit 9").await;
    let run = cli.run(&["logs", "--follow", &failing]).await.expect(1);
    assert_eq!(run.stdout, "going\n");

    let slow = cli.exec(&[], "echo started; sleep 30").await;
    let mut child = cli
        .command(&["logs", "-f", &slow])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(out.next_line().await.unwrap().unwrap(), "started");
    app.cancel_as(&app.signer, &slow, "stop").await;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(3), "a cancelled job exits 3");

    // Without -f, a running job's log ends where it is, with exit code 0.
    let running = cli.exec(&[], "echo now; sleep 30").await;
    app.wait_for(&running, 20, |s| {
        s["Executions"][0]["State"] == "BidAccepted"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let run = cli.run(&["logs", &running]).await.expect(0);
    assert_eq!(run.stdout, "now\n");
}

#[tokio::test]
async fn exec_follow_streams_the_output_until_the_end_and_exits_with_the_job_status() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let run = cli
        .run(&[
            "exec",
            "--follow",
            "--",
            "sh",
            "-c",
            "echo a; echo b >&2; exit 5",
        ])
        .await
        .expect(1);
    assert_eq!(run.stdout, "a\n");
    assert!(run.stderr.contains("b\n"), "{}", run.stderr);
    let id = run
        .stderr
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("job ");
    assert_eq!(app.state(id).await["State"], "Error");
}

#[tokio::test]
async fn logs_follow_reconnects_after_dropped_connections_without_duplicates_or_loss() {
    let app = spawn_app().await;
    let proxy = Proxy::start(app.addr).await;
    let cli = Cli::new(&app);
    let through_proxy = cli.via(&proxy.url);
    let script = "i=1; while [ $i -le 12 ]; do echo line $i; sleep 0.25; i=$((i+1)); done";
    let id = cli.exec(&[], script).await;

    let mut child = through_proxy
        .command(&["logs", "-f", &id[..8]])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while let Some(line) = tokio::time::timeout(Duration::from_secs(30), out.next_line())
        .await
        .expect("a line within 30 s")
        .unwrap()
    {
        seen.push(line);
        if seen.len() == 3 || seen.len() == 7 {
            proxy.cut(); // between two lines of the job: the stream breaks mid-way
        }
    }
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt as _;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    let expected: Vec<String> = (1..=12).map(|i| format!("line {i}")).collect();
    assert_eq!(seen, expected, "every line once, in order");
    assert!(
        proxy.count("POST /requester/logs") >= 3,
        "two reconnections: {:?}",
        proxy.requests.lock().unwrap()
    );
}

#[tokio::test]
async fn logs_follow_rides_out_a_server_restart_and_exits_with_the_interrupted_job_status() {
    let app = spawn_app().await;
    let proxy = Proxy::start(app.addr).await;
    let cli = Cli::new(&app).via(&proxy.url);
    let script = "i=1; while [ $i -le 300 ]; do echo line $i; sleep 0.1; i=$((i+1)); done";
    let id = cli.exec(&[], script).await;

    let mut child = cli
        .command(&["logs", "-f", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        seen.push(out.next_line().await.unwrap().expect("a line"));
    }
    // A graceful restart: the stream ends with server_shutdown, the server is away for a
    // moment (the proxy still points at the old port), then answers on a new port.
    let app = app.restart().await;
    proxy.retarget(app.addr);
    while let Some(line) = tokio::time::timeout(Duration::from_secs(60), out.next_line())
        .await
        .expect("a line or the end within 60 s")
        .unwrap()
    {
        seen.push(line);
    }
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .unwrap()
        .unwrap();
    let expected: Vec<String> = (1..=seen.len()).map(|i| format!("line {i}")).collect();
    assert_eq!(
        seen, expected,
        "every line once, in order, across the restart"
    );
    assert!(seen.len() < 300, "the restart interrupted the job");
    assert_eq!(status.code(), Some(1), "the interrupted job failed");
    assert_eq!(app.state(&id).await["State"], "Error");
}
