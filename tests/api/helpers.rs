//! The test harness: a real server on 127.0.0.1:0 over a temporary data dir, and one
//! method per route with real signatures.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hake::app::{App, Server};
use hake::auth::Signer;
use hake::ServeConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server and a client key.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    pub signer: Signer,
    pub app: Arc<App>,
    pub dir: Arc<TempDir>,
    config: ServeConfig,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A server with Exec allowed and defaults otherwise.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// A server whose config `f` adjusts.
pub async fn spawn_with(f: impl FnOnce(&mut ServeConfig)) -> TestApp {
    spawn_as(Signer::generate_ed25519(), f).await
}

/// A server whose config `f` adjusts, with `signer` as the test's client key.
pub async fn spawn_as(signer: Signer, f: impl FnOnce(&mut ServeConfig)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = ServeConfig::for_dir(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.allow_exec = true;
    config.docker = hake::config::DockerMode::Off;
    config.shutdown_grace_secs = 5;
    config.kill_grace_secs = 2;
    config.database_url = crate::testdb::database_url_for(&config.data_dir);
    // The server runs in this process: its Exec helper is the real `hake-sandbox` (the
    // sandbox tests also run jobs through `hake sandbox-exec`).
    config.exec_helper = Some(env!("CARGO_BIN_EXE_hake-sandbox").into());
    f(&mut config);
    start(config, dir, signer).await
}

async fn start(config: ServeConfig, dir: Arc<TempDir>, signer: Signer) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        hake::telemetry::init(hake::config::LogFormat::Pretty);
    }
    let server = Server::build(config.clone()).await.expect("server builds");
    let addr = server.local_addr();
    let app = server.app();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
        signer,
        app,
        dir,
        config,
        stop: Some(tx),
        task: Some(task),
    }
}

/// Starts a server on an existing config (after `stop`), with a fresh key.
pub async fn start_again(mut config: ServeConfig) -> TestApp {
    config.listen = "127.0.0.1:0".parse().unwrap();
    if config.database_url.is_none() {
        config.database_url = crate::testdb::database_url_for(&config.data_dir);
    }
    config.public_url = None;
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    start(config, dir, Signer::generate_ed25519()).await
}

