//! The Wasm engine end to end: real wasmtime running modules written here as WAT, sent
//! Inline as base64 data URLs, observed through the requester API.

use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// WASI imports used by the modules below.
const IMPORTS: &str = r#"
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
"#;

/// `$print(ptr, len)` writes bytes to stdout; `$print_err` to stderr. Scratch memory below
/// 64 holds the iovec and counters.
const PRINT: &str = r#"
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $print (param i32 i32) (call $write (i32.const 1) (local.get 0) (local.get 1)))
  (func $print_err (param i32 i32) (call $write (i32.const 2) (local.get 0) (local.get 1)))
"#;

/// A module with the WASI imports, the print helpers, one page of memory and `body`.
fn module(body: &str) -> String {
    format!("(module {IMPORTS} (memory (export \"memory\") 1) {PRINT} {body})")
}

fn data_url(bytes: &[u8]) -> String {
    format!(
        "data:application/wasm;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// A Wasm spec running `wat` inline.
fn wasm_spec(wat: &str) -> Value {
    let bytes = wat::parse_str(wat).expect("test WAT compiles");
    raw_wasm_spec(&bytes)
}

fn raw_wasm_spec(bytes: &[u8]) -> Value {
    json!({
        "Engine": "Wasm",
        "PublisherSpec": {"Type": "Noop"},
        "Wasm": {"EntryModule": {"StorageSource": "Inline", "URL": data_url(bytes)}},
        "Deal": {"Concurrency": 1},
    })
}

const LOOP_FOREVER: &str = r#"(module (func (export "_start") (loop $l (br $l))))"#;

fn execution(state: &Value) -> &Value {
    &state["Executions"][0]
}

/// Waits until the job's only execution is running.
async fn wait_running(app: &TestApp, id: &str) {
    app.wait_for(id, 20, |s| s["Executions"][0]["State"] == "BidAccepted")
        .await;
}

#[tokio::test]
async fn wasm_hello_world_prints_to_stdout_and_completes() {
    let app = spawn_app().await;
    let wat = module(
        r#"(data (i32.const 64) "hello from wasm\n")
           (data (i32.const 96) "to stderr\n")
           (func (export "_start")
             (call $print (i32.const 64) (i32.const 16))
             (call $print_err (i32.const 96) (i32.const 10)))"#,
    );
    let id = app.submit_ok(wasm_spec(&wat)).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let exec = execution(&state);
    assert_eq!(exec["State"], "Completed");
    assert_eq!(exec["RunOutput"]["stdout"], "hello from wasm\n");
    assert_eq!(exec["RunOutput"]["stderr"], "to stderr\n");
    assert_eq!(exec["RunOutput"]["exitCode"], 0);
}

#[tokio::test]
async fn wasm_sees_parameters_as_argv_and_environment_variables_as_environ() {
    let app = spawn_app().await;
    // Prints argv, then environ, one entry per line (the NULs become newlines).
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func $print_list (param $buf i32) (param $len i32)
        (local $i i32)
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (if (i32.eqz (i32.load8_u (i32.add (local.get $buf) (local.get $i))))
            (then (i32.store8 (i32.add (local.get $buf) (local.get $i)) (i32.const 10))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (i32.store (i32.const 0) (local.get $buf))
        (i32.store (i32.const 4) (local.get $len))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
      (func (export "_start")
        (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
        (drop (call $args_get (i32.const 1024) (i32.const 4096)))
        (call $print_list (i32.const 4096) (i32.load (i32.const 20)))
        (drop (call $environ_sizes_get (i32.const 16) (i32.const 20)))
        (drop (call $environ_get (i32.const 1024) (i32.const 8192)))
        (call $print_list (i32.const 8192) (i32.load (i32.const 20)))))"#;
    let mut spec = wasm_spec(wat);
    spec["Wasm"]["Parameters"] = json!(["first", "second arg"]);
    spec["Wasm"]["EnvironmentVariables"] = json!({"GREETING": "hi there", "EMPTY": ""});
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(
        execution(&state)["RunOutput"]["stdout"],
        "main.wasm\nfirst\nsecond arg\nEMPTY=\nGREETING=hi there\n"
    );
}

#[tokio::test]
async fn wasm_proc_exit_three_fails_the_execution_with_exit_code_three() {
    let app = spawn_app().await;
    let wat = module(
        r#"(data (i32.const 64) "bye\n")
           (func (export "_start") (call $print (i32.const 64) (i32.const 4)) (call $proc_exit (i32.const 3)))"#,
    );
    let id = app.submit_ok(wasm_spec(&wat)).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Error", "{state}");
    let exec = execution(&state);
    assert_eq!(exec["State"], "Failed");
    assert_eq!(exec["RunOutput"]["exitCode"], 3);
    assert_eq!(exec["RunOutput"]["stdout"], "bye\n");
    assert_eq!(exec["Status"], "exit code 3");
}

#[tokio::test]
async fn wasm_proc_exit_zero_completes() {
    let app = spawn_app().await;
    let wat = module(r#"(func (export "_start") (call $proc_exit (i32.const 0)) unreachable)"#);
    let id = app.submit_ok(wasm_spec(&wat)).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(execution(&state)["RunOutput"]["exitCode"], 0);
}

#[tokio::test]
async fn wasm_trap_fails_the_execution_with_an_engine_error_naming_the_trap() {
    let app = spawn_app().await;
    let id = app
        .submit_ok(wasm_spec(
            r#"(module (func (export "_start") unreachable))"#,
        ))
        .await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Error", "{state}");
    let exec = execution(&state);
    assert_eq!(exec["State"], "Failed");
    let status = exec["Status"].as_str().unwrap();
    assert!(
        status.starts_with("engine error: the module failed: wasm trap:"),
        "{status}"
    );
    assert!(status.contains("unreachable"), "{status}");
    assert!(!status.contains('\n'), "one line, no backtrace: {status}");
    assert!(exec["RunOutput"]["runnerError"]
        .as_str()
        .unwrap()
        .contains("unreachable"));
}

#[tokio::test]
async fn wasm_infinite_loop_is_stopped_by_the_timeout() {
    let app = spawn_app().await;
    let mut spec = wasm_spec(LOOP_FOREVER);
    spec["Timeout"] = json!(1);
    let started = Instant::now();
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 30).await;
    let took = started.elapsed();
    assert_eq!(state["State"], "Error", "{state}");
    let exec = execution(&state);
    assert_eq!(exec["State"], "Failed");
    assert_eq!(exec["Status"], "timed out after 1s");
    assert!(took < Duration::from_secs(8), "stopping took {took:?}");
}

#[tokio::test]
async fn wasm_timeout_interrupts_a_module_sleeping_in_poll_oneoff() {
    let app = spawn_app().await;
    // One relative clock subscription of 60 s: userdata(0) tag(8)=clock id(16)=monotonic
    // timeout(24) precision(32) flags(40)=0; 48 bytes at 256, the event lands at 512.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (i32.store (i32.const 272) (i32.const 1))
        (i64.store (i32.const 280) (i64.const 60000000000))
        (drop (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 600)))))"#;
    let mut spec = wasm_spec(wat);
    spec["Timeout"] = json!(1);
    let started = Instant::now();
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(execution(&state)["Status"], "timed out after 1s", "{state}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "stopping took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn wasm_cancel_of_a_running_infinite_loop_cancels_quickly() {
    let app = spawn_app().await;
    let id = app.submit_ok(wasm_spec(LOOP_FOREVER)).await;
    wait_running(&app, &id).await;
    let started = Instant::now();
    let (status, body) = app.cancel_as(&app.signer, &id, "enough").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cancel took {:?}",
        started.elapsed()
    );
    let state = app.wait_terminal(&id, 10).await;
    assert_eq!(state["State"], "Cancelled", "{state}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn wasm_output_is_streamed_live_while_the_module_runs() {
    let app = spawn_app().await;
    let wat = module(
        r#"(data (i32.const 64) "tick\n")
           (func (export "_start") (call $print (i32.const 64) (i32.const 5)) (loop $l (br $l)))"#,
    );
    let id = app.submit_ok(wasm_spec(&wat)).await;
    wait_running(&app, &id).await;
    let exec_id = app.state(&id).await["Executions"][0]["ComputeReference"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = app
            .app
            .jobs
            .logs()
            .get(&exec_id)
            .expect("live log while running");
        let mut records = Vec::new();
        let _ = log.read_at(0, 1 << 20, &mut records);
        if let Some(r) = records.first() {
            assert_eq!(&r.data[..], b"tick\n");
            break;
        }
        assert!(Instant::now() < deadline, "no live output");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.state(&id).await["State"],
        "InProgress",
        "the module is still running"
    );
    let (status, body) = app.cancel_as(&app.signer, &id, "seen it").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.wait_terminal(&id, 10).await;
}

#[tokio::test]
async fn wasm_writes_to_an_output_dir_are_published_in_the_local_tarball() {
    let app = spawn_app().await;
    // fd 3 is the only preopen: the output at /outputs. Create result.txt and write to it.
    let wat = module(
        r#"(data (i32.const 64) "result.txt")
           (data (i32.const 96) "forty-two\n")
           (data (i32.const 128) "done\n")
           (func (export "_start")
             (local $err i32)
             ;; path_open(dirfd 3, dirflags 0, path, oflags CREAT|TRUNC, rights FD_WRITE, 0, fdflags 0, &fd)
             (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 10)
               (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 32)))
             (if (local.get $err) (then (call $proc_exit (i32.add (i32.const 100) (local.get $err)))))
             (call $write (i32.load (i32.const 32)) (i32.const 96) (i32.const 10))
             (call $print (i32.const 128) (i32.const 5)))"#,
    );
    let mut spec = wasm_spec(&wat);
    spec["PublisherSpec"] = json!({"Type": "Local"});
    spec["outputs"] = json!([{"Name": "out", "path": "/outputs"}]);
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Completed", "{state}");

    let files = download_results(&app, &id).await;
    assert_eq!(
        files.get("out/result.txt").map(String::as_str),
        Some("forty-two\n"),
        "{files:?}"
    );
    assert_eq!(files.get("stdout").map(String::as_str), Some("done\n"));
    assert_eq!(files.get("stderr").map(String::as_str), Some(""));
    assert_eq!(files.get("exitCode").map(String::as_str), Some("0"));
}

#[tokio::test]
async fn wasm_reads_an_inline_input_and_cannot_write_to_it() {
    let app = spawn_app().await;
    // fd 3 is /inputs (the directory of the file input). Read data.txt and print it, then
    // try to open it for writing and to create a file next to it.
    let wat = module(
        r#"(data (i32.const 64) "data.txt")
           (data (i32.const 80) "new.txt")
           (data (i32.const 96) "write denied\n")
           (data (i32.const 112) "write allowed\n")
           (data (i32.const 128) "create denied\n")
           (data (i32.const 144) "create allowed\n")
           (func $report (param $err i32) (param $denied i32) (param $allowed i32) (param $len i32)
             (if (local.get $err)
               (then (call $print (local.get $denied) (local.get $len)))
               (else (call $print (local.get $allowed) (i32.add (local.get $len) (i32.const 1))))))
           (func (export "_start")
             (local $err i32)
             ;; open data.txt with FD_READ (bit 1) and read it into 1024..
             (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 8)
               (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32)))
             (if (local.get $err) (then (call $proc_exit (i32.add (i32.const 100) (local.get $err)))))
             (i32.store (i32.const 16) (i32.const 1024))
             (i32.store (i32.const 20) (i32.const 512))
             (local.set $err (call $fd_read (i32.load (i32.const 32)) (i32.const 16) (i32.const 1) (i32.const 24)))
             (if (local.get $err) (then (call $proc_exit (i32.add (i32.const 200) (local.get $err)))))
             (call $print (i32.const 1024) (i32.load (i32.const 24)))
             ;; open data.txt with FD_WRITE (bit 6) and TRUNC
             (call $report
               (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 8)
                 (i32.const 8) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 32))
               (i32.const 96) (i32.const 112) (i32.const 13))
             ;; create new.txt
             (call $report
               (call $path_open (i32.const 3) (i32.const 0) (i32.const 80) (i32.const 7)
                 (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 32))
               (i32.const 128) (i32.const 144) (i32.const 14)))"#,
    );
    let mut spec = wasm_spec(&wat);
    spec["inputs"] = json!([{"StorageSource": "Inline", "URL": "data:,hello%20input%0A", "path": "/inputs/data.txt"}]);
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(
        execution(&state)["RunOutput"]["stdout"],
        "hello input\nwrite denied\ncreate denied\n"
    );
}

