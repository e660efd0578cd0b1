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

/// A job printing `mb` MB as fast as it can, then its whole history read back as text and
/// as NDJSON, in `rounds` rounds that each first read the same text from a static file
/// server (`python3 -m http.server` on a file holding the text body), the ceiling: the
/// same client reads all three the same way. `CATCHUP_SETTLE_SECS` waits that long
/// between the job's end and the reads (to tell read speed from the persister still
/// writing).
pub(crate) async fn catchup(
    url: &str,
    mb: u64,
    rounds: usize,
    server_pid: Option<u32>,
    only: &str,
) -> anyhow::Result<()> {
    let base = url.trim_end_matches('/').to_owned();
    let http = client(2);
    let signer = Signer::generate_ed25519();
    let width = 1000usize;
    let lines = mb * 1_000_000 / width as u64;
    let text_bytes = (lines * width as u64) as f64 / 1e6;
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
    let logs = |accept: &'static str| {
        http.post(format!("{base}/requester/logs"))
            .header("accept", accept)
            .body(logs_body(&signer, &job, false))
    };
    // The text body, kept for the static server (this read warms the caches).
    let body = logs("text/plain")
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    anyhow::ensure!(
        body.len() as u64 == lines * width as u64,
        "the text body has {} bytes, not {}",
        body.len(),
        lines * width as u64
    );
    let server = StaticServer::start(&body)?;
    drop(body);
    server.ready(&http).await?;
    let kinds = [
        ("static", "static"),
        ("text", "text/plain"),
        ("ndjson", "application/x-ndjson"),
    ];
    let wanted: Vec<&str> = only.split(',').map(str::trim).collect();
    let mut speeds: [Vec<f64>; 3] = Default::default();
    // CPU seconds of the serving process per 100 MB of log text.
    let mut cpu: [Vec<f64>; 3] = Default::default();
    let cpu_of = |k: usize| match k {
        0 => Some(server.child.id()),
        _ => server_pid,
    };
    for round in 1..=rounds {
        for (k, (name, kind)) in kinds.iter().enumerate() {
            if !wanted.contains(name) {
                continue;
            }
            let req = match k {
                0 => http.get(server.url()),
                _ => logs(kind),
            };
            let before = cpu_of(k).and_then(proc_stat);
            let (bytes, secs) = read_body(req).await?;
            let used = match (before, cpu_of(k).and_then(proc_stat)) {
                (Some((a, _)), Some((b, _))) => Some((b - a) / text_bytes * 100.0),
                _ => None,
            };
            let mb_per_s = bytes as f64 / 1e6 / secs;
            speeds[k].push(mb_per_s);
            cpu[k].extend(used);
            println!(
                "catchup round {round} {kind}: {:.1} MB in {secs:.2}s = {mb_per_s:.0} MB/s ({:.0} MB/s of log text){}",
                bytes as f64 / 1e6,
                text_bytes / secs,
                used.map_or(String::new(), |c| format!(", server CPU {:.0} ms per 100 MB of text", c * 1000.0))
            );
            println!(
                "{}",
                json!({"bench": "catchup", "round": round, "accept": kind, "bytes": bytes, "seconds": secs,
                       "mb_per_s": mb_per_s, "text_mb_per_s": text_bytes / secs, "server_cpu_s_per_100mb": used})
            );
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let [st, text, nd] = [median(&speeds[0]), median(&speeds[1]), median(&speeds[2])];
    let [cst, ctext, cnd] = [median(&cpu[0]), median(&cpu[1]), median(&cpu[2])];
    // Per round, each against the static read just before it.
    let ratios = |k: usize| -> Vec<String> {
        speeds[k]
            .iter()
            .zip(&speeds[0])
            .map(|(a, b)| format!("{:.2}", a / b))
            .collect()
    };
    println!(
        "catchup {mb} MB, median of {rounds}: static {st:.0} MB/s, text/plain {text:.0} MB/s, NDJSON {nd:.0} MB/s | text/static {:.2} (rounds {}), ndjson/static {:.2} (rounds {})",
        text / st,
        ratios(1).join(" "),
        nd / st,
        ratios(2).join(" ")
    );
    if server_pid.is_some() {
        println!(
            "catchup {mb} MB, median CPU of the serving process per 100 MB of text: static {:.0} ms, text/plain {:.0} ms, NDJSON {:.0} ms",
            cst * 1000.0,
            ctext * 1000.0,
            cnd * 1000.0
        );
    }
    println!(
        "{}",
        json!({"bench": "catchup-summary", "mb": mb, "rounds": rounds, "static_mb_per_s": st,
               "text_mb_per_s": text, "ndjson_mb_per_s": nd,
               "text_over_static": text / st, "ndjson_over_static": nd / st,
               "cpu_s_per_100mb": {"static": cst, "text": ctext, "ndjson": cnd}})
    );
    Ok(())
}

/// Sends a request and reads its body as it comes; returns its bytes and the seconds
/// from sending to the last byte.
async fn read_body(req: reqwest::RequestBuilder) -> anyhow::Result<(u64, f64)> {
    use futures::StreamExt;
    let t = Instant::now();
    let resp = req.send().await?.error_for_status()?;
    let mut body = resp.bytes_stream();
    let mut bytes = 0u64;
    while let Some(chunk) = body.next().await {
        bytes += chunk?.len() as u64;
    }
    Ok((bytes, t.elapsed().as_secs_f64()))
}

/// `python3 -m http.server` serving one file from a temporary directory; stopped and
/// removed when dropped.
struct StaticServer {
    dir: std::path::PathBuf,
    port: u16,
    child: std::process::Child,
}

impl StaticServer {
    fn start(body: &[u8]) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("hake-bench-catchup-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("log.txt"), body)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = std::process::Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(&dir)
            .arg(port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("starting python3 -m http.server: {e}"))?;
        Ok(Self { dir, port, child })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/log.txt", self.port)
    }

    /// Waits until it answers.
    async fn ready(&self, http: &reqwest::Client) -> anyhow::Result<()> {
        for _ in 0..100 {
            if http
                .head(self.url())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("python3 -m http.server did not start on port {}", self.port)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
