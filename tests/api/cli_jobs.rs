//! The `hake` client commands as a user runs them: the real binary against a live
//! server, every exit code, short ids, and plain error messages.

use serde_json::Value;

use crate::cli_support::*;
use crate::helpers::*;

#[tokio::test]
async fn exec_with_wait_builds_the_spec_from_options_and_exits_0_when_the_job_completes() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let run = cli
        .run(&[
            "exec",
            "--wait",
            "-e",
            "GREETING=hi there",
            "--workdir",
            "/tmp",
            "--annotation",
            "batch-7",
            "--timeout",
            "30",
            "--concurrency",
            "2",
            "--",
            "sh",
            "-c",
            "echo \"$GREETING from $(pwd)\"",
        ])
        .await
        .expect(0);
    let id = run.stdout.trim();
    assert_eq!(id.len(), 36, "only the id on stdout: {run:?}");
    assert!(
        run.stderr.contains("Completed") && run.stderr.contains("exit code 0, 0"),
        "a summary on stderr: {}",
        run.stderr
    );
    assert!(!run.stderr.contains('\r'), "no spinner without a terminal");

    let (_, body) = app
        .post("/requester/list", &serde_json::json!({"id": &id[..8]}))
        .await;
    let spec = &body["jobs"][0]["Job"]["Spec"];
    assert_eq!(spec["Engine"], "Exec");
    assert_eq!(spec["Exec"]["EnvironmentVariables"]["GREETING"], "hi there");
    assert_eq!(spec["Exec"]["WorkingDirectory"], "/tmp");
    assert_eq!(spec["Annotations"][0], "batch-7");
    assert_eq!(spec["Timeout"], 30.0);
    assert_eq!(spec["Deal"]["Concurrency"], 2);
    assert_eq!(spec["PublisherSpec"]["Type"], "Noop");
    let state = &body["jobs"][0]["State"];
    assert_eq!(state["State"], "Completed");
    assert_eq!(
        state["Executions"][0]["RunOutput"]["stdout"],
        "hi there from /tmp\n"
    );
}

#[tokio::test]
async fn a_failed_job_exits_1_from_exec_wait_and_from_wait() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let run = cli
        .run(&["exec", "--wait", "--", "sh", "-c", "echo no >&2; exit 3"])
        .await
        .expect(1);
    let id = run.stdout.trim().to_owned();
    assert!(run.stderr.contains("Error") && run.stderr.contains("exit code 3"));
    let run = cli.run(&["wait", &id[..8]]).await.expect(1);
    assert_eq!(run.stdout.trim(), "Error");
}

#[tokio::test]
async fn cancel_prints_cancelled_then_wait_exits_3_and_a_second_cancel_exits_5() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let id = cli.exec(&[], "sleep 30").await;
    app.wait_for(&id, 20, |s| s["State"] == "InProgress").await;
    let run = cli
        .run(&["cancel", &id[..8], "--reason", "no longer needed"])
        .await
        .expect(0);
    assert_eq!(run.stdout.trim(), "Cancelled");
    let run = cli.run(&["wait", &id]).await.expect(3);
    assert_eq!(run.stdout.trim(), "Cancelled");
    assert!(run.stderr.contains("no longer needed"), "{}", run.stderr);

    let again = cli.run(&["cancel", &id]).await.expect(5);
    assert!(
        again.stderr.starts_with("hake: ") && again.stderr.contains("terminal state"),
        "the server's message: {}",
        again.stderr
    );
    assert!(plain(&again.stderr));
}

#[tokio::test]
async fn wait_with_a_timeout_exits_4_and_the_job_goes_on() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let id = cli.exec(&[], "sleep 20").await;
    let started = std::time::Instant::now();
    let run = cli
        .run(&["wait", &id[..8], "--timeout", "1s"])
        .await
        .expect(4);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(run.stderr.contains("did not end within"), "{}", run.stderr);
    assert_eq!(app.state(&id).await["State"], "InProgress");
    let run = cli
        .run(&[
            "exec",
            "--wait",
            "--wait-timeout",
            "500ms",
            "--",
            "sleep",
            "20",
        ])
        .await
        .expect(4);
    assert_eq!(run.stdout.trim().len(), 36);
}

