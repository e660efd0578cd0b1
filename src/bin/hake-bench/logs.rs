//! Log benchmarks: the `emit` job that prints numbered lines, fan-out to many followers
//! and the read-back (catch-up) speed of a long history.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hake::auth::Signer;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::load::run_to_end;
use crate::{client, field, proc_stat, submit_one};

pub(crate) fn emit(rate: u64, lines: u64, width: usize) -> anyhow::Result<()> {
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
/// The spec of an Exec job running this binary's `emit` mode.
fn emitter_spec(rate: u64, lines: u64, width: usize) -> anyhow::Result<Value> {
    let me = std::env::current_exe()?.display().to_string();
    Ok(
        json!({"Engine": "Exec", "Deal": {"Concurrency": 1}, "Timeout": 3600,
        "Exec": {"Command": [me, "emit", "--rate", rate.to_string(), "--lines", lines.to_string(), "--width", width.to_string()]}}),
    )
}

/// Submits `emit` as an Exec job; returns the job id.
pub(crate) async fn submit_emitter(
    http: &reqwest::Client,
    base: &str,
    s: &Signer,
    rate: u64,
    lines: u64,
    width: usize,
) -> anyhow::Result<String> {
    submit_one(http, base, s, emitter_spec(rate, lines, width)?).await
}

pub(crate) fn logs_body(s: &Signer, job: &str, follow: bool) -> String {
    let payload =
        json!({"ClientID": s.client_id(), "JobID": job, "Follow": follow, "WithHistory": true})
            .to_string();
    s.envelope(&payload)
}

pub(crate) async fn logs_fanout(
    url: &str,
    rate: u64,
    seconds: u64,
    followers: usize,
    pid: Option<u32>,
    selector: Option<&str>,
) -> anyhow::Result<()> {
    use futures::StreamExt;
    let base = url.trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(followers + 4)
        .build()?;
    let signer = Arc::new(Signer::generate_ed25519());
    let lines = rate * seconds;
    let before = pid.and_then(proc_stat);
    let mut spec = emitter_spec(rate, lines, 64)?;
    if let Some((k, v)) = selector.and_then(|s| s.split_once('=')) {
        spec["NodeSelectors"] = json!([{"Key": k, "Operator": "=", "Values": [v]}]);
    }
    let job = submit_one(&http, &base, &signer, spec).await?;
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

/// A job printing `mb` MB as fast as it can, then its whole history read back as NDJSON
/// and as text. `CATCHUP_SETTLE_SECS` waits that long between the job's end and the reads
/// (to tell read speed from the persister still writing).
pub(crate) async fn catchup(url: &str, mb: u64) -> anyhow::Result<()> {
    use futures::StreamExt;
    let base = url.trim_end_matches('/').to_owned();
    let http = client(2);
    let signer = Signer::generate_ed25519();
    let width = 1000usize;
    let lines = mb * 1_000_000 / width as u64;
    let t = Instant::now();
    let (job, state) = run_to_end(&http, &base, &signer, emitter_spec(0, lines, width)?).await?;
    anyhow::ensure!(state == "Completed", "the emitter job ended {state}");
    println!(
        "catchup: {mb} MB written by the job in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    if let Ok(secs) = std::env::var("CATCHUP_SETTLE_SECS") {
        tokio::time::sleep(Duration::from_secs_f64(secs.parse()?)).await;
    }
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
