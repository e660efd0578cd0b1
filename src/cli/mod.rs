//! The `hake` command line: `serve` runs the server; the other commands are clients.

pub mod key;
pub mod sign;

use clap::{Parser, Subcommand};

use crate::config::ServeConfig;

/// hake: a job-execution server with a Bacalhau-compatible API.
#[derive(Debug, Parser)]
#[command(name = "hake", version, about)]
pub struct Cli {
    /// Client key options.
    #[command(flatten)]
    pub key: key::KeyArgs,
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
    /// Print a signed envelope for curl.
    Sign {
        /// What to sign.
        #[command(subcommand)]
        what: sign::SignWhat,
    },
    /// Print the OpenAPI document (YAML).
    Openapi,
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
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()?;
            let resp = client
                .get(format!("{}/readyz", url.trim_end_matches('/')))
                .send()
                .await?;
            if resp.status().is_success() {
                Ok(0)
            } else {
                eprintln!("not ready: HTTP {}", resp.status());
                Ok(1)
            }
        }
        Command::Openapi => {
            print!("{}", crate::api::openapi::yaml());
            Ok(0)
        }
    }
}
