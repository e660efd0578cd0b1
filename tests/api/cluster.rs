//! Several hake nodes on one PostgreSQL database: the registry and its labels, placement
//! by engine, selectors and resources, Concurrency on distinct nodes, every job run
//! exactly once, cancel, long-poll, logs and results through any node, and the loss of a
//! node killed with SIGKILL. In-process nodes share this test process; the node-loss test
//! runs the real binary.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::cli_support::Cli;
use crate::helpers::*;
use crate::log_client::{self, sh};
use crate::process::serve;
use crate::testdb::{fresh_database, pg_or_skip};
use hake::auth::Signer;

/// A node on `db` with `labels`, its client key `signer`, and a 10 s node timeout (long
/// enough that a loaded machine never makes a live node look lost).
async fn node(
    db: &str,
    signer: &Signer,
    labels: &[&str],
    f: impl FnOnce(&mut hake::ServeConfig),
) -> TestApp {
    let labels: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
    spawn_as(signer.clone(), |c| {
        c.database_url = Some(db.to_owned());
        c.labels = labels;
        c.node_timeout_secs = 10.0;
        f(c);
    })
    .await
}

/// `n` nodes labelled `name=node<i>` on a fresh database, each seeing all the others.
async fn cluster(test: &str, n: usize) -> Option<(String, Vec<TestApp>)> {
    let admin = pg_or_skip(test)?;
    let db = fresh_database(&admin);
    let signer = Signer::generate_ed25519();
    let mut nodes = Vec::new();
    for i in 0..n {
        let label = format!("name=node{i}");
        nodes.push(node(&db, &signer, &[&label, "zone=eu"], |_| {}).await);
    }
    for a in &nodes {
        wait_connected(a, n).await;
    }
    Some((db, nodes))
}

