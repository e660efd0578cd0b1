//! The Exec spawner (`hake sandbox-zygote`, or `hake-sandbox sandbox-zygote`): a small
//! single-threaded process the server starts once, which forks a child per Exec execution.
//! The child confines itself exactly as the [`helper`](super::helper) does and execs the
//! program, so each execution pays for one program start-up instead of two (the helper's
//! dynamic loading and libc start-up, then the program's). The spawner reaps its children
//! and reports their exit codes.
//!
//! The wire: one `SOCK_SEQPACKET` socket on the spawner's stdin. A [`Launch`] is one JSON
//! message carrying three descriptors (`SCM_RIGHTS`): the program's stdout and stderr, and
//! where the child writes why the program could not start (closed on exec, so the server
//! reads nothing there when it started); each request gets one
//! [`Reply::Started`] or [`Reply::Failed`], in the order sent; each started child later gets
//! one [`Reply::Exited`]. The spawner says [`Reply::Ready`] first, and exits when the
//! server's end closes.

use std::ffi::OsString;
use std::io::IoSliceMut;
use std::os::fd::{AsFd as _, AsRawFd as _, BorrowedFd, FromRawFd as _, OwnedFd, RawFd};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::Stdio;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{recvmsg, send, ControlMessageOwned, MsgFlags};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{setpgid, ForkResult, Pid};
use serde::{Deserialize, Serialize};

use super::helper::{self, SandboxArgs};

/// The largest request the spawner takes; bigger ones (a huge environment) go through the
/// helper instead. Below the default socket buffer, which bounds one message.
pub const MAX_REQUEST: usize = 128 * 1024;

/// One program to start, confined: a request to the spawner.
#[derive(Debug, Serialize, Deserialize)]
pub struct Launch {
    /// The confinement and the program, as the helper takes them.
    pub args: SandboxArgs,
    /// The program's working directory.
    pub cwd: PathBuf,
    /// The program's whole environment.
    pub env: Vec<(OsString, OsString)>,
}

/// What the spawner says.
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    /// The spawner runs (its first message).
    Ready,
    /// The request's child runs as `pid`, the leader of its own process group.
    Started {
        /// Its pid.
        pid: i32,
    },
    /// The request could not be carried out.
    Failed {
        /// Why.
        error: String,
    },
    /// A started child ended: its exit code, or 128 + the signal that ended it.
    Exited {
        /// Its pid.
        pid: i32,
        /// The code.
        code: i32,
    },
}

/// Runs the spawner on the socket at stdin until the server's end closes. Must be called
/// before any other thread exists in this process: the children are forked.
pub fn serve() -> i32 {
    // stdin is the socket for as long as the process lives.
    let sock = std::io::stdin();
    match serve_on(sock.as_fd()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("hake sandbox-zygote: {e:#}");
            1
        }
    }
}

