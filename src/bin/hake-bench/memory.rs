//! Memory benchmarks: the server's RSS after many finished jobs and with many idle log
//! followers (`rss`), and its RSS over a long mixed load (`soak`).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hake::auth::Signer;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::load::{run_jobs, run_to_end, wait_idle, wait_state};
use crate::logs::{logs_body, submit_emitter};
use crate::{client, proc_stat, status_kb, submit_one};

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn rss_kb(pid: u32) -> u64 {
    status_kb(pid, ["VmRSS"]).map_or(0, |[kb]| kb)
}

async fn cancel(http: &reqwest::Client, base: &str, s: &Signer, job: &str) -> anyhow::Result<()> {
    let payload = json!({"ClientID": s.client_id(), "JobID": job, "Reason": "benchmark over"});
    let r = http
        .post(format!("{base}/requester/cancel"))
        .body(s.envelope(&payload.to_string()))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "cancel: {}", r.text().await?);
    Ok(())
}

/// RSS after `jobs` finished Noop jobs, then with `followers` idle follows of one silent
/// running job (the server needs `--allow-exec` and room for that many streams from one
/// client: `--max-log-streams-per-client 0`).
pub(crate) async fn rss(url: &str, pid: u32, jobs: usize, followers: usize) -> anyhow::Result<()> {
    let base = url.trim_end_matches('/').to_owned();
    wait_idle(&base).await?;
    let start_kb = rss_kb(pid);
    let t = Instant::now();
    let noop = json!({"Engine": "Noop", "Deal": {"Concurrency": 1}});
    let (done, _, failed) = run_jobs(&base, noop, jobs, 64).await;
    let jobs_secs = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let jobs_kb = rss_kb(pid);

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(followers + 4)
        .build()?;
    let signer = Arc::new(Signer::generate_ed25519());
    let sleeper = json!({"Engine": "Exec", "Exec": {"Command": ["sleep", "3600"]},
        "Deal": {"Concurrency": 1}, "Timeout": 3600});
    let job = submit_one(&http, &base, &signer, sleeper).await?;
    wait_state(&http, &base, &job, |s| !matches!(s, "New" | "Queued")).await?;
    let open = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..followers {
        let (http, base, signer, job, open) = (
            http.clone(),
            base.clone(),
            signer.clone(),
            job.clone(),
            open.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let resp = http
                .post(format!("{base}/requester/logs"))
                .body(logs_body(&signer, &job, true))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success())?;
            open.fetch_add(1, Ordering::Relaxed);
            let mut body = resp.bytes_stream();
            while let Some(Ok(_)) = body.next().await {}
            Some(())
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while (open.load(Ordering::Relaxed) as usize) < followers && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Anonymous memory is the server's own; file pages are its binary's mapped code and
    // data, which the page cache decides as much as hake does. One read, so that the two
    // parts add up to the total.
    let [follow_kb, anon_kb, file_kb] =
        status_kb(pid, ["VmRSS", "RssAnon", "RssFile"]).unwrap_or_default();
    let opened = open.load(Ordering::Relaxed);
    cancel(&http, &base, &signer, &job).await?;
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "rss: start {:.1} MB | after {} finished Noop jobs ({failed} failed, {:.0} jobs/s) {:.1} MB | with {opened} idle followers {:.1} MB (anonymous {:.1}, file {:.1})",
        mb(start_kb), done.len(), done.len() as f64 / jobs_secs, mb(jobs_kb), mb(follow_kb),
        mb(anon_kb), mb(file_kb)
    );
    println!(
        "{}",
        json!({"bench": "rss", "start_mb": mb(start_kb), "jobs": done.len(), "after_jobs_mb": mb(jobs_kb),
               "followers": opened, "with_followers_mb": mb(follow_kb),
               "with_followers_anon_mb": mb(anon_kb), "with_followers_file_mb": mb(file_kb)})
    );
    Ok(())
}

/// Knobs of the mixed load.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Soak {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:1234")]
    pub url: String,
    /// The server's pid, for its RSS and CPU.
    #[arg(long)]
    pub server_pid: u32,
    /// Minutes of load.
    #[arg(long, default_value_t = 10.0)]
    pub minutes: f64,
    /// Noop jobs submitted per second (each followed to its end).
    #[arg(long, default_value_t = 300)]
    pub submit_rate: u64,
    /// Exec `true` jobs per second (each followed to its end).
    #[arg(long, default_value_t = 20)]
    pub exec_rate: u64,
    /// `states` reads per second.
    #[arg(long, default_value_t = 1000)]
    pub states_rate: u64,
    /// Followers of each 10-second logging job (1,000 lines/s); one such job at a time.
    #[arg(long, default_value_t = 20)]
    pub followers: usize,
    /// Seconds between RSS samples.
    #[arg(long, default_value_t = 30)]
    pub sample_secs: u64,
}

/// Spawns `f()` `rate` times a second until `stop`, at most 256 at once; counts the
/// outcomes in `ok` and `failed`.
fn paced<F, Fut>(rate: u64, stop: CancellationToken, counts: Arc<[AtomicU64; 2]>, f: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    if rate == 0 {
        return;
    }
    tokio::spawn(async move {
        let permits = Arc::new(Semaphore::new(256));
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let (fut, counts) = (f(), counts.clone());
            tokio::spawn(async move {
                let i = usize::from(!fut.await);
                counts[i].fetch_add(1, Ordering::Relaxed);
                drop(permit);
            });
        }
    });
}

