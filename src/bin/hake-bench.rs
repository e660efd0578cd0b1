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
//! ```

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
                let ok = match http.post(&url).body(body).send().await {
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
    }
    Ok(())
}
