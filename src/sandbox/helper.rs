//! The hidden `hake sandbox-exec` subcommand: the Exec engine starts it instead of the job's
//! program. It confines itself (resource limits, a change of user, no_new_privs, a Landlock
//! ruleset over the filesystem, TCP and signals) and then replaces itself with the program,
//! so the program starts already confined and keeps the helper's pid and process group.
//!
//! Errors before the program starts are written to the `--report` file (opened before the
//! confinement, closed on exec), so the engine can tell "could not start" from an exit code.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, Scope, ABI,
};
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use serde::{Deserialize, Serialize};

/// The Landlock ABI whose rights the helper asks for; older kernels get what they support.
const TARGET_ABI: ABI = ABI::V6;

/// TCP access of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
pub enum NetAccess {
    /// No TCP connect or bind (where the kernel has Landlock ABI 4 or later).
    None,
    /// Unrestricted.
    Full,
}

/// Arguments of `hake sandbox-exec` (and, serialized, of a spawn request to the
/// [`zygote`](super::zygote)).
#[derive(Clone, Debug, clap::Args, Serialize, Deserialize)]
pub struct SandboxArgs {
    /// A file or directory the program may read and execute (repeatable).
    #[arg(long = "ro", value_name = "PATH")]
    pub read_only: Vec<PathBuf>,
    /// A file or directory the program may read, write, create and delete in (repeatable).
    #[arg(long = "rw", value_name = "PATH")]
    pub read_write: Vec<PathBuf>,
    /// TCP access.
    #[arg(long, value_enum, default_value_t = NetAccess::None)]
    pub net: NetAccess,
    /// Skip Landlock (`--exec-sandbox off`): environment, limits and user still apply.
    #[arg(long)]
    pub no_landlock: bool,
    /// Address-space limit in bytes.
    #[arg(long, value_name = "BYTES")]
    pub rlimit_as: Option<u64>,
    /// Open-file limit.
    #[arg(long, default_value_t = 1024)]
    pub nofile: u64,
    /// Run the program as this user (the helper must be root).
    #[arg(long)]
    pub user: Option<String>,
    /// Where to write why the program could not be started.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// The program and its arguments.
    #[arg(last = true, value_name = "PROGRAM")]
    pub command: Vec<OsString>,
}

/// Exit code of the helper when the program could not be started.
pub const CANNOT_START: i32 = 127;

/// Runs the helper: returns only when the program could not be started (the exit code).
pub fn run(args: &SandboxArgs) -> i32 {
    let report = args.report.as_ref().and_then(|p| File::create(p).ok());
    run_with(args, None, report, |_| {})
}

/// Confines this process as `args` say (after entering `cwd`, when given) and replaces it
/// with the program, set up further by `setup`. Returns only when the program could not
/// be started: the exit code, after writing why to `report` (stderr when there is none).
pub(crate) fn run_with(
    args: &SandboxArgs,
    cwd: Option<&std::path::Path>,
    mut report: Option<File>,
    setup: impl FnOnce(&mut std::process::Command),
) -> i32 {
    let err = match confine_and_exec(args, cwd, setup) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let message = format!("{err:#}");
    match report.as_mut() {
        Some(f) => {
            let _ = f.write_all(message.as_bytes());
        }
        None => eprintln!("hake sandbox-exec: {message}"),
    }
    CANNOT_START
}

/// Flags of `hake sandbox-exec` that give `args` (the inverse of parsing them).
pub fn to_flags(args: &SandboxArgs) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    let mut flag = |name: &str, value: OsString| {
        a.push(name.into());
        a.push(value);
    };
    for p in &args.read_only {
        flag("--ro", p.clone().into());
    }
    for p in &args.read_write {
        flag("--rw", p.clone().into());
    }
    if let Some(r) = &args.report {
        flag("--report", r.clone().into());
    }
    let net = match args.net {
        NetAccess::None => "none",
        NetAccess::Full => "full",
    };
    flag("--net", net.into());
    flag("--nofile", args.nofile.to_string().into());
    if let Some(bytes) = args.rlimit_as {
        flag("--rlimit-as", bytes.to_string().into());
    }
    if let Some(u) = &args.user {
        flag("--user", u.into());
    }
    if args.no_landlock {
        a.push("--no-landlock".into());
    }
    a.push("--".into());
    a.extend(args.command.iter().cloned());
    a
}

