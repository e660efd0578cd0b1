//! The `hake` binary: parse the command line and run it.

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = hake::cli::Cli::parse();
    match hake::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("hake: {e:#}");
            std::process::exit(1);
        }
    }
}
