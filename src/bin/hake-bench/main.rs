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
//! hake-bench catchup --url ... --mb 100                       # history read-back vs a static server
//! hake-bench download --url ... --mb 150 --rounds 20 --server-pid PID  # vs python http.server
//! hake-bench livez   --url ... --concurrency 64 --seconds 10  # the server's own HTTP ceiling
//! hake-bench rss     --url ... --server-pid PID --jobs 10000 --followers 1000
//! hake-bench soak    --url ... --server-pid PID --minutes 10   # mixed load, RSS sampled
//! hake-bench cluster --urls URL1,URL2,URL3 --jobs 3000 --concurrency 64 --engine noop
//! hake-bench lost    --url URL1 --selector name=node2 --pid PID_OF_NODE2
//! ```
//!
//! `logs`, `catchup`, `download`, `rss` and `soak` run Exec jobs (this binary's own
//! `emit` mode among them), so the server must run with `--allow-exec`.

mod cluster;
mod download;
mod load;
mod logs;
mod memory;

use std::time::Duration;

use clap::{Parser, Subcommand};
use hake::auth::Signer;
use serde_json::{json, Value};

use load::{closed_loop, echo_server, report, trivial, Load};
use logs::{catchup, emit, logs_fanout};
use memory::{rss, soak, Soak};

#[derive(Debug, Parser)]
#[command(name = "hake-bench", about = "Load generator for hake")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Signed Noop submits (Ed25519), each acknowledged after the commit.
    Submit(Load),
    /// Unsigned `states` of one job.
    States(Load),
    /// `GET /livez` of the server under test: its own HTTP ceiling, the comparison point
    /// of `submit` and `states`.
    Livez(Load),
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
        /// Run the job on the node with this label (`KEY=VALUE`): followers on `url` then
        /// read it across nodes.
        #[arg(long)]
        selector: Option<String>,
    },
    /// Jobs submitted round-robin to several nodes of a cluster, each waited for through
    /// the next node: jobs/s, end-to-end and claim latency, executions per node.
    Cluster {
        /// The nodes' base URLs, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        urls: Vec<String>,
        /// Jobs to run.
        #[arg(long, default_value_t = 3000)]
        jobs: usize,
        /// Jobs in flight.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// `noop` (claims and commits only) or `exec` (`true` as a host process).
        #[arg(long, default_value = "noop")]
        engine: String,
    },
    /// How long a cluster takes to fail the executions of a node killed with SIGKILL.
    Lost {
        /// A surviving node's base URL.
        #[arg(long)]
        url: String,
        /// The label (`KEY=VALUE`) of the node to kill.
        #[arg(long)]
        selector: String,
        /// That node's pid.
        #[arg(long)]
        pid: i32,
    },
    /// A job that prints `mb` megabytes, then its history read back (text and NDJSON),
    /// alternating with the same text from a static file server (`python3 -m
    /// http.server`), the ceiling.
    Catchup {
        /// Server base URL.
        #[arg(long, default_value = "http://127.0.0.1:1234")]
        url: String,
        /// Megabytes of output.
        #[arg(long, default_value_t = 100)]
        mb: u64,
        /// Rounds of (static, text, NDJSON) reads.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// The server's pid, to report the CPU time each read costs it (and the static
        /// server).
        #[arg(long)]
        server_pid: Option<u32>,
        /// Only these reads, comma-separated of static, text, ndjson (to profile one).
        #[arg(long, default_value = "static,text,ndjson")]
        only: String,
    },
    /// A job publishing an `mb` MB Local result, then `rounds` downloads of it from hake
    /// and from `python3 -m http.server` serving the same bytes, alternating: MB/s of
    /// each and their ratio.
    Download {
        /// Server base URL.
        #[arg(long, default_value = "http://127.0.0.1:1234")]
        url: String,
        /// Megabytes of (incompressible) output.
        #[arg(long, default_value_t = 150)]
        mb: u64,
        /// Downloads from each server.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// The server's pid, to report its CPU per GB beside Python's.
        #[arg(long)]
        server_pid: Option<u32>,
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
    /// Server RSS after `jobs` finished jobs and with `followers` idle log followers.
    Rss {
        /// Server base URL.
        #[arg(long, default_value = "http://127.0.0.1:1234")]
        url: String,
        /// The server's pid.
        #[arg(long)]
        server_pid: u32,
        /// Noop jobs run to their end first.
        #[arg(long, default_value_t = 10_000)]
        jobs: usize,
        /// Idle followers opened after them.
        #[arg(long, default_value_t = 1000)]
        followers: usize,
    },
    /// A mixed load for minutes with the server's RSS sampled: memory must stay flat.
    Soak(Soak),
}

/// A pooled client keeping `n` idle connections.
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

/// Submits `spec` signed by `s`; returns the job id.
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
        Mode::Livez(load) => {
            let o = closed_loop(&load, "/livez", Vec::new()).await;
            report("livez", &load, &o);
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
            selector,
        } => {
            logs_fanout(
                &url,
                rate,
                seconds,
                followers,
                server_pid,
                selector.as_deref(),
            )
            .await?
        }
        Mode::Cluster {
            urls,
            jobs,
            concurrency,
            engine,
        } => {
            let spec = match engine.as_str() {
                "exec" => {
                    json!({"Engine": "Exec", "Exec": {"Command": ["true"]}, "Deal": {"Concurrency": 1}})
                }
                _ => json!({"Engine": "Noop", "Deal": {"Concurrency": 1}}),
            };
            cluster::cluster(&urls, spec, jobs, concurrency).await?
        }
        Mode::Lost { url, selector, pid } => cluster::lost(&url, &selector, pid).await?,
        Mode::Catchup {
            url,
            mb,
            rounds,
            server_pid,
            only,
        } => catchup(&url, mb, rounds, server_pid, &only).await?,
        Mode::Download {
            url,
            mb,
            rounds,
            server_pid,
        } => download::download(&url, mb, rounds, server_pid).await?,
        Mode::Rss {
            url,
            server_pid,
            jobs,
            followers,
        } => rss(&url, server_pid, jobs, followers).await?,
        Mode::Soak(o) => soak(o).await?,
    }
    Ok(())
}

/// The bytes after `key` in `line`.
pub(crate) fn field<'a>(line: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    line.windows(key.len())
        .position(|w| w == key)
        .map(|p| &line[p + key.len()..])
}

/// CPU seconds used and RSS in KB of process `pid`.
fn proc_stat(pid: u32) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    let [rss_kb] = status_kb(pid, ["VmRSS"])?;
    Some((ticks as f64 / 100.0, rss_kb))
}

/// kB fields of `/proc/PID/status` (`VmRSS`, `RssAnon`, `RssFile`, ...), in the order
/// asked, all from one read of the file.
fn status_kb<const N: usize>(pid: u32, fields: [&str; N]) -> Option<[u64; N]> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut kb = [0; N];
    for (slot, field) in kb.iter_mut().zip(fields) {
        *slot = status.lines().find_map(|l| {
            let rest = l.strip_prefix(field)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse().ok()
        })?;
    }
    Some(kb)
}
