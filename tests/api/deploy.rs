//! The deployment as an operator runs it: the image built from the Dockerfile, started with
//! `docker compose up -d` from the checked-in `docker-compose.yml` (named volume, published
//! port, the Docker socket mounted), healthy, running a Noop job and a Docker job driven
//! through the mounted socket whose logs are followed live over `/requester/logs`, keeping
//! its data over a restart, and torn down with `docker compose down -v`.
//!
//! Nothing can be pulled here: the runtime base image is made by
//! `scripts/build-base-images.sh` and the image packs the binary this test run built
//! (`scripts/build-image.sh --prebuilt`, the Dockerfile's `prebuilt` target). Without a
//! Docker daemon the test is skipped, except in CI (`CI=true`) where that fails it.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::docker::{docker_available, IMAGE};
use crate::helpers::*;
use crate::log_client::{end, records, texts, Frames};
use hake::auth::Signer;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs a command to completion; panics with its output when it fails.
pub(crate) fn run(program: &str, args: &[&str], env: &[(String, String)]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(ROOT)
        .output()
        .unwrap_or_else(|e| panic!("{program} cannot run: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `docker compose` when the plugin is there, else `docker-compose`.
pub(crate) fn compose_command() -> Vec<&'static str> {
    let plugin = std::process::Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if plugin {
        vec!["docker", "compose"]
    } else {
        vec!["docker-compose"]
    }
}

/// A compose project of checked-in files (relative to the repository root) with `env`;
/// `down -v` and the images it was given removed on drop.
pub(crate) struct Deployment {
    project: String,
    files: Vec<String>,
    images: Vec<String>,
    env: Vec<(String, String)>,
    compose: Vec<&'static str>,
}

impl Deployment {
    pub(crate) fn new(
        project: String,
        files: &[&str],
        images: Vec<String>,
        env: Vec<(String, String)>,
    ) -> Self {
        Self {
            project,
            files: files.iter().map(|f| format!("{ROOT}/{f}")).collect(),
            images,
            env,
            compose: compose_command(),
        }
    }

    /// The compose command line up to the subcommand (`-f` each file, `-p` the project).
    fn command(&self) -> Vec<&str> {
        let mut all = self.compose[1..].to_vec();
        for f in &self.files {
            all.extend(["-f", f.as_str()]);
        }
        all.extend(["-p", &self.project]);
        all
    }

    pub(crate) fn compose(&self, args: &[&str]) -> String {
        let mut all = self.command();
        all.extend(args);
        run(self.compose[0], &all, &self.env)
    }

    /// The container of `service`.
    pub(crate) fn container(&self, service: &str) -> String {
        self.compose(&["ps", "-q", service]).trim().to_owned()
    }

    /// Waits until Docker reports the container of `service` healthy (its HEALTHCHECK
    /// passes).
    pub(crate) fn wait_healthy(&self, service: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let id = self.container(service);
        loop {
            let status = run(
                "docker",
                &["inspect", "--format", "{{.State.Health.Status}}", &id],
                &[],
            );
            if status.trim() == "healthy" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{service} not healthy after {secs}s ({}):\n{}",
                status.trim(),
                run("docker", &["logs", &id], &[])
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // What the services said, for the failure's report.
            let mut args = self.command();
            args.extend(["logs", "--no-color", "--tail", "60"]);
            if let Ok(out) = std::process::Command::new(self.compose[0])
                .args(&args)
                .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .output()
            {
                eprintln!("{}", String::from_utf8_lossy(&out.stdout));
            }
        }
        let mut args = self.command();
        args.extend(["down", "-v", "--remove-orphans"]);
        let _ = std::process::Command::new(self.compose[0])
            .args(&args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(ROOT)
            .output();
        for image in &self.images {
            let _ = std::process::Command::new("docker")
                .args(["rmi", "-f", image])
                .output();
        }
    }
}

/// The group owning the Docker socket (0 when there is none).
pub(crate) fn docker_gid() -> u32 {
    std::fs::metadata("/var/run/docker.sock")
        .map(|m| std::os::unix::fs::MetadataExt::gid(&m))
        .unwrap_or(0)
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Follows a job's logs (`POST /requester/logs`, `Follow: true`, signed) until the
/// stream's End record, then returns the frames and the job's final state.
async fn follow_job(
    http: &reqwest::Client,
    base: &str,
    signer: &Signer,
    job_id: &str,
) -> (Vec<Value>, Value) {
    let stream = open_logs(http, base, signer, job_id).await;
    let frames = Frames::new(stream).rest().await;
    end(&frames);
    let state = job_state(http, base, job_id).await;
    (frames, state)
}

/// Opens a signed `POST /requester/logs` of `job_id` with `Follow: true`.
pub(crate) async fn open_logs(
    http: &reqwest::Client,
    base: &str,
    signer: &Signer,
    job_id: &str,
) -> reqwest::Response {
    let payload = json!({"ClientID": signer.client_id(), "JobID": job_id, "Follow": true,
        "Timestamp": chrono::Utc::now().timestamp_millis(),
        "Nonce": uuid::Uuid::new_v4().to_string()})
    .to_string();
    http.post(format!("{base}/requester/logs"))
        .body(signer.envelope(&payload))
        .send()
        .await
        .unwrap()
}

/// The job's state (`POST /requester/states`); panics unless it answers 200.
pub(crate) async fn job_state(http: &reqwest::Client, base: &str, job_id: &str) -> Value {
    let r = http
        .post(format!("{base}/requester/states"))
        .body(json!({"job_id": job_id}).to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        status,
        StatusCode::OK,
        "states of {job_id} at {base}: {body}"
    );
    body["state"].clone()
}

/// Submits `spec` signed by `signer`; panics unless it is accepted. Returns the job id.
pub(crate) async fn submit(
    http: &reqwest::Client,
    base: &str,
    signer: &Signer,
    spec: Value,
) -> String {
    let payload = json!({"ClientID": signer.client_id(), "APIVersion": "V1beta1", "Spec": spec,
        "Timestamp": chrono::Utc::now().timestamp_millis(),
        "Nonce": uuid::Uuid::new_v4().to_string()})
    .to_string();
    let r = http
        .post(format!("{base}/requester/submit"))
        .body(signer.envelope(&payload))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned()
}

/// Builds the runtime base image if it is missing; Err says why it cannot.
fn base_images() -> Result<(), String> {
    let out = std::process::Command::new("bash")
        .arg(format!("{ROOT}/scripts/build-base-images.sh"))
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Whether a compose test can run here: a Docker daemon answers and the runtime base
/// image exists or can be built. Elsewhere than CI the test is skipped (false, with the
/// reason printed); in CI (`CI=true`) it fails.
pub(crate) async fn compose_prerequisites(test: &str) -> bool {
    if !docker_available().await {
        return false;
    }
    if let Err(why) = tokio::task::spawn_blocking(base_images).await.unwrap() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("the base images cannot be built in CI: {why}");
        }
        eprintln!("skipping {test}: no base image: {why}");
        return false;
    }
    true
}

/// Builds the hake image `tag` packing the binary this test run built
/// (`scripts/build-image.sh --prebuilt`).
pub(crate) async fn build_hake_image(tag: String) {
    let binary = env!("CARGO_BIN_EXE_hake");
    tokio::task::spawn_blocking(move || {
        run(
            "bash",
            &[
                &format!("{ROOT}/scripts/build-image.sh"),
                "--prebuilt",
                binary,
                "--tag",
                &tag,
            ],
            &[],
        )
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn compose_deployment_builds_starts_runs_jobs_and_tears_down() {
    let started = Instant::now();
    if !compose_prerequisites("the deployment test").await {
        return;
    }
    let t_base = started.elapsed();
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..10];
    let image = format!("hake:ci-{suffix}");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let d = Deployment::new(
        format!("hakeci{suffix}"),
        &["docker-compose.yml"],
        vec![image.clone()],
        vec![
            ("HAKE_IMAGE".into(), image.clone()),
            ("HAKE_PORT".into(), port.to_string()),
            ("DOCKER_GID".into(), docker_gid().to_string()),
            ("HAKE_HEALTH_INTERVAL".into(), "1s".into()),
            ("HAKE_PUBLIC_URL".into(), base.clone()),
        ],
    );
    let build = Instant::now();
    build_hake_image(image).await;
    let t_build = build.elapsed();

    let up = Instant::now();
    d.compose(&["up", "-d", "--no-build"]);
    d.wait_healthy("hake", 60);
    let t_up = up.elapsed();

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let signer = Signer::generate_ed25519();
    let node: Value = http
        .get(format!("{base}/node_info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let engines = node["Engines"].as_array().unwrap();
    assert!(
        engines.contains(&json!("Docker")),
        "the Docker engine works through the mounted socket: {node}"
    );
    let noop = submit(&http, &base, &signer, noop_spec()).await;
    let docker_job = json!({"Engine": "Docker", "PublisherSpec": {"Type": "Noop"},
        "Docker": {"Image": IMAGE, "Entrypoint": ["sh", "-c",
            "echo hello from a container; sleep 1; echo >&2 a second later"]},
        "Deal": {"Concurrency": 1}});
    let container_job = submit(&http, &base, &signer, docker_job).await;
    let (frames, state) = follow_job(&http, &base, &signer, &noop).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert!(texts(&frames).is_empty(), "{frames:?}");
    // Followed live: the stream is open before the container prints its second line.
    let (frames, state) = follow_job(&http, &base, &signer, &container_job).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(
        texts(&frames),
        vec!["hello from a container\n", "a second later\n"]
    );
    let tags: Vec<_> = records(&frames).iter().map(|f| f["Tag"].clone()).collect();
    assert_eq!(tags, vec![json!(1), json!(2)], "stdout then stderr");
    assert_eq!(end(&frames)["Reason"], "completed");
    assert_eq!(
        state["Executions"][0]["RunOutput"]["stdout"],
        "hello from a container\n"
    );

    // A restart (SIGTERM to the server, then a new container process) keeps the data.
    let restart = Instant::now();
    d.compose(&["restart", "hake"]);
    d.wait_healthy("hake", 60);
    let t_restart = restart.elapsed();
    // The server logs to stderr, which `docker logs` replays on its stderr.
    let logs = std::process::Command::new("docker")
        .args(["logs", &d.container("hake")])
        .output()
        .unwrap();
    let logs = String::from_utf8_lossy(&logs.stderr);
    assert!(
        logs.contains("\"message\":\"stopped\""),
        "the server stopped cleanly on SIGTERM:\n{logs}"
    );
    // A new client: pooled connections to the old process went with it.
    let http = reqwest::Client::new();
    for id in [&noop, &container_job] {
        let state = job_state(&http, &base, id).await;
        assert_eq!(state["State"], "Completed", "{state}");
    }

    let down = Instant::now();
    drop(d);
    let t_down = down.elapsed();
    let volume = std::process::Command::new("docker")
        .args(["volume", "inspect", &format!("hakeci{suffix}_hake-data")])
        .output()
        .unwrap();
    assert!(!volume.status.success(), "down -v removed the volume");
    eprintln!(
        "deployment: base images {:.1}s, image build {:.1}s, up+healthy {:.1}s, restart {:.1}s, down {:.1}s, total {:.1}s",
        t_base.as_secs_f64(),
        t_build.as_secs_f64(),
        t_up.as_secs_f64(),
        t_restart.as_secs_f64(),
        t_down.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
