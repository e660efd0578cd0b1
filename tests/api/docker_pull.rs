//! Docker images pulled from a registry (`--docker-pull`), against the real daemon and a
//! real registry on loopback ([`crate::registry`]) holding the locally built test image:
//! a missing image is pulled and run, concurrent executions share one pull, an image the
//! registry does not have is refused at submit or fails its execution with the registry's
//! answer, `never` pulls nothing, and credentials come from the node's Docker config.

use hake::auth::Signer;
use hake::config::{DockerMode, DockerPull};
use hake::engines::docker::Puller;
use hake::engines::{StatusNote, StatusSink};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::docker::{assert_no_containers, sh, wait_running_container};
use crate::helpers::*;
use crate::process::serve_with_env;
use crate::registry::*;

/// Returns from the test when Docker or the registry is not usable here.
macro_rules! require_registry {
    () => {
        if !registry_available().await {
            return;
        }
    };
}

async fn pull_app(policy: DockerPull, max_concurrent: usize) -> TestApp {
    spawn_with(|c| {
        c.docker = DockerMode::On;
        c.docker_pull = policy;
        c.max_concurrent_executions = Some(max_concurrent);
    })
    .await
}

fn spec_for(image: &str, script: &str) -> Value {
    let mut spec = sh(script);
    spec["Docker"]["Image"] = json!(image);
    spec
}

