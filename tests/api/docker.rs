//! The Docker engine against this machine's real daemon, with the locally built
//! `hake-test-busybox` image (`scripts/build-test-image.sh`; pulls from a registry are
//! tested in `docker_pull`).
//! Without a daemon the tests are skipped, except in CI (`CI=true`) where that fails them.
//! Every test checks that no container of its jobs is left behind.

use std::time::Duration;

use hake::config::{DockerMode, DockerPull};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::process::Command;
use tokio::sync::OnceCell;

use crate::helpers::*;

pub const IMAGE: &str = "hake-test-busybox:latest";

/// Whether the Docker tests can run here: the daemon answers and the test image exists
/// (built once per test binary). Panics in CI when they cannot, says why elsewhere.
pub async fn docker_available() -> bool {
    static READY: OnceCell<Result<(), String>> = OnceCell::const_new();
    match READY.get_or_init(prepare_docker).await {
        Ok(()) => true,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("Docker tests cannot run in CI: {why}")
        }
        Err(why) => {
            eprintln!("skipping: {why}");
            false
        }
    }
}

async fn prepare_docker() -> Result<(), String> {
    match Command::new("docker").arg("info").output().await {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            return Err(format!(
                "no Docker daemon answers (docker info: {})",
                err.trim()
            ));
        }
        Err(e) => return Err(format!("the docker CLI cannot run: {e}")),
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/build-test-image.sh");
    let out = Command::new(script)
        .env("HAKE_TEST_IMAGE", IMAGE)
        .output()
        .await
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{script} could not build {IMAGE}: {}", err.trim()));
    }
    Ok(())
}

/// Returns from the test when Docker is not usable here.
macro_rules! require_docker {
    () => {
        if !docker_available().await {
            return;
        }
    };
}

async fn docker_app() -> TestApp {
    spawn_with(|c| c.docker = DockerMode::On).await
}

pub fn docker_spec(entrypoint: &[&str]) -> Value {
    json!({
        "Engine": "Docker",
        "PublisherSpec": {"Type": "Noop"},
        "Docker": {"Image": IMAGE, "Entrypoint": entrypoint},
        "Deal": {"Concurrency": 1},
    })
}

pub fn sh(script: &str) -> Value {
    docker_spec(&["sh", "-c", script])
}

/// Runs `docker` with `args`; returns stdout, panics on failure.
pub async fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .await
        .expect("docker runs");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Ids of the containers (running or not) with this label value.
