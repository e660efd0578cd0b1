//! The `hake` binary: parse the command line and run it. A failing client command prints
//! `hake: <message>` on stderr and exits with its code (`hake --help` lists them).

use clap::Parser;

fn main() {
    let cli = hake::cli::Cli::parse();
    // The Exec engine's helper confines itself and becomes the job's program: no runtime.
    // So does the Exec spawner, which forks and must stay single-threaded.
    match &cli.command {
        hake::cli::Command::SandboxExec(args) => {
            std::process::exit(hake::sandbox::helper::run(args))
        }
        hake::cli::Command::SandboxZygote => std::process::exit(hake::sandbox::zygote::serve()),
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(hake::cli::run(cli)) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            let (code, message) = hake::cli::exit::classify(&e);
            eprintln!("hake: {message}");
            std::process::exit(code);
        }
    }
}
