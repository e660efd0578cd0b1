//! The cluster deployment as an operator runs it: `docker-compose.cluster.yml` with its
//! PostgreSQL service and three hake nodes, built offline (the hake image packs the binary
//! this test run built, the database image Debian's package on the locally made base),
//! every node seeing the three connected, jobs submitted through each node spread over
//! them, a job pinned to node3 whose log is followed live through node1, node2 killed
//! (`docker kill`) mid-job: its execution failed as lost within the node timeout while
//! other jobs complete and no acknowledged job goes missing, then started again on its
//! volume and back under the same id, and `down -v`.
//!
//! Like `deploy`, it is skipped without a Docker daemon, except in CI (`CI=true`) where
//! that fails it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::{execution_nodes, pinned};
use crate::deploy::{
    build_hake_image, compose_prerequisites, docker_gid, free_port, job_state, open_logs, run,
    submit, Deployment,
};
use crate::helpers::noop_spec;
use crate::log_client::{end, sh, texts, Frames};
use hake::auth::Signer;

const NODES: [&str; 3] = ["node1", "node2", "node3"];
/// The nodes' `HAKE_NODE_TIMEOUT_SECS`.
const NODE_TIMEOUT_SECS: u64 = 5;

/// The nodes `base` lists (`GET /api/v1/requester/nodes`).
async fn nodes(http: &reqwest::Client, base: &str) -> Vec<Value> {
    let r = http
        .get(format!("{base}/api/v1/requester/nodes"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json::<Value>()
        .await
        .unwrap()
        .as_array()
        .cloned()
        .unwrap()
}

/// Waits up to `secs` until the nodes `base` lists satisfy `pred`.
async fn wait_nodes(
    http: &reqwest::Client,
    base: &str,
    secs: u64,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let all = nodes(http, base).await;
        if pred(&all) {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "after {secs}s {base} lists {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn connected(all: &[Value]) -> usize {
    all.iter()
        .filter(|n| n["Connection"] == "CONNECTED")
        .count()
}

/// Waits up to `secs` until the state of `job` read through `base` satisfies `pred`.
async fn wait_state(
    http: &reqwest::Client,
    base: &str,
    job: &str,
    secs: u64,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let state = job_state(http, base, job).await;
        if pred(&state) {
            return state;
        }
        assert!(Instant::now() < deadline, "after {secs}s {job}: {state}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn terminal(s: &Value) -> bool {
    ["Completed", "Error", "Cancelled", "CompletedPartially"]
        .contains(&s["State"].as_str().unwrap_or(""))
}

#[tokio::test]
async fn compose_cluster_of_three_nodes_shares_work_survives_a_killed_node_and_tears_down() {
    let started = Instant::now();
    if !compose_prerequisites("the cluster deployment test").await {
        return;
    }
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..10];
    let project = format!("hakecl{suffix}");
    let image = format!("hake:ci-{suffix}");
    let pg_image = format!("hake-postgres:ci-{suffix}");
    let ports: Vec<u16> = NODES.iter().map(|_| free_port()).collect();
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let mut env: Vec<(String, String)> = vec![
        ("HAKE_IMAGE".into(), image.clone()),
        ("HAKE_POSTGRES_IMAGE".into(), pg_image.clone()),
        (
            "HAKE_DB_PASSWORD".into(),
            uuid::Uuid::new_v4().simple().to_string(),
        ),
        (
            "HAKE_NODE_TIMEOUT_SECS".into(),
            NODE_TIMEOUT_SECS.to_string(),
        ),
        ("HAKE_ALLOW_EXEC".into(), "true".into()),
        ("HAKE_DOCKER".into(), "off".into()),
        ("HAKE_HEALTH_INTERVAL".into(), "1s".into()),
        ("DOCKER_GID".into(), docker_gid().to_string()),
    ];
    for (i, p) in ports.iter().enumerate() {
        env.push((format!("HAKE_NODE{}_PORT", i + 1), p.to_string()));
    }
    let d = Arc::new(Deployment::new(
        project.clone(),
        &["docker-compose.cluster.yml"],
        vec![image.clone(), pg_image.clone()],
        env,
    ));

    // The two images at once: hake's from this run's binary, the database's through the
    // compose file's own build section.
    let build = Instant::now();
    let pg = {
        let d = d.clone();
        tokio::task::spawn_blocking(move || d.compose(&["build", "postgres"]))
    };
    build_hake_image(image.clone()).await;
    pg.await.unwrap();
    let t_build = build.elapsed();

    let up = Instant::now();
    d.compose(&["up", "-d", "--no-build"]);
    for n in NODES {
        d.wait_healthy(n, 90);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for base in &bases {
        wait_nodes(&http, base, 30, |all| all.len() == 3 && connected(all) == 3).await;
    }
    let t_up = up.elapsed();
    let all = nodes(&http, &bases[0]).await;
    let ids: Vec<String> = NODES
        .iter()
        .map(|name| {
            let n = all
                .iter()
                .find(|n| n["Labels"]["name"] == *name)
                .unwrap_or_else(|| panic!("no node labelled name={name}: {all:?}"));
            // Other nodes reach it at its address in the compose network.
            assert_eq!(
                n["PeerInfo"]["Addrs"][0],
                format!("http://{name}:1234"),
                "{n}"
            );
            let engines = n["ComputeNodeInfo"]["ExecutionEngines"].as_array().unwrap();
            assert!(engines.contains(&Value::from("Exec")), "{n}");
            n["PeerInfo"]["ID"].as_str().unwrap().to_owned()
        })
        .collect();
    let signer = Signer::generate_ed25519();
    // Every job a node acknowledged, which must answer `states` to the end.
    let mut acknowledged: Vec<String> = Vec::new();

    // Jobs submitted through each node: all complete, and they ran on all three (nine
    // 3-second jobs outnumber what two nodes of four slots each take at once).
    let jobs = Instant::now();
    let mut spread = Vec::new();
    for i in 0..12 {
        let spec = if i % 4 == 3 {
            noop_spec()
        } else {
            sh("sleep 3")
        };
        spread.push(submit(&http, &bases[i % 3], &signer, spec).await);
    }
    acknowledged.extend(spread.iter().cloned());
    let mut ran_on = HashSet::new();
    for (i, id) in spread.iter().enumerate() {
        // Read through a node other than the one that took the submit.
        let s = wait_state(&http, &bases[(i + 1) % 3], id, 60, terminal).await;
        assert_eq!(s["State"], "Completed", "{s}");
        let on = execution_nodes(&s);
        assert_eq!(on.len(), 1, "exactly one execution: {s}");
        ran_on.extend(on);
    }
    let every: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(ran_on, every, "the executions spread over the three nodes");

    // A job pinned to node3, its log followed through node1: the relayed lines arrive
    // while it runs.
    let script = "for i in 1 2 3 4 5; do echo line $i; sleep 0.5; done";
    let job = submit(
        &http,
        &bases[0],
        &signer,
        pinned(sh(script), "name", "node3"),
    )
    .await;
    acknowledged.push(job.clone());
    let mut frames = Frames::new(open_logs(&http, &bases[0], &signer, &job).await);
    let first = frames.next().await.expect("a first frame");
    assert_eq!(first["Data"], "line 1\n", "{first}");
    let state = job_state(&http, &bases[0], &job).await;
    assert_eq!(
        state["State"], "InProgress",
        "the first line came through node1 while the job ran on node3: {state}"
    );
    let mut all = vec![first];
    all.extend(frames.rest().await);
    assert_eq!(
        texts(&all),
        (1..=5).map(|i| format!("line {i}\n")).collect::<Vec<_>>()
    );
    assert_eq!(end(&all)["ExitCode"], 0);
    let done = wait_state(&http, &bases[0], &job, 30, terminal).await;
    assert_eq!(done["State"], "Completed", "{done}");
    assert_eq!(execution_nodes(&done), vec![ids[2].clone()]);
    let t_jobs = jobs.elapsed();

    // A long job pinned to node2, seen running (its first line relayed through node1).
    let long = submit(
        &http,
        &bases[0],
        &signer,
        pinned(sh("echo started; exec sleep 600"), "name", "node2"),
    )
    .await;
    acknowledged.push(long.clone());
    {
        let mut frames = Frames::new(open_logs(&http, &bases[0], &signer, &long).await);
        let first = frames.next().await.expect("a first frame");
        assert_eq!(first["Data"], "started\n", "{first}");
    }
    let container2 = d.container("node2");
    run("docker", &["kill", &container2], &[]);
    let killed = Instant::now();

    // Work goes on through node1 and node3 meanwhile.
    let mut meanwhile = Vec::new();
    for i in 0..6 {
        let spec = if i % 2 == 0 {
            noop_spec()
        } else {
            sh("echo meanwhile")
        };
        let base = &bases[if i % 2 == 0 { 0 } else { 2 }];
        meanwhile.push(submit(&http, base, &signer, spec).await);
    }
    acknowledged.extend(meanwhile.iter().cloned());

    // node1 fails the execution once node2 has been silent for the node timeout.
    let lost = wait_state(&http, &bases[0], &long, NODE_TIMEOUT_SECS + 60, |s| {
        s["Executions"][0]["State"] == "Failed"
    })
    .await;
    let t_lost = killed.elapsed();
    let status = lost["Executions"][0]["Status"].as_str().unwrap();
    assert!(
        status.contains(&format!("node {} lost", ids[1])),
        "{status}"
    );
    assert_eq!(lost["State"], "Error", "{lost}");
    assert!(
        t_lost < Duration::from_secs(NODE_TIMEOUT_SECS + 6),
        "node2's execution failed {:.1}s after the kill (timeout {NODE_TIMEOUT_SECS}s)",
        t_lost.as_secs_f64()
    );
    let running = run(
        "docker",
        &["inspect", "--format", "{{.State.Running}}", &container2],
        &[],
    );
    assert_eq!(
        running.trim(),
        "false",
        "node2 stayed down until started again"
    );
    let seen = nodes(&http, &bases[0]).await;
    let n2 = seen
        .iter()
        .find(|n| n["PeerInfo"]["ID"] == ids[1].as_str())
        .unwrap();
    assert_eq!(n2["Connection"], "DISCONNECTED", "{n2}");
    for id in &meanwhile {
        let s = wait_state(&http, &bases[2], id, 60, terminal).await;
        assert_eq!(s["State"], "Completed", "{s}");
        assert!(!execution_nodes(&s).contains(&ids[1]), "{s}");
    }
    // No acknowledged job went missing: each answers `states` through both live nodes.
    for id in &acknowledged {
        for base in [&bases[0], &bases[2]] {
            let s = job_state(&http, base, id).await;
            assert!(terminal(&s), "{id} through {base}: {s}");
        }
    }

    // Started again on its volume, node2 rejoins under the same id (still three nodes)
    // and runs what is pinned to it.
    let restart = Instant::now();
    run("docker", &["start", &container2], &[]);
    d.wait_healthy("node2", 60);
    wait_nodes(&http, &bases[0], 30, |all| {
        all.len() == 3
            && all
                .iter()
                .any(|n| n["PeerInfo"]["ID"] == ids[1].as_str() && n["Connection"] == "CONNECTED")
    })
    .await;
    let again = submit(
        &http,
        &bases[2],
        &signer,
        pinned(noop_spec(), "name", "node2"),
    )
    .await;
    let s = wait_state(&http, &bases[1], &again, 30, terminal).await;
    assert_eq!(s["State"], "Completed", "{s}");
    assert_eq!(execution_nodes(&s), vec![ids[1].clone()]);
    let t_restart = restart.elapsed();

    let down = Instant::now();
    drop(Arc::into_inner(d).expect("the build task let go of the deployment"));
    let t_down = down.elapsed();
    for volume in ["hake-pg", "node1-data", "node2-data", "node3-data"] {
        let out = std::process::Command::new("docker")
            .args(["volume", "inspect", &format!("{project}_{volume}")])
            .output()
            .unwrap();
        assert!(!out.status.success(), "down -v removed {volume}");
    }
    for image in [&image, &pg_image] {
        let out = std::process::Command::new("docker")
            .args(["image", "inspect", image])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{image} was removed");
    }
    eprintln!(
        "cluster deployment: images {:.1}s, up+connected {:.1}s, jobs {:.1}s, node lost after {:.1}s, rejoin {:.1}s, down {:.1}s, total {:.1}s",
        t_build.as_secs_f64(),
        t_up.as_secs_f64(),
        t_jobs.as_secs_f64(),
        t_lost.as_secs_f64(),
        t_restart.as_secs_f64(),
        t_down.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
