//! The server's side of starting confined programs. The [`Spawner`] hands each request to
//! the [`zygote`](super::zygote) (started on first use, replaced when it dies) and falls
//! back to starting the [`helper`](super::helper) as a child of its own when the zygote
//! cannot take the request (one over [`MAX_REQUEST`] or over this host's socket buffer) or
//! cannot be started at all.

use std::collections::{HashMap, VecDeque};
use std::io::IoSlice;
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::{killpg, Signal};
use nix::sys::socket::{
    getsockopt, recv, sendmsg, socketpair, sockopt, AddressFamily, ControlMessage, MsgFlags,
    SockFlag, SockType,
};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, Interest};
use tokio::net::UnixStream;
use tokio::sync::oneshot;

use super::helper;
use super::zygote::{Launch, Reply, MAX_REQUEST};

/// How long a new zygote may take to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// After a zygote failed to start, how long executions go straight to the helper.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// A program's output stream.
pub type Output = Box<dyn AsyncRead + Send + Unpin>;

/// A started program: the leader of its own process group.
pub struct Running {
    /// Its pid, which is also its process group's id.
    pub pid: Pid,
    output: Option<(Output, Output)>,
    exit: Exit,
    report: Report,
    ended: bool,
}

/// Where the program's confinement says why it could not start.
enum Report {
    /// The helper's `--report` file.
    File(PathBuf),
    /// The read end of the pipe the zygote's child writes to (closed on exec).
    Pipe(tokio::net::unix::pipe::Receiver),
    None,
}

enum Exit {
    /// Started as a child of the server (the helper).
    Child(tokio::process::Child),
    /// Started by the zygote, which sends the exit code here.
    Zygote(oneshot::Receiver<i32>),
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").field("pid", &self.pid).finish()
    }
}

impl Running {
    /// Its standard output and standard error (once).
    pub fn take_output(&mut self) -> Option<(Output, Output)> {
        self.output.take()
    }

    /// Waits for the program to end: its exit code, or 128 + the signal that ended it.
    /// Cancel-safe.
    pub async fn wait(&mut self) -> anyhow::Result<i32> {
        let code = match &mut self.exit {
            Exit::Child(child) => exit_code(child.wait().await?),
            Exit::Zygote(rx) => rx
                .await
                .map_err(|_| anyhow!("the Exec spawner exited while the program ran"))?,
        };
        self.ended = true;
        Ok(code)
    }

