//! S3 inputs and the S3 publisher against moto's S3 server (see `s3_support`): objects and
//! prefixes land where the job sees them, versions and checksums are honoured, broken
//! inputs fail naming `s3://bucket/key`, results are uploaded file by file or as one
//! tarball with the key's placeholders filled in, and `hake results --download` fetches
//! them with the user's own credentials. Submit-time checks need no server.

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Digest as _;

use crate::helpers::*;
use crate::s3_support::*;
use hake::auth::Signer;

fn bucket_name(tag: &str) -> String {
    format!(
        "hake-{tag}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Prints every input file as `path=content`, sorted.
const LIST_INPUTS: &str = r#"cd "$HAKE_INPUTS" && for f in $(/usr/bin/find . -type f | /usr/bin/sort); do echo "$f=$(/usr/bin/cat "$f")"; done"#;

#[tokio::test]
async fn s3_keys_prefixes_and_versions_land_in_the_input_directories() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let b = bucket_name("in");
    moto.bucket(&b, true);
    let v1 = moto.put(&b, "data/one.csv", b"one-v1");
    moto.put(&b, "data/one.csv", b"one-v2");
    moto.put(&b, "data/sub/two.txt", b"two");
    moto.put(&b, "data/part-1", b"p1");
    moto.put(&b, "data/part-2", b"p2");
    moto.put(&b, "other/x", b"x");
    assert_ne!(v1, "-", "the bucket keeps versions");
    let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b"one-v2"));

    let dir = tempfile::tempdir().unwrap();
    let p = node(dir.path(), &key_env(dir.path()));
    let signer = Signer::generate_ed25519();
    let mut spec = sh_job(LIST_INPUTS);
    spec["inputs"] = json!([
        s3_input(
            &moto,
            json!({"Bucket": b, "Key": "data/one.csv", "ChecksumSHA256": sha}),
            "/single"
        ),
        s3_input(
            &moto,
            json!({"Bucket": b, "Key": "data/one.csv", "VersionID": v1}),
            "/old"
        ),
        s3_input(&moto, json!({"Bucket": b, "Key": "data/"}), "/prefix"),
        s3_input(&moto, json!({"Bucket": b, "Key": "data/part-*"}), "/star"),
    ]);
    let id = submit(&p, &signer, spec).await;
    let state = finished(&p, &id).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let stdout = state["Executions"][0]["RunOutput"]["stdout"]
        .as_str()
        .unwrap();
    assert_eq!(
        stdout,
        "./old/one.csv=one-v1\n\
         ./prefix/one.csv=one-v2\n\
         ./prefix/part-1=p1\n\
         ./prefix/part-2=p2\n\
         ./prefix/sub/two.txt=two\n\
         ./single/one.csv=one-v2\n\
         ./star/part-1=p1\n\
         ./star/part-2=p2\n"
    );
}

#[tokio::test]
async fn broken_s3_inputs_fail_the_execution_naming_the_object() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let b = bucket_name("bad");
    moto.bucket(&b, false);
    moto.put(&b, "a.txt", b"hello");
    let wrong = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b"other"));

    let dir = tempfile::tempdir().unwrap();
    let p = node(dir.path(), &key_env(dir.path()));
    let signer = Signer::generate_ed25519();
    let cases = [
        (
            json!({"Bucket": b, "Key": "a.txt", "ChecksumSHA256": wrong}),
            format!("s3://{b}/a.txt: checksum mismatch"),
        ),
        (
            json!({"Bucket": b, "Key": "missing.txt"}),
            format!("s3://{b}/missing.txt: no such key"),
        ),
        (
            json!({"Bucket": format!("{b}-absent"), "Key": "a.txt"}),
            format!("s3://{b}-absent/a.txt: no such bucket"),
        ),
        (
            json!({"Bucket": b, "Key": "nothing/"}),
            format!("s3://{b}/nothing/: no objects under this prefix"),
        ),
    ];
    for (s3, expect) in cases {
        // The job would print this if it ran: it must not.
        let mut spec = sh_job("echo ran");
        spec["inputs"] = json!([s3_input(&moto, s3.clone(), "/in")]);
        let id = submit(&p, &signer, spec).await;
        let state = finished(&p, &id).await;
        assert_eq!(state["State"], "Error", "{s3}: {state}");
        let exec = &state["Executions"][0];
        let status = exec["Status"].as_str().unwrap();
        assert!(status.contains(&expect), "{s3}: {expect:?} in {status:?}");
        assert_eq!(exec["RunOutput"]["stdout"], "", "{s3}");
    }
}

