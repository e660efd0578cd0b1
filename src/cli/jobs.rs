//! `hake list` and `hake describe`: jobs as tables for people, or JSON for scripts.

use serde_json::json;

use super::client::Client;
use super::exit::{CliError, CliResult, ExitCode};
use super::fmt::{human_ms, job_duration_ms, local_time, local_time_ms, out, short, table};
use crate::api::dto::{EventsRequest, EventsResponse, JobWithInfo, ListRequest, ListResponse};
use crate::auth::Signer;
use crate::model::{Engine, ExecutionState, Job, JobHistory, JobStateType, StateChange};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// An aligned table.
    #[default]
    Table,
    /// The server's JSON.
    Json,
}

/// `hake list`.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Every client's jobs (default: only yours).
    #[arg(long)]
    pub all: bool,
    /// Only jobs in this state (repeatable): New, Queued, InProgress, Completed,
    /// CompletedPartially, Error, Cancelled.
    #[arg(long = "state", value_name = "STATE")]
    pub states: Vec<String>,
    /// Only jobs with this annotation (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Jobs per page (0: the server's page cap).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: i64,
    /// Oldest first (default: newest first).
    #[arg(long)]
    pub oldest_first: bool,
    /// Continue from a previous page.
    #[arg(long, value_name = "TOKEN", conflicts_with = "all_pages")]
    pub next_token: Option<String>,
    /// Fetch every page.
    #[arg(long)]
    pub all_pages: bool,
    /// table or json.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// `hake describe`.