#[tokio::test]
async fn usage_errors_exit_2_and_say_what_is_wrong() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let cases: &[(&[&str], &str)] = &[
        (
            &["exec", "--input", "no-such-file:/in", "--", "true"],
            "cannot be read",
        ),
        (&["exec", "--input", "data:,x", "--", "true"], "SRC:PATH"),
        (
            &["exec", "--output", "out:relative", "--", "true"],
            "NAME:PATH",
        ),
        (&["exec", "-e", "=x", "--", "true"], "name is empty"),
        (&["exec", "--concurrency", "0", "--", "true"], "at least 1"),
        (&["exec", "true"], ""),
        (
            &["submit", "-f", "/no/such/spec.json"],
            "reading /no/such/spec.json",
        ),
        (&["list", "--state", "Sleeping"], "unknown JobState"),
        (
            &["logs", "abcdefgh", "--since", "yesterday"],
            "neither a duration",
        ),
        (&["wait", "abcdefgh", "--timeout", "soon"], "not a duration"),
        (&["wasm", "run", "/no/such/module.wasm"], "cannot read"),
        (&["--server", "ftp://x", "list"], "http:// or https://"),
    ];
    for (args, needle) in cases {
        let run = cli.run(args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        assert!(plain(&run.stderr), "{args:?}: {}", run.stderr);
    }
}

#[tokio::test]
async fn an_unreachable_server_and_server_errors_exit_5_with_a_plain_message() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let nowhere = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let down = cli.via(&nowhere);
    for args in [
        &["list"][..],
        &["wait", "abcdefgh"],
        &["logs", "-f", "abcdefgh"],
        &["exec", "--", "true"],
    ] {
        let run = down.run(args).await.expect(5);
        assert!(
            run.stderr.contains("cannot reach the server") && plain(&run.stderr),
            "{args:?}: {}",
            run.stderr
        );
    }
    let run = cli.run(&["describe", "deadbeef"]).await.expect(5);
    assert_eq!(run.stderr.trim(), "hake: Job not found. ID: deadbeef");
    let run = cli.run(&["wait", "dead"]).await.expect(5);
    assert!(run.stderr.contains("too short"), "{}", run.stderr);
    // The server refuses Docker jobs when Docker is off: its message, exit 5.
    let run = cli
        .run(&["docker", "run", "busybox", "--", "echo", "hi"])
        .await
        .expect(5);
    assert!(run.stderr.contains("Docker"), "{}", run.stderr);
}

#[tokio::test]
async fn submit_reads_yaml_from_stdin_or_json_from_a_file_and_follows_or_waits() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let yaml =
        "Engine: Exec\nExec:\n  Command: [sh, -c, \"echo from yaml\"]\nDeal:\n  Concurrency: 1\n";
    let run = cli
        .run_with_stdin(&["submit", "-f", "-", "--follow"], Some(yaml))
        .await
        .expect(0);
    assert_eq!(
        run.stdout, "from yaml\n",
        "--follow prints the output: {run:?}"
    );
    assert!(
        run.stderr.starts_with("job "),
        "the id on stderr: {}",
        run.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spec.json");
    std::fs::write(
        &file,
        r#"{"Spec": {"Engine": "Exec", "Exec": {"Command": ["sh", "-c", "exit 4"]}, "Deal": {"Concurrency": 1}}}"#,
    )
    .unwrap();
    let run = cli
        .run(&["submit", "-f", file.to_str().unwrap(), "--wait"])
        .await
        .expect(1);
    assert_eq!(run.stdout.trim().len(), 36);
}

