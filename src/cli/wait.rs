//! `hake wait` and `hake cancel`, and the long-poll loop that `--wait`, `logs -f` and
//! `wait` share: `states` with `after_version` answers as soon as the job changes, so
//! waiting costs one request per change (or per 30 s of quiet).

use std::time::Duration;

use tokio::time::Instant;

use super::client::Client;
use super::exit::{CliError, CliResult, ExitCode};
use super::fmt::{human_ms, job_duration_ms, parse_duration, short};
use super::progress::Progress;
use crate::api::dto::StateResponse;
use crate::auth::Signer;
use crate::model::{ExecutionStateType, JobState};

/// The longest single long-poll.
const POLL: Duration = Duration::from_secs(30);

/// How long the waiting loops keep retrying an unreachable or restarting server.
pub const RETRY_FOR: Duration = Duration::from_secs(60);

/// `hake wait`.
#[derive(Debug, Clone, clap::Args)]
pub struct WaitArgs {
    /// Job id or unique prefix (≥ 8 characters).
    pub job: String,
    /// Give up after this long (e.g. 90s, 5m, 1h30m) with exit code 4; the job goes on.
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
}

/// `hake cancel`.
#[derive(Debug, Clone, clap::Args)]
pub struct CancelArgs {
    /// Job id or unique prefix (≥ 8 characters).
    pub job: String,
    /// Why (recorded on the cancelled executions).
    #[arg(long, default_value = "cancelled from the hake CLI")]
    pub reason: String,
}

/// One line about a job's progress: state, running executions, elapsed time.
pub fn progress_line(state: &JobState) -> String {
    let running = state
        .executions
        .iter()
        .filter(|e| e.state == ExecutionStateType::BidAccepted)
        .count();
    let mut line = format!("job {} {}", short(&state.job_id), state.state);
    if running > 0 {
        line.push_str(&format!(", {running} running"));
    }
    line
}

/// Waits until the job is terminal; `Ok(None)` when `timeout` passed first. Retries an
/// unreachable or restarting server for up to [`RETRY_FOR`].
pub async fn wait_terminal(
    client: &Client,
    job: &str,
    timeout: Option<Duration>,
) -> CliResult<Option<JobState>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut progress = Progress::start(format!("waiting for job {}", short(job)));
    let mut job_id = job.to_owned();
    let mut after = 0i64;
    let mut failing_since: Option<Instant> = None;
    // Retries are for a server that went away; one never reached is an error at once.
    let mut reached = false;
    loop {
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(POLL),
            None => POLL,
        };
        match client.state_after(&job_id, after, wait).await {
            Ok(StateResponse { state }) => {
                failing_since = None;
                reached = true;
                if state.state.is_terminal() {
                    progress.finish();
                    return Ok(Some(state));
                }
                progress.set(progress_line(&state));
                job_id.clone_from(&state.job_id);
                after = state.version;
            }
            Err(e) if e.retry && reached => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > RETRY_FOR {
                    return Err(e);
                }
                progress.set(format!("{} (retrying)", e.message));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            progress.finish();
            return Ok(None);
        }
    }
}

/// A one-line summary of a finished job for stderr.
pub fn summary(state: &JobState) -> String {
    let mut s = format!("job {} {}", short(&state.job_id), state.state);
    if let Some(ms) = job_duration_ms(state, crate::time::now()) {
        s.push_str(&format!(" in {}", human_ms(ms)));
    }
    let codes: Vec<String> = state
        .executions
        .iter()
        .filter_map(|e| e.run_output.as_ref().map(|r| r.exit_code.to_string()))
        .collect();
    if !codes.is_empty() {
        s.push_str(&format!(" (exit code {})", codes.join(", ")));
    }
    if let Some(why) = state
        .executions
        .iter()
        .rev()
        .find(|e| {
            matches!(
                e.state,
                ExecutionStateType::Failed | ExecutionStateType::Cancelled
            ) && !e.status.is_empty()
        })
        .map(|e| e.status.as_str())
    {
        s.push_str(&format!(": {why}"));
    }
    s
}

/// Waits for the job, prints its state on stdout and a summary on stderr, and returns
/// the exit code of its terminal state (4 on timeout).
pub async fn wait_and_report(
    client: &Client,
    job: &str,
    timeout: Option<Duration>,
    state_on_stdout: bool,
) -> CliResult<ExitCode> {
    match wait_terminal(client, job, timeout).await? {
        Some(state) => {
            if state_on_stdout {
                super::fmt::out(&format!("{}\n", state.state));
            }
            eprintln!("{}", summary(&state));
            Ok(ExitCode::for_state(state.state))
        }
        None => {
            let t = timeout.map(|t| human_ms(t.as_millis() as i64));
            Err(CliError::new(
                ExitCode::WaitTimeout,
                format!(
                    "job {} did not end within {}; it goes on (hake wait {} to keep waiting)",
                    short(job),
                    t.unwrap_or_default(),
                    short(job)
                ),
            ))
        }
    }
}

/// Runs `hake wait`.
pub async fn run_wait(client: &Client, args: &WaitArgs) -> CliResult<ExitCode> {
    wait_and_report(client, &args.job, args.timeout, true).await
}

/// Runs `hake cancel`: prints the job's state after the cancel.
pub async fn run_cancel(
    client: &Client,
    signer: &Signer,
    args: &CancelArgs,
) -> CliResult<ExitCode> {
    let payload = super::sign::cancel_payload(signer, &args.job, &args.reason);
    let resp: StateResponse = client
        .post_signed("/requester/cancel", signer, &payload)
        .await?;
    super::fmt::out(&format!("{}\n", resp.state.state));
    eprintln!("job {} {}", short(&resp.state.job_id), resp.state.state);
    Ok(ExitCode::Ok)
}