#[derive(Debug, Clone, clap::Args)]
pub struct DescribeArgs {
    /// Job id or unique prefix (≥ 8 characters).
    pub job: String,
    /// table (text) or json.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

fn engine_name(job: &Job) -> String {
    job.spec
        .engine
        .map(|e| e.to_string())
        .unwrap_or_else(|| "-".to_owned())
}

/// Runs `hake list`.
pub async fn run_list(client: &Client, signer: &Signer, args: &ListArgs) -> CliResult<ExitCode> {
    for s in &args.states {
        s.parse::<JobStateType>()
            .map_err(|e| CliError::usage(format!("--state: {e}")))?;
    }
    if args.limit < 0 {
        return Err(CliError::usage("--limit must not be negative"));
    }
    let mut req = ListRequest {
        client_id: signer.client_id(),
        return_all: args.all,
        include_tags: args.tags.clone(),
        max_jobs: args.limit,
        sort_reverse: !args.oldest_first,
        next_token: args.next_token.clone().unwrap_or_default(),
        states: args.states.clone(),
        ..Default::default()
    };
    let mut jobs: Vec<JobWithInfo> = Vec::new();
    let next = loop {
        let page: ListResponse = client.post("/requester/list", &req).await?;
        jobs.extend(page.jobs);
        match page.next_token {
            Some(t) if args.all_pages => req.next_token = t,
            other => break other,
        }
    };
    match args.output {
        OutputFormat::Json => {
            let mut doc = json!({ "jobs": jobs });
            if let Some(t) = &next {
                doc["next_token"] = json!(t);
            }
            out(&format!("{doc}\n"));
        }
        OutputFormat::Table => {
            let now = crate::time::now();
            let rows: Vec<Vec<String>> = jobs
                .iter()
                .map(|j| {
                    vec![
                        short(&j.job.metadata.id).to_owned(),
                        j.state.state.to_string(),
                        engine_name(&j.job),
                        local_time(&j.job.metadata.created_at),
                        job_duration_ms(&j.state, now)
                            .map(human_ms)
                            .unwrap_or_else(|| "-".to_owned()),
                    ]
                })
                .collect();
            out(&table(
                &["ID", "STATE", "ENGINE", "CREATED", "DURATION"],
                &rows,
            ));
            if let Some(t) = &next {
                eprintln!("more jobs: hake list --next-token {t} (or --all-pages)");
            }
        }
    }
    Ok(ExitCode::Ok)
}

/// What a job runs, in one line.
fn what_it_runs(job: &Job) -> String {
    let s = &job.spec;
    match s.engine {
        Some(Engine::Exec) => s
            .exec
            .as_ref()
            .map(|e| e.command.join(" "))
            .unwrap_or_default(),
        Some(Engine::Docker) => {
            let mut parts = vec![s.docker.image.clone()];
            parts.extend(s.docker.entrypoint.iter().cloned());
            parts.extend(s.docker.parameters.iter().cloned());
            parts.join(" ")
        }
        Some(Engine::Wasm) => {
            let m = &s.wasm.entry_module;
            let src = if m.url.starts_with("data:") {
                "inline module".to_owned()
            } else if !m.url.is_empty() {
                m.url.clone()
            } else {
                m.source_path.clone()
            };
            let mut parts = vec![src];
            parts.extend(s.wasm.parameters.iter().cloned());
            parts.join(" ")
        }
        _ => "-".to_owned(),
    }
}

fn execution_row(e: &ExecutionState) -> Vec<String> {
    let opt_time = |t: &Option<crate::time::Time>| {
        t.as_ref()
            .map(local_time_ms)
            .unwrap_or_else(|| "-".to_owned())
    };
    vec![
        e.compute_reference.clone(),
        e.state.to_string(),
        opt_time(&e.start_time),
        opt_time(&e.end_time),
        e.duration_ms
            .map(human_ms)
            .unwrap_or_else(|| "-".to_owned()),
        e.run_output
            .as_ref()
            .map(|r| r.exit_code.to_string())
            .unwrap_or_else(|| "-".to_owned()),
        e.status.clone(),
    ]
}

fn change<S: std::fmt::Display + Copy>(c: &StateChange<S>) -> String {
    match (c.previous, c.new) {
        (None, None) => "New".to_owned(),
        (p, n) => format!(
            "{} -> {}",
            p.map_or("New".to_owned(), |s| s.to_string()),
            n.map_or("New".to_owned(), |s| s.to_string())
        ),
    }
}

fn history_row(h: &JobHistory) -> Vec<String> {
    let (level, what) = match (&h.job_state, &h.execution_state) {
        (Some(c), _) => ("job".to_owned(), change(c)),
        (None, Some(c)) => (
            format!(
                "execution {}",
                short(h.compute_reference.trim_start_matches("e-"))
            ),
            change(c),
        ),
        (None, None) => (h.kind.to_string(), String::new()),
    };
    vec![local_time_ms(&h.time), level, what, h.comment.clone()]
}

/// Runs `hake describe`.
pub async fn run_describe(client: &Client, args: &DescribeArgs) -> CliResult<ExitCode> {
    let info = client.job(&args.job).await?;
    let events: EventsResponse = client
        .post(
            "/requester/events",
            &EventsRequest {
                job_id: info.job.metadata.id.clone(),
                ..Default::default()
            },
        )
        .await?;
    if args.output == OutputFormat::Json {
        out(&format!(
            "{}\n",
            json!({"job": info.job, "state": info.state, "events": events.events})
        ));
        return Ok(ExitCode::Ok);
    }
    let (job, state) = (&info.job, &info.state);
    let mut text = String::new();
    let mut field = |k: &str, v: String| text.push_str(&format!("{k:<13}{v}\n"));
    field("ID:", job.metadata.id.clone());
    field(
        "State:",
        format!("{} (version {})", state.state, state.version),
    );
    field("Engine:", engine_name(job));
    field("Runs:", what_it_runs(job));
    field("Client:", job.metadata.client_id.clone());
    field("Created:", local_time_ms(&job.metadata.created_at));
    field("Updated:", local_time_ms(&state.update_time));
    if let Some(ms) = job_duration_ms(state, crate::time::now()) {
        field("Duration:", human_ms(ms));
    }
    field("Concurrency:", job.spec.deal.concurrency.to_string());
    if job.spec.timeout > 0.0 {
        field("Timeout:", format!("{}s", job.spec.timeout));
    }
    if let Some(p) = job.spec.publisher_spec.kind {
        field("Publisher:", p.to_string());
    }
    if !job.spec.annotations.is_empty() {
        field("Annotations:", job.spec.annotations.join(", "));
    }
    text.push_str("\nExecutions:\n");
    if state.executions.is_empty() {
        text.push_str("  (none yet)\n");
    } else {
        let rows: Vec<Vec<String>> = state.executions.iter().map(execution_row).collect();
        let t = table(
            &[
                "EXECUTION",
                "STATE",
                "STARTED",
                "ENDED",
                "DURATION",
                "EXIT",
                "STATUS",
            ],
            &rows,
        );
        for l in t.lines() {
            text.push_str(&format!("  {l}\n"));
        }
    }
    text.push_str("\nHistory:\n");
    let rows: Vec<Vec<String>> = events.events.iter().map(history_row).collect();
    for l in table(&["TIME", "LEVEL", "CHANGE", "COMMENT"], &rows).lines() {
        text.push_str(&format!("  {l}\n"));
    }
    out(&text);
    Ok(ExitCode::Ok)
}