#[tokio::test]
async fn s3_inputs_of_a_job_share_the_input_size_cap() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let b = bucket_name("cap");
    moto.bucket(&b, false);
    moto.put(&b, "d/a", &[b'a'; 600]);
    moto.put(&b, "d/b", &[b'b'; 600]);
    let dir = tempfile::tempdir().unwrap();
    let p = node_with(
        dir.path(),
        &key_env(dir.path()),
        &["--max-input-bytes", "1000"],
    );
    let signer = Signer::generate_ed25519();
    let job = |inputs: Value| {
        let mut spec = sh_job("echo ran");
        spec["inputs"] = inputs;
        spec
    };
    // Each object fits; one input of both does not, nor do two inputs of one each.
    let fits = job(json!([s3_input(
        &moto,
        json!({"Bucket": b, "Key": "d/a"}),
        "/a"
    )]));
    let state = finished(&p, &submit(&p, &signer, fits).await).await;
    assert_eq!(state["State"], "Completed", "{state}");
    for inputs in [
        json!([s3_input(&moto, json!({"Bucket": b, "Key": "d/"}), "/d")]),
        json!([
            s3_input(&moto, json!({"Bucket": b, "Key": "d/a"}), "/a"),
            s3_input(&moto, json!({"Bucket": b, "Key": "d/b"}), "/b"),
        ]),
    ] {
        let state = finished(&p, &submit(&p, &signer, job(inputs.clone())).await).await;
        assert_eq!(state["State"], "Error", "{inputs}: {state}");
        let status = state["Executions"][0]["Status"].as_str().unwrap();
        assert!(
            status.contains(&format!("s3://{b}/d/b"))
                && status.contains("larger than the 1000-byte input limit"),
            "{status}"
        );
    }
}

/// A job printing well over 64 KiB, with an output holding a nested file.
fn publishing_job(publisher: Value) -> (Value, String) {
    let script = r#"/usr/bin/seq 1 40000; echo warn >&2; echo done > "$HAKE_OUTPUTS/out/result.txt"; /usr/bin/mkdir "$HAKE_OUTPUTS/out/deep" && echo n > "$HAKE_OUTPUTS/out/deep/n.txt""#;
    let mut spec = sh_job(script);
    spec["PublisherSpec"] = publisher;
    spec["outputs"] = json!([{"Name": "out", "StorageSource": "IPFS", "path": "/outputs/out"}]);
    let expected: String = (1..=40000).map(|i| format!("{i}\n")).collect();
    assert!(expected.len() > 200 * 1024);
    (spec, expected)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn s3_publisher_uploads_each_file_under_the_key_with_placeholders_filled() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let b = bucket_name("pub");
    moto.bucket(&b, false);
    let dir = tempfile::tempdir().unwrap();
    let env = key_env(dir.path());
    let p = node(dir.path(), &env);
    let signer = Signer::generate_ed25519();
    let (spec, expected) = publishing_job(json!({"Type": "S3", "Params": {
        "Bucket": b, "Key": "runs/{jobID}/{executionID}/{nodeID}", "Endpoint": moto.endpoint}}));
    let id = submit(&p, &signer, spec).await;
    let state = finished(&p, &id).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let exec = &state["Executions"][0];
    let (e, n) = (
        exec["ComputeReference"].as_str().unwrap(),
        exec["NodeId"].as_str().unwrap(),
    );
    assert!(!n.is_empty());
    let prefix = format!("runs/{id}/{e}/{n}/");
    assert_eq!(
        moto.ls(&b, "runs/"),
        [
            "exitCode",
            "out/deep/n.txt",
            "out/result.txt",
            "stderr",
            "stdout"
        ]
        .map(|f| format!("{prefix}{f}"))
    );
    // The whole stream, not the bounded RunOutput copy.
    assert_eq!(exec["RunOutput"]["stdouttruncated"], true);
    assert_eq!(text(moto.get(&b, &format!("{prefix}stdout"))), expected);
    assert_eq!(text(moto.get(&b, &format!("{prefix}stderr"))), "warn\n");
    assert_eq!(text(moto.get(&b, &format!("{prefix}exitCode"))), "0");
    assert_eq!(
        text(moto.get(&b, &format!("{prefix}out/result.txt"))),
        "done\n"
    );

    let (s, body) = p
        .post("/requester/results", json!({"job_id": id}).to_string())
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let r = &body["results"][0];
    assert_eq!(r["NodeID"], n);
    assert_eq!(r["Data"]["StorageSource"], "S3", "{body}");
    assert_eq!(
        r["Data"]["S3"],
        json!({"Bucket": b, "Key": prefix, "Endpoint": moto.endpoint})
    );

    cli_download(&p, &signer, &env, &id, dir.path()).await;
    let got = dir.path().join("downloaded").join(e);
    assert_eq!(
        std::fs::read_to_string(got.join("stdout")).unwrap(),
        expected
    );
    assert_eq!(std::fs::read_to_string(got.join("exitCode")).unwrap(), "0");
    assert_eq!(
        std::fs::read_to_string(got.join("out/deep/n.txt")).unwrap(),
        "n\n"
    );
}