pub async fn containers(label: &str, value: &str) -> Vec<String> {
    let filter = format!("label={label}={value}");
    docker(&["ps", "-aq", "--filter", &filter])
        .await
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

pub async fn assert_no_containers(job_id: &str) {
    let left = containers("hake.job", job_id).await;
    assert!(
        left.is_empty(),
        "containers of job {job_id} left behind: {left:?}"
    );
}

/// Waits until a container of the job is running.
pub async fn wait_running_container(job_id: &str) {
    let filter = format!("label=hake.job={job_id}");
    for _ in 0..300 {
        let ids = docker(&[
            "ps",
            "-q",
            "--filter",
            &filter,
            "--filter",
            "status=running",
        ])
        .await;
        if !ids.trim().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no running container for job {job_id} after 30s");
}

/// Submits, waits for the end, checks nothing is left; returns the id and the final state.
async fn run_job(app: &TestApp, spec: Value) -> (String, Value) {
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 90).await;
    assert_no_containers(&id).await;
    (id, state)
}

#[tokio::test]
async fn echo_hello_completes_with_stdout_stderr_and_exit_code_zero() {
    require_docker!();
    let app = docker_app().await;
    let (_, state) = run_job(&app, sh("echo hello; echo oops >&2")).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let exec = &state["Executions"][0];
    assert_eq!(exec["State"], "Completed");
    assert_eq!(exec["RunOutput"]["stdout"], "hello\n");
    assert_eq!(exec["RunOutput"]["stderr"], "oops\n");
    assert_eq!(exec["RunOutput"]["exitCode"], 0);
}

#[tokio::test]
async fn a_non_zero_exit_fails_the_execution_with_that_exit_code() {
    require_docker!();
    let app = docker_app().await;
    let (_, state) = run_job(&app, sh("echo before; exit 7")).await;
    assert_eq!(state["State"], "Error", "{state}");
    let exec = &state["Executions"][0];
    assert_eq!(exec["State"], "Failed");
    assert_eq!(exec["RunOutput"]["exitCode"], 7);
    assert_eq!(exec["RunOutput"]["stdout"], "before\n");
    assert_eq!(exec["Status"], "exit code 7");
}

#[tokio::test]
async fn environment_working_directory_and_parameters_reach_the_container() {
    require_docker!();
    let app = docker_app().await;
    let mut spec = docker_spec(&[
        "sh",
        "-c",
        "echo \"$GREETING|$(pwd)|$*|$HAKE_JOB_ID\"",
        "sh",
    ]);
    spec["Docker"]["Parameters"] = json!(["one", "two"]);
    spec["Docker"]["EnvironmentVariables"] = json!(["GREETING=hi there"]);
    spec["Docker"]["WorkingDirectory"] = json!("/tmp");
    let (id, state) = run_job(&app, spec).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(
        state["Executions"][0]["RunOutput"]["stdout"],
        format!("hi there|/tmp|one two|{id}\n")
    );
}

#[tokio::test]
async fn an_inline_input_is_readable_and_read_only() {
    require_docker!();
    let app = docker_app().await;
    let mut spec = sh("cat /inputs/data.txt; if echo x >> /inputs/data.txt; then echo WRITABLE; else echo READONLY; fi");
    spec["inputs"] = json!([{
        "StorageSource": "Inline",
        "URL": "data:text/plain;base64,aGVsbG8gaW5wdXQK",
        "path": "/inputs/data.txt",
    }]);
    let (_, state) = run_job(&app, spec).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let out = &state["Executions"][0]["RunOutput"];
    assert_eq!(out["stdout"], "hello input\nREADONLY\n");
    assert!(
        out["stderr"]
            .as_str()
            .unwrap()
            .contains("Read-only file system"),
        "{out}"
    );
}

#[tokio::test]
async fn an_output_directory_is_published_as_a_local_tarball() {
    require_docker!();
    let app = docker_app().await;
    let mut spec =
        sh("echo 42 > /outputs/answer.txt && mkdir /outputs/sub && echo deep > /outputs/sub/f");
    spec["PublisherSpec"] = json!({"Type": "Local"});
    spec["outputs"] = json!([{"Name": "out", "path": "/outputs"}]);
    let (id, state) = run_job(&app, spec).await;
    assert_eq!(state["State"], "Completed", "{state}");

    let files = download_results(&app, &id).await;
    assert_eq!(
        files.get("out/answer.txt").map(String::as_str),
        Some("42\n"),
        "{files:?}"
    );
    assert_eq!(
        files.get("out/sub/f").map(String::as_str),
        Some("deep\n"),
        "{files:?}"
    );
    assert_eq!(files.get("exitCode").map(String::as_str), Some("0"));
}

#[tokio::test]
async fn the_network_is_none_by_default_and_full_gives_an_interface() {
    require_docker!();
    let app = docker_app().await;
    let (_, state) = run_job(&app, sh("ls /sys/class/net")).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(
        state["Executions"][0]["RunOutput"]["stdout"], "lo\n",
        "only loopback without a network"
    );

    let mut spec = sh("ls /sys/class/net");
    spec["Network"] = json!({"Type": "Full"});
    let (_, state) = run_job(&app, spec).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let ifaces = run_stdout(&state);
    assert!(
        ifaces.lines().any(|l| l != "lo"),
        "Full network has an interface besides lo: {ifaces:?}"
    );
}

#[tokio::test]
async fn memory_and_cpu_limits_reach_the_container_cgroup() {
    require_docker!();
    let app = docker_app().await;
    // cgroup v1 files first, v2 otherwise.
    let mut spec = sh(
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; \
         cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max",
    );
    spec["Resources"] = json!({"CPU": "500m", "Memory": "64Mb", "GPU": ""});
    let (_, state) = run_job(&app, spec).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(
        state["Executions"][0]["RunOutput"]["stdout"],
        format!("{}\n50000\n", 64 << 20)
    );
}

#[tokio::test]
async fn a_timeout_stops_the_container_and_fails_the_execution() {
    require_docker!();
    let app = docker_app().await;
    let mut spec = docker_spec(&["sleep", "30"]);
    spec["Timeout"] = json!(1);
    let started = std::time::Instant::now();
    let (_, state) = run_job(&app, spec).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(state["State"], "Error", "{state}");
    assert_eq!(state["Executions"][0]["State"], "Failed");
    assert_eq!(state["Executions"][0]["Status"], "timed out after 1s");
}

#[tokio::test]
async fn cancel_stops_the_container_and_removes_it_before_answering() {
    require_docker!();
    let app = docker_app().await;
    let id = app.submit_ok(docker_spec(&["sleep", "30"])).await;
    wait_running_container(&id).await;
    let state = app.state(&id).await;
    let execution = state["Executions"][0]["ComputeReference"]
        .as_str()
        .expect("execution id")
        .to_owned();
    assert_eq!(containers("hake.execution", &execution).await.len(), 1);

    let (status, body) = app.cancel_as(&app.signer, &id, "enough").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"]["State"], "Cancelled", "{body}");
    let left = containers("hake.execution", &execution).await;
    assert!(
        left.is_empty(),
        "container still there after the cancel answer: {left:?}"
    );
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["Executions"][0]["State"], "Cancelled");
    assert_no_containers(&id).await;
}

