//! Cluster benchmarks: jobs submitted round-robin to several nodes on one database (jobs
//! per second, and claim latency: from the job's creation to its execution's), and the
//! time the survivors take to fail the executions of a node killed with SIGKILL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hake::auth::Signer;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::load::{job_state, wait_state};
use crate::{client, submit_one};

/// Microseconds from the job's creation to its first execution's (the claim).
fn claim_us(state: &Value) -> Option<u64> {
    let t = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str()?).ok();
    let created = t(&state["CreateTime"])?;
    let started = t(&state["Executions"][0]["CreateTime"])?;
    u64::try_from((started - created).num_microseconds()?).ok()
}

async fn final_state(http: &reqwest::Client, base: &str, job: &str) -> anyhow::Result<Value> {
    wait_state(http, base, job, |s| {
        matches!(
            s,
            "Completed" | "Error" | "Cancelled" | "CompletedPartially"
        )
    })
    .await?;
    job_state(http, base, job).await
}

/// Runs `jobs` jobs of `spec`, submitted round-robin to `urls` and waited for through the
/// next node, `concurrency` at a time.
pub(crate) async fn cluster(
    urls: &[String],
    spec: Value,
    jobs: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let urls: Arc<Vec<String>> = Arc::new(
        urls.iter()
            .map(|u| u.trim_end_matches('/').to_owned())
            .collect(),
    );
    let http = client(concurrency);
    let signer = Arc::new(Signer::generate_ed25519());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, urls, signer, next, spec) = (
            http.clone(),
            urls.clone(),
            signer.clone(),
            next.clone(),
            spec.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut e2e = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram");
            let mut claim = e2e.clone();
            let mut on: HashMap<String, u64> = HashMap::new();
            let mut failed = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= jobs {
                    break;
                }
                let (to, via) = (&urls[i % urls.len()], &urls[(i + 1) % urls.len()]);
                let t = Instant::now();
                let state = match submit_one(&http, to, &signer, spec.clone()).await {
                    Ok(id) => final_state(&http, via, &id).await,
                    Err(e) => Err(e),
                };
                match state {
                    Ok(s) if s["State"] == "Completed" => {
                        let _ = e2e.record(t.elapsed().as_micros().max(1) as u64);
                        if let Some(us) = claim_us(&s) {
                            let _ = claim.record(us.max(1));
                        }
                        let node = s["Executions"][0]["NodeId"].as_str().unwrap_or("?");
                        *on.entry(node.to_owned()).or_default() += 1;
                    }
                    _ => failed += 1,
                }
            }
            (e2e, claim, on, failed)
        }));
    }
    let mut e2e = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut claim = e2e.clone();
    let mut on: HashMap<String, u64> = HashMap::new();
    let mut failed = 0;
    for t in tasks {
        let (h, c, o, f) = t.await?;
        e2e.add(h)?;
        claim.add(c)?;
        for (k, v) in o {
            *on.entry(k).or_default() += v;
        }
        failed += f;
    }
    let secs = started.elapsed().as_secs_f64();
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let mut per_node: Vec<u64> = on.values().copied().collect();
    per_node.sort_unstable();
    println!(
        "cluster: {} nodes, {:.0} jobs/s ({} jobs in {secs:.2}s, concurrency {concurrency}) | submit→Completed p50 {:.1} ms p99 {:.1} ms | claim p50 {:.1} ms p99 {:.1} ms | per node {per_node:?} | {failed} failed",
        urls.len(),
        e2e.len() as f64 / secs,
        e2e.len(),
        ms(&e2e, 0.5),
        ms(&e2e, 0.99),
        ms(&claim, 0.5),
        ms(&claim, 0.99),
    );
    println!(
        "{}",
        json!({"bench": "cluster", "nodes": urls.len(), "jobs_per_s": (e2e.len() as f64 / secs).round(),
               "p50_ms": ms(&e2e, 0.5), "p99_ms": ms(&e2e, 0.99), "claim_p50_ms": ms(&claim, 0.5),
               "claim_p99_ms": ms(&claim, 0.99), "per_node": per_node, "failed": failed})
    );
    Ok(())
}

/// Submits a long job pinned by `selector` through `url`, kills `pid` (the node running
/// it) with SIGKILL once it runs, and reports how long until `url` reports it failed.
pub(crate) async fn lost(url: &str, selector: &str, pid: i32) -> anyhow::Result<()> {
    let base = url.trim_end_matches('/');
    let http = client(2);
    let signer = Signer::generate_ed25519();
    let (key, value) = selector
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--selector KEY=VALUE"))?;
    let spec = json!({"Engine": "Exec", "Exec": {"Command": ["sleep", "600"]}, "Deal": {"Concurrency": 1},
                      "NodeSelectors": [{"Key": key, "Operator": "=", "Values": [value]}]});
    let job = submit_one(&http, base, &signer, spec).await?;
    wait_state(&http, base, &job, |s| s == "InProgress").await?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )?;
    let killed = Instant::now();
    let state = loop {
        let v = job_state(&http, base, &job).await?;
        if v["State"] == "Error" {
            break v;
        }
        anyhow::ensure!(killed.elapsed() < Duration::from_secs(600), "never reaped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let secs = killed.elapsed().as_secs_f64();
    println!(
        "lost node: execution failed {secs:.2}s after SIGKILL: {}",
        state["Executions"][0]["Status"]
    );
    println!("{}", json!({"bench": "lost", "seconds": secs}));
    Ok(())
}