fn counters() -> Arc<[AtomicU64; 2]> {
    Arc::new([AtomicU64::new(0), AtomicU64::new(0)])
}

/// A mixed load for `minutes`: submits, trivial Exec jobs, `states` reads and followed
/// logging jobs, with the server's RSS sampled throughout.
pub(crate) async fn soak(o: Soak) -> anyhow::Result<()> {
    let base = o.url.trim_end_matches('/').to_owned();
    let http = client(512);
    let signer = Arc::new(Signer::generate_ed25519());
    let stop = CancellationToken::new();
    let noop = json!({"Engine": "Noop", "Deal": {"Concurrency": 1}});
    let exec = json!({"Engine": "Exec", "Exec": {"Command": ["true"]}, "Deal": {"Concurrency": 1}});
    let probe = submit_one(&http, &base, &signer, noop.clone()).await?;

    let (submits, execs, reads, lines) = (counters(), counters(), counters(), counters());
    for (rate, spec, counts) in [
        (o.submit_rate, noop, submits.clone()),
        (o.exec_rate, exec, execs.clone()),
    ] {
        let (http, base, signer) = (http.clone(), base.clone(), signer.clone());
        paced(rate, stop.clone(), counts, move || {
            let (http, base, signer, spec) =
                (http.clone(), base.clone(), signer.clone(), spec.clone());
            async move {
                matches!(run_to_end(&http, &base, &signer, spec).await, Ok((_, s)) if s == "Completed")
            }
        });
    }
    {
        let (http, url) = (http.clone(), format!("{base}/requester/states"));
        let body = json!({"job_id": probe}).to_string();
        paced(o.states_rate, stop.clone(), reads.clone(), move || {
            let req = http.post(&url).body(body.clone()).send();
            async move { req.await.is_ok_and(|r| r.status().is_success()) }
        });
    }
    {
        let (http, base, signer, stop, lines) = (
            http.clone(),
            base.clone(),
            signer.clone(),
            stop.clone(),
            lines.clone(),
        );
        let followers = o.followers;
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                let Ok(job) = submit_emitter(&http, &base, &signer, 1000, 10_000, 64).await else {
                    lines[1].fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                };
                let reads = (0..followers).map(|_| {
                    let req = http
                        .post(format!("{base}/requester/logs"))
                        .body(logs_body(&signer, &job, true))
                        .send();
                    async move {
                        let Ok(resp) = req.await else { return 0 };
                        let mut n = 0u64;
                        let mut body = resp.bytes_stream();
                        while let Some(Ok(c)) = body.next().await {
                            n += c.iter().filter(|&&b| b == b'\n').count() as u64;
                        }
                        n
                    }
                });
                let got: u64 = futures::future::join_all(reads).await.into_iter().sum();
                lines[0].fetch_add(got, Ordering::Relaxed);
            }
        });
    }

    let started = Instant::now();
    let total = Duration::from_secs_f64(o.minutes * 60.0);
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let mut last_cpu = proc_stat(o.server_pid).map_or(0.0, |s| s.0);
    println!(
        "    t  RSS MB  CPU cores  submits ok/failed  exec ok/failed  states ok/failed  log lines"
    );
    while started.elapsed() < total {
        tokio::time::sleep(Duration::from_secs(o.sample_secs)).await;
        let Some((cpu, kb)) = proc_stat(o.server_pid) else {
            anyhow::bail!("server {} is gone", o.server_pid);
        };
        let t = started.elapsed().as_secs_f64();
        let load = |c: &[AtomicU64; 2]| {
            format!(
                "{}/{}",
                c[0].load(Ordering::Relaxed),
                c[1].load(Ordering::Relaxed)
            )
        };
        println!(
            "{t:5.0}  {:6.1}  {:9.2}  {:>17}  {:>14}  {:>16}  {}",
            mb(kb),
            (cpu - last_cpu) / o.sample_secs as f64,
            load(&submits),
            load(&execs),
            load(&reads),
            lines[0].load(Ordering::Relaxed)
        );
        last_cpu = cpu;
        samples.push((t, kb));
    }
    stop.cancel();
    // After the first fifth of the run (warm-up: caches and pools filling), memory should
    // stay flat: report the least and most RSS seen from then on.
    let warm: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t >= total.as_secs_f64() / 5.0)
        .map(|s| s.1)
        .collect();
    let (lo, hi) = (
        warm.iter().min().copied().unwrap_or(0),
        warm.iter().max().copied().unwrap_or(0),
    );
    let last = samples.last().map_or(0, |s| s.1);
    println!(
        "soak: {:.1} min | RSS after warm-up min {:.1} MB max {:.1} MB last {:.1} MB (spread {:.1} MB)",
        o.minutes,
        mb(lo),
        mb(hi),
        mb(last),
        mb(hi - lo)
    );
    println!(
        "{}",
        json!({"bench": "soak", "minutes": o.minutes, "rss_min_mb": mb(lo), "rss_max_mb": mb(hi), "rss_last_mb": mb(last),
               "submits": submits[0].load(Ordering::Relaxed), "submit_failures": submits[1].load(Ordering::Relaxed),
               "execs": execs[0].load(Ordering::Relaxed), "exec_failures": execs[1].load(Ordering::Relaxed),
               "states": reads[0].load(Ordering::Relaxed), "states_failures": reads[1].load(Ordering::Relaxed),
               "log_lines": lines[0].load(Ordering::Relaxed)})
    );
    Ok(())
}
