//! A real S3-compatible server for the S3 tests: moto's `moto_server` from `.venv-s3`
//! (made by scripts/setup-test-env.sh), started per test on a free loopback port and
//! killed on drop, with objects written and read back through boto3
//! (tests/python/s3_tool.py). Without the venv the tests skip, except in CI (`CI=true`)
//! where that fails them. Also the hake node those tests talk to: the real binary, given
//! its AWS credentials through its environment as an operator would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::process::{serve_with_env, Proc};
use hake::auth::Signer;

/// The access key the tests' nodes and boto3 use (moto accepts any).
pub const ACCESS_KEY: &str = "hake-test-key";
/// The matching secret.
pub const SECRET_KEY: &str = "hake-test-secret";

/// A running moto S3 server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    python: PathBuf,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl Moto {
    /// Starts moto, or says why it cannot (panicking in CI).
    pub async fn start() -> Option<Moto> {
        let python = root().join(".venv-s3/bin/python");
        let server = root().join(".venv-s3/bin/moto_server");
        if !server.exists() {
            let why = format!(
                "{} is missing: run scripts/setup-test-env.sh",
                server.display()
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("S3 tests cannot run in CI: {why}");
            }
            eprintln!("skipping S3 test: {why}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if http.get(&endpoint).send().await.is_ok() {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("moto_server exited ({status}) before answering");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer in 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(Moto {
            child,
            endpoint,
            python,
        })
    }

    /// Runs s3_tool.py with `args` and `stdin`; its stdout (asserts success).
    pub fn tool(&self, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut child = Command::new(&self.python)
            .arg(root().join("tests/python/s3_tool.py"))
            .args(args)
            .env("S3_ENDPOINT", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python runs");
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "s3_tool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Creates a bucket (optionally versioned).
    pub fn bucket(&self, name: &str, versioned: bool) {
        let mut args = vec!["mkbucket", name];
        if versioned {
            args.push("versioned");
        }
        self.tool(&args, b"");
    }

    /// Stores an object; its version id (`-` when unversioned).
    pub fn put(&self, bucket: &str, key: &str, data: &[u8]) -> String {
        String::from_utf8(self.tool(&["put", bucket, key], data))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Reads an object.
    pub fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        self.tool(&["get", bucket, key], b"")
    }

    /// Keys under a prefix, sorted.
    pub fn ls(&self, bucket: &str, prefix: &str) -> Vec<String> {
        String::from_utf8(self.tool(&["ls", bucket, prefix], b""))
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment of a node that reads only what the test gives it: no shared files
/// from the machine, no instance metadata.
pub fn isolated_env(dir: &Path) -> Vec<(String, String)> {
    vec![
        ("RUST_LOG".into(), "hake=info".into()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        (
            "AWS_CONFIG_FILE".into(),
            dir.join("no-aws-config").display().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            dir.join("no-aws-credentials").display().to_string(),
        ),
    ]
}

/// The environment with the test credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
pub fn key_env(dir: &Path) -> Vec<(String, String)> {
    let mut env = isolated_env(dir);
    env.push(("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY.into()));
    env.push(("AWS_SECRET_ACCESS_KEY".into(), SECRET_KEY.into()));
    env
}

/// A hake node with the Exec engine over `dir/data` and `env`.
pub fn node(dir: &Path, env: &[(String, String)]) -> Proc {
    node_with(dir, env, &[])
}

/// [`node`] with `extra` flags.
pub fn node_with(dir: &Path, env: &[(String, String)], extra: &[&str]) -> Proc {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut flags = vec!["--allow-exec"];
    flags.extend_from_slice(extra);
    serve_with_env(&dir.join("data"), &flags, &env)
}

/// Submits `spec` signed by `signer`; the job id (asserts 200).
pub async fn submit(p: &Proc, signer: &Signer, spec: Value) -> String {
    let payload =
        json!({"ClientID": signer.client_id(), "APIVersion": "V1beta1", "Spec": spec}).to_string();
    let (s, body) = p.post("/requester/submit", signer.envelope(&payload)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned()
}

/// Waits for the job to end; its state.
pub async fn finished(p: &Proc, job_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let state = p.state(job_id).await;
        if matches!(
            state["State"].as_str(),
            Some("Completed" | "Error" | "Cancelled" | "CompletedPartially")
        ) {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "job {job_id} did not end: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An Exec job running `script` with `sh -c`.
pub fn sh_job(script: &str) -> Value {
    json!({
        "Engine": "Exec",
        "Exec": {"Command": ["/bin/sh", "-c", script]},
        "PublisherSpec": {"Type": "Noop"},
        "Deal": {"Concurrency": 1},
    })
}

/// An S3 input.
pub fn s3_input(moto: &Moto, s3: Value, path: &str) -> Value {
    let mut s3 = s3;
    s3["Endpoint"] = json!(moto.endpoint);
    json!({"StorageSource": "S3", "S3": s3, "path": path})
}

/// Runs `hake results JOB --download DIR` against `p` with `env` (asserts success).
pub async fn cli_download(
    p: &Proc,
    signer: &Signer,
    env: &[(String, String)],
    job: &str,
    dir: &Path,
) {
    let key = dir.join("cli-key.pem");
    signer.save(&key).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hake"))
        .args(["results", job, "--download"])
        .arg(dir.join("downloaded"))
        .env("HAKE_SERVER", &p.base)
        .env("HAKE_KEY", &key)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "hake results --download: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
