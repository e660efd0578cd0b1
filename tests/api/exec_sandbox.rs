//! Exec jobs are confined: each probe runs inside a real Exec job (a shell that tries
//! something and prints `NAME allowed` or `NAME denied`), the job itself completes, and
//! the test checks what was refused and that nothing outside changed.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// `p NAME CMD...` runs CMD in a subshell and prints whether it succeeded.
const PROBE: &str = r#"p() { n=$1; shift; if ( "$@" ) >/dev/null 2>&1; then echo "$n allowed"; else echo "$n denied"; fi; }
"#;

/// Runs `script` (after the probe function) as a completed Exec job; returns the verdicts
/// by probe name and the job's state.
async fn probe(
    app: &TestApp,
    script: &str,
    adjust: impl FnOnce(&mut Value),
) -> (BTreeMap<String, String>, Value) {
    let mut spec = exec_spec(&["sh", "-c", &format!("{PROBE}{script}")]);
    adjust(&mut spec);
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(
        state["State"], "Completed",
        "the probing job completes: {state}"
    );
    let stdout = run_stdout(&state);
    let verdicts = stdout
        .lines()
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(_, v)| matches!(*v, "allowed" | "denied"))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    (verdicts, state)
}

fn assert_verdicts(got: &BTreeMap<String, String>, want: &[(&str, &str)]) {
    for (name, verdict) in want {
        assert_eq!(
            got.get(*name).map(String::as_str),
            Some(*verdict),
            "probe {name}: {got:?}"
        );
    }
}

#[tokio::test]
async fn exec_jobs_never_see_the_servers_environment() {
    // A variable of the server's (this process's) environment, passed on purpose by name.
    let (passed, value) = std::env::vars()
        .find(|(k, v)| k.starts_with("CARGO") && !v.is_empty() && !v.contains('\n'))
        .expect("cargo sets CARGO_* variables for tests");
    let name = passed.clone();
    let app = spawn_with(move |c| c.exec_pass_env = vec![name]).await;
    let server_pid = std::process::id();
    let (verdicts, state) = probe(
        &app,
        &format!(
            "env; [ -e \"$HAKE_OUTPUTS\" ] && echo outputs-dir-exists; p proc_environ cat /proc/{server_pid}/environ; p proc_cmdline cat /proc/{server_pid}/cmdline; p signal_server kill -0 {server_pid}; p own_proc cat /proc/$$/status"
        ),
        |s| s["Exec"]["EnvironmentVariables"] = json!({"FROM_SPEC": "yes"}),
    )
    .await;
    assert_verdicts(
        &verdicts,
        &[
            ("proc_environ", "denied"),
            ("proc_cmdline", "denied"),
            ("signal_server", "denied"),
            ("own_proc", "allowed"),
        ],
    );
    let env: BTreeMap<String, String> = run_stdout(&state)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let minimal = [
        "PATH",
        "LANG",
        "HOME",
        "TMPDIR",
        "PWD",
        "SHLVL",
        "_",
        "OLDPWD",
        "FROM_SPEC",
    ];
    for (k, _) in std::env::vars() {
        if k != passed && !minimal.contains(&k.as_str()) {
            assert!(
                !env.contains_key(&k),
                "the job saw the server's {k}: {env:?}"
            );
        }
    }
    assert_eq!(
        env.get(&passed),
        Some(&value),
        "--exec-pass-env passes {passed}"
    );
    assert_eq!(env.get("FROM_SPEC").map(String::as_str), Some("yes"));
    for k in [
        "HAKE_INPUTS",
        "HAKE_OUTPUTS",
        "HAKE_JOB_ID",
        "HAKE_EXECUTION_ID",
        "LANG",
    ] {
        assert!(env.contains_key(k), "{k} missing: {env:?}");
    }
    let home = &env["HOME"];
    assert!(home.ends_with("/work"), "HOME is the scratch dir: {home}");
    assert_eq!(&env["TMPDIR"], home, "TMPDIR is the scratch dir too");
    assert!(
        !run_stdout(&state).contains("outputs-dir-exists"),
        "a job without outputs has no $HAKE_OUTPUTS directory"
    );
}