/// The history comments of the job's executions, oldest first.
async fn execution_comments(app: &TestApp, job_id: &str) -> Vec<(String, String)> {
    app.events(job_id)
        .await
        .iter()
        .filter(|e| e["Type"] == "ExecutionLevel")
        .map(|e| {
            (
                e["ComputeReference"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                e["Comment"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_image_missing_from_the_node_is_pulled_from_its_registry_and_run() {
    require_registry!();
    let registry = Registry::start(false).await;
    let image = registry.push_test_image("hake-pull").await;
    assert!(!image_present(&image).await);
    let app = pull_app(DockerPull::Missing, 2).await;
    let since = now_stamp();

    let id = app.submit_ok(spec_for(&image, "echo pulled and ran")).await;
    let state = app.wait_terminal(&id, 90).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let exec = &state["Executions"][0];
    assert_eq!(exec["RunOutput"]["stdout"], "pulled and ran\n");
    assert!(
        image_present(&image).await,
        "the pulled image stays on the node"
    );
    assert_eq!(pulls_since(&image, &since).await, 1);
    let comments: Vec<String> = execution_comments(&app, &id)
        .await
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    let pulling = format!("pulling image {image}");
    let pulled = format!("pulled image {image}");
    let at = |c: &str| comments.iter().position(|x| x == c);
    assert!(
        at("execution started") < at(&pulling)
            && at(&pulling) < at(&pulled)
            && at(&pulled) < at("execution completed"),
        "the pull's start and end are in the history, in order: {comments:?}"
    );

    // Now on the node: the next job does not pull it again.
    let since = now_stamp();
    let id = app.submit_ok(spec_for(&image, "echo again")).await;
    let state = app.wait_terminal(&id, 90).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(pulls_since(&image, &since).await, 0);
    assert!(!execution_comments(&app, &id)
        .await
        .iter()
        .any(|(_, c)| c.starts_with("pulling image")));
    assert_no_containers(&id).await;
}

#[tokio::test]
async fn concurrent_executions_needing_one_image_share_one_pull() {
    require_registry!();
    let registry = Registry::start(false).await;
    let image = registry.push_test_image("hake-shared").await;
    let n = 4;
    let app = pull_app(DockerPull::Missing, n).await;
    let since = now_stamp();

    let mut spec = spec_for(&image, "echo shared");
    spec["Deal"] = json!({"Concurrency": n});
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 120).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let execs = state["Executions"].as_array().unwrap();
    assert_eq!(execs.len(), n);
    for e in execs {
        assert_eq!(e["RunOutput"]["stdout"], "shared\n", "{e}");
    }
    let comments = execution_comments(&app, &id).await;
    let waited: std::collections::HashSet<&str> = comments
        .iter()
        .filter(|(_, c)| *c == format!("pulling image {image}"))
        .map(|(e, _)| e.as_str())
        .collect();
    assert!(
        waited.len() >= 2,
        "several executions waited for the pull at once: {comments:?}"
    );
    assert_eq!(
        pulls_since(&image, &since).await,
        1,
        "{} executions waited for the pull; the daemon pulled once",
        waited.len()
    );
    assert_no_containers(&id).await;
}

#[tokio::test]
async fn always_pulls_an_image_already_on_the_node() {
    require_registry!();
    let registry = Registry::start(false).await;
    let image = registry.push_test_image("hake-always").await;
    crate::docker::docker(&["pull", &image]).await;
    let app = pull_app(DockerPull::Always, 2).await;
    let since = now_stamp();
    let id = app.submit_ok(spec_for(&image, "echo fresh")).await;
    let state = app.wait_terminal(&id, 90).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(pulls_since(&image, &since).await, 1);
}

#[tokio::test]
async fn an_image_the_registry_does_not_have_is_refused_at_submit_naming_it() {
    require_registry!();
    let registry = Registry::start(false).await;
    // One image in the registry; the job names a tag and a repository it never received.
    let pushed = registry.push_test_image("hake-there").await;
    let app = pull_app(DockerPull::Missing, 1).await;
    let absent_tag = pushed.replace(":v1", ":never-pushed");
    let absent_repo = format!("{}/hake-never-pushed:v1", registry.host);
    for image in [absent_tag, absent_repo] {
        let (status, body) = app.submit_as(&app.signer, spec_for(&image, "true")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{image}: {body}");
        let msg = body["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("image {image} does not exist in its registry"))
                && msg.contains("manifest unknown"),
            "{msg}"
        );
    }
    // An unreachable registry is no definite answer: the job is accepted and its
    // execution fails with the daemon's words.
    let unreachable = format!("127.0.0.1:{}/hake-nowhere:v1", free_port());
    let id = app.submit_ok(spec_for(&unreachable, "true")).await;
    let state = app.wait_terminal(&id, 60).await;
    assert_eq!(state["State"], "Error", "{state}");
    let status = state["Executions"][0]["Status"].as_str().unwrap();
    assert!(
        status.contains(&format!("pulling image {unreachable} failed"))
            && status.contains("connection refused"),
        "{status}"
    );
    assert_no_containers(&id).await;
}

#[tokio::test]
async fn an_image_deleted_from_the_registry_after_submit_fails_the_execution_with_its_answer() {
    require_registry!();
    let registry = Registry::start(false).await;
    let image = registry.push_test_image("hake-deleted").await;
    let app = pull_app(DockerPull::Missing, 1).await;
    let blocker = app.submit_ok(sh("sleep 30")).await;
    wait_running_container(&blocker).await;
    let waiting = app.submit_ok(spec_for(&image, "echo never")).await;
    registry.delete(&image).await;
    let (status, body) = app.cancel_as(&app.signer, &blocker, "make room").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let state = app.wait_terminal(&waiting, 60).await;
    assert_eq!(state["State"], "Error", "{state}");
    let exec = &state["Executions"][0];
    assert_eq!(exec["State"], "Failed");
    let status = exec["Status"].as_str().unwrap();
    assert!(
        status.contains(&format!("pulling image {image} failed"))
            && status.contains("manifest unknown"),
        "{status}"
    );
    assert!(!image_present(&image).await);
    assert_no_containers(&waiting).await;
}

#[tokio::test]
async fn never_refuses_an_image_the_registry_has_and_pulls_nothing() {
    require_registry!();
    let registry = Registry::start(false).await;
    let image = registry.push_test_image("hake-never").await;
    let app = pull_app(DockerPull::Never, 1).await;
    let since = now_stamp();
    let (status, body) = app.submit_as(&app.signer, spec_for(&image, "true")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("image {image} is not present on this node"))
            && msg.contains("never pulls"),
        "{msg}"
    );
    assert_eq!(pulls_since(&image, &since).await, 0);
    assert!(!image_present(&image).await);
}

/// The real binary, so that `DOCKER_CONFIG` is the node's own environment.
#[tokio::test]
async fn credentials_come_from_the_nodes_docker_config() {
    require_registry!();
    let registry = Registry::start(true).await;
    let image = registry.push_test_image("hake-private").await;
    let logged_in = registry.config_dir.as_ref().unwrap().path().to_owned();
    let anonymous = tempfile::TempDir::new().unwrap();
    let signer = Signer::generate_ed25519();
    for (config, ok) in [(anonymous.path(), false), (logged_in.as_path(), true)] {
        let data = tempfile::TempDir::new().unwrap();
        let p = serve_with_env(
            data.path(),
            &["--docker", "on", "--docker-pull", "missing"],
            &[
                ("RUST_LOG", "hake=info"),
                ("DOCKER_CONFIG", config.to_str().unwrap()),
            ],
        );
        let payload = json!({
            "ClientID": signer.client_id(),
            "APIVersion": "V1beta1",
            "Spec": spec_for(&image, "echo private"),
        });
        let (status, body) = p
            .post("/requester/submit", signer.envelope(&payload.to_string()))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
        let state = wait_terminal_proc(&p, &id).await;
        let exec = &state["Executions"][0];
        if ok {
            assert_eq!(state["State"], "Completed", "{state}");
            assert_eq!(exec["RunOutput"]["stdout"], "private\n");
        } else {
            assert_eq!(state["State"], "Error", "{state}");
            let status = exec["Status"].as_str().unwrap();
            assert!(
                status.contains(&format!("pulling image {image} failed"))
                    && status.contains("no basic auth credentials"),
                "{status}"
            );
        }
    }
}

async fn wait_terminal_proc(p: &crate::process::Proc, id: &str) -> Value {
    for _ in 0..900 {
        let s = p.state(id).await;
        if matches!(
            s["State"].as_str(),
            Some("Completed" | "CompletedPartially" | "Error" | "Cancelled")
        ) {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("job {id} did not end within 90s");
}

#[tokio::test]
async fn a_pull_notes_its_start_progress_and_end_in_order() {
    require_registry!();
    let registry = Registry::start(false).await;
    let image = registry.push_test_image("hake-progress").await;
    let docker = bollard::Docker::connect_with_local_defaults().unwrap();
    let puller = Puller::new(docker, DockerPull::Missing);
    let (status, mut notes) = StatusSink::channel();
    let stop = CancellationToken::new();
    puller.ensure(&image, &status, &stop).await.unwrap();
    drop(status);
    let mut got = Vec::new();
    while let Some(n) = notes.recv().await {
        got.push(n);
    }
    let milestone = |text: String| StatusNote {
        text,
        milestone: true,
    };
    assert_eq!(
        got.first(),
        Some(&milestone(format!("pulling image {image}")))
    );
    assert_eq!(
        got.last(),
        Some(&milestone(format!("pulled image {image}")))
    );
    let progress = &got[1..got.len() - 1];
    assert!(
        !progress.is_empty()
            && progress
                .iter()
                .all(|n| !n.milestone && n.text.starts_with(&format!("pulling image {image}: "))),
        "{got:?}"
    );
    // On the node now: nothing to pull, nothing noted.
    let (status, mut notes) = StatusSink::channel();
    puller.ensure(&image, &status, &stop).await.unwrap();
    drop(status);
    assert_eq!(notes.recv().await, None);
}

#[tokio::test]
async fn a_stopped_execution_stops_waiting_while_the_shared_pull_goes_on() {
    require_registry!();
    let registry = Registry::start(false).await;
    let image = registry.push_test_image("hake-stopped").await;
    let docker = bollard::Docker::connect_with_local_defaults().unwrap();
    let puller = Puller::new(docker, DockerPull::Missing);
    let (status, _notes) = StatusSink::channel();
    let stop = CancellationToken::new();
    stop.cancel();
    let err = puller.ensure(&image, &status, &stop).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("the execution was stopped while image {image} was being pulled")
    );
    // The pull is not the stopped execution's alone: it ends and leaves the image.
    for _ in 0..300 {
        if image_present(&image).await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{image} was not pulled after its waiter stopped");
}
