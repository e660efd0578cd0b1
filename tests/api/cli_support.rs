//! Running the real `hake` binary against a live test server, and a TCP proxy whose
//! connections a test can cut (to exercise `logs -f` reconnection).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tempfile::TempDir;
use tokio::io::AsyncReadExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use tokio::task::JoinHandle;

use crate::helpers::*;

/// What a finished `hake` run left.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the output when it differs.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "hake exited {} (wanted {code})\nstdout: {}\nstderr: {}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// A CLI user: a key file holding the test app's key, so jobs the CLI submits are owned
/// by `app.signer` too.
pub struct Cli {
    pub server: String,
    pub key: PathBuf,
    _dir: TempDir,
}

impl Cli {
    /// A CLI pointed at `app` with its key.
    pub fn new(app: &TestApp) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        app.signer.save(&key).unwrap();
        Self {
            server: app.base.clone(),
            key,
            _dir: dir,
        }
    }

    /// The same key, another server URL (e.g. a proxy).
    pub fn via(&self, server: &str) -> Cli {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        std::fs::copy(&self.key, &key).unwrap();
        Cli {
            server: server.to_owned(),
            key,
            _dir: dir,
        }
    }

    /// The command, ready to run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hake"));
        c.args(args)
            .env("HAKE_SERVER", &self.server)
            .env("HAKE_KEY", &self.key)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        c
    }

    /// Runs `hake args…` to the end.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None).await
    }

    /// Runs `hake args…` with `stdin` as its standard input.
    pub async fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut c = self.command(args);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        if stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().expect("hake starts");
        if let Some(text) = stdin {
            use tokio::io::AsyncWriteExt as _;
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).await.unwrap();
            drop(pipe);
        }
        let out = tokio::time::timeout(
            std::time::Duration::from_secs(120),
            child.wait_with_output(),
        )
        .await
        .expect("hake finished within 120 s")
        .expect("hake ran");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Submits with `hake exec` and returns the job id it printed.
    pub async fn exec(&self, extra: &[&str], script: &str) -> String {
        let mut args = vec!["exec"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "sh", "-c", script]);
        let run = self.run(&args).await.expect(0);
        let id = run.stdout.trim().to_owned();
        assert_eq!(id.len(), 36, "a job id: {run:?}");
        id
    }
}

/// Whether the text carries no debug dump (struct syntax, reqwest internals).
pub fn plain(text: &str) -> bool {
    ![
        "{ ",
        "Error {",
        "reqwest::",
        "kind:",
        "panicked",
        "Backtrace",
    ]
    .iter()
    .any(|n| text.contains(n))
}

/// A TCP proxy in front of a server; `cut` drops every open connection and `retarget`
/// points new connections at another address (a restarted server).
pub struct Proxy {
    pub url: String,
    target: Arc<Mutex<std::net::SocketAddr>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// The first bytes each connection sent (its request line).
    pub requests: Arc<Mutex<Vec<String>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: std::net::SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let target = Arc::new(Mutex::new(target));
        let (c2, r2, t2) = (conns.clone(), requests.clone(), target.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let requests = r2.clone();
                let target = *t2.lock().unwrap();
                let task = tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let mut first = vec![0u8; 4096];
                    let n = match inbound.read(&mut first).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let line = String::from_utf8_lossy(&first[..n])
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    requests.lock().unwrap().push(line);
                    use tokio::io::AsyncWriteExt as _;
                    if outbound.write_all(&first[..n]).await.is_err() {
                        return;
                    }
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                c2.lock().unwrap().push(task);
            }
        });
        Proxy {
            url,
            target,
            conns,
            requests,
            accept,
        }
    }

    /// Sends new connections to `addr`.
    pub fn retarget(&self, addr: std::net::SocketAddr) {
        *self.target.lock().unwrap() = addr;
    }

    /// Drops every open connection (both sides see the socket close).
    pub fn cut(&self) {
        for t in self.conns.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// How many connections started with a request line containing `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Path of a file in the repository.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}
