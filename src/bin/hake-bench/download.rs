//! Result download speed: a job publishes a large Local result (random bytes, so gzip
//! cannot shrink it), then the tarball is downloaded again and again with one client from
//! hake and, alternating, from `python3 -m http.server` serving a copy of the same bytes
//! on loopback: the static-file ceiling measured side by side.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use hake::auth::Signer;
use serde_json::{json, Value};

use crate::load::{job_state, run_to_end};
use crate::{client, proc_stat};

/// The Exec job writing `mb` MB of random bytes into its outputs, published Local.
fn big_result_spec(mb: u64) -> Value {
    json!({"Engine": "Exec", "Deal": {"Concurrency": 1}, "Timeout": 3600,
           "PublisherSpec": {"Type": "Local"},
           "Exec": {"Command": ["sh", "-c",
               format!("head -c {} /dev/urandom > \"$HAKE_OUTPUTS/out/random.bin\"", mb * 1_000_000)]},
           "outputs": [{"Name": "out", "path": "/outputs"}]})
}

/// Downloads `url` to its end; returns its bytes, seconds and the CPU seconds process
/// `pid` spent meanwhile (when known).
async fn timed_get(
    http: &reqwest::Client,
    url: &str,
    pid: Option<u32>,
) -> anyhow::Result<(u64, f64, Option<f64>)> {
    let cpu = pid.and_then(proc_stat);
    let t = Instant::now();
    let resp = http.get(url).send().await?.error_for_status()?;
    let mut body = resp.bytes_stream();
    let mut bytes = 0u64;
    while let Some(chunk) = body.next().await {
        bytes += chunk?.len() as u64;
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = match (cpu, pid.and_then(proc_stat)) {
        (Some((a, _)), Some((b, _))) => Some(b - a),
        _ => None,
    };
    Ok((bytes, secs, cpu))
}

/// A directory of this run, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("hake-bench-download.{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Publishes an `mb` MB result, then `rounds` downloads each from hake and from Python's
/// `http.server`, alternating. With the server's pid, the CPU each server spent per GB is
/// reported too (steadier than MB/s on a busy machine).
pub(crate) async fn download(
    url: &str,
    mb: u64,
    rounds: usize,
    server_pid: Option<u32>,
) -> anyhow::Result<()> {
    let base = url.trim_end_matches('/').to_owned();
    let http = client(2);
    let signer = Signer::generate_ed25519();
    let t = Instant::now();
    let (job, state) = run_to_end(&http, &base, &signer, big_result_spec(mb)).await?;
    anyhow::ensure!(state == "Completed", "the job ended {state}");
    let v = job_state(&http, &base, &job).await?;
    let exec = v["Executions"][0]["ComputeReference"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no execution in {v}"))?;
    let hake_url = format!("{base}/results/{job}/{exec}.tar.gz");
    // The first download is the copy Python serves (and warms the page cache).
    let bytes = http
        .get(&hake_url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let size = bytes.len() as u64;
    println!(
        "download: a {:.1} MB result published in {:.1}s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let dir = TempDir::new()?;
    std::fs::write(dir.0.join("result.tar.gz"), &bytes)?;
    drop(bytes);
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let python = tokio::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(&dir.0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let python_pid = python.id();
    let python_url = format!("http://127.0.0.1:{port}/result.tar.gz");
    let up = Instant::now();
    while http.head(&python_url).send().await.is_err() {
        anyhow::ensure!(
            up.elapsed() < Duration::from_secs(10),
            "http.server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cpu_ours, mut cpu_theirs) = (Some(0.0), Some(0.0));
    for round in 0..rounds {
        let (a, a_secs, a_cpu) = timed_get(&http, &hake_url, server_pid).await?;
        let (b, b_secs, b_cpu) = timed_get(&http, &python_url, python_pid).await?;
        anyhow::ensure!(
            a == size && b == size,
            "short download: {a} and {b} of {size}"
        );
        cpu_ours = cpu_ours.zip(a_cpu).map(|(t, c)| t + c);
        cpu_theirs = cpu_theirs.zip(b_cpu).map(|(t, c)| t + c);
        let (a, b) = (size as f64 / 1e6 / a_secs, size as f64 / 1e6 / b_secs);
        println!(
            "download round {}: hake {a:.0} MB/s, python http.server {b:.0} MB/s ({:.2}x)",
            round + 1,
            a / b
        );
        ours.push(a);
        theirs.push(b);
        ratios.push(a / b);
    }
    let (a, b, r) = (median(&mut ours), median(&mut theirs), median(&mut ratios));
    // CPU seconds per GB served.
    let gb = (size * rounds as u64) as f64 / 1e9;
    let (cpu_a, cpu_b) = (cpu_ours.map(|c| c / gb), cpu_theirs.map(|c| c / gb));
    let cpu = match (cpu_a, cpu_b) {
        (Some(a), Some(b)) => format!(" | server CPU per GB: hake {a:.2}s, python {b:.2}s"),
        _ => String::new(),
    };
    println!(
        "download: {:.0} MB × {rounds} rounds: hake {a:.0} MB/s, python http.server {b:.0} MB/s (median), hake/python {r:.2}x (median of rounds){cpu}",
        size as f64 / 1e6
    );
    println!(
        "{}",
        json!({"bench": "download", "bytes": size, "rounds": rounds, "hake_mb_per_s": a,
               "python_mb_per_s": b, "ratio": r, "hake_cpu_s_per_gb": cpu_a,
               "python_cpu_s_per_gb": cpu_b})
    );
    Ok(())
}