#[tokio::test]
async fn exec_jobs_cannot_read_write_or_list_the_data_dir_and_database() {
    let app = spawn_app().await;
    let data = app.dir.path().join("data");
    let node_id = std::fs::read_to_string(data.join("node_id")).unwrap();
    let script = r#"D="$HOME/../../.."
p list_data ls "$D"
p read_db cat "$D/hake.db"
p write_db sh -c 'echo x >> "$1"' _ "$D/hake.db"
p read_node_id cat "$D/node_id"
p write_node_id sh -c 'echo x > "$1"' _ "$D/node_id"
p delete_node_id rm -f "$D/node_id"
p list_executions ls "$D/executions"
p create_in_data touch "$D/planted"
"#;
    let (verdicts, _) = probe(&app, script, |_| {}).await;
    assert_verdicts(
        &verdicts,
        &[
            ("list_data", "denied"),
            ("read_db", "denied"),
            ("write_db", "denied"),
            ("read_node_id", "denied"),
            ("write_node_id", "denied"),
            ("delete_node_id", "denied"),
            ("list_executions", "denied"),
            ("create_in_data", "denied"),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(data.join("node_id")).unwrap(),
        node_id
    );
    assert!(!data.join("planted").exists());
    // The node still works: its database was never touched.
    let id = app.submit_ok(exec_spec(&["true"])).await;
    assert_eq!(app.wait_terminal(&id, 20).await["State"], "Completed");
}

#[tokio::test]
async fn exec_jobs_write_only_their_outputs_and_scratch_which_are_published() {
    let app = spawn_app().await;
    let outside = std::env::temp_dir().join(format!("hake-probe-{}", uuid::Uuid::new_v4()));
    let server_home = dirs::home_dir().expect("the server user has a home");
    let script = format!(
        r#"p write_tmp sh -c 'echo x > "$1"' _ "{outside}"
p list_server_home ls "{home}"
p write_server_home touch "{home}/hake-probe-planted"
p read_system cat /etc/hostname /etc/passwd
p write_system touch /etc/hake-probe
p write_inputs_root sh -c 'mkdir -p "$HAKE_INPUTS" && echo x > "$HAKE_INPUTS/x"'
p write_home sh -c 'echo x > "$HOME/h.txt"'
p write_tmpdir sh -c 'echo x > "$TMPDIR/t.txt"'
p write_output sh -c 'echo made > "$HAKE_OUTPUTS/out/made.txt"'
p no_new_privs grep -q 'NoNewPrivs:[[:space:]]*1' /proc/$$/status
echo "core $(ulimit -c) nofile $(ulimit -n) as $(ulimit -v)"
"#,
        outside = outside.display(),
        home = server_home.display(),
    );
    let (verdicts, state) = probe(&app, &script, |s| {
        s["PublisherSpec"] = json!({"Type": "Local"});
        s["outputs"] = json!([{"Name": "out", "path": "/outputs"}]);
        s["Resources"] = json!({"Memory": "512Mb"});
    })
    .await;
    assert_verdicts(
        &verdicts,
        &[
            ("write_tmp", "denied"),
            ("list_server_home", "denied"),
            ("write_server_home", "denied"),
            ("read_system", "allowed"),
            ("write_system", "denied"),
            ("write_inputs_root", "denied"),
            ("write_home", "allowed"),
            ("write_tmpdir", "allowed"),
            ("write_output", "allowed"),
            ("no_new_privs", "allowed"),
        ],
    );
    assert!(!outside.exists());
    assert!(!server_home.join("hake-probe-planted").exists());
    assert!(
        run_stdout(&state).contains(&format!("core 0 nofile 1024 as {}", 512_000_000 / 1024)),
        "{}",
        run_stdout(&state)
    );
    let files = download_results(&app, state["JobID"].as_str().unwrap()).await;
    assert_eq!(
        files.get("out/made.txt").map(String::as_str),
        Some("made\n")
    );
}

#[tokio::test]
async fn local_directory_inputs_are_read_only_and_their_source_stays_unchanged() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("data.txt"), "original\n").unwrap();
    let root = src.path().to_path_buf();
    let app = spawn_with(move |c| c.allowed_input_dirs = vec![root]).await;
    let input =
        json!([{"StorageSource": "LocalDirectory", "SourcePath": src.path(), "path": "/in"}]);
    let script = r#"p read cat "$HAKE_INPUTS/in/data.txt"
