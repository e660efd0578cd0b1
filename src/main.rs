//! The `hake` binary: parse the command line and run it. A failing client command prints
//! `hake: <message>` on stderr and exits with its code (`hake --help` lists them).

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = hake::cli::Cli::parse();
    match hake::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            let (code, message) = hake::cli::exit::classify(&e);
            eprintln!("hake: {message}");
            std::process::exit(code);
        }
    }
}