#[tokio::test]
async fn wasm_memory_is_capped_by_resources_memory() {
    let app = spawn_app().await;
    // Grow memory by 32 pages (2 MiB); print whether it worked.
    let wat = module(
        r#"(data (i32.const 64) "grow denied\n")
           (data (i32.const 80) "grow allowed\n")
           (func (export "_start")
             (if (i32.eq (memory.grow (i32.const 32)) (i32.const -1))
               (then (call $print (i32.const 64) (i32.const 12)))
               (else (call $print (i32.const 80) (i32.const 13)))))"#,
    );
    let mut limited = wasm_spec(&wat);
    limited["Resources"] = json!({"Memory": "1MiB", "GPU": ""});
    let limited = app.submit_ok(limited).await;
    let free = app.submit_ok(wasm_spec(&wat)).await;
    for (id, expected) in [(limited, "grow denied\n"), (free, "grow allowed\n")] {
        let state = app.wait_terminal(&id, 30).await;
        assert_eq!(state["State"], "Completed", "{state}");
        assert_eq!(execution(&state)["RunOutput"]["stdout"], expected);
    }
}

#[tokio::test]
async fn wasm_garbage_module_fails_with_a_clear_engine_error() {
    let app = spawn_app().await;
    let id = app
        .submit_ok(raw_wasm_spec(b"\x00asm\x01\x00\x00\x00this is not wasm"))
        .await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Error", "{state}");
    let status = execution(&state)["Status"].as_str().unwrap().to_owned();
    assert!(
        status.starts_with("engine error: the entry module is not a valid WebAssembly module"),
        "{status}"
    );

    let id = app
        .submit_ok(raw_wasm_spec(b"plain garbage \xff\xfe"))
        .await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Error", "{state}");
    assert!(execution(&state)["Status"]
        .as_str()
        .unwrap()
        .contains("not a valid WebAssembly module"));
}