#[tokio::test]
async fn with_pull_never_an_image_that_is_not_on_the_node_is_refused_at_submit() {
    require_docker!();
    let app = spawn_with(|c| {
        c.docker = DockerMode::On;
        c.docker_pull = DockerPull::Never;
    })
    .await;
    let mut spec = sh("true");
    spec["Docker"]["Image"] = json!("hake-test-absent:never");
    let (status, body) = app.submit_as(&app.signer, spec).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("hake-test-absent:never is not present on this node")
            && msg.contains("never pulls"),
        "{msg}"
    );
}

#[tokio::test]
async fn with_pull_never_an_image_removed_while_the_job_waits_fails_the_execution_clearly() {
    require_docker!();
    let app = spawn_with(|c| {
        c.docker = DockerMode::On;
        c.docker_pull = DockerPull::Never;
        c.max_concurrent_executions = Some(1);
    })
    .await;
    let tag = format!("hake-test-ephemeral:{}", uuid::Uuid::new_v4().simple());
    docker(&["tag", IMAGE, &tag]).await;
    let blocker = app.submit_ok(docker_spec(&["sleep", "30"])).await;
    wait_running_container(&blocker).await;
    let mut spec = sh("echo never");
    spec["Docker"]["Image"] = json!(tag);
    let waiting = app.submit_ok(spec).await;
    docker(&["rmi", &tag]).await;
    let (status, body) = app.cancel_as(&app.signer, &blocker, "make room").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let state = app.wait_terminal(&waiting, 60).await;
    assert_eq!(state["State"], "Error", "{state}");
    let exec = &state["Executions"][0];
    assert_eq!(exec["State"], "Failed");
    let status = exec["Status"].as_str().unwrap();
    assert!(
        status.contains(&format!("image {tag} is not present on this node"))
            && status.contains("never pulls"),
        "{status}"
    );
    assert_no_containers(&blocker).await;
    assert_no_containers(&waiting).await;
}

#[tokio::test]
async fn a_command_missing_from_the_image_fails_clearly_and_leaves_no_container() {
    require_docker!();
    let app = docker_app().await;
    let (_, state) = run_job(&app, docker_spec(&["/bin/no-such-program"])).await;
    assert_eq!(state["State"], "Error", "{state}");
    let status = state["Executions"][0]["Status"].as_str().unwrap();
    assert!(
        status.contains("starting the container failed") && status.contains("no-such-program"),
        "{status}"
    );
}

#[tokio::test]
async fn http_networking_and_malformed_resources_are_refused_at_submit() {
    require_docker!();
    let app = docker_app().await;
    let mut spec = sh("true");
    spec["Network"] = json!({"Type": "HTTP", "Domains": ["example.com"]});
    let (status, body) = app.submit_as(&app.signer, spec).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Network.Type HTTP"),
        "{body}"
    );

    for (field, value, needle) in [
        ("Memory", "lots", "Resources.Memory"),
        ("Memory", "1Mb", "6 MiB"),
        ("CPU", "-1", "Resources.CPU"),
    ] {
        let mut spec = sh("true");
        spec["Resources"] = json!({ field: value, "GPU": "" });
        let (status, body) = app.submit_as(&app.signer, spec).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}={value}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{field}={value}: {body}"
        );
    }
    let mut spec = sh("true");
    spec["Docker"]["EnvironmentVariables"] = json!(["NOEQUALS"]);
    let (status, body) = app.submit_as(&app.signer, spec).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn containers_a_crashed_run_left_behind_are_removed_at_start_up() {
    require_docker!();
    let app = docker_app().await;
    let node = format!("hake.node={}", app.app.jobs.node_id());
    let crashed = format!("crashed-{}", uuid::Uuid::new_v4());
    let elsewhere = format!("elsewhere-{}", uuid::Uuid::new_v4());
    for (node, job) in [
        (node.as_str(), &crashed),
        ("hake.node=n-elsewhere", &elsewhere),
    ] {
        let job = format!("hake.job={job}");
        docker(&[
            "create", "--label", node, "--label", &job, IMAGE, "sleep", "30",
        ])
        .await;
    }
    assert_eq!(containers("hake.job", &crashed).await.len(), 1);

    let _app = app.restart().await;
    assert_no_containers(&crashed).await;
    assert_eq!(
        containers("hake.job", &elsewhere).await.len(),
        1,
        "another node's container is kept"
    );
    docker(&["rm", "-f", &containers("hake.job", &elsewhere).await[0]]).await;
}

#[tokio::test]
async fn a_node_with_docker_off_rejects_docker_jobs_at_submit() {
    let app = spawn_app().await;
    let resp = app
        .http
        .post(app.url("/requester/submit"))
        .body(app.signer.envelope(
            &json!({"ClientID": app.signer.client_id(), "APIVersion": "V1beta1", "Spec": sh("true")}).to_string(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{ct}");
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("engine Docker is not enabled on this node"),
        "{body}"
    );
}
