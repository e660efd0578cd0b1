//! `hake-bench`: the load generator behind docs/PERFORMANCE.md. It drives a running
//! server over loopback and reports throughput and latency percentiles. It never asserts
//! anything: figures are for the report, not for tests.
//!
//! ```text
//! hake-bench submit  --url http://127.0.0.1:1234 --concurrency 64 --seconds 10
//! hake-bench states  --url ... --concurrency 64 --seconds 10
//! hake-bench echo-server --listen 127.0.0.1:1240      # the HTTP ceiling on the same stack
//! hake-bench echo    --url http://127.0.0.1:1240 --concurrency 64 --seconds 10
//! hake-bench trivial --url ... --jobs 2000 --concurrency 64   # Exec `true`, submit → Completed
//! hake-bench logs    --url ... --rate 10000 --seconds 10 --followers 1000 --server-pid PID
//! hake-bench catchup --url ... --mb 100                       # history read-back speed
//! ```
//!
//! `logs` and `catchup` run this binary's own `emit` mode as an Exec job, so the server
//! must run with `--allow-exec`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use hake::auth::Signer;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(name = "hake-bench", about = "Load generator for hake")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Clone, clap::Args)]
struct Load {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:1234")]
    url: String,
    /// Requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Unmeasured warm-up seconds.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Signed Noop submits (Ed25519), each acknowledged after the commit.
    Submit(Load),
    /// Unsigned `states` of one job.
    States(Load),
    /// A bare axum JSON echo server (the HTTP ceiling of the same stack).
    EchoServer {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:1240")]
        listen: String,
    },
    /// POST a submit-sized JSON body to an echo server.
    Echo(Load),
    /// Prints numbered lines at a steady rate (the job that `logs` and `catchup` run).
    Emit {
        /// Lines per second (0 = as fast as possible).
        #[arg(long, default_value_t = 10_000)]
        rate: u64,
        /// Total lines.
        #[arg(long, default_value_t = 100_000)]
        lines: u64,
        /// Bytes per line, newline included.
        #[arg(long, default_value_t = 64)]
        width: usize,
    },
    /// One job printing `rate` lines/s, followed by `followers` log streams: delivered
    /// lines/s, loss, line→follower latency, server CPU and RSS.
    Logs {
        /// Server base URL.
        #[arg(long, default_value = "http://127.0.0.1:1234")]
        url: String,
        /// Lines per second the job prints.
        #[arg(long, default_value_t = 10_000)]
        rate: u64,
        /// Seconds the job prints.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent followers.
        #[arg(long, default_value_t = 100)]
        followers: usize,
        /// The server's pid, to report its CPU and RSS.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// A job that prints `mb` megabytes, then one full history read (NDJSON and text).
    Catchup {
        /// Server base URL.
        #[arg(long, default_value = "http://127.0.0.1:1234")]
        url: String,
        /// Megabytes of output.
        #[arg(long, default_value_t = 100)]
        mb: u64,
    },
    /// Exec `true` jobs from submit to Completed (observed through long-poll).
    Trivial {
        /// Server base URL.
        #[arg(long, default_value = "http://127.0.0.1:1234")]
        url: String,
        /// Jobs to run.
        #[arg(long, default_value_t = 2000)]
        jobs: usize,
        /// Jobs in flight.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
    },
}

fn client(n: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(n)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("HTTP client")
}

fn noop_payload(s: &Signer, i: usize) -> String {
    json!({"ClientID": s.client_id(), "APIVersion": "V1beta1",
           "Spec": {"Engine": "Noop", "Deal": {"Concurrency": 1}, "Annotations": [format!("bench-{i}")]}})
    .to_string()
}

struct Outcome {
    ok: u64,
    errors: u64,
    hist: Histogram<u64>,
    secs: f64,
}

/// Runs `load.concurrency` workers that POST `bodies[i % n]` to `path`.
async fn closed_loop(load: &Load, path: &str, bodies: Vec<String>) -> Outcome {
    let http = client(load.concurrency);
    let url = format!("{}{path}", load.url.trim_end_matches('/'));
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let bodies = Arc::new(bodies);
    let mut tasks = Vec::new();
    for w in 0..load.concurrency {
        let (http, url, measuring, stop, errors, bodies) = (
            http.clone(),
            url.clone(),
            measuring.clone(),
            stop.clone(),
            errors.clone(),
            bodies.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let body = bodies[i % bodies.len()].clone();
                i += 1;
                let t = Instant::now();
                let ok = match http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        let _ = hist.record(t.elapsed().as_micros().max(1) as u64);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            hist
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(load.warmup)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(load.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for t in tasks {
        hist.add(t.await.expect("worker")).expect("merge");
    }
    Outcome {
        ok: hist.len(),
        errors: errors.load(Ordering::Relaxed),
        hist,
        secs,
    }
}

fn report(name: &str, load: &Load, o: &Outcome) {
    let ms = |q: f64| o.hist.value_at_quantile(q) as f64 / 1000.0;
    let rps = o.ok as f64 / o.secs;
    println!(
        "{name}: {rps:.0} req/s over {:.1}s at concurrency {} | p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms | {} ok, {} errors",
        o.secs, load.concurrency, ms(0.5), ms(0.9), ms(0.99), o.hist.max() as f64 / 1000.0, o.ok, o.errors
    );
    println!(
        "{}",
        json!({"bench": name, "rps": rps.round(), "concurrency": load.concurrency, "seconds": o.secs,
               "p50_ms": ms(0.5), "p90_ms": ms(0.9), "p99_ms": ms(0.99), "ok": o.ok, "errors": o.errors})
    );
}

async fn submit_one(
    http: &reqwest::Client,
    base: &str,
    s: &Signer,
    spec: Value,
) -> anyhow::Result<String> {
    let payload =
        json!({"ClientID": s.client_id(), "APIVersion": "V1beta1", "Spec": spec}).to_string();
    let r = http
        .post(format!("{base}/requester/submit"))
        .body(s.envelope(&payload))
        .send()
        .await?;
    let v: Value = r.json().await?;
    v["job"]["Metadata"]["ID"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("submit failed: {v}"))
}

async fn trivial(url: &str, jobs: usize, concurrency: usize) -> anyhow::Result<()> {
    let http = client(concurrency);
    let base = url.trim_end_matches('/').to_owned();
    let signer = Arc::new(Signer::generate_ed25519());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, base, signer, next) = (http.clone(), base.clone(), signer.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram");
            let mut failed = 0u64;
            while next.fetch_add(1, Ordering::Relaxed) < jobs as u64 {
                let t = Instant::now();
                let spec = json!({"Engine": "Exec", "Exec": {"Command": ["true"]}, "Deal": {"Concurrency": 1}});
                let Ok(id) = submit_one(&http, &base, &signer, spec).await else {
                    failed += 1;
                    continue;
                };
                let mut version = 0;
                loop {
                    let body = json!({"job_id": id, "after_version": version, "wait_seconds": 30}).to_string();
                    let Ok(r) = http.post(format!("{base}/requester/states")).body(body).send().await else {
                        failed += 1;
                        break;
                    };
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    let state = v["state"]["State"].as_str().unwrap_or("");
                    if state == "Completed" {
                        let _ = hist.record(t.elapsed().as_micros().max(1) as u64);
                        break;
                    }
                    if matches!(state, "Error" | "Cancelled" | "CompletedPartially" | "") {
                        failed += 1;
                        break;
                    }
                    version = v["state"]["Version"].as_i64().unwrap_or(0);
                }
            }
            (hist, failed)
        }));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram");
    let mut failed = 0;
    for t in tasks {
        let (h, f) = t.await?;
        hist.add(h)?;
        failed += f;
    }
    let secs = started.elapsed().as_secs_f64();
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "trivial: {:.0} jobs/s end to end ({} jobs in {secs:.2}s, concurrency {concurrency}) | submit→Completed p50 {:.1} ms p99 {:.1} ms | {failed} failed",
        hist.len() as f64 / secs, hist.len(), ms(0.5), ms(0.99)
    );
    println!(
        "{}",
        json!({"bench": "trivial", "jobs_per_s": (hist.len() as f64 / secs).round(), "jobs": hist.len(),
               "seconds": secs, "p50_ms": ms(0.5), "p99_ms": ms(0.99), "failed": failed})
    );
    Ok(())
}

