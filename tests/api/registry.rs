//! A real Docker registry for the pull tests: Debian's `docker-registry` (the CNCF
//! distribution server) serving on a free port of 127.0.0.1 (plain HTTP, which Docker
//! allows on loopback), its storage in a temporary directory, optionally behind htpasswd
//! authentication; killed on drop. Plus what the tests ask the daemon about pulls.

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::sync::OnceCell;

use crate::docker::{docker, docker_available, IMAGE};

/// The registry's user and password when it requires authentication.
pub const USER: &str = "hake";
pub const PASSWORD: &str = "s3cret:pass";

/// Whether the pull tests can run here: Docker can ([`docker_available`]) and the
/// `docker-registry` binary is installed. Panics in CI when not, says why elsewhere.
pub async fn registry_available() -> bool {
    static FOUND: OnceCell<bool> = OnceCell::const_new();
    if !docker_available().await {
        return false;
    }
    let found = *FOUND
        .get_or_init(|| async {
            Command::new("docker-registry")
                .arg("--version")
                .output()
                .await
                .is_ok_and(|o| o.status.success())
        })
        .await;
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("pull tests cannot run in CI: docker-registry is not installed (scripts/setup-test-env.sh installs it)");
        }
        eprintln!("skipping: docker-registry is not installed (apt-get install docker-registry)");
    }
    found
}

/// A running registry.
pub struct Registry {
    /// `127.0.0.1:<port>`, the registry part of its image references.
    pub host: String,
    /// A Docker config dir logged in to it (only with authentication).
    pub config_dir: Option<TempDir>,
    child: Child,
    /// References pushed to it, removed from the node on drop (also when a test fails).
    pushed: std::sync::Mutex<Vec<String>>,
    /// Storage, configuration and log; removed on drop.
    _dir: TempDir,
}

impl Registry {
    /// Starts a registry, with htpasswd authentication ([`USER`], [`PASSWORD`]) when
    /// `auth`; waits until it answers.
    pub async fn start(auth: bool) -> Registry {
        let dir = TempDir::new().unwrap();
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            let host = format!("127.0.0.1:{port}");
            let auth_block = if auth {
                let hash = bcrypt::hash(PASSWORD, 4).unwrap();
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, format!("{USER}:{hash}\n")).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: hake-test\n    path: {}\n",
                    file.display()
                )
            } else {
                String::new()
            };
            let config = format!(
                "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{auth_block}",
                dir.path().join("data").display()
            );
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).unwrap();
            let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config_path)
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .kill_on_drop(true)
                .spawn()
                .expect("docker-registry starts");
            match wait_ready(&host, &mut child).await {
                Ok(()) => {
                    let mut reg = Registry {
                        host,
                        config_dir: None,
                        child,
                        pushed: Default::default(),
                        _dir: dir,
                    };
                    if auth {
                        reg.login().await;
                    }
                    return reg;
                }
                Err(e) => last_err = e,
            }
        }
        panic!("the registry did not start: {last_err}");
    }

    /// Logs a fresh Docker config dir in to the registry (`docker --config DIR login`).
    async fn login(&mut self) {
        let config = TempDir::new().unwrap();
        let mut login = Command::new("docker")
            .arg("--config")
            .arg(config.path())
            .args(["login", "--username", USER, "--password-stdin", &self.host])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use tokio::io::AsyncWriteExt as _;
        let mut stdin = login.stdin.take().unwrap();
        stdin.write_all(PASSWORD.as_bytes()).await.unwrap();
        drop(stdin);
        let out = login.wait_with_output().await.unwrap();
        assert!(
            out.status.success(),
            "docker login: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.config_dir = Some(config);
    }

    /// Pushes the test image to the registry as `<name>:<tag>` with a unique name, then
    /// removes that tag from the node (the test image itself stays). Returns the reference.
    pub async fn push_test_image(&self, name: &str) -> String {
        let reference = format!(
            "{}/{name}-{}:v1",
            self.host,
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        docker(&["tag", IMAGE, &reference]).await;
        let mut push = Command::new("docker");
        if let Some(c) = &self.config_dir {
            push.arg("--config").arg(c.path());
        }
        let out = push.args(["push", &reference]).output().await.unwrap();
        assert!(
            out.status.success(),
            "docker push {reference}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        docker(&["rmi", &reference]).await;
        self.pushed.lock().unwrap().push(reference.clone());
        reference
    }

    /// Deletes the manifest of `reference` from the registry (as an operator deleting a tag
    /// would), so that pulling it fails with the registry's "manifest unknown".
    pub async fn delete(&self, reference: &str) {
        let (repo, tag) = reference
            .strip_prefix(&format!("{}/", self.host))
            .and_then(|r| r.rsplit_once(':'))
            .expect("a reference of this registry");
        let http = reqwest::Client::new();
        let manifest = format!("http://{}/v2/{repo}/manifests/{tag}", self.host);
        let head = http
            .head(&manifest)
            .header(
                "Accept",
                "application/vnd.docker.distribution.manifest.v2+json",
            )
            .send()
            .await
            .unwrap();
        assert!(
            head.status().is_success(),
            "HEAD {manifest}: {}",
            head.status()
        );
        let digest = head.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .to_owned();
        let del = http
            .delete(format!("http://{}/v2/{repo}/manifests/{digest}", self.host))
            .send()
            .await
            .unwrap();
        assert!(del.status().is_success(), "DELETE: {}", del.status());
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        for reference in self.pushed.lock().unwrap().drain(..) {
            let _ = std::process::Command::new("docker")
                .args(["rmi", "-f", &reference])
                .output();
        }
    }
}

/// A port nothing listens on (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `GET /v2/` answers (200, or 401 behind authentication).
async fn wait_ready(host: &str, child: &mut Child) -> Result<(), String> {
    let url = format!("http://{host}/v2/");
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("docker-registry exited with {status}"));
        }
        if let Ok(r) = reqwest::get(&url).await {
            if r.status().is_success() || r.status() == reqwest::StatusCode::UNAUTHORIZED {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.start_kill();
    Err(format!("{url} did not answer within 10s"))
}

/// The daemon's clock reading for `docker events --since/--until`.
pub fn now_stamp() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}.{:09}", t.as_secs(), t.subsec_nanos())
}

/// How many pulls of `reference` the daemon did since `since` ([`now_stamp`]), from
/// its event log (one `pull` event per pull request).
pub async fn pulls_since(reference: &str, since: &str) -> usize {
    let until = now_stamp();
    docker(&[
        "events",
        "--since",
        since,
        "--until",
        &until,
        "--filter",
        "type=image",
        "--filter",
        "event=pull",
        "--format",
        "{{.ID}}",
    ])
    .await
    .lines()
    .filter(|l| l.trim() == reference)
    .count()
}

/// Whether the image is on the node.
pub async fn image_present(reference: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", reference])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}
