//! The `hake` command line: `serve` runs the server; the other commands are clients.

use clap::{Parser, Subcommand};

use crate::config::ServeConfig;

/// hake: a job-execution server with a Bacalhau-compatible API.
#[derive(Debug, Parser)]
#[command(name = "hake", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(Box<ServeConfig>),
    /// Print the OpenAPI document (YAML).
    Openapi,
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
        Command::Openapi => {
            print!("{}", crate::api::openapi::yaml());
            Ok(0)
        }
    }
}