fn serve_on(sock: BorrowedFd<'_>) -> anyhow::Result<()> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    // Children reset their signal mask when they exec (std does it for every Command).
    mask.thread_block()?;
    let exits = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
    let mut buf = vec![0u8; MAX_REQUEST + 1];
    reply(sock, &Reply::Ready)?;
    loop {
        let mut fds = [
            PollFd::new(sock, PollFlags::POLLIN),
            PollFd::new(exits.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            r => r?,
        };
        let (sock_ready, exits_ready) = (fds[0].any(), fds[1].any());
        if exits_ready == Some(true) {
            while exits.read_signal()?.is_some() {}
            reap(sock)?;
        }
        if sock_ready == Some(true) {
            match receive(sock, &mut buf)? {
                Incoming::Closed => return Ok(()),
                Incoming::Nothing => {}
                Incoming::Bad(error) => reply(sock, &Reply::Failed { error })?,
                Incoming::Request(request, fds) => start(sock, &request, fds)?,
            }
        }
    }
}

enum Incoming {
    /// The server's end closed.
    Closed,
    /// A spurious wake-up.
    Nothing,
    /// A message that is not a request; it still gets its reply.
    Bad(String),
    Request(Launch, [OwnedFd; 3]),
}

/// The next message, with the descriptors it carries.
fn receive(sock: BorrowedFd<'_>, buf: &mut [u8]) -> anyhow::Result<Incoming> {
    let mut cmsg = nix::cmsg_space!([RawFd; 3]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = match recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_CMSG_CLOEXEC,
    ) {
        Err(Errno::EINTR | Errno::EAGAIN) => return Ok(Incoming::Nothing),
        r => r?,
    };
    let mut fds: Vec<OwnedFd> = Vec::new();
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(raw) = c {
            fds.extend(raw.into_iter().map(own_received));
        }
    }
    let (bytes, truncated) = (msg.bytes, msg.flags.contains(MsgFlags::MSG_TRUNC));
    if bytes == 0 && fds.is_empty() {
        return Ok(Incoming::Closed);
    }
    if truncated || bytes > MAX_REQUEST {
        return Ok(Incoming::Bad(format!("request over {MAX_REQUEST} bytes")));
    }
    let request: Launch = match serde_json::from_slice(&buf[..bytes]) {
        Ok(r) => r,
        Err(e) => return Ok(Incoming::Bad(format!("bad request: {e}"))),
    };
    Ok(match <[OwnedFd; 3]>::try_from(fds) {
        Ok(fds) => Incoming::Request(request, fds),
        Err(_) => Incoming::Bad("a request carries exactly three descriptors".into()),
    })
}

/// Takes ownership of a descriptor received with `SCM_RIGHTS`.
#[allow(unsafe_code)]
fn own_received(fd: RawFd) -> OwnedFd {
    // SAFETY: the kernel has just installed `fd` in this process for the message being
    // read; nothing else refers to it, so it gets exactly one owner here.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// `fork(2)`.
#[allow(unsafe_code)]
fn fork_single_threaded() -> nix::Result<ForkResult> {
    // SAFETY: the spawner has a single thread (`serve` runs before any other could start),
    // so the child may do anything the parent could: allocate, take locks, exec.
    unsafe { nix::unistd::fork() }
}

/// Forks the request's child: it confines itself and becomes the program.
fn start(sock: BorrowedFd<'_>, request: &Launch, fds: [OwnedFd; 3]) -> anyhow::Result<()> {
    match fork_single_threaded() {
        Ok(ForkResult::Child) => {
            let [stdout, stderr, report] = fds;
            let report = Some(std::fs::File::from(report));
            let code = helper::run_with(&request.args, Some(&request.cwd), report, |cmd| {
                cmd.env_clear()
                    .envs(request.env.iter().map(|(k, v)| (k, v)))
                    .stdin(Stdio::null())
                    .stdout(stdout)
                    .stderr(stderr)
                    .process_group(0);
            });
            std::process::exit(code)
        }
        Ok(ForkResult::Parent { child }) => {
            // The child makes its own group too; doing it here as well means the group
            // exists before the server hears the pid and may signal it.
            let _ = setpgid(child, child);
            drop(fds);
            reply(
                sock,
                &Reply::Started {
                    pid: child.as_raw(),
                },
            )
        }
        Err(e) => reply(
            sock,
            &Reply::Failed {
                error: format!("fork: {e}"),
            },
        ),
    }
}

/// Reports every child that has ended.
fn reap(sock: BorrowedFd<'_>) -> anyhow::Result<()> {
    loop {
        let (pid, code) = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => (pid, code),
            Ok(WaitStatus::Signaled(pid, signal, _)) => (pid, 128 + signal as i32),
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(()),
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        reply(
            sock,
            &Reply::Exited {
                pid: pid.as_raw(),
                code,
            },
        )?;
    }
}

fn reply(sock: BorrowedFd<'_>, reply: &Reply) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec(reply)?;
    loop {
        match send(sock.as_raw_fd(), &bytes, MsgFlags::MSG_NOSIGNAL) {
            Err(Errno::EINTR) => continue,
            r => return r.map(|_| ()).map_err(Into::into),
        }
    }
}
