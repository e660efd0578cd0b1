//! `hake-sandbox`: the Exec engine's confinement helper as a small program of its own.
//! It does what `hake sandbox-exec` does (see [`hake::sandbox::helper`]); the engine
//! prefers it when it sits beside the `hake` binary, because starting the small program
//! costs a fraction of starting the whole server binary, once per Exec execution.
//! A leading `sandbox-exec` argument is accepted, so both are invoked the same way;
//! `hake-sandbox sandbox-zygote` runs the Exec spawner (see [`hake::sandbox::zygote`]).

use clap::Parser;
use hake::sandbox::SandboxArgs;

#[derive(Debug, Parser)]
#[command(name = "hake-sandbox", about = "Confines itself, then runs PROGRAM")]
struct Cli {
    #[command(flatten)]
    args: SandboxArgs,
}

fn main() {
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.len() == 2 && argv[1] == "sandbox-zygote" {
        std::process::exit(hake::sandbox::zygote::serve());
    }
    if argv.get(1).is_some_and(|a| a == "sandbox-exec") {
        argv.remove(1);
    }
    let cli = Cli::parse_from(argv);
    std::process::exit(hake::sandbox::helper::run(&cli.args));
}