/// Regular files of a tar.gz by path.
fn untar(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    use std::io::Read as _;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = std::collections::BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type().is_file() {
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            files.insert(path, text);
        }
    }
    files
}

#[tokio::test]
async fn compressed_s3_publisher_uploads_one_tarball_at_the_key() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let b = bucket_name("tgz");
    moto.bucket(&b, false);
    let dir = tempfile::tempdir().unwrap();
    let env = key_env(dir.path());
    let p = node(dir.path(), &env);
    let signer = Signer::generate_ed25519();
    let (spec, expected) = publishing_job(json!({"Type": "S3", "Params": {
        "Bucket": b, "Key": "archives/{jobID}.tar.gz", "Compress": "true", "Endpoint": moto.endpoint}}));
    let id = submit(&p, &signer, spec).await;
    let state = finished(&p, &id).await;
    assert_eq!(state["State"], "Completed", "{state}");
    let key = format!("archives/{id}.tar.gz");
    assert_eq!(moto.ls(&b, ""), vec![key.clone()]);
    let files = untar(&moto.get(&b, &key));
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "exitCode",
            "out/deep/n.txt",
            "out/result.txt",
            "stderr",
            "stdout"
        ]
    );
    assert_eq!(files["stdout"], expected);
    assert_eq!(state["Executions"][0]["PublishedResults"]["S3"]["Key"], key);

    cli_download(&p, &signer, &env, &id, dir.path()).await;
    let e = state["Executions"][0]["ComputeReference"].as_str().unwrap();
    let got = dir.path().join("downloaded").join(e);
    assert_eq!(
        std::fs::read_to_string(got.join("stdout")).unwrap(),
        expected
    );
    assert_eq!(
        std::fs::read_to_string(got.join("out/result.txt")).unwrap(),
        "done\n"
    );
}

#[tokio::test]
async fn credentials_come_from_a_profile_in_a_shared_credentials_file() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let b = bucket_name("prof");
    moto.bucket(&b, false);
    moto.put(&b, "a.txt", b"from a profile");
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials");
    std::fs::write(
        &creds,
        format!(
            "[hake-test]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        ),
    )
    .unwrap();
    let with_profile = |profile: &str| {
        let mut env = isolated_env(dir.path());
        env.retain(|(k, _)| k != "AWS_SHARED_CREDENTIALS_FILE");
        env.push((
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            creds.display().to_string(),
        ));
        env.push(("AWS_PROFILE".into(), profile.into()));
        env
    };
    let signer = Signer::generate_ed25519();
    let mut spec = sh_job(LIST_INPUTS);
    spec["inputs"] = json!([s3_input(&moto, json!({"Bucket": b, "Key": "a.txt"}), "/in")]);

    let p = node(dir.path(), &with_profile("hake-test"));
    let id = submit(&p, &signer, spec.clone()).await;
    let state = finished(&p, &id).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(
        state["Executions"][0]["RunOutput"]["stdout"],
        "./in/a.txt=from a profile\n"
    );
    drop(p);

    // A profile the file does not have: no credentials, and the input fails.
    let p = node(dir.path(), &with_profile("absent"));
    let id = submit(&p, &signer, spec).await;
    let state = finished(&p, &id).await;
    assert_eq!(state["State"], "Error", "{state}");
    let status = state["Executions"][0]["Status"].as_str().unwrap();
    assert!(status.contains(&format!("s3://{b}/a.txt")), "{status}");
}