p overwrite sh -c 'echo x > "$HAKE_INPUTS/in/data.txt"'
p append sh -c 'echo x >> "$HAKE_INPUTS/in/data.txt"'
p delete rm -f "$HAKE_INPUTS/in/data.txt"
p create touch "$HAKE_INPUTS/in/new.txt"
p delete_link rm -f "$HAKE_INPUTS/in"
"#;
    let (verdicts, _) = probe(&app, script, |s| s["inputs"] = input.clone()).await;
    assert_verdicts(
        &verdicts,
        &[
            ("read", "allowed"),
            ("overwrite", "denied"),
            ("append", "denied"),
            ("delete", "denied"),
            ("create", "denied"),
            ("delete_link", "denied"),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(src.path().join("data.txt")).unwrap(),
        "original\n"
    );
    assert!(!src.path().join("new.txt").exists());

    // ReadWrite needs a root marked :rw.
    let mut rw = exec_spec(&["true"]);
    rw["inputs"] = json!([{"StorageSource": "LocalDirectory", "SourcePath": src.path(),
                           "path": "/in", "ReadWrite": true}]);
    let (status, body) = app.submit_as(&app.signer, rw).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("--allowed-input-dir PATH:rw"),
        "{body}"
    );
}

#[tokio::test]
async fn read_write_inputs_under_a_writable_root_can_be_written() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("data.txt"), "original\n").unwrap();
    let root = format!("{}:rw", src.path().display());
    let app = spawn_with(move |c| c.allowed_input_dirs = vec![root.into()]).await;
    let input = |rw: bool| {
        json!([{"StorageSource": "LocalDirectory", "SourcePath": src.path(), "path": "/in",
                "ReadWrite": rw}])
    };
    let script = r#"p append sh -c 'echo added >> "$HAKE_INPUTS/in/data.txt"'"#;
    let (verdicts, _) = probe(&app, script, |s| s["inputs"] = input(false)).await;
    assert_verdicts(&verdicts, &[("append", "denied")]);
    let (verdicts, _) = probe(&app, script, |s| s["inputs"] = input(true)).await;
    assert_verdicts(&verdicts, &[("append", "allowed")]);
    assert_eq!(
        std::fs::read_to_string(src.path().join("data.txt")).unwrap(),
        "original\nadded\n"
    );
}

#[tokio::test]
async fn inputs_overlapping_the_data_dir_are_refused() {
    let app = spawn_with(|c| c.allowed_input_dirs = vec![std::env::temp_dir()]).await;
    let data = app.dir.path().join("data");
    let mut spec = exec_spec(&["true"]);
    spec["inputs"] =
        json!([{"StorageSource": "LocalDirectory", "SourcePath": data, "path": "/in"}]);
    let (status, body) = app.submit_as(&app.signer, spec).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("overlaps the server's data directory"),
        "{body}"
    );
}

#[tokio::test]
async fn network_none_denies_tcp_to_exec_jobs_and_full_allows_it() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = spawn_app().await;
    let info: Value = app.get_json("/node_info").await;
    assert_eq!(info["ExecSandbox"]["TcpRules"], true, "{info}");
    let script = format!(
        "p connect bash -c 'echo hi > /dev/tcp/127.0.0.1/{port}'\n\
         p bind python3 -c 'import socket; socket.socket().bind((\"127.0.0.1\", 0))'"
    );
    let (verdicts, _) = probe(&app, &script, |_| {}).await;
    assert_verdicts(&verdicts, &[("connect", "denied"), ("bind", "denied")]);
    let (verdicts, _) = probe(&app, &script, |s| s["Network"] = json!({"Type": "Full"})).await;
    assert_verdicts(&verdicts, &[("connect", "allowed"), ("bind", "allowed")]);
}

#[tokio::test]
async fn network_http_with_domains_is_refused_for_exec() {
    let app = spawn_app().await;
    let mut spec = exec_spec(&["true"]);
    spec["Network"] = json!({"Type": "HTTP", "Domains": ["example.com"]});
    let (status, body) = app.submit_as(&app.signer, spec).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "invalid-request", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("use the Docker engine for domain allow-lists"),
        "{body}"
    );
}

#[tokio::test]
async fn a_bad_memory_size_for_exec_is_a_400() {
    let app = spawn_app().await;
    let mut spec = exec_spec(&["true"]);
    spec["Resources"] = json!({"Memory": "lots"});
    let (status, body) = app.submit_as(&app.signer, spec).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Resources.Memory"),
        "{body}"
    );
}

#[tokio::test]
async fn node_info_shows_the_exec_sandbox() {
    let app = spawn_app().await;
    let info: Value = app.get_json("/node_info").await;
    let sandbox = &info["ExecSandbox"];
    assert_eq!(sandbox["Landlock"], true, "{info}");
    assert!(sandbox["LandlockABI"].as_i64().unwrap() >= 1, "{info}");
    let off = spawn_with(|c| c.allow_exec = false).await;
    let info: Value = off.get_json("/node_info").await;
    assert!(info.get("ExecSandbox").is_none(), "no Exec engine: {info}");
}