    /// Why the program could not start, when it did not (once it has ended with
    /// [`CANNOT_START`](helper::CANNOT_START)); `None` when it started.
    pub async fn start_failure(&mut self) -> Option<String> {
        match std::mem::replace(&mut self.report, Report::None) {
            Report::File(path) => take_report(&path).await,
            Report::Pipe(mut pipe) => {
                use tokio::io::AsyncReadExt as _;
                let mut text = String::new();
                // The child and the zygote have closed their ends by now.
                let read = pipe.read_to_string(&mut text);
                match tokio::time::timeout(Duration::from_secs(1), read).await {
                    Ok(Ok(_)) if !text.trim().is_empty() => Some(text),
                    _ => None,
                }
            }
            Report::None => None,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.ended {
            let _ = killpg(self.pid, Signal::SIGKILL);
        }
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Starts confined programs through the zygote, or the helper when it must.
#[derive(Debug)]
pub struct Spawner {
    helper: PathBuf,
    /// The running zygote, started on first use; replaced once it has closed.
    current: tokio::sync::Mutex<Option<Arc<Link>>>,
    /// When starting a zygote last failed.
    failed_at: Mutex<Option<std::time::Instant>>,
}

impl Spawner {
    /// A spawner whose zygote and fallback are `helper` (`hake` or `hake-sandbox`).
    pub fn new(helper: PathBuf) -> Self {
        Self {
            helper,
            current: tokio::sync::Mutex::new(None),
            failed_at: Mutex::new(None),
        }
    }

    /// Starts `launch`'s program confined, with stdin on /dev/null and its output piped.
    pub async fn start(&self, launch: Launch) -> anyhow::Result<Running> {
        match self.try_zygote(&launch).await {
            Some(started) => started,
            None => self.start_helper(launch),
        }
    }

    /// Hands `launch` to the zygote; `None` when the helper must start it instead. (The
    /// zygote's child reports through a pipe and never opens `args.report`, the helper's.)
    async fn try_zygote(&self, launch: &Launch) -> Option<anyhow::Result<Running>> {
        if self.backing_off() {
            return None;
        }
        let bytes = match serde_json::to_vec(launch) {
            Ok(bytes) if bytes.len() <= MAX_REQUEST => bytes,
            Ok(_) => {
                tracing::debug!("Exec request over {MAX_REQUEST} bytes: starting the helper");
                return None;
            }
            Err(e) => {
                tracing::debug!(error = %e, "Exec request not encodable: starting the helper");
                return None;
            }
        };
        let link = match self.link().await {
            Ok(link) => link,
            Err(e) => {
                *self.failed_at.lock().expect("spawner backoff") = Some(std::time::Instant::now());
                tracing::warn!(error = %format!("{e:#}"), "the Exec spawner cannot start; starting the helper instead for {}s", RETRY_AFTER.as_secs());
                return None;
            }
        };
        if bytes.len() > link.max_request {
            tracing::debug!("Exec request over this host's socket buffer: starting the helper");
            return None;
        }
        Some(link.start(&bytes).await)
    }

    /// Whether a zygote failed to start less than [`RETRY_AFTER`] ago.
    fn backing_off(&self) -> bool {
        let failed_at = *self.failed_at.lock().expect("spawner backoff");
        failed_at.is_some_and(|t| t.elapsed() < RETRY_AFTER)
    }

    /// The running zygote, started if there is none or the last one closed.
    async fn link(&self) -> anyhow::Result<Arc<Link>> {
        let mut current = self.current.lock().await;
        if let Some(link) = current.as_ref() {
            if !link.closed() {
                return Ok(link.clone());
            }
        }
        let link = Arc::new(Link::open(&self.helper).await?);
        *current = Some(link.clone());
        Ok(link)
    }

    /// Starts the helper as the server's child; it confines itself and execs the program.
    fn start_helper(&self, request: Launch) -> anyhow::Result<Running> {
        let mut cmd = tokio::process::Command::new(&self.helper);
        cmd.arg("sandbox-exec")
            .args(helper::to_flags(&request.args))
            .current_dir(&request.cwd)
            .env_clear()
            .envs(request.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd.spawn().with_context(|| {
            format!(
                "cannot start {:?} in {} (through the sandbox helper)",
                request.args.command.first().cloned().unwrap_or_default(),
                request.cwd.display()
            )
        })?;
        let pid = child.id().context("child has no pid")?;
        let report = request.args.report.map_or(Report::None, Report::File);
        Ok(Running {
            pid: Pid::from_raw(i32::try_from(pid).context("pid out of range")?),
            output: Some((
                Box::new(child.stdout.take().context("stdout")?),
                Box::new(child.stderr.take().context("stderr")?),
            )),
            exit: Exit::Child(child),
            report,
            ended: false,
        })
    }
}

/// A connection to one zygote process.
#[derive(Debug)]
struct Link {
    /// The server's end of the zygote's socket (the reply reader holds it too).
    sock: Arc<UnixStream>,
    /// Who waits for which reply; shared with the reply reader.
    state: Arc<Mutex<State>>,
    /// The largest request one message can carry on this host (its socket buffer, at
    /// most [`MAX_REQUEST`]).
    max_request: usize,
    /// The zygote process; killed when the link goes.
    _process: tokio::process::Child,
}

/// The zygote's answer to one request: the child's pid and where its exit code will
/// arrive, or why it could not be started.
type Answer = Result<(Pid, oneshot::Receiver<i32>), String>;

#[derive(Debug, Default)]
struct State {
    /// Requests sent and not yet answered, oldest first (replies come in that order).
    waiting: VecDeque<oneshot::Sender<Answer>>,
    /// Started children by pid, each with where its exit code goes.
    running: HashMap<i32, oneshot::Sender<i32>>,
    /// The zygote's end closed: the link takes no more requests.
    closed: bool,
}

impl Link {
    async fn open(helper: &Path) -> anyhow::Result<Self> {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .context("creating the spawner's socket")?;
        fcntl(&ours, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
        // One message must fit in the sender's buffer, less the kernel's bookkeeping.
        let sndbuf = getsockopt(&ours, sockopt::SndBuf).context("reading SO_SNDBUF")?;
        let max_request = MAX_REQUEST.min(sndbuf.saturating_sub(4096));
        let process = tokio::process::Command::new(helper)
            .arg("sandbox-zygote")
            .env_clear()
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} sandbox-zygote", helper.display()))?;
        // A seqpacket socket in a stream's clothes: tokio only polls it for readiness, and
        // every read and write goes through `recv`/`sendmsg`, which keep message boundaries.
        let sock = std::os::unix::net::UnixStream::from(ours);
        let sock = Arc::new(tokio::net::UnixStream::from_std(sock)?);
        let mut buf = vec![0u8; 4096];
        match tokio::time::timeout(READY_TIMEOUT, next_reply(&sock, &mut buf)).await {
            Ok(Ok(Some(Reply::Ready))) => {}
            Ok(Ok(other)) => anyhow::bail!(
                "{} sandbox-zygote did not say it was ready ({other:?})",
                helper.display()
            ),
            Ok(Err(e)) => return Err(e).context("reading from the spawner"),
            Err(_) => anyhow::bail!("{} sandbox-zygote: no answer", helper.display()),
        }
        let state = Arc::new(Mutex::new(State::default()));
        tokio::spawn(read_replies(sock.clone(), state.clone(), buf));
        Ok(Self {
            sock,
            state,
            max_request,
            _process: process,
        })
    }

    fn closed(&self) -> bool {
        self.state.lock().expect("spawner state").closed
    }

    async fn start(&self, request: &[u8]) -> anyhow::Result<Running> {
        let (out_read, out_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let (err_read, err_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let (report_read, report_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let stdout = tokio::net::unix::pipe::Receiver::from_owned_fd(out_read)?;
        let stderr = tokio::net::unix::pipe::Receiver::from_owned_fd(err_read)?;
        let report = tokio::net::unix::pipe::Receiver::from_owned_fd(report_read)?;
        let (tx, rx) = oneshot::channel();
        let fds = [
            out_write.as_raw_fd(),
            err_write.as_raw_fd(),
            report_write.as_raw_fd(),
        ];
        let cmsg = [ControlMessage::ScmRights(&fds)];
        loop {
            self.sock.writable().await?;
            // The send and the queueing of its waiter happen under one lock, so the reader
            // cannot see the reply before the waiter is queued.
            let mut state = self.state.lock().expect("spawner state");
            if state.closed {
                anyhow::bail!("the Exec spawner exited");
            }
            let sent = self.sock.try_io(Interest::WRITABLE, || {
                sendmsg::<()>(
                    self.sock.as_raw_fd(),
                    &[IoSlice::new(request)],
                    &cmsg,
                    MsgFlags::MSG_NOSIGNAL,
                    None,
                )
                .map_err(std::io::Error::from)
            });
            match sent {
                Ok(_) => {
                    state.waiting.push_back(tx);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e).context("sending to the Exec spawner"),
            }
        }
        // The zygote holds its own copies now.
        drop((out_write, err_write, report_write));
        let (pid, exit) = rx
            .await
            .map_err(|_| anyhow!("the Exec spawner exited before starting the program"))?
            .map_err(|e| anyhow!("the Exec spawner could not start the program: {e}"))?;
        Ok(Running {
            pid,
            output: Some((Box::new(stdout), Box::new(stderr))),
            exit: Exit::Zygote(exit),
            report: Report::Pipe(report),
            ended: false,
        })
    }
}

/// The next reply; `None` when the zygote's end closed.
async fn next_reply(sock: &UnixStream, buf: &mut [u8]) -> anyhow::Result<Option<Reply>> {
    loop {
        sock.readable().await?;
        match sock.try_io(Interest::READABLE, || {
            recv(sock.as_raw_fd(), buf, MsgFlags::empty()).map_err(std::io::Error::from)
        }) {
            Ok(0) => return Ok(None),
            Ok(n) => return Ok(Some(serde_json::from_slice(&buf[..n])?)),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Routes the zygote's replies to their waiters until it closes, then fails them all.
async fn read_replies(sock: Arc<UnixStream>, state: Arc<Mutex<State>>, mut buf: Vec<u8>) {
    loop {
        let reply = match next_reply(&sock, &mut buf).await {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "the Exec spawner's link failed");
                break;
            }
        };
        let mut st = state.lock().expect("spawner state");
        match reply {
            Reply::Started { pid } => {
                let (tx, rx) = oneshot::channel();
                st.running.insert(pid, tx);
                let pid = Pid::from_raw(pid);
                let told = st.waiting.pop_front().map(|w| w.send(Ok((pid, rx))));
                if !matches!(told, Some(Ok(()))) {
                    // Nobody waits for this program any more.
                    let _ = killpg(pid, Signal::SIGKILL);
                }
            }
            Reply::Failed { error } => {
                if let Some(w) = st.waiting.pop_front() {
                    let _ = w.send(Err(error));
                }
            }
            Reply::Exited { pid, code } => {
                if let Some(w) = st.running.remove(&pid) {
                    let _ = w.send(code);
                }
            }
            Reply::Ready => {}
        }
    }
    let mut st = state.lock().expect("spawner state");
    st.closed = true;
    st.waiting.clear();
    st.running.clear();
    tracing::debug!("the Exec spawner closed");
}

/// Reads and removes the helper's report: why the program could not start, if it did not.
async fn take_report(report: &Path) -> Option<String> {
    let text = tokio::fs::read_to_string(report).await.ok();
    let _ = tokio::fs::remove_file(report).await;
    text.filter(|t| !t.trim().is_empty())
}