#[tokio::test]
async fn bad_s3_inputs_and_publisher_params_are_400_naming_the_field() {
    let app = spawn_app().await;
    let input = |s3: Value| json!([{"StorageSource": "S3", "S3": s3, "path": "/in"}]);
    let noop = |extra: Value| {
        let mut spec = noop_spec();
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        spec
    };
    let cases = [
        (
            noop(json!({"inputs": [{"StorageSource": "S3", "path": "/in"}]})),
            "inputs[0].S3 is required",
        ),
        (
            noop(json!({"inputs": input(json!({"Key": "k"}))})),
            "inputs[0].S3.Bucket",
        ),
        (
            noop(json!({"inputs": input(json!({"Bucket": "b", "Key": "d/", "VersionID": "v"}))})),
            "inputs[0].S3.VersionID",
        ),
        (
            noop(
                json!({"inputs": input(json!({"Bucket": "b", "Key": "k", "ChecksumSHA256": "abc"}))}),
            ),
            "inputs[0].S3.ChecksumSHA256",
        ),
        (
            noop(
                json!({"inputs": input(json!({"Bucket": "b", "Key": "d/*", "ChecksumSHA256":
                "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="}))}),
            ),
            "inputs[0].S3.ChecksumSHA256 applies to a single key",
        ),
        (
            noop(
                json!({"inputs": input(json!({"Bucket": "b", "Key": "k", "Endpoint": "ftp://x"}))}),
            ),
            "inputs[0].S3.Endpoint",
        ),
        (
            noop(json!({"PublisherSpec": {"Type": "S3", "Params": {"Key": "k"}}})),
            "PublisherSpec.Params.Bucket",
        ),
        (
            noop(json!({"PublisherSpec": {"Type": "S3", "Params": {"Bucket": "b"}}})),
            "PublisherSpec.Params.Key",
        ),
        (
            noop(
                json!({"PublisherSpec": {"Type": "S3", "Params": {"Bucket": "b", "Key": "k", "Compress": "maybe"}}}),
            ),
            "PublisherSpec.Params.Compress",
        ),
        (
            noop(
                json!({"PublisherSpec": {"Type": "S3", "Params": {"Bucket": "b", "Key": "k", "Regoin": "x"}}}),
            ),
            "PublisherSpec.Params.Regoin",
        ),
    ];
    for (spec, expect) in cases {
        let (status, body) = app.submit_as(&app.signer, spec.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{spec}: {body}");
        let msg = body["message"].as_str().unwrap();
        assert!(msg.contains(expect), "{spec}: {expect:?} in {msg:?}");
        assert!(body.get("code").is_some(), "{body}");
    }
}

/// Reads `data.txt` from its first preopened directory (the input at `/inputs`) and
/// prints it.
const WASM_CAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "data.txt")
  (func (export "_start")
    (local $err i32)
    (local.set $err (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 8)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32)))
    (if (local.get $err) (then (call $proc_exit (i32.add (i32.const 100) (local.get $err)))))
    (i32.store (i32.const 16) (i32.const 1024))
    (i32.store (i32.const 20) (i32.const 512))
    (drop (call $fd_read (i32.load (i32.const 32)) (i32.const 16) (i32.const 1) (i32.const 24)))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.load (i32.const 24)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

#[tokio::test]
async fn wasm_runs_an_entry_module_from_s3_reading_an_s3_input() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    let b = bucket_name("wasm");
    moto.bucket(&b, false);
    moto.put(&b, "modules/cat.wasm", &wat::parse_str(WASM_CAT).unwrap());
    moto.put(&b, "in/data.txt", b"read from S3 by Wasm\n");
    let dir = tempfile::tempdir().unwrap();
    let p = node(dir.path(), &key_env(dir.path()));
    let signer = Signer::generate_ed25519();
    let spec = json!({
        "Engine": "Wasm",
        "PublisherSpec": {"Type": "Noop"},
        "Wasm": {"EntryModule": s3_input(&moto, json!({"Bucket": b, "Key": "modules/cat.wasm"}), "")},
        "inputs": [s3_input(&moto, json!({"Bucket": b, "Key": "in/data.txt"}), "/inputs")],
        "Deal": {"Concurrency": 1},
    });
    let id = submit(&p, &signer, spec).await;
    let state = finished(&p, &id).await;
    assert_eq!(state["State"], "Completed", "{state}");
    assert_eq!(
        state["Executions"][0]["RunOutput"]["stdout"],
        "read from S3 by Wasm\n"
    );
}