#[tokio::test]
async fn a_kernel_without_landlock_stops_the_exec_engine_unless_the_sandbox_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = hake::ServeConfig::for_dir(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.allow_exec = true;
    config.docker = hake::config::DockerMode::Off;
    config.exec_helper = Some(env!("CARGO_BIN_EXE_hake").into());
    config.exec_sandbox_assume_no_landlock = true;
    let err = hake::app::Server::build(config.clone())
        .await
        .expect_err("no Landlock, sandbox on: the server must not start");
    let message = format!("{err:#}");
    assert!(
        message.contains("lacks Landlock") && message.contains("--exec-sandbox off"),
        "{message}"
    );

    // Off: the node starts, says so, and jobs still get the minimal environment.
    let app = spawn_with(|c| {
        c.exec_sandbox_assume_no_landlock = true;
        c.exec_sandbox = hake::config::ExecSandboxMode::Off;
    })
    .await;
    let info: Value = app.get_json("/node_info").await;
    assert_eq!(info["ExecSandbox"]["Landlock"], false, "{info}");
    assert_eq!(info["ExecSandbox"]["TcpRules"], false, "{info}");
    let id = app
        .submit_ok(exec_spec(&["sh", "-c", "echo ${CARGO_PKG_NAME:-unset}"]))
        .await;
    let state = app.wait_terminal(&id, 20).await;
    assert_eq!(run_stdout(&state), "unset\n", "{state}");
}

#[test]
fn the_real_binary_refuses_exec_without_landlock_and_logs_loudly_when_off() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hake"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--docker",
            "off",
            "--allow-exec",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("HAKE_EXEC_SANDBOX_ASSUME_NO_LANDLOCK", "true")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lacks Landlock"), "{stderr}");

    let proc = crate::process::serve_with_env(
        dir.path(),
        &["--allow-exec", "--exec-sandbox", "off"],
        &[
            ("RUST_LOG", "hake=info"),
            ("HAKE_EXEC_SANDBOX_ASSUME_NO_LANDLOCK", "true"),
        ],
    );
    assert!(proc.logged("Exec jobs are NOT confined by Landlock"));
}

#[tokio::test]
async fn exec_user_runs_jobs_as_that_user_with_their_outputs() {
    if !nix::unistd::geteuid().is_root() {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("skipping: --exec-user needs the tests to run as root");
        return;
    }
    let nobody = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("user nobody");
    let app = spawn_with(|c| c.exec_user = Some("nobody".into())).await;
    let (verdicts, state) = probe(
        &app,
        "id -u; p write_output sh -c 'echo made > \"$HAKE_OUTPUTS/out/made.txt\"'; p write_home touch \"$HOME/h\"",
        |s| {
            s["PublisherSpec"] = json!({"Type": "Local"});
            s["outputs"] = json!([{"Name": "out", "path": "/outputs"}]);
        },
    )
    .await;
    assert_verdicts(
        &verdicts,
        &[("write_output", "allowed"), ("write_home", "allowed")],
    );
    assert!(
        run_stdout(&state).starts_with(&format!("{}\n", nobody.uid)),
        "{state}"
    );
    let files = download_results(&app, state["JobID"].as_str().unwrap()).await;
    assert_eq!(
        files.get("out/made.txt").map(String::as_str),
        Some("made\n")
    );
}

#[tokio::test]
async fn bad_exec_sandbox_settings_stop_the_server_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let base = || {
        let mut c = hake::ServeConfig::for_dir(dir.path().join("data"));
        c.listen = "127.0.0.1:0".parse().unwrap();
        c.allow_exec = true;
        c.docker = hake::config::DockerMode::Off;
        c.exec_helper = Some(env!("CARGO_BIN_EXE_hake").into());
        c
    };
    let mut c = base();
    c.exec_user = Some("no-such-user-for-hake".into());
    let err = format!("{:#}", hake::app::Server::build(c).await.unwrap_err());
    assert!(err.contains("--exec-user"), "{err}");
    let mut c = base();
    c.exec_helper = Some(dir.path().join("missing-hake"));
    let err = format!("{:#}", hake::app::Server::build(c).await.unwrap_err());
    assert!(err.contains("--exec-helper"), "{err}");
    if nix::unistd::geteuid().is_root() {
        use std::os::unix::fs::PermissionsExt as _;
        let private = dir.path().join("private");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        let mut c = base();
        c.data_dir = private.join("data");
        c.exec_user = Some("nobody".into());
        let err = format!("{:#}", hake::app::Server::build(c).await.unwrap_err());
        assert!(err.contains("cannot reach the data dir"), "{err}");
    }
}