impl TestApp {
    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) -> (ServeConfig, Arc<TempDir>, Signer) {
        self.shutdown().await;
        (self.config.clone(), self.dir.clone(), self.signer.clone())
    }

    async fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }

    /// Stops the server and starts a new one on the same data dir and port 0.
    pub async fn restart(self) -> TestApp {
        let (mut config, dir, signer) = self.stop().await;
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.public_url = None;
        start(config, dir, signer).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// GETs `path` and returns the body as text.
    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("body read")
    }

    /// GETs `path` and returns the body parsed as JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.get(path).await.json().await.expect("JSON body")
    }

    /// POSTs raw bytes; returns status and the body parsed as JSON (Null when not JSON).
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post_raw(path, body.to_string()).await
    }

    /// Signs `payload_text` (sent byte for byte) with `signer` and POSTs the envelope.
    pub async fn post_signed(
        &self,
        path: &str,
        signer: &Signer,
        payload_text: &str,
    ) -> (StatusCode, Value) {
        self.post_raw(path, signer.envelope(payload_text)).await
    }

    pub async fn submit_as(&self, signer: &Signer, spec: Value) -> (StatusCode, Value) {
        let payload =
            json!({"ClientID": signer.client_id(), "APIVersion": "V1beta1", "Spec": spec});
        self.post_signed("/requester/submit", signer, &payload.to_string())
            .await
    }

    /// Submits and asserts 200; returns the job id.
    pub async fn submit_ok(&self, spec: Value) -> String {
        let (status, body) = self.submit_as(&self.signer, spec).await;
        assert_eq!(status, StatusCode::OK, "submit failed: {body}");
        body["job"]["Metadata"]["ID"]
            .as_str()
            .expect("job id")
            .to_owned()
    }

    pub async fn cancel_as(
        &self,
        signer: &Signer,
        job_id: &str,
        reason: &str,
    ) -> (StatusCode, Value) {
        let payload = json!({"ClientID": signer.client_id(), "JobID": job_id, "Reason": reason});
        self.post_signed("/requester/cancel", signer, &payload.to_string())
            .await
    }

    pub async fn state(&self, job_id: &str) -> Value {
        let (status, body) = self
            .post("/requester/states", &json!({"job_id": job_id}))
            .await;
        assert_eq!(status, StatusCode::OK, "states failed: {body}");
        body["state"].clone()
    }

    pub async fn events(&self, job_id: &str) -> Vec<Value> {
        let (status, body) = self
            .post("/requester/events", &json!({"job_id": job_id}))
            .await;
        assert_eq!(status, StatusCode::OK, "events failed: {body}");
        body["events"].as_array().cloned().unwrap_or_default()
    }

    /// Waits (long-poll) until the job is terminal; panics after `secs`.
    pub async fn wait_terminal(&self, job_id: &str, secs: u64) -> Value {
        self.wait_for(job_id, secs, |s| {
            matches!(
                s["State"].as_str(),
                Some("Completed" | "CompletedPartially" | "Error" | "Cancelled")
            )
        })
        .await
    }

    /// Waits (long-poll) until `pred` holds for the job's state; panics after `secs`.
    pub async fn wait_for(&self, job_id: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut version = 0;
        loop {
            let (status, body) = self
                .post(
                    "/requester/states",
                    &json!({"job_id": job_id, "after_version": version, "wait_seconds": 5}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "states failed: {body}");
            let state = body["state"].clone();
            if pred(&state) {
                return state;
            }
            version = state["Version"].as_i64().unwrap_or(0);
            if tokio::time::Instant::now() > deadline {
                panic!("job {job_id} did not reach the expected state in {secs}s: {state}");
            }
            // Execution-level changes do not bump the job version; poll them gently.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Downloads the Local publisher's tarball of the job's first result and returns its
/// regular files by path.
pub async fn download_results(
    app: &TestApp,
    id: &str,
) -> std::collections::BTreeMap<String, String> {
    use std::io::Read as _;
    let (status, body) = app.post("/requester/results", &json!({"job_id": id})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["results"][0]["Data"];
    assert_eq!(data["StorageSource"], "URLDownload", "{body}");
    let url = data["URL"].as_str().expect("result URL");
    assert!(url.starts_with(&app.base), "{url}");
    let resp = app.http.get(url).send().await.expect("download");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/gzip");
    let bytes = resp.bytes().await.expect("tarball");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut files = std::collections::BTreeMap::new();
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        if entry.header().entry_type().is_file() {
            let path = entry
                .path()
                .expect("entry path")
                .to_string_lossy()
                .into_owned();
            let mut text = String::new();
            entry.read_to_string(&mut text).expect("UTF-8 file");
            files.insert(path, text);
        }
    }
    files
}

pub fn noop_spec() -> Value {
    json!({"Engine": "Noop", "Verifier": "Noop", "PublisherSpec": {"Type": "Noop"}, "Deal": {"Concurrency": 1}})
}

/// The `--allowed-input-dir` value that lets jobs write into `dir` (see [`shared_input`]).
pub fn writable_root(dir: &std::path::Path) -> std::path::PathBuf {
    format!("{}:rw", dir.display()).into()
}

/// Adds `dir` to an Exec spec as a writable LocalDirectory input at `$HAKE_INPUTS/shared`:
/// the one place outside its own workspace a confined job may write (the server needs
/// [`writable_root`] of `dir` among its allowed input dirs).
pub fn shared_input(mut spec: Value, dir: &std::path::Path) -> Value {
    spec["inputs"] = json!([{"StorageSource": "LocalDirectory", "ReadWrite": true,
        "SourcePath": dir, "path": "/shared"}]);
    spec
}

/// The stdout its first execution recorded (empty when there is none).
pub fn run_stdout(state: &Value) -> String {
    state["Executions"][0]["RunOutput"]["stdout"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub fn exec_spec(cmd: &[&str]) -> Value {
    json!({"Engine": "Exec", "PublisherSpec": {"Type": "Noop"}, "Exec": {"Command": cmd}, "Deal": {"Concurrency": 1}})
}

/// Whether a process with this pid exists.
pub fn process_alive(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.split_whitespace().nth(2).is_none_or(|st| st != "Z"))
            .unwrap_or(false)
}