async fn nodes_of(app: &TestApp) -> Vec<Value> {
    let (status, body) = app.post("/api/v1/requester/nodes", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().cloned().unwrap()
}

/// Waits until `app` lists `n` connected nodes.
async fn wait_connected(app: &TestApp, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let all = nodes_of(app).await;
        if all
            .iter()
            .filter(|x| x["Connection"] == "CONNECTED")
            .count()
            == n
        {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "{n} nodes never connected: {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn node_id(app: &TestApp) -> String {
    app.app.jobs.node_id().to_owned()
}

pub(crate) fn pinned(mut spec: Value, key: &str, value: &str) -> Value {
    spec["NodeSelectors"] = json!([{"Key": key, "Operator": "=", "Values": [value]}]);
    spec
}

/// The pid a job printed as its first line (`echo $$`).
async fn printed_pid(app: &TestApp, job: &str) -> i32 {
    loop {
        let frames = log_client::frames(app, job, json!({"Follow": false})).await;
        if let Some(p) = log_client::texts(&frames).first() {
            return p.trim().parse::<i32>().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) fn execution_nodes(state: &Value) -> Vec<String> {
    state["Executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["NodeId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn nodes_register_with_labels_engines_and_capacity_and_a_stopped_one_is_disconnected() {
    let Some(admin) = pg_or_skip("nodes_register…") else {
        return;
    };
    let db = fresh_database(&admin);
    let signer = Signer::generate_ed25519();
    let a = node(&db, &signer, &["zone=eu", "tier=2"], |_| {}).await;
    let b = node(&db, &signer, &["zone=us"], |c| {
        c.compute = hake::config::Switch::Off;
    })
    .await;
    let all = wait_connected(&a, 2).await;
    let of = |id: &str| {
        all.iter()
            .find(|n| n["PeerInfo"]["ID"] == id)
            .unwrap()
            .clone()
    };
    let na = of(&node_id(&a));
    assert_eq!(na["NodeType"], "Compute");
    assert_eq!(na["Labels"], json!({"zone": "eu", "tier": "2"}));
    let engines = na["ComputeNodeInfo"]["ExecutionEngines"]
        .as_array()
        .unwrap();
    assert!(
        engines.contains(&json!("Noop")) && engines.contains(&json!("Exec")),
        "{na}"
    );
    assert!(
        na["ComputeNodeInfo"]["MaxCapacity"]["CPU"]
            .as_f64()
            .unwrap()
            >= 1.0
    );
    assert!(
        na["ComputeNodeInfo"]["MaxCapacity"]["Memory"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(na["PeerInfo"]["Addrs"][0], a.base);
    let nb = of(&node_id(&b));
    assert_eq!(nb["NodeType"], "Requester");
    assert!(nb.get("ComputeNodeInfo").is_none(), "{nb}");
    // The root path answers too, and the CLI prints the same nodes.
    let (status, root) = b.post("/requester/nodes", &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(root.as_array().unwrap().len(), 2);
    let out = Cli::new(&a).run(&["nodes"]).await.expect(0).stdout;
    assert!(out.contains(&node_id(&b)), "{out}");
    assert!(
        out.contains("tier=2,zone=eu") && out.contains("Requester"),
        "{out}"
    );
    let json = Cli::new(&a)
        .run(&["nodes", "--output", "json"])
        .await
        .expect(0)
        .stdout;
    let listed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{json}");

    // An API-only node takes no work: a job submitted through it runs on the compute node.
    let job = b.submit_ok(noop_spec()).await;
    let done = b.wait_terminal(&job, 30).await;
    assert_eq!(execution_nodes(&done), vec![node_id(&a)]);

    let gone = node_id(&b);
    let _ = b.stop().await;
    let all = nodes_of(&a).await;
    let nb = all
        .iter()
        .find(|n| n["PeerInfo"]["ID"] == gone.as_str())
        .unwrap();
    assert_eq!(
        nb["Connection"], "DISCONNECTED",
        "a clean stop is seen at once: {nb}"
    );
    assert!(nb["LastSeen"].as_str().unwrap().starts_with("20"), "{nb}");
}

#[tokio::test]
async fn selectors_pin_jobs_and_specs_no_live_node_can_run_are_400_naming_the_need() {
    let Some((_db, nodes)) = cluster("selectors_pin_jobs…", 2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    for _ in 0..3 {
        let job = a.submit_ok(pinned(noop_spec(), "name", "node1")).await;
        let done = a.wait_terminal(&job, 30).await;
        assert_eq!(done["State"], "Completed");
        assert_eq!(execution_nodes(&done), vec![node_id(b)]);
    }
    let mut in_op = noop_spec();
    in_op["NodeSelectors"] = json!([{"Key": "name", "Operator": "in", "Values": ["node0", "x"]},
                                   {"Key": "zone", "Operator": "exists", "Values": []}]);
    let job = b.submit_ok(in_op).await;
    assert_eq!(
        execution_nodes(&b.wait_terminal(&job, 30).await),
        vec![node_id(a)]
    );

    let cases = [
        (pinned(noop_spec(), "zone", "asia"), "NodeSelectors"),
        (
            {
                let mut s = noop_spec();
                s["Resources"] = json!({"Memory": "100Tb", "GPU": ""});
                s
            },
            "Resources",
        ),
        (
            {
                let mut s = noop_spec();
                s["Resources"] = json!({"CPU": "64000", "GPU": ""});
                s
            },
            "CPU",
        ),
        (
            json!({"Engine": "Docker", "Docker": {"Image": "busybox"}, "Deal": {"Concurrency": 1}}),
            "engine Docker",
        ),
        (
            {
                let mut s = noop_spec();
                s["NodeSelectors"] = json!([{"Key": "zone", "Operator": "near", "Values": ["eu"]}]);
                s
            },
            "operator",
        ),
    ];
    for (spec, needle) in cases {
        let (status, body) = a.submit_as(&a.signer, spec).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{needle}: {body}"
        );
    }
}

#[tokio::test]
async fn concurrency_n_runs_on_n_distinct_nodes_and_a_lone_matching_node_runs_them_all() {
    let Some((_db, nodes)) = cluster("concurrency_n_runs…", 3).await else {
        return;
    };
    let mut spec = exec_spec(&["true"]);
    spec["Deal"] = json!({"Concurrency": 3});
    let job = nodes[0].submit_ok(spec.clone()).await;
    let done = nodes[0].wait_terminal(&job, 60).await;
    assert_eq!(done["State"], "Completed", "{done}");
    let on: HashSet<String> = execution_nodes(&done).into_iter().collect();
    let all: HashSet<String> = nodes.iter().map(node_id).collect();
    assert_eq!(on, all, "three executions, three distinct nodes");

    let job = nodes[1].submit_ok(pinned(spec, "name", "node2")).await;
    let done = nodes[1].wait_terminal(&job, 60).await;
    assert_eq!(done["State"], "Completed", "{done}");
    assert_eq!(execution_nodes(&done), vec![node_id(&nodes[2]); 3]);

    // A Noop execution starts and ends inside its claim; the rule holds all the same.
    let mut spec = noop_spec();
    spec["Deal"] = json!({"Concurrency": 3});
    let job = nodes[2].submit_ok(spec).await;
    let done = nodes[0].wait_terminal(&job, 60).await;
    assert_eq!(done["State"], "Completed", "{done}");
    let on: HashSet<String> = execution_nodes(&done).into_iter().collect();
    assert_eq!(
        on, all,
        "three Noop executions, three distinct nodes: {done}"
    );
    let events = nodes[1].events(&job).await;
    let comments: Vec<&str> = events
        .iter()
        .filter(|e| e["Type"] == "ExecutionLevel")
        .map(|e| e["Comment"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        comments
            .iter()
            .filter(|c| **c == "execution started")
            .count(),
        3,
        "{events:?}"
    );
    assert_eq!(
        comments.len(),
        6,
        "each execution started, then ended: {events:?}"
    );
}

#[tokio::test]
async fn hundreds_of_jobs_submitted_round_robin_to_three_nodes_each_run_exactly_once() {
    let Some((_db, nodes)) = cluster("hundreds_of_jobs…", 3).await else {
        return;
    };
    let mut ids = Vec::new();
    for i in 0..300 {
        let spec = if i % 3 == 0 {
            exec_spec(&["true"])
        } else {
            noop_spec()
        };
        ids.push(nodes[i % 3].submit_ok(spec).await);
    }
    let mut per_node: HashMap<String, usize> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        // Read through a node other than the one that took the submit.
        let done = nodes[(i + 1) % 3].wait_terminal(id, 120).await;
        assert_eq!(done["State"], "Completed", "{done}");
        let on = execution_nodes(&done);
        assert_eq!(on.len(), 1, "exactly one execution: {done}");
        *per_node.entry(on[0].clone()).or_default() += 1;
        let started = nodes[i % 3]
            .events(id)
            .await
            .iter()
            .filter(|e| e["Comment"] == "execution started")
            .count();
        assert_eq!(started, 1, "started once: {id}");
    }
    assert_eq!(per_node.values().sum::<usize>(), 300);
    assert_eq!(per_node.len(), 3, "every node took work: {per_node:?}");
}

#[tokio::test]
async fn cancel_through_one_node_stops_the_process_on_the_node_running_it() {
    let Some((_db, nodes)) = cluster("cancel_through_one_node…", 2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let job = a
        .submit_ok(pinned(sh("echo $$; exec sleep 971"), "name", "node1"))
        .await;
    a.wait_for(&job, 30, |s| s["State"] == "InProgress").await;
    let pid = printed_pid(a, &job).await;
    assert!(process_alive(pid));
    let (status, body) = a.cancel_as(&a.signer, &job, "enough").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the process on the other node still runs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = b.wait_terminal(&job, 10).await;
    assert_eq!(state["State"], "Cancelled");
    assert_eq!(state["Executions"][0]["State"], "Cancelled");
}

#[tokio::test]
async fn a_node_whose_execution_was_reaped_while_it_lived_stops_the_process() {
    let Some(admin) = pg_or_skip("a_node_whose_execution_was_reaped…") else {
        return;
    };
    let db = fresh_database(&admin);
    let signer = Signer::generate_ed25519();
    // A judges nodes silent after 0.4 s; B heartbeats only every 2 s (a fifth of its 10 s),
    // so A takes B for lost between heartbeats, as after a network partition.
    let _a = node(&db, &signer, &["name=a"], |c| c.node_timeout_secs = 0.4).await;
    let b = node(&db, &signer, &["name=b"], |c| c.node_timeout_secs = 10.0).await;
    let job = b
        .submit_ok(pinned(sh("echo $$; exec sleep 973"), "name", "b"))
        .await;
    b.wait_for(&job, 30, |s| s["State"] != "New" && s["State"] != "Queued")
        .await;
    let pid = printed_pid(&b, &job).await;
    let state = b.wait_terminal(&job, 30).await;
    assert_eq!(state["State"], "Error", "{state}");
    let status = state["Executions"][0]["Status"].as_str().unwrap();
    assert!(
        status.contains(&format!("node {} lost", node_id(&b))),
        "{status}"
    );
    // B hears that the execution is no longer its own (a notification of the change, or
    // its next lease renewal) and stops it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while process_alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the process of a lost lease still runs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_long_poll_on_one_node_wakes_when_another_node_changes_the_job() {
    let Some((_db, nodes)) = cluster("a_long_poll…", 2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let job = a.submit_ok(pinned(sh("sleep 2"), "name", "node1")).await;
    let running = a.wait_for(&job, 30, |s| s["State"] == "InProgress").await;
    let version = running["Version"].as_i64().unwrap();
    let asked = Instant::now();
    let (status, body) = a
        .post(
            "/requester/states",
            &json!({"job_id": job, "after_version": version, "wait_seconds": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["state"]["State"], "Completed", "{body}");
    assert!(
        asked.elapsed() < Duration::from_secs(15),
        "woken by the change, not the wait"
    );
    assert_eq!(execution_nodes(&body["state"]), vec![node_id(b)]);
}

#[tokio::test]
async fn logs_follow_live_through_another_node_and_results_download_through_it() {
    let Some((_db, nodes)) = cluster("logs_follow_live…", 2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let mut spec = pinned(
        sh("for i in 1 2 3 4 5; do echo line $i; sleep 0.3; done; echo out > $HAKE_OUTPUTS/out/r.txt"),
        "name",
        "node1",
    );
    spec["PublisherSpec"] = json!({"Type": "Local"});
    spec["outputs"] = json!([{"Name": "out", "path": "/outputs"}]);
    let job = a.submit_ok(spec).await;
    let resp = log_client::open(
        a,
        &log_client::payload(a, &job, json!({"Follow": true})),
        &[],
    )
    .await;
    let mut frames = log_client::Frames::new(resp);
    let first = frames.next().await.unwrap();
    assert_eq!(first["Data"], "line 1\n", "{first}");
    let state = a.state(&job).await;
    assert_eq!(
        state["State"], "InProgress",
        "the first line came while it ran"
    );
    let rest = frames.rest().await;
    let mut all = vec![first];
    all.extend(rest);
    assert_eq!(
        log_client::texts(&all),
        (1..=5).map(|i| format!("line {i}\n")).collect::<Vec<_>>()
    );
    assert_eq!(log_client::end(&all)["ExitCode"], 0);

    let done = a.wait_terminal(&job, 30).await;
    let exec = done["Executions"][0]["ComputeReference"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/results/{job}/{exec}.tar.gz");
    let direct = b.http.get(b.url(&path)).send().await.unwrap();
    assert_eq!(direct.status(), StatusCode::OK);
    let direct = direct.bytes().await.unwrap();
    let through = a.http.get(a.url(&path)).send().await.unwrap();
    assert_eq!(through.status(), StatusCode::OK);
    assert_eq!(through.headers()["content-type"], "application/gzip");
    let etag = through.headers()["etag"].clone();
    assert!(through.headers().contains_key("last-modified"));
    assert_eq!(through.bytes().await.unwrap(), direct);
    // Ranges and validators pass through the node that relays.
    let part = a
        .http
        .get(a.url(&path))
        .header("range", "bytes=2-11")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 2-11/{}", direct.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), direct[2..12]);
    let same = a
        .http
        .get(a.url(&path))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(same.headers()["etag"], etag);
    let past = a
        .http
        .get(a.url(&path))
        .header("range", format!("bytes={}-", direct.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        past.json::<Value>().await.unwrap()["code"],
        "range-not-satisfiable"
    );
    let missing = a
        .http
        .get(a.url(&format!("/results/{job}/e-nope.tar.gz")))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_node_killed_mid_job_is_reaped_naming_it_others_go_on_and_it_rejoins() {
    let Some(admin) = pg_or_skip("a_node_killed_mid_job…") else {
        return;
    };
    let db = fresh_database(&admin);
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let flags = |label: &'static str| {
        vec![
            "--database-url".to_owned(),
            db.clone(),
            "--allow-exec".to_owned(),
            "--node-timeout-secs".to_owned(),
            "2".to_owned(),
            "--label".to_owned(),
            label.to_owned(),
        ]
    };
    let start = |i: usize, label: &'static str| {
        let f = flags(label);
        let f: Vec<&str> = f.iter().map(String::as_str).collect();
        serve(&dirs[i].path().join("data"), &f)
    };
    let a = start(0, "name=a");
    let mut b = start(1, "name=b");
    let b_id = std::fs::read_to_string(dirs[1].path().join("data/node_id")).unwrap();
    let signer = Signer::generate_ed25519();
    let submit = |spec: Value| {
        let payload =
            json!({"ClientID": signer.client_id(), "APIVersion": "V1beta1", "Spec": spec});
        signer.envelope(&payload.to_string())
    };
    // Both nodes must know each other before a pinned job is accepted.
    let deadline = Instant::now() + Duration::from_secs(20);
    let job = loop {
        let (status, body) = a
            .post(
                "/requester/submit",
                submit(pinned(sh("echo started; sleep 600"), "name", "b")),
            )
            .await;
        if status == StatusCode::OK {
            break body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.state(&job).await["State"] != "InProgress" {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    b.child.kill().unwrap(); // SIGKILL
    b.child.wait().unwrap();
    let killed = Instant::now();

    // Work goes on on the surviving node meanwhile.
    let (status, body) = a.post("/requester/submit", submit(noop_spec())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let other = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();

    let state = loop {
        let s = a.state(&job).await;
        if s["State"] == "Error" {
            break s;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "never reaped: {s}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let status = state["Executions"][0]["Status"].as_str().unwrap();
    assert!(status.contains(&format!("node {b_id} lost")), "{status}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.state(&other).await["State"] != "Completed" {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Restarted on the same data dir, it rejoins under the same id.
    let b = start(1, "name=b");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, nodes) = a.post("/api/v1/requester/nodes", "{}".into()).await;
        let me = nodes
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["PeerInfo"]["ID"] == b_id.as_str())
            .cloned()
            .unwrap();
        if me["Connection"] == "CONNECTED" {
            break;
        }
        assert!(Instant::now() < deadline, "{me}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = a
        .post(
            "/requester/submit",
            submit(pinned(noop_spec(), "name", "b")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pinned_job = body["job"]["Metadata"]["ID"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = b.state(&pinned_job).await;
        if s["State"] == "Completed" {
            assert_eq!(s["Executions"][0]["NodeId"], b_id.as_str());
            break;
        }
        assert!(Instant::now() < deadline, "{s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn noop_jobs_run_in_their_claim_while_the_only_slot_is_busy_and_exec_jobs_wait_for_it() {
    let Some(admin) = pg_or_skip("noop_jobs_run_in_their_claim…") else {
        return;
    };
    let db = fresh_database(&admin);
    let signer = Signer::generate_ed25519();
    let app = node(&db, &signer, &["name=solo"], |c| {
        c.max_concurrent_executions = Some(1);
    })
    .await;
    let long = app.submit_ok(exec_spec(&["sleep", "60"])).await;
    app.wait_for(&long, 30, |s| s["State"] == "InProgress")
        .await;
    let behind = app.submit_ok(exec_spec(&["true"])).await;

    let mut noops = Vec::new();
    for _ in 0..40 {
        noops.push(app.submit_ok(noop_spec()).await);
    }
    for id in &noops {
        let done = app.wait_terminal(id, 30).await;
        assert_eq!(done["State"], "Completed", "{done}");
        assert_eq!(execution_nodes(&done), vec![node_id(&app)]);
    }
    let waiting = app.state(&behind).await;
    assert!(
        waiting["Executions"]
            .as_array()
            .is_none_or(|e| e.is_empty()),
        "the Exec job waits for the busy slot: {waiting}"
    );

    let (status, body) = app.cancel_as(&signer, &long, "make room").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done = app.wait_terminal(&behind, 30).await;
    assert_eq!(done["State"], "Completed", "{done}");
}