async fn echo_server(listen: &str) -> anyhow::Result<()> {
    use axum::routing::post;
    async fn echo(axum::Json(v): axum::Json<Value>) -> axum::Json<Value> {
        axum::Json(json!({"echo": v}))
    }
    let app = axum::Router::new().route("/echo", post(echo));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("echo server on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().mode {
        Mode::Submit(load) => {
            let s = Signer::generate_ed25519();
            let bodies = (0..load.concurrency.max(1))
                .map(|i| s.envelope(&noop_payload(&s, i)))
                .collect();
            let o = closed_loop(&load, "/requester/submit", bodies).await;
            report("submit", &load, &o);
        }
        Mode::States(load) => {
            let http = client(1);
            let s = Signer::generate_ed25519();
            let id = submit_one(
                &http,
                load.url.trim_end_matches('/'),
                &s,
                json!({"Engine": "Noop", "Deal": {"Concurrency": 1}}),
            )
            .await?;
            let o = closed_loop(
                &load,
                "/requester/states",
                vec![json!({"job_id": id}).to_string()],
            )
            .await;
            report("states", &load, &o);
        }
        Mode::EchoServer { listen } => echo_server(&listen).await?,
        Mode::Echo(load) => {
            let s = Signer::generate_ed25519();
            let body = s.envelope(&noop_payload(&s, 0));
            let o = closed_loop(&load, "/echo", vec![body]).await;
            report("echo", &load, &o);
        }
        Mode::Trivial {
            url,
            jobs,
            concurrency,
        } => trivial(&url, jobs, concurrency).await?,
        Mode::Emit { rate, lines, width } => emit(rate, lines, width)?,
        Mode::Logs {
            url,
            rate,
            seconds,
            followers,
            server_pid,
        } => logs_fanout(&url, rate, seconds, followers, server_pid).await?,
        Mode::Catchup { url, mb } => catchup(&url, mb).await?,
    }
    Ok(())
}

