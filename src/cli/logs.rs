//! `hake logs`: reads the NDJSON log stream of `POST /requester/logs` and writes stdout
//! records to stdout and stderr records to stderr.
//!
//! With `-f` it follows the execution to its end and survives dropped connections: it
//! reconnects with `AfterSeq` set to the last record it printed, so nothing is printed
//! twice or skipped (a `Gap` the server reports is noted on stderr). A stream that
//! ends with `server_shutdown` or `error`, that breaks, or that goes silent for longer
//! than [`IDLE`] (the server sends heartbeats) is reopened; an unreachable server is
//! retried for up to [`super::wait::RETRY_FOR`]. The exit code is the job's (see
//! [`super::exit`]).

use std::io::Write as _;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::client::Client;
use super::exit::{CliError, CliResult, ExitCode};
use super::fmt::{parse_since, short};
use super::progress::Progress;
use super::sign::freshness;
use crate::api::dto::{LogEnd, LogFrame};
use crate::auth::Signer;

/// Silence (not even a heartbeat) after which a followed stream is reopened.
const IDLE: Duration = Duration::from_secs(60);

/// Which stream to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamArg {
    /// Standard output only.
    Stdout,
    /// Standard error only.
    Stderr,
}

/// `hake logs`.
#[derive(Debug, Clone, clap::Args)]
pub struct LogsArgs {
    /// Job id or unique prefix (≥ 8 characters).
    pub job: String,
    /// Keep streaming until the execution ends (waiting for it to start); reconnects
    /// after a dropped connection without repeating or losing lines.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only lines from this long ago (10m, 1h30m) or since this RFC 3339 time.
    #[arg(long, value_name = "DURATION|TIME")]
    pub since: Option<String>,
    /// Start at the last N lines.
    #[arg(long, value_name = "N")]
    pub tail: Option<u64>,
    /// Only this stream.
    #[arg(long, value_enum)]
    pub stream: Option<StreamArg>,
    /// Prefix each line with its arrival time (RFC 3339, nanoseconds).
    #[arg(long, short = 't')]
    pub timestamps: bool,
    /// The execution (default: the job's latest).
    #[arg(long, value_name = "ID")]
    pub execution: Option<String>,
}

impl LogsArgs {
    /// Options to follow a job's whole log, as `--follow` on the run commands does.
    pub fn follow_job(job: &str) -> Self {
        Self {
            job: job.to_owned(),
            follow: true,
            since: None,
            tail: None,
            stream: None,
            timestamps: false,
            execution: None,
        }
    }
}

/// How one connection ended.
enum Outcome {
    /// The server's End record.
    End(LogEnd),
    /// The connection broke, or went silent, before End.
    Dropped(String),
}

/// The printing side: what was printed last, so a resumed stream skips duplicates.
struct Printer {
    last_seq: Option<u64>,
    timestamps: bool,
    /// Frames received (heartbeats too): a connection that delivered any was healthy.
    frames: u64,
}

impl Printer {
    fn frame(&mut self, f: &LogFrame) -> std::io::Result<()> {
        self.frames += 1;
        match f.tag {
            1 | 2 => {
                let Some(seq) = f.seq else { return Ok(()) };
                if self.last_seq.is_some_and(|last| seq <= last) {
                    return Ok(()); // already printed before a reconnect
                }
                self.last_seq = Some(seq);
                let data = f.data.as_deref().unwrap_or("");
                let prefix = match (&f.time, self.timestamps) {
                    (Some(t), true) => format!("{t} "),
                    _ => String::new(),
                };
                if f.tag == 1 {
                    let mut out = std::io::stdout().lock();
                    out.write_all(prefix.as_bytes())?;
                    out.write_all(data.as_bytes())?;
                    out.flush()
                } else {
                    let mut err = std::io::stderr().lock();
                    err.write_all(prefix.as_bytes())?;
                    err.write_all(data.as_bytes())?;
                    err.flush()
                }
            }
            _ => {
                if let Some(gap) = &f.gap {
                    eprintln!(
                        "hake: log records {}..={} are no longer held by the server",
                        gap.from, gap.to
                    );
                    self.last_seq = Some(self.last_seq.map_or(gap.to, |l| l.max(gap.to)));
                }
                Ok(())
            }
        }
    }
}

/// The signed payload of one connection.
fn payload(signer: &Signer, args: &LogsArgs, since_ms: Option<i64>, after: Option<u64>) -> String {
    let (ts, nonce) = freshness();
    let mut p = json!({
        "ClientID": signer.client_id(),
        "JobID": args.job,
        "WithHistory": true,
        "Follow": args.follow,
        "Timestamp": ts,
        "Nonce": nonce,
    });
    if let Some(e) = &args.execution {
        p["ExecutionID"] = json!(e);
    }
    if let Some(s) = since_ms {
        p["SinceMs"] = json!(s);
    }
    if let Some(s) = args.stream {
        p["Stream"] = json!(match s {
            StreamArg::Stdout => "stdout",
            StreamArg::Stderr => "stderr",
        });
    }
    match after {
        // Resuming: everything after the last printed record (Tail applied already).
        Some(a) => p["AfterSeq"] = json!(a),
        None => {
            if let Some(t) = args.tail {
                p["Tail"] = json!(t);
            }
        }
    }
    p.to_string()
}

