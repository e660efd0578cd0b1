//! How Exec programs are started: forked by the server's one spawner process, through the
//! helper when a request is too big for the spawner, and by a new spawner after one dies.

use serde_json::json;

use crate::helpers::*;

/// Runs `sh -c 'echo $PPID'` and returns the parent pid the program saw.
async fn parent_of_a_job(app: &TestApp) -> i32 {
    let id = app.submit_ok(exec_spec(&["sh", "-c", "echo $PPID"])).await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Completed", "{state}");
    run_stdout(&state).trim().parse().expect("a pid")
}

#[tokio::test]
async fn exec_programs_are_forked_by_one_spawner_process_not_by_the_server() {
    let app = spawn_app().await;
    let first = parent_of_a_job(&app).await;
    let second = parent_of_a_job(&app).await;
    assert_eq!(first, second, "one spawner serves every execution");
    assert_ne!(
        first,
        std::process::id() as i32,
        "the server is not the parent"
    );
    let comm = std::fs::read_to_string(format!("/proc/{first}/comm")).unwrap();
    assert_eq!(
        comm.trim(),
        "hake-sandbox",
        "the spawner is the small helper binary"
    );
}

#[tokio::test]
async fn an_exec_request_too_big_for_the_spawner_starts_through_the_helper() {
    let app = spawn_app().await;
    // Two variables of 100,000 bytes: together over the spawner's 128 KiB request limit,
    // each under the kernel's limit on one environment string.
    let big = "x".repeat(100_000);
    let mut spec = exec_spec(&["sh", "-c", "echo ${#BIG_A} ${#BIG_B} $PPID"]);
    spec["Exec"]["EnvironmentVariables"] = json!({"BIG_A": big, "BIG_B": big});
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let out = run_stdout(&state);
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(&words[..2], ["100000", "100000"], "{out}");
    // The helper is the server's child and became the program: its parent is the server.
    assert_eq!(words[2], std::process::id().to_string(), "{out}");
}

#[tokio::test]
async fn a_program_that_cannot_start_says_why_through_the_spawner_and_through_the_helper() {
    let app = spawn_app().await;
    let mut missing_dir = exec_spec(&["true"]);
    missing_dir["Exec"]["WorkingDirectory"] = json!("/no/such/dir");
    let mut big = exec_spec(&["/no/such/program"]);
    big["Exec"]["EnvironmentVariables"] =
        json!({"BIG_A": "y".repeat(100_000), "BIG_B": "y".repeat(100_000)});
    for (spec, want) in [
        (
            exec_spec(&["/no/such/program"]),
            "cannot start \"/no/such/program\"",
        ),
        (missing_dir, "/no/such/dir"),
        (big, "cannot start \"/no/such/program\""),
    ] {
        let id = app.submit_ok(spec).await;
        let state = app.wait_terminal(&id, 20).await;
        assert_eq!(state["State"], "Error", "{state}");
        let status = state["Executions"][0]["Status"]
            .as_str()
            .unwrap_or_default();
        assert!(status.contains(want), "{want}: {state}");
        assert!(status.contains("No such file"), "{state}");
    }
}

#[tokio::test]
async fn a_dead_spawner_fails_its_running_executions_and_the_next_job_gets_a_new_one() {
    let app = spawn_app().await;
    let spawner = parent_of_a_job(&app).await;
    let id = app
        .submit_ok(exec_spec(&["sh", "-c", "echo started; sleep 30"]))
        .await;
    // Running: the spawner has a child.
    let children = format!("/proc/{spawner}/task/{spawner}/children");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(&children)
        .unwrap()
        .trim()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the job never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let program: i32 = std::fs::read_to_string(&children)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(spawner),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(state["State"], "Error", "{state}");
    let status = state["Executions"][0]["Status"]
        .as_str()
        .unwrap_or_default();
    assert!(status.contains("spawner exited"), "{state}");
    assert!(
        !process_alive(program),
        "the program went with its execution"
    );

    let next = parent_of_a_job(&app).await;
    assert_ne!(next, spawner, "a new spawner");
    assert!(process_alive(next));
}

#[tokio::test]
async fn a_helper_that_cannot_be_the_spawner_still_runs_every_job() {
    // A helper that confines and execs but refuses to be the spawner.
    let dir = tempfile::tempdir().unwrap();
    let helper = dir.path().join("old-helper");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = sandbox-zygote ] && exit 2\nexec {} \"$@\"\n",
            env!("CARGO_BIN_EXE_hake-sandbox")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let app = spawn_with(|c| c.exec_helper = Some(helper.clone())).await;
    for _ in 0..2 {
        // The helper became the program, so its parent is the server.
        assert_eq!(parent_of_a_job(&app).await, std::process::id() as i32);
    }
}
