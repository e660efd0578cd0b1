//! The `hake` command line: `serve` runs the server; the other commands are clients of a
//! server (`--server` / `HAKE_SERVER`, default `http://127.0.0.1:1234`), signing with the
//! key of [`key`]. Exit codes are in [`exit`].

pub mod client;
pub mod exit;
pub mod fmt;
pub mod jobs;
pub mod key;
pub mod logs;
pub mod nodes;
pub mod progress;
pub mod results;
pub mod run;
pub mod sign;
pub mod spec;
pub mod wait;

use clap::{Parser, Subcommand};

use crate::config::ServeConfig;
use exit::{CliError, ExitCode};

/// hake: a job-execution server with a Bacalhau-compatible API.
#[derive(Debug, Parser)]
#[command(name = "hake", version, about, after_help = exit::EXIT_CODES_HELP)]
pub struct Cli {
    /// Client key options.
    #[command(flatten)]
    pub key: key::KeyArgs,
    /// The server the client commands talk to.
    #[arg(
        long,
        env = "HAKE_SERVER",
        default_value = client::DEFAULT_SERVER,
        global = true,
        value_name = "URL"
    )]
    pub server: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(Box<ServeConfig>),
    /// Show (creating on first use) your client key and ClientID.
    Id(key::IdArgs),
    /// The client commands.
    #[command(flatten)]
    Client(ClientCommand),
    /// Print a signed envelope for curl.
    Sign {
        /// What to sign.
        #[command(subcommand)]
        what: sign::SignWhat,
    },
    /// Print the OpenAPI document (YAML).
    Openapi,
    /// Internal: the Exec engine's confinement helper (confines itself, then runs PROGRAM).
    #[command(name = "sandbox-exec", hide = true)]
    SandboxExec(crate::sandbox::SandboxArgs),
    /// The Exec engine's spawner (internal; the server starts it).
    #[command(name = "sandbox-zygote", hide = true)]
    SandboxZygote,
    /// Exit 0 when the server at URL answers `/readyz` with 200 (for container health checks).
    Healthcheck {
        /// The server.
        #[arg(
            long,
            env = "HAKE_HEALTHCHECK_URL",
            default_value = "http://127.0.0.1:1234"
        )]
        url: String,
    },
}

/// The commands that talk to a server.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Run a host process: hake exec [OPTIONS] -- CMD ARGS... (the server needs --allow-exec).
    Exec(run::ExecArgs),
    /// Docker jobs: hake docker run IMAGE [OPTIONS] -- CMD...
    Docker {
        /// What to do.
        #[command(subcommand)]
        what: run::DockerCommand,
    },
    /// Wasm jobs: hake wasm run MODULE.wasm [ARGS...]
    Wasm {
        /// What to do.
        #[command(subcommand)]
        what: run::WasmCommand,
    },
    /// Submit a spec file (JSON or YAML; - for stdin) and print the job id.
    Submit(run::SubmitArgs),
    /// List jobs (yours unless --all), newest first.
    List(jobs::ListArgs),
    /// A job's state, executions with timings and exit codes, and history.
    Describe(jobs::DescribeArgs),
    /// Print a job's logs; -f follows them to the end and exits with the job's status.
    Logs(logs::LogsArgs),
    /// Wait for a job to end and exit with its status.
    Wait(wait::WaitArgs),
    /// Cancel a job.
    Cancel(wait::CancelArgs),
    /// List a job's results; --download DIR fetches and unpacks them.
    Results(results::ResultsArgs),
    /// List the nodes of the cluster: labels, engines, capacity, connection.
    Nodes(nodes::NodesArgs),
}

/// Loads (creating on first use) the key; failures are local (exit 6).
fn signer(keys: &key::KeyArgs) -> Result<crate::auth::Signer, CliError> {
    keys.load_or_create()
        .map_err(|e| CliError::local(format!("{e:#}")))
}

/// Runs a client command against the server.
async fn run_client(
    server: &str,
    keys: &key::KeyArgs,
    command: ClientCommand,
) -> Result<ExitCode, CliError> {
    let c = client::Client::new(server)?;
    match command {
        ClientCommand::Exec(args) => {
            let spec = run::exec_spec(&args)?;
            run::submit_and_then(&c, &signer(keys)?, run::to_tree(&spec), &args.after).await
        }
        ClientCommand::Docker {
            what: run::DockerCommand::Run(args),
        } => {
            let spec = run::docker_spec(&args)?;
            run::submit_and_then(&c, &signer(keys)?, run::to_tree(&spec), &args.after).await
        }
        ClientCommand::Wasm {
            what: run::WasmCommand::Run(args),
        } => {
            let spec = run::wasm_spec(&args)?;
            run::submit_and_then(&c, &signer(keys)?, run::to_tree(&spec), &args.after).await
        }
        ClientCommand::Submit(args) => run::run_submit(&c, &signer(keys)?, &args).await,
        ClientCommand::List(args) => jobs::run_list(&c, &signer(keys)?, &args).await,
        ClientCommand::Describe(args) => jobs::run_describe(&c, &args).await,
        ClientCommand::Logs(args) => logs::run_logs(&c, &signer(keys)?, &args).await,
        ClientCommand::Wait(args) => wait::run_wait(&c, &args).await,
        ClientCommand::Cancel(args) => wait::run_cancel(&c, &signer(keys)?, &args).await,
        ClientCommand::Results(args) => results::run_results(&c, &args).await,
        ClientCommand::Nodes(args) => nodes::run_nodes(&c, &args).await,
    }
}

/// Runs the parsed command; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(config) => {
            crate::telemetry::init(config.log_format);
            let server = crate::app::Server::build(*config).await?;
            let app = server.app();
            server.run_until(crate::app::shutdown_signal(app)).await?;
            Ok(0)
        }
        Command::Id(args) => key::run_id(&cli.key, &args).map(|()| 0),
        Command::Sign { what } => {
            let signer = cli.key.load_or_create()?;
            sign::run(&signer, &what).map(|()| 0)
        }
        Command::Healthcheck { url } => {
            // Container health checks read 0 as healthy and 1 as unhealthy, whatever the cause.
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()?;
            match client
                .get(format!("{}/readyz", url.trim_end_matches('/')))
                .send()
                .await
            {
                Ok(resp) if resp.status().is_success() => Ok(0),
                Ok(resp) => {
                    eprintln!("not ready: HTTP {}", resp.status());
                    Ok(1)
                }
                Err(e) => {
                    eprintln!("not ready: {e}");
                    Ok(1)
                }
            }
        }
        Command::SandboxExec(args) => Ok(crate::sandbox::helper::run(&args)),
        // It forks: only `main` may start it, before the runtime's threads exist.
        Command::SandboxZygote => {
            anyhow::bail!("sandbox-zygote runs only as the hake binary's own command")
        }
        Command::Openapi => {
            print!("{}", crate::api::openapi::yaml());
            Ok(0)
        }
        Command::Client(command) => match run_client(&cli.server, &cli.key, command).await {
            Ok(code) => Ok(code.code()),
            Err(e) => Err(anyhow::Error::new(e)),
        },
    }
}