/// Reads one connection's frames until End, a break, or [`IDLE`] of silence.
async fn read_stream(
    mut resp: reqwest::Response,
    printer: &mut Printer,
    progress: &mut Progress,
) -> CliResult<Outcome> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(IDLE, resp.chunk()).await {
            Err(_) => return Ok(Outcome::Dropped("no data or heartbeat for 60 s".into())),
            Ok(Err(e)) => return Ok(Outcome::Dropped(e.to_string())),
            Ok(Ok(None)) => {
                return Ok(Outcome::Dropped(
                    "the stream ended without an End record".into(),
                ))
            }
            Ok(Ok(Some(c))) => c,
        };
        buf.extend_from_slice(&chunk);
        while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&line);
            if text.trim().is_empty() {
                continue;
            }
            let frame: LogFrame = serde_json::from_str(&text).map_err(|e| {
                CliError::server(format!(
                    "the server sent a log record this client cannot read: {e}"
                ))
            })?;
            if frame.tag != 0 || frame.gap.is_some() {
                progress.finish();
            }
            printer.frame(&frame).map_err(|e| {
                super::fmt::exit_on_broken_pipe(&e);
                CliError::local(format!("cannot write the log: {e}"))
            })?;
            if let Some(end) = frame.end {
                return Ok(Outcome::End(end));
            }
        }
    }
}

/// The exit code for an execution's End reason.
fn code_for_end(end: &LogEnd) -> ExitCode {
    match end.reason.as_str() {
        "failed" | "timed_out" => ExitCode::JobFailed,
        "cancelled" => ExitCode::Cancelled,
        _ => ExitCode::Ok,
    }
}

/// Runs `hake logs`; returns the exit code for how the log ended.
pub async fn run_logs(client: &Client, signer: &Signer, args: &LogsArgs) -> CliResult<ExitCode> {
    let since_ms = args
        .since
        .as_deref()
        .map(|s| parse_since(s, crate::time::now()))
        .transpose()
        .map_err(CliError::usage)?;
    let mut printer = Printer {
        last_seq: None,
        timestamps: args.timestamps,
        frames: 0,
    };
    let mut progress = if args.follow {
        Progress::start(format!(
            "waiting for the output of job {}",
            short(&args.job)
        ))
    } else {
        Progress::none()
    };
    let mut failing_since: Option<Instant> = None;
    let mut backoff = Duration::from_millis(100);
    // Retries are for a server that went away; one never reached is an error at once.
    let mut reached = false;
    let end = loop {
        let body = payload(signer, args, since_ms, printer.last_seq);
        let frames_before = printer.frames;
        let outcome = match client.open_stream("/requester/logs", signer, &body).await {
            Ok(resp) => {
                reached = true;
                read_stream(resp, &mut printer, &mut progress).await?
            }
            Err(e) if e.retry && args.follow && reached => Outcome::Dropped(e.message),
            Err(e) => return Err(e),
        };
        let why = match outcome {
            Outcome::End(end)
                if args.follow && matches!(end.reason.as_str(), "server_shutdown" | "error") =>
            {
                format!("the stream ended with {}", end.reason)
            }
            Outcome::End(end) => break end,
            Outcome::Dropped(why) if args.follow => why,
            Outcome::Dropped(why) => {
                return Err(CliError::server(format!("the log stream broke: {why}")))
            }
        };
        // Reconnect, resuming after the last printed record. A connection that delivered
        // frames was healthy: the retry budget starts again.
        if printer.frames > frames_before {
            failing_since = None;
            backoff = Duration::from_millis(100);
        }
        let since = *failing_since.get_or_insert_with(Instant::now);
        if since.elapsed() > super::wait::RETRY_FOR {
            return Err(CliError::server(format!(
                "gave up following the log after {}s: {why}",
                super::wait::RETRY_FOR.as_secs()
            )));
        }
        tracing::debug!(%why, last_seq = ?printer.last_seq, "reconnecting the log stream");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    };
    progress.finish();
    if end.reason == "error" {
        return Err(CliError::server(format!(
            "the server could not read the log of job {}",
            short(&args.job)
        )));
    }
    let terminal = matches!(
        end.reason.as_str(),
        "completed" | "failed" | "cancelled" | "timed_out"
    );
    if !args.follow || args.execution.is_some() || !terminal {
        return Ok(code_for_end(&end));
    }
    // The job's status: other executions may still run, and the job's own state
    // follows its last execution's by a moment.
    match super::wait::wait_terminal(client, &args.job, None).await? {
        Some(state) => Ok(ExitCode::for_state(state.state)),
        None => Ok(code_for_end(&end)),
    }
}