#[tokio::test]
async fn wasm_unknown_imports_fail_instantiation_with_their_name() {
    let app = spawn_app().await;
    let wat = r#"(module (import "env" "host_magic" (func)) (func (export "_start")))"#;
    let id = app.submit_ok(wasm_spec(wat)).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Error", "{state}");
    let status = execution(&state)["Status"].as_str().unwrap();
    assert!(
        status.starts_with("engine error: instantiating the module failed"),
        "{status}"
    );
    assert!(status.contains("host_magic"), "{status}");
}

#[tokio::test]
async fn wasm_missing_entry_point_fails_with_its_name() {
    let app = spawn_app().await;
    let mut spec = wasm_spec(r#"(module (func (export "_start")))"#);
    spec["Wasm"]["EntryPoint"] = json!("run");
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Error", "{state}");
    let status = execution(&state)["Status"].as_str().unwrap();
    assert!(status.contains("no function named \"run\""), "{status}");
}

#[tokio::test]
async fn wasm_custom_entry_point_runs_after_initialize() {
    let app = spawn_app().await;
    let wat = module(
        r#"(data (i32.const 64) "init\nrun\n")
           (func (export "_initialize") (call $print (i32.const 64) (i32.const 5)))
           (func (export "run") (call $print (i32.const 69) (i32.const 4)))"#,
    );
    let mut spec = wasm_spec(&wat);
    spec["Wasm"]["EntryPoint"] = json!("run");
    let id = app.submit_ok(spec).await;
    let state = app.wait_terminal(&id, 30).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(execution(&state)["RunOutput"]["stdout"], "init\nrun\n");
}

#[tokio::test]
async fn wasm_submit_rejects_import_modules_bad_entry_points_and_memory_with_400() {
    let app = spawn_app().await;
    let ok = r#"(module (func (export "_start")))"#;
    let mut with_imports = wasm_spec(ok);
    with_imports["Wasm"]["ImportModules"] = json!([{"StorageSource": "Inline", "URL": "data:,x"}]);
    let mut bad_entry = wasm_spec(ok);
    bad_entry["Wasm"]["EntryPoint"] = json!("../etc/passwd");
    let mut bad_memory = wasm_spec(ok);
    bad_memory["Resources"] = json!({"Memory": "a lot", "GPU": ""});
    let mut no_source = wasm_spec(ok);
    no_source["Wasm"]["EntryModule"] = json!({"URL": "data:,x"});
    for (spec, needle) in [
        (with_imports, "Wasm.ImportModules is not supported"),
        (bad_entry, "Wasm.EntryPoint"),
        (bad_memory, "Resources.Memory"),
        (no_source, "Wasm.EntryModule.StorageSource is required"),
    ] {
        let (status, body) = app.submit_as(&app.signer, spec).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], "invalid-request", "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{needle}: {body}"
        );
    }
}