#[tokio::test]
async fn list_shows_a_table_and_filters_by_state_and_tag_and_pages() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let mut ids = Vec::new();
    for (tag, script) in [("a", "true"), ("b", "true"), ("b", "exit 1")] {
        let run = cli
            .run(&[
                "exec",
                "--wait",
                "--annotation",
                tag,
                "--",
                "sh",
                "-c",
                script,
            ])
            .await;
        ids.push(run.stdout.trim().to_owned());
    }
    let run = cli.run(&["list"]).await.expect(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    for h in ["ID", "STATE", "ENGINE", "CREATED", "DURATION"] {
        assert!(lines[0].contains(h));
    }
    assert!(
        lines[1].starts_with(&ids[2][..8]),
        "newest first: {}",
        run.stdout
    );
    assert!(lines[1].contains("Error") && lines[1].contains("Exec"));
    assert!(lines[3].starts_with(&ids[0][..8]) && lines[3].contains("Completed"));

    let run = cli.run(&["list", "--state", "Error"]).await.expect(0);
    assert_eq!(run.stdout.lines().count(), 2);
    let run = cli.run(&["list", "--tag", "b"]).await.expect(0);
    assert_eq!(run.stdout.lines().count(), 3);

    let run = cli.run(&["list", "--limit", "2"]).await.expect(0);
    assert_eq!(run.stdout.lines().count(), 3);
    let token = run
        .stderr
        .split_whitespace()
        .skip_while(|w| *w != "--next-token")
        .nth(1)
        .expect("a next token on stderr")
        .to_owned();
    let run = cli
        .run(&["list", "--limit", "2", "--next-token", &token])
        .await
        .expect(0);
    assert_eq!(run.stdout.lines().count(), 2);
    assert!(run.stdout.lines().nth(1).unwrap().starts_with(&ids[0][..8]));

    let run = cli
        .run(&["list", "--limit", "1", "--all-pages", "--output", "json"])
        .await
        .expect(0);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 3);
    assert!(v.get("next_token").is_none());

    // Another client's jobs show with --all only.
    let other = hake::auth::Signer::generate_ed25519();
    app.submit_as(&other, noop_spec()).await;
    let mine = cli.run(&["list", "--output", "json"]).await.expect(0);
    let all = cli
        .run(&["list", "--all", "--output", "json"])
        .await
        .expect(0);
    let count = |r: &Run| {
        serde_json::from_str::<Value>(&r.stdout).unwrap()["jobs"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!((count(&mine), count(&all)), (3, 4));
}

#[tokio::test]
async fn describe_shows_executions_with_timings_and_exit_codes_and_the_history() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let run = cli
        .run(&["exec", "--wait", "--", "sh", "-c", "sleep 0.2; exit 2"])
        .await
        .expect(1);
    let id = run.stdout.trim().to_owned();
    let run = cli.run(&["describe", &id[..8]]).await.expect(0);
    let text = &run.stdout;
    for needle in [
        &format!("ID:          {id}")[..],
        "State:       Error",
        "Engine:      Exec",
        "Runs:        sh -c sleep 0.2; exit 2",
        "EXECUTION",
        "Failed",
        "exit code 2",
        "History:",
        "InProgress -> Error",
        "BidAccepted -> Failed",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let exec_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("e-"))
        .unwrap();
    let cols: Vec<&str> = exec_line.split("  ").filter(|c| !c.is_empty()).collect();
    assert!(
        cols.iter().any(|c| c.trim() == "2"),
        "the exit code column: {exec_line}"
    );
    assert!(
        cols.iter()
            .any(|c| c.trim().ends_with("ms") || c.trim().ends_with('s')),
        "a duration: {exec_line}"
    );

    let run = cli
        .run(&["describe", &id, "--output", "json"])
        .await
        .expect(0);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["state"]["Executions"][0]["RunOutput"]["exitCode"], 2);
    assert!(v["state"]["Executions"][0]["DurationMs"].as_i64().unwrap() >= 200);
    assert!(v["events"].as_array().unwrap().len() >= 4);
}