/// The Landlock ABI of the running kernel, found by confining a short-lived thread (a
/// ruleset applies to the calling thread only, and this one ends at once).
pub fn probe_abi() -> anyhow::Result<i32> {
    std::thread::spawn(|| -> anyhow::Result<i32> {
        let status = Ruleset::default()
            .handle_access(AccessFs::from_all(ABI::V1))?
            .create()?
            .add_rules(path_beneath_rules(["/"], AccessFs::from_all(ABI::V1)))?
            .restrict_self()?;
        Ok(match status.landlock {
            landlock::LandlockStatus::Available {
                effective_abi,
                kernel_abi,
            } => kernel_abi.unwrap_or(effective_abi as i32),
            _ => 0,
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the Landlock probe panicked"))?
}

enum Never {}

fn confine_and_exec(
    args: &SandboxArgs,
    cwd: Option<&std::path::Path>,
    setup: impl FnOnce(&mut std::process::Command),
) -> anyhow::Result<Never> {
    let (program, rest) = args
        .command
        .split_first()
        .context("no program given after --")?;
    if let Some(dir) = cwd {
        nix::unistd::chdir(dir)
            .with_context(|| format!("cannot start {program:?} in {}", dir.display()))?;
    }
    // The ruleset's paths are opened first, with the server's rights; the user change and
    // the limits come next, Landlock last (it also sets no_new_privs).
    let ruleset = if args.no_landlock {
        None
    } else {
        Some(build_ruleset(args)?)
    };
    if let Some(user) = &args.user {
        switch_user(user)?;
    }
    set_limits(args)?;
    match ruleset {
        Some(r) => {
            let status = r.restrict_self().context("applying the Landlock ruleset")?;
            if status.ruleset == RulesetStatus::NotEnforced {
                bail!("the kernel did not enforce the Landlock ruleset (start the server with --exec-sandbox off to run unconfined)");
            }
        }
        None => nix::sys::prctl::set_no_new_privs().context("setting no_new_privs")?,
    }
    let mut command = std::process::Command::new(program);
    command.args(rest);
    setup(&mut command);
    let err = command.exec();
    Err(anyhow::Error::new(err).context(format!("cannot start {program:?}")))
}

fn build_ruleset(args: &SandboxArgs) -> anyhow::Result<landlock::RulesetCreated> {
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(TARGET_ABI))?
        .scope(Scope::from_all(TARGET_ABI))?;
    if args.net == NetAccess::None {
        ruleset = ruleset.handle_access(AccessNet::from_all(TARGET_ABI))?;
    }
    let read = AccessFs::from_read(TARGET_ABI);
    let all = AccessFs::from_all(TARGET_ABI);
    // The program's own /proc entry (it keeps this pid): its status, fds, limits. Other
    // processes' entries stay out of reach (a same-user job could read the server's
    // /proc/PID/environ and cmdline otherwise).
    Ok(ruleset
        .create()?
        .add_rules(path_beneath_rules(&args.read_only, read))?
        .add_rules(path_beneath_rules(&args.read_write, all))?
        .add_rules(path_beneath_rules(["/proc/self"], read))?)
}

fn switch_user(name: &str) -> anyhow::Result<()> {
    use nix::unistd::{setgid, setgroups, setuid, User};
    let user = User::from_name(name)
        .with_context(|| format!("looking up user {name:?}"))?
        .with_context(|| format!("no user {name:?} on this host"))?;
    setgroups(&[user.gid]).context("setgroups")?;
    setgid(user.gid).context("setgid")?;
    setuid(user.uid).context("setuid")?;
    Ok(())
}

fn set_limits(args: &SandboxArgs) -> anyhow::Result<()> {
    setrlimit(Resource::RLIMIT_CORE, 0, 0).context("limiting core size")?;
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).context("reading RLIMIT_NOFILE")?;
    let nofile = args.nofile.min(hard);
    setrlimit(Resource::RLIMIT_NOFILE, nofile, nofile).context("limiting open files")?;
    if let Some(bytes) = args.rlimit_as {
        setrlimit(Resource::RLIMIT_AS, bytes, bytes).context("limiting the address space")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: SandboxArgs,
    }

    #[test]
    fn flags_parse_back_to_the_arguments_they_came_from() {
        let args = SandboxArgs {
            read_only: vec!["/usr".into(), "/opt/x y".into()],
            read_write: vec!["/tmp/w".into()],
            net: NetAccess::Full,
            no_landlock: true,
            rlimit_as: Some(1 << 30),
            nofile: 77,
            user: Some("nobody".into()),
            report: Some("/tmp/report".into()),
            command: vec!["sh".into(), "-c".into(), "--ro /etc".into()],
        };
        let mut argv: Vec<OsString> = vec!["hake-sandbox".into()];
        argv.extend(to_flags(&args));
        let back = Cli::try_parse_from(argv).unwrap().args;
        assert_eq!(format!("{back:?}"), format!("{args:?}"));
    }
}
