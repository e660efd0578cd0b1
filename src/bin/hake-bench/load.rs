//! Closed-loop HTTP load (submit, states, the echo ceiling) and jobs run from submit to
//! their end (trivial Exec jobs).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hake::auth::Signer;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::{client, submit_one};

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Load {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:1234")]
    pub url: String,
    /// Requests in flight.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Unmeasured warm-up seconds.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
}

/// What a closed-loop run measured.
pub(crate) struct Outcome {
    ok: u64,
    errors: u64,
    hist: Histogram<u64>,
    secs: f64,
}

/// Runs `load.concurrency` workers that POST `bodies[i % n]` to `path` (GET it when
/// `bodies` is empty).
pub(crate) async fn closed_loop(load: &Load, path: &str, bodies: Vec<String>) -> Outcome {
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
                let req = if bodies.is_empty() {
                    http.get(&url)
                } else {
                    let body = bodies[i % bodies.len()].clone();
                    i += 1;
                    http.post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                };
                let t = Instant::now();
                let ok = match req.send().await {
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

pub(crate) fn report(name: &str, load: &Load, o: &Outcome) {
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

/// The job's current state (`states`' `state`).
pub(crate) async fn job_state(
    http: &reqwest::Client,
    base: &str,
    job: &str,
) -> anyhow::Result<Value> {
    let v: Value = http
        .post(format!("{base}/requester/states"))
        .body(json!({ "job_id": job }).to_string())
        .send()
        .await?
        .json()
        .await?;
    Ok(v["state"].clone())
}

/// Long-polls `states` until the job's state satisfies `done`; returns that state.
pub(crate) async fn wait_state(
    http: &reqwest::Client,
    base: &str,
    job: &str,
    done: impl Fn(&str) -> bool,
) -> anyhow::Result<String> {
    let mut version = 0;
    loop {
        let body = json!({"job_id": job, "after_version": version, "wait_seconds": 30});
        let v: Value = http
            .post(format!("{base}/requester/states"))
            .body(body.to_string())
            .send()
            .await?
            .json()
            .await?;
        match v["state"]["State"].as_str() {
            Some(s) if done(s) => return Ok(s.to_owned()),
            Some(_) => version = v["state"]["Version"].as_i64().unwrap_or(0),
            None => anyhow::bail!("states of {job} failed: {v}"),
        }
    }
}

/// Submits `spec` and long-polls `states` until the job ends; returns its id and final state.
pub(crate) async fn run_to_end(
    http: &reqwest::Client,
    base: &str,
    signer: &Signer,
    spec: Value,
) -> anyhow::Result<(String, String)> {
    let id = submit_one(http, base, signer, spec).await?;
    let state = wait_state(http, base, &id, |s| {
        matches!(
            s,
            "Completed" | "Error" | "Cancelled" | "CompletedPartially"
        )
    })
    .await?;
    Ok((id, state))
}

/// Runs `jobs` jobs of `spec` from `concurrency` workers, each from submit to its end.
/// Returns the submit→Completed latencies (µs), the slowest jobs and the failures.
pub(crate) async fn run_jobs(
    url: &str,
    spec: Value,
    jobs: usize,
    concurrency: usize,
) -> (Histogram<u64>, Vec<(u64, String)>, u64) {
    let http = client(concurrency);
    let base = url.trim_end_matches('/').to_owned();
    let signer = Arc::new(Signer::generate_ed25519());
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, base, signer, next, spec) = (
            http.clone(),
            base.clone(),
            signer.clone(),
            next.clone(),
            spec.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram");
            let mut slowest: Vec<(u64, String)> = Vec::new();
            let mut failed = 0u64;
            while next.fetch_add(1, Ordering::Relaxed) < jobs as u64 {
                let t = Instant::now();
                match run_to_end(&http, &base, &signer, spec.clone()).await {
                    Ok((id, state)) if state == "Completed" => {
                        let us = t.elapsed().as_micros().max(1) as u64;
                        let _ = hist.record(us);
                        slowest.push((us, id));
                        slowest.sort_unstable_by(|a, b| b.cmp(a));
                        slowest.truncate(5);
                    }
                    _ => failed += 1,
                }
            }
            (hist, slowest, failed)
        }));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram");
    let (mut slowest, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (h, s, f) = t.await.expect("worker");
        hist.add(h).expect("merge");
        slowest.extend(s);
        failed += f;
    }
    slowest.sort_unstable_by(|a, b| b.cmp(a));
    slowest.truncate(5);
    (hist, slowest, failed)
}

/// A gauge's value in the server's `/metrics`.
async fn gauge(http: &reqwest::Client, base: &str, name: &str) -> anyhow::Result<f64> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("{name} is not in /metrics"))
}

/// Waits until the server runs and queues no execution, so that a measurement does not
/// include the backlog a previous one left (a submit load queues Noop jobs faster than
/// they run).
pub(crate) async fn wait_idle(url: &str) -> anyhow::Result<()> {
    let http = client(1);
    let base = url.trim_end_matches('/');
    let t = Instant::now();
    loop {
        let busy = gauge(&http, base, "hake_executions_queued").await?
            + gauge(&http, base, "hake_executions_running").await?;
        if busy == 0.0 {
            break;
        }
        if t.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("the server is still busy after 10 minutes ({busy} executions)");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if t.elapsed() > Duration::from_secs(1) {
        eprintln!(
            "waited {:.1}s for the server's earlier executions to drain",
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Exec `true` jobs from submit to Completed, observed through the long-poll.
pub(crate) async fn trivial(url: &str, jobs: usize, concurrency: usize) -> anyhow::Result<()> {
    wait_idle(url).await?;
    let spec = json!({"Engine": "Exec", "Exec": {"Command": ["true"]}, "Deal": {"Concurrency": 1}});
    let started = Instant::now();
    let (hist, slowest, failed) = run_jobs(url, spec, jobs, concurrency).await;
    let secs = started.elapsed().as_secs_f64();
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "trivial: {:.0} jobs/s end to end ({} jobs in {secs:.2}s, concurrency {concurrency}) | submit→Completed p50 {:.1} ms p99 {:.1} ms max {:.1} ms | {failed} failed",
        hist.len() as f64 / secs, hist.len(), ms(0.5), ms(0.99), hist.max() as f64 / 1000.0
    );
    for (us, id) in &slowest {
        println!("  slow: {id} {:.1} ms", *us as f64 / 1000.0);
    }
    println!(
        "{}",
        json!({"bench": "trivial", "concurrency": concurrency, "jobs_per_s": (hist.len() as f64 / secs).round(), "jobs": hist.len(),
               "seconds": secs, "p50_ms": ms(0.5), "p99_ms": ms(0.99), "failed": failed})
    );
    Ok(())
}

pub(crate) async fn echo_server(listen: &str) -> anyhow::Result<()> {
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