#[tokio::test]
async fn results_download_unpacks_outputs_that_read_an_inline_input() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("names.txt");
    std::fs::write(&input, "ada\ngrace\n").unwrap();
    let spec_input = format!("{}:/inputs/names.txt", input.display());
    let run = cli
        .run(&[
            "exec",
            "--wait",
            "--input",
            &spec_input,
            "--output",
            "out:/outputs",
            "--",
            "sh",
            "-c",
            "sort -r $HAKE_INPUTS/inputs/names.txt > $HAKE_OUTPUTS/out/sorted.txt; echo done",
        ])
        .await
        .expect(0);
    let id = run.stdout.trim().to_owned();

    let run = cli.run(&["results", &id[..8]]).await.expect(0);
    assert!(run.stdout.contains("URLDownload") && run.stdout.contains(".tar.gz"));

    let dest = dir.path().join("results");
    let run = cli
        .run(&["results", &id, "--download", dest.to_str().unwrap()])
        .await
        .expect(0);
    let unpacked = std::path::PathBuf::from(run.stdout.trim());
    assert!(unpacked.starts_with(&dest), "{run:?}");
    assert_eq!(
        std::fs::read_to_string(unpacked.join("out/sorted.txt")).unwrap(),
        "grace\nada\n"
    );
    assert_eq!(
        std::fs::read_to_string(unpacked.join("stdout")).unwrap(),
        "done\n"
    );
    assert_eq!(
        std::fs::read_to_string(unpacked.join("exitCode")).unwrap(),
        "0"
    );

    // A Noop-published job has nothing to download: the server's answer, exit 5.
    let noop = cli.exec(&["--wait"], "true").await;
    let run = cli
        .run(&["results", &noop, "--download", dest.to_str().unwrap()])
        .await
        .expect(5);
    assert!(
        run.stderr.contains("no downloadable results"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn wasm_run_sends_the_module_inline_with_its_arguments_and_environment() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    // Prints "ok\n" when argv has 3 entries (program name + 2 arguments), else exits 7.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 64) "ok\n")
      (func (export "_start")
        (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
        (if (i32.ne (i32.load (i32.const 16)) (i32.const 3)) (then (call $proc_exit (i32.const 7))))
        (i32.store (i32.const 0) (i32.const 64))
        (i32.store (i32.const 4) (i32.const 3))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("hello.wasm");
    std::fs::write(&module, wat::parse_str(wat).unwrap()).unwrap();
    let m = module.to_str().unwrap();
    let run = cli
        .run(&[
            "wasm",
            "run",
            "-e",
            "MODE=test",
            "--follow",
            m,
            "one",
            "--two",
        ])
        .await
        .expect(0);
    assert_eq!(run.stdout, "ok\n", "{run:?}");
    let run = cli
        .run(&["wasm", "run", "--wait", m, "only-one"])
        .await
        .expect(1);
    let id = run.stdout.trim();
    let (_, body) = app
        .post("/requester/list", &serde_json::json!({"id": id}))
        .await;
    let wasm = &body["jobs"][0]["Job"]["Spec"]["Wasm"];
    assert_eq!(wasm["EntryModule"]["StorageSource"], "Inline");
    assert!(wasm["EntryModule"]["URL"]
        .as_str()
        .unwrap()
        .starts_with("data:application/wasm;base64,AGFzbQ"));
    assert_eq!(wasm["Parameters"], serde_json::json!(["only-one"]));
}

#[tokio::test]
async fn docker_run_submits_the_image_command_and_environment() {
    if !crate::docker::docker_available().await {
        return;
    }
    let app = spawn_with(|c| c.docker = hake::config::DockerMode::On).await;
    let cli = Cli::new(&app);
    let run = cli
        .run(&[
            "docker",
            "run",
            crate::docker::IMAGE,
            "-e",
            "WHO=container",
            "--follow",
            "--",
            "sh",
            "-c",
            "echo hello $WHO",
        ])
        .await
        .expect(0);
    assert_eq!(run.stdout, "hello container\n", "{run:?}");
}

#[tokio::test]
async fn a_spinner_is_drawn_on_a_terminal_only() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping: util-linux `script` (a pseudo-terminal) is not installed");
        return;
    }
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    let id = cli.exec(&[], "sleep 1.5").await;
    // `script` gives hake a terminal; its output is what the terminal showed.
    let line = format!(
        "HAKE_SERVER={} HAKE_KEY={} {} wait {}",
        cli.server,
        cli.key.display(),
        env!("CARGO_BIN_EXE_hake"),
        id
    );
    let out = tokio::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .output()
        .await
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("\r\x1b[2K") && screen.contains(&format!("job {}", &id[..8])),
        "a spinner line: {screen:?}"
    );
    assert!(screen.contains("Completed"));
}

#[tokio::test]
async fn healthcheck_exits_0_for_a_ready_server_and_1_for_one_that_does_not_answer() {
    let app = spawn_app().await;
    let cli = Cli::new(&app);
    cli.run(&["healthcheck", "--url", &app.base])
        .await
        .expect(0);
    let nowhere = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let run = cli.run(&["healthcheck", "--url", &nowhere]).await.expect(1);
    assert!(run.stderr.starts_with("not ready"), "{}", run.stderr);
}
