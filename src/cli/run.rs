//! `hake exec`, `hake docker run`, `hake wasm run` and `hake submit`: build or read a
//! spec, submit it signed, print the job id; `--wait` waits for the end (long-poll),
//! `--follow` streams the logs until the end. The exit code is the job's with either.

use std::path::PathBuf;
use std::time::Duration;

use super::client::Client;
use super::exit::{CliError, CliResult, ExitCode};
use super::logs::{run_logs, LogsArgs};
use super::spec::{data_url_of_file, JobOptions};
use crate::api::dto::SubmitResponse;
use crate::auth::Signer;
use crate::model::decode::Tree;
use crate::model::{DockerSpec, Engine, ExecSpec, Spec, StorageSource, StorageSpec, WasmSpec};

/// What to do after submitting.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AfterSubmit {
    /// Wait for the job to end (a progress line on a terminal); exit with its status.
    #[arg(long)]
    pub wait: bool,
    /// Stream the job's output until it ends (the job id goes to stderr); exit with its status.
    #[arg(long, conflicts_with = "wait")]
    pub follow: bool,
    /// With --wait: give up waiting after this long (exit code 4); the job goes on.
    #[arg(long, value_name = "DURATION", value_parser = super::fmt::parse_duration, requires = "wait")]
    pub wait_timeout: Option<Duration>,
}

/// `hake exec`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    /// Job options.
    #[command(flatten)]
    pub job: JobOptions,
    /// After submitting.
    #[command(flatten)]
    pub after: AfterSubmit,
    /// The program and its arguments (after `--`).
    #[arg(required = true, last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `hake docker ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DockerCommand {
    /// Run a command in a container of IMAGE (pulled by the server when it does not have it).
    Run(DockerRunArgs),
}

/// `hake docker run`.
#[derive(Debug, Clone, clap::Args)]
pub struct DockerRunArgs {
    /// The image.
    pub image: String,
    /// Job options.
    #[command(flatten)]
    pub job: JobOptions,
    /// After submitting.
    #[command(flatten)]
    pub after: AfterSubmit,
    /// The command and its arguments (after `--`; default: the image's).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `hake wasm ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum WasmCommand {
    /// Run a WASI module; a local MODULE is sent inline, an http(s) URL is downloaded by the server.
    Run(WasmRunArgs),
}

/// `hake wasm run`.
#[derive(Debug, Clone, clap::Args)]
pub struct WasmRunArgs {
    /// The module: a local `.wasm` file, or an http(s) URL.
    pub module: String,
    /// The exported function to call (default `_start`).
    #[arg(long, value_name = "NAME")]
    pub entry_point: Option<String>,
    /// Job options.
    #[command(flatten)]
    pub job: JobOptions,
    /// After submitting.
    #[command(flatten)]
    pub after: AfterSubmit,
    /// Arguments for the module (argv after the program name).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

/// `hake submit`.
#[derive(Debug, Clone, clap::Args)]
pub struct SubmitArgs {
    /// The spec (JSON or YAML; a bare Spec or `{"Spec": ...}`); `-` reads stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// After submitting.
    #[command(flatten)]
    pub after: AfterSubmit,
}

/// The spec of `hake exec`.
pub fn exec_spec(args: &ExecArgs) -> CliResult<Spec> {
    let mut spec = Spec {
        engine: Some(Engine::Exec),
        exec: Some(ExecSpec {
            command: args.command.clone(),
            environment_variables: args.job.env_pairs()?,
            working_directory: args.job.workdir.clone().unwrap_or_default(),
        }),
        ..Default::default()
    };
    args.job.apply(&mut spec)?;
    Ok(spec)
}

/// The spec of `hake docker run`.
pub fn docker_spec(args: &DockerRunArgs) -> CliResult<Spec> {
    if args.image.trim().is_empty() {
        return Err(CliError::usage("docker run needs an IMAGE"));
    }
    let mut spec = Spec {
        engine: Some(Engine::Docker),
        docker: DockerSpec {
            image: args.image.clone(),
            entrypoint: args.command.clone(),
            environment_variables: args
                .job
                .env_pairs()?
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            working_directory: args.job.workdir.clone().unwrap_or_default(),
            ..Default::default()
        }
        .into(),
        ..Default::default()
    };
    args.job.apply(&mut spec)?;
    Ok(spec)
}

/// The spec of `hake wasm run`.
pub fn wasm_spec(args: &WasmRunArgs) -> CliResult<Spec> {
    if args.job.workdir.is_some() {
        return Err(CliError::usage(
            "--workdir does not apply to Wasm modules (they see their inputs at their paths)",
        ));
    }
    let lower = args.module.to_ascii_lowercase();
    let entry_module = if lower.starts_with("http://") || lower.starts_with("https://") {
        StorageSpec {
            storage_source: Some(StorageSource::UrlDownload),
            url: args.module.clone(),
            ..Default::default()
        }
    } else {
        StorageSpec {
            storage_source: Some(StorageSource::Inline),
            url: data_url_of_file(std::path::Path::new(&args.module), "application/wasm")?,
            ..Default::default()
        }
    };
    let mut spec = Spec {
        engine: Some(Engine::Wasm),
        wasm: WasmSpec {
            entry_module,
            entry_point: args.entry_point.clone().unwrap_or_default(),
            parameters: args.args.clone(),
            environment_variables: args.job.env_pairs()?,
            ..Default::default()
        }
        .into(),
        ..Default::default()
    };
    args.job.apply(&mut spec)?;
    Ok(spec)
}

/// Submits `spec` signed; returns the job id.
pub async fn submit(client: &Client, signer: &Signer, spec: &Tree) -> CliResult<String> {
    let payload = super::sign::submit_payload(signer, spec);
    let resp: SubmitResponse = client
        .post_signed("/requester/submit", signer, &payload)
        .await?;
    Ok(resp.job.metadata.id)
}

/// Submits, prints the id, then waits or follows as asked.
pub async fn submit_and_then(
    client: &Client,
    signer: &Signer,
    spec: Tree,
    after: &AfterSubmit,
) -> CliResult<ExitCode> {
    let id = submit(client, signer, &spec).await?;
    if after.follow {
        eprintln!("job {id}");
        return run_logs(client, signer, &LogsArgs::follow_job(&id)).await;
    }
    super::fmt::out(&format!("{id}\n"));
    if after.wait {
        return super::wait::wait_and_report(client, &id, after.wait_timeout, false).await;
    }
    Ok(ExitCode::Ok)
}

/// Runs `hake submit`.
pub async fn run_submit(
    client: &Client,
    signer: &Signer,
    args: &SubmitArgs,
) -> CliResult<ExitCode> {
    let spec = super::sign::read_spec(&args.file).map_err(|e| CliError::usage(format!("{e:#}")))?;
    if !spec.is_object() {
        return Err(CliError::usage(format!(
            "{} does not hold a spec object",
            args.file.display()
        )));
    }
    submit_and_then(client, signer, spec, &args.after).await
}

/// Serializes a spec built from options.
pub fn to_tree(spec: &Spec) -> Tree {
    Tree::from(serde_json::to_value(spec).expect("specs serialize"))
}
