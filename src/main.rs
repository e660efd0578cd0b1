//! The `hake` binary: parse the command line and run it. A failing client command prints
//! `hake: <message>` on stderr and exits with its code (`hake --help` lists them).

use clap::Parser;

/// jemalloc rather than glibc's malloc: each idle connection holds two 8 KiB buffers of
/// which it writes only the first few hundred bytes; jemalloc keeps no header beside an
/// allocation, so the untouched pages of those buffers stay out of the resident set
/// (measured with `hake-bench rss`, docs/PERFORMANCE.md).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let cli = hake::cli::Cli::parse();
    // The Exec engine's helper confines itself and becomes the job's program: no runtime.
    if let hake::cli::Command::SandboxExec(args) = &cli.command {
        std::process::exit(hake::sandbox::helper::run(args));
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
