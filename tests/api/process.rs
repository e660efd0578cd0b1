//! The real `hake` binary as a child process: started on a free port over a data dir,
//! signalled like an operator would (SIGTERM, SIGHUP, SIGKILL), and talked to over HTTP.
//! Its JSON log lines are kept so tests can look for what it logged.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use reqwest::StatusCode;
use serde_json::Value;

/// The hake binary serving on a free port; killed (SIGKILL) on drop if still running.
pub struct Proc {
    pub child: Child,
    pub base: String,
    pub http: reqwest::Client,
    /// Every line the server wrote to stderr so far.
    pub lines: Arc<Mutex<Vec<String>>>,
}

/// Starts `hake serve` over `data_dir` with `extra` flags and `RUST_LOG=hake=info`.
pub fn serve(data_dir: &Path, extra: &[&str]) -> Proc {
    serve_with_env(data_dir, extra, &[("RUST_LOG", "hake=info")])
}

/// Starts `hake serve` with JSON logs on 127.0.0.1:0, the Docker engine off (unless
/// `extra` sets `--docker`), and `env`.
pub fn serve_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hake"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"]);
    if !extra.contains(&"--docker") {
        cmd.args(["--docker", "off"]);
    }
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if !extra.contains(&"--database-url") {
        if let Some(url) = crate::testdb::database_url_for(data_dir) {
            cmd.args(["--database-url", &url]);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("hake binary starts");
    let stderr = child.stderr.take().unwrap();
    let mut reader = BufReader::new(stderr).lines();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let base = loop {
        let line = match reader.next() {
            Some(Ok(line)) => line,
            _ => panic!("hake exited before listening: {:?}", lines.lock().unwrap()),
        };
        lines.lock().unwrap().push(line.clone());
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if v["message"] == "hake listening" {
                break format!("http://{}", v["addr"].as_str().unwrap());
            }
        }
        assert!(Instant::now() < deadline, "no listening line");
    };
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in reader.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    Proc {
        child,
        base,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        lines,
    }
}

impl Proc {
    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).unwrap())
    }

    pub fn signal(&self, sig: Signal) {
        kill(self.pid(), sig).expect("signal delivered");
    }

    /// Waits for the process to exit; panics after `secs`.
    pub fn wait_exit(&mut self, secs: u64) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "hake did not exit within {secs}s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether some log line contains `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
    }

    /// POSTs `body`; status and JSON body (Null when not JSON).
    pub async fn post(&self, path: &str, body: String) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The job's state (asserts 200).
    pub async fn state(&self, job_id: &str) -> Value {
        let (s, body) = self
            .post(
                "/requester/states",
                serde_json::json!({ "job_id": job_id }).to_string(),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["state"].clone()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