fn emit(rate: u64, lines: u64, width: usize) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let pad = "x".repeat(width.saturating_sub(12).max(1));
    let started = Instant::now();
    for i in 0..lines {
        writeln!(out, "{i:010} {pad}")?;
        if rate > 0 && i % 100 == 99 {
            out.flush()?;
            let due = Duration::from_secs_f64((i + 1) as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Submits `emit` as an Exec job; returns the job id.
async fn submit_emitter(
    http: &reqwest::Client,
    base: &str,
    s: &Signer,
    rate: u64,
    lines: u64,
    width: usize,
) -> anyhow::Result<String> {
    let me = std::env::current_exe()?.display().to_string();
    let spec = json!({"Engine": "Exec", "Deal": {"Concurrency": 1}, "Timeout": 3600,
        "Exec": {"Command": [me, "emit", "--rate", rate.to_string(), "--lines", lines.to_string(), "--width", width.to_string()]}});
    submit_one(http, base, s, spec).await
}

fn logs_body(s: &Signer, job: &str, follow: bool) -> String {
    let payload =
        json!({"ClientID": s.client_id(), "JobID": job, "Follow": follow, "WithHistory": true})
            .to_string();
    s.envelope(&payload)
}

/// The bytes after `key` in `line`.
fn field<'a>(line: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    line.windows(key.len())
        .position(|w| w == key)
        .map(|p| &line[p + key.len()..])
}

fn proc_stat(pid: u32) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((ticks as f64 / 100.0, rss_kb))
}

async fn logs_fanout(
    url: &str,
    rate: u64,
    seconds: u64,
    followers: usize,
    pid: Option<u32>,
) -> anyhow::Result<()> {
    use futures::StreamExt;
    let base = url.trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(followers + 4)
        .build()?;
    let signer = Arc::new(Signer::generate_ed25519());
    let lines = rate * seconds;
    let before = pid.and_then(proc_stat);
    let job = submit_emitter(&http, &base, &signer, rate, lines, 64).await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..followers {
        let (http, base, signer, job) = (http.clone(), base.clone(), signer.clone(), job.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let mut next = 0u64;
            let mut lost = 0u64;
            let mut buf = Vec::new();
            let resp = http
                .post(format!("{base}/requester/logs"))
                .body(logs_body(&signer, &job, true))
                .send()
                .await;
            let Ok(resp) = resp else {
                return (hist, 0, lines);
            };
            let mut body = resp.bytes_stream();
            while let Some(Ok(chunk)) = body.next().await {
                buf.extend_from_slice(&chunk);
                let now = chrono::Utc::now();
                let mut start = 0;
                while let Some(off) = buf[start..].iter().position(|&b| b == b'\n') {
                    let line = &buf[start..start + off];
                    start += off + 1;
                    // Only data records carry `"Seq":`; control records are skipped cheaply.
                    let Some(seq) = field(line, b"\"Seq\":").and_then(|v| {
                        std::str::from_utf8(v)
                            .ok()?
                            .split(|c: char| !c.is_ascii_digit())
                            .next()?
                            .parse::<u64>()
                            .ok()
                    }) else {
                        continue;
                    };
                    lost += seq.saturating_sub(next);
                    next = seq + 1;
                    // Timestamps are parsed for a sample of records to keep the client light.
                    if seq % 50 == 0 {
                        let t = field(line, b"\"Time\":\"")
                            .and_then(|v| {
                                std::str::from_utf8(&v[..v.iter().position(|&b| b == b'"')?]).ok()
                            })
                            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                        if let Some(t) = t {
                            let us = (now - t.with_timezone(&chrono::Utc))
                                .num_microseconds()
                                .unwrap_or(0)
                                .max(1);
                            let _ = hist.record(us as u64);
                        }
                    }
                }
                buf.drain(..start);
            }
            (hist, next, lost)
        }));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let (mut delivered, mut lost, mut short) = (0u64, 0u64, 0usize);
    for t in tasks {
        let (h, n, l) = t.await?;
        hist.add(h)?;
        delivered += n;
        lost += l;
        if n < lines {
            short += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let after = pid.and_then(proc_stat);
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let cpu = match (before, after) {
        (Some((a, _)), Some((b, _))) => Some((b - a) / secs),
        _ => None,
    };
    println!(
        "logs: {followers} followers × {rate} lines/s for {seconds}s: {:.0} lines/s delivered in total, {lost} lost, {short} followers short | line→follower p50 {:.2} ms p99 {:.2} ms max {:.2} ms | server CPU {} RSS {}",
        delivered as f64 / secs, ms(0.5), ms(0.99), hist.max() as f64 / 1000.0,
        cpu.map_or("n/a".to_owned(), |c| format!("{:.0}% of a core", c * 100.0)),
        after.map_or("n/a".to_owned(), |(_, kb)| format!("{} MB", kb / 1024)),
    );
    println!(
        "{}",
        json!({"bench": "logs", "followers": followers, "rate": rate, "seconds": secs, "delivered_per_s": (delivered as f64 / secs).round(),
               "lost": lost, "followers_short": short, "p50_ms": ms(0.5), "p99_ms": ms(0.99),
               "server_cpu_cores": cpu, "server_rss_kb": after.map(|a| a.1)})
    );
    Ok(())
}

async fn catchup(url: &str, mb: u64) -> anyhow::Result<()> {
    use futures::StreamExt;
    let base = url.trim_end_matches('/').to_owned();
    let http = client(2);
    let signer = Signer::generate_ed25519();
    let width = 1000usize;
    let lines = mb * 1_000_000 / width as u64;
    let job = submit_emitter(&http, &base, &signer, 0, lines, width).await?;
    let t = Instant::now();
    loop {
        let body = json!({"job_id": job, "after_version": 0, "wait_seconds": 30}).to_string();
        let v: Value = http
            .post(format!("{base}/requester/states"))
            .body(body)
            .send()
            .await?
            .json()
            .await?;
        match v["state"]["State"].as_str() {
            Some("Completed") => break,
            Some("Error" | "Cancelled") => anyhow::bail!("emitter failed: {v}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    println!(
        "catchup: {mb} MB written by the job in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    for accept in ["application/x-ndjson", "text/plain"] {
        let t = Instant::now();
        let resp = http
            .post(format!("{base}/requester/logs"))
            .header("accept", accept)
            .body(logs_body(&signer, &job, false))
            .send()
            .await?;
        let mut body = resp.bytes_stream();
        let mut bytes = 0u64;
        while let Some(chunk) = body.next().await {
            bytes += chunk?.len() as u64;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "catchup {accept}: {:.1} MB in {secs:.2}s = {:.0} MB/s ({:.0} MB/s of log text)",
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs,
            (lines * width as u64) as f64 / 1e6 / secs
        );
        println!(
            "{}",
            json!({"bench": "catchup", "accept": accept, "bytes": bytes, "seconds": secs,
                             "mb_per_s": bytes as f64 / 1e6 / secs, "text_mb_per_s": (lines * width as u64) as f64 / 1e6 / secs})
        );
    }
    Ok(())
}
