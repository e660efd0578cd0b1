//! Go's key matching over the whole wire model: every level, every request type.

use serde::Deserialize;

use super::*;
use crate::api::dto::{
    CancelPayload, EventsRequest, ListRequest, LogsPayload, StateRequest, SubmitPayload,
    VersionRequest,
};
use crate::model::{Engine, Network, Publisher, Spec, StorageSource};

fn decode<T: DeserializeOwned>(text: &str) -> T {
    from_slice(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn exact_name_wins_else_the_first_case_insensitive_one() {
    let fields = ["path", "Path", "SourcePath"];
    assert_eq!(field_index(&fields, "path"), Some(0));
    assert_eq!(field_index(&fields, "Path"), Some(1));
    assert_eq!(field_index(&fields, "PATH"), Some(0));
    assert_eq!(field_index(&fields, "sourcepath"), Some(2));
    assert_eq!(field_index(&fields, "source_path"), None);
    assert_eq!(field_index(&fields, "pat"), None);
    assert_eq!(field_index(&fields, "paths"), None);
}

#[test]
fn non_ascii_runes_fold_as_go_folds_them() {
    // U+212A KELVIN SIGN folds to K, U+017F LONG S to S, dotless and dotted I to I.
    assert_eq!(field_index(&["Key"], "\u{212A}ey"), Some(0));
    assert_eq!(field_index(&["Spec"], "\u{17F}pec"), Some(0));
    assert_eq!(field_index(&["ID"], "\u{131}d"), Some(0));
    assert_eq!(field_index(&["ID"], "\u{130}D"), Some(0));
    assert_eq!(field_index(&["Spec"], "Spéc"), None);
    assert_eq!(field_index(&["Straße"], "STRAßE"), Some(0));
}

#[test]
fn the_airflow_provider_payload_fills_every_field() {
    let p: SubmitPayload = decode(
        r#"{"apiversion": "V1beta1", "clientid": "abc", "spec": {"engine": "Docker",
            "publisher": "IPFS", "docker": {"image": "ubuntu", "entrypoint": ["echo", "hi"]},
            "deal": {"concurrency": 1}}}"#,
    );
    assert_eq!(p.client_id, "abc");
    assert_eq!(p.api_version, "V1beta1");
    let spec = p.spec.expect("spec");
    assert_eq!(spec.engine, Some(Engine::Docker));
    assert_eq!(spec.publisher, Some(Publisher::Ipfs));
    assert_eq!(spec.docker.image, "ubuntu");
    assert_eq!(spec.docker.entrypoint, ["echo", "hi"]);
    assert_eq!(spec.deal.concurrency, 1);
}

#[test]
fn upper_lower_and_mixed_case_keys_fill_every_nested_level() {
    let spec: Spec = decode(
        r#"{"ENGINE": "wasm", "verifier": "noop",
            "PUBLISHERSPEC": {"TYPE": "local", "params": {"x": 1}},
            "Docker": {"IMAGE": "i", "ENTRYPOINT": ["a"], "parameters": ["p"],
                       "environmentvariables": ["A=1"], "WorkingDIRECTORY": "/w"},
            "wasm": {"entrymodule": {"storagesource": "inline", "url": "data:,x"},
                     "ENTRYPOINT": "main", "PARAMETERS": ["-v"],
                     "importmodules": []},
            "exec": {"COMMAND": ["true"], "workingdirectory": "/tmp"},
            "Resources": {"cpu": "500m", "MEMORY": "1Gb", "disk": "1Gb", "gpu": "1"},
            "network": {"type": "http", "DOMAINS": ["example.com"]},
            "TIMEOUT": 30,
            "Inputs": [{"StorageSource": "urldownload", "Url": "http://x/y", "PATH": "/in",
                        "READWRITE": true, "cid": "Qm", "NAME": "n", "s3": {"Bucket": "b"}}],
            "OUTPUTS": [{"name": "out", "Path": "/out"}],
            "ANNOTATIONS": ["t"],
            "nodeselectors": [{"KEY": "k", "operator": "in", "VALUES": ["v"]}],
            "DoNotTRACK": true,
            "deal": {"CONCURRENCY": 2, "confidence": 1, "minbids": 1}}"#,
    );
    assert_eq!(spec.engine, Some(Engine::Wasm));
    assert_eq!(spec.publisher_spec.kind, Some(Publisher::Local));
    assert_eq!(spec.publisher_spec.params["x"], 1);
    assert_eq!(spec.docker.image, "i");
    assert_eq!(spec.docker.entrypoint, ["a"]);
    assert_eq!(spec.docker.parameters, ["p"]);
    assert_eq!(spec.docker.environment_variables, ["A=1"]);
    assert_eq!(spec.docker.working_directory, "/w");
    assert_eq!(
        spec.wasm.entry_module.storage_source,
        Some(StorageSource::Inline)
    );
    assert_eq!(spec.wasm.entry_module.url, "data:,x");
    assert_eq!(spec.wasm.entry_point, "main");
    assert_eq!(spec.wasm.parameters, ["-v"]);
    let exec = spec.exec.expect("exec");
    assert_eq!(exec.command, ["true"]);
    assert_eq!(exec.working_directory, "/tmp");
    assert_eq!(
        (spec.resources.cpu.as_str(), spec.resources.memory.as_str()),
        ("500m", "1Gb")
    );
    assert_eq!(
        (spec.resources.disk.as_str(), spec.resources.gpu.as_str()),
        ("1Gb", "1")
    );
    assert_eq!(spec.network.kind, Network::Http);
    assert_eq!(spec.network.domains, ["example.com"]);
    assert_eq!(spec.timeout, 30.0);
    let input = &spec.inputs[0];
    assert_eq!(input.storage_source, Some(StorageSource::UrlDownload));
    assert_eq!(
        (input.url.as_str(), input.path.as_str()),
        ("http://x/y", "/in")
    );
    assert!(input.read_write);
    assert_eq!((input.cid.as_str(), input.name.as_str()), ("Qm", "n"));
    assert_eq!(input.s3.as_ref().map(|s3| s3.bucket.as_str()), Some("b"));
    assert_eq!(
        (spec.outputs[0].name.as_str(), spec.outputs[0].path.as_str()),
        ("out", "/out")
    );
    assert_eq!(spec.annotations, ["t"]);
    let sel = &spec.node_selectors[0];
    assert_eq!((sel.key.as_str(), sel.operator.as_str()), ("k", "in"));
    assert_eq!(sel.values, ["v"]);
    assert!(spec.do_not_track);
    assert_eq!(
        (
            spec.deal.concurrency,
            spec.deal.confidence,
            spec.deal.min_bids
        ),
        (2, 1, 1)
    );
}

#[test]
fn map_keys_and_free_form_objects_are_not_rewritten() {
    let spec: Spec = decode(
        r#"{"wasm": {"environmentvariables": {"Foo": "1", "foo": "2", "FOO": "3"}},
            "exec": {"EnvironmentVariables": {"path": "p"}},
            "publisherspec": {"params": {"Key": 1, "KEY": 2}},
            "inputs": [{"metadata": {"Name": "a", "name": "b"}, "S3": {"bucket": "x", "Bucket": "y"}}]}"#,
    );
    let env: Vec<(&str, &str)> = spec
        .wasm
        .environment_variables
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(env, [("FOO", "3"), ("Foo", "1"), ("foo", "2")]);
    assert_eq!(spec.exec.unwrap().environment_variables["path"], "p");
    assert_eq!(spec.publisher_spec.params.len(), 2);
    let input = &spec.inputs[0];
    assert_eq!(
        (
            input.metadata["Name"].as_str(),
            input.metadata["name"].as_str()
        ),
        ("a", "b")
    );
    // `S3` is a typed object (S3StorageSpec), so its fields match as Go matches them: the
    // last member that fills `Bucket` wins.
    assert_eq!(input.s3.as_ref().map(|s3| s3.bucket.as_str()), Some("y"));
}

#[test]
fn a_field_filled_twice_keeps_the_last_member_whatever_its_case() {
    let p: CancelPayload =
        decode(r#"{"ClientID": "a", "clientid": "b", "JOBID": "j1", "JobID": "j2"}"#);
    assert_eq!((p.client_id.as_str(), p.job_id.as_str()), ("b", "j2"));
    let p: CancelPayload = decode(r#"{"clientid": "b", "ClientID": "a"}"#);
    assert_eq!(p.client_id, "a");
    // The same key twice: serde alone would refuse it as a duplicate field.
    let p: CancelPayload = decode(r#"{"Reason": "x", "Reason": "y"}"#);
    assert_eq!(p.reason, "y");
    // A null member leaves the field as the earlier member set it.
    let p: CancelPayload = decode(r#"{"ClientID": "a", "clientid": null}"#);
    assert_eq!(p.client_id, "a");
}

#[test]
fn an_object_filled_twice_merges_field_by_field_as_go_decodes_into_it() {
    let p: SubmitPayload = decode(
        r#"{"Spec": {"Engine": "Docker", "Docker": {"Image": "a", "Entrypoint": ["x"]}},
            "spec": {"DOCKER": {"image": "b"}, "deal": {"concurrency": 3}}}"#,
    );
    let spec = p.spec.unwrap();
    assert_eq!(spec.engine, Some(Engine::Docker));
    assert_eq!(spec.docker.image, "b");
    assert_eq!(spec.docker.entrypoint, ["x"]);
    assert_eq!(spec.deal.concurrency, 3);
    // Arrays decode into the existing elements and take the later length.
    let spec: Spec = decode(
        r#"{"outputs": [{"Name": "a", "path": "/a"}, {"Name": "b"}], "OUTPUTS": [{"Name": "c"}],
            "annotations": ["x", "y"], "Annotations": ["z"]}"#,
    );
    assert_eq!(spec.outputs.len(), 1);
    assert_eq!(
        (spec.outputs[0].name.as_str(), spec.outputs[0].path.as_str()),
        ("c", "/a")
    );
    assert_eq!(spec.annotations, ["z"]);
}

#[test]
fn unknown_keys_are_ignored_at_every_level() {
    let p: SubmitPayload = decode(
        r#"{"ClientID": "a", "Bogus": {"deep": [1]}, "spec": {"Nope": 1, "deal": {"what": true, "concurrency": 1}}}"#,
    );
    assert_eq!(p.client_id, "a");
    assert_eq!(p.spec.unwrap().deal.concurrency, 1);
}

#[test]
fn wrong_types_are_still_errors_naming_what_was_expected() {
    let e = from_slice::<Spec>(br#"{"deal": {"concurrency": "two"}}"#).unwrap_err();
    assert!(
        e.to_string()
            .contains("invalid type: string \"two\", expected i64"),
        "{e}"
    );
    let e = from_slice::<Spec>(br#"{"ENGINE": "diesel"}"#).unwrap_err();
    assert!(e.to_string().contains("unknown Engine \"diesel\""), "{e}");
    let e = from_slice::<Spec>(br#"{"inputs": {"path": "/x"}}"#).unwrap_err();
    assert!(e.to_string().contains("expected a sequence"), "{e}");
    assert!(from_slice::<Spec>(br#"[1, 2]"#).is_err());
    assert!(from_slice::<Spec>(b"{").is_err());
}

#[test]
fn every_unsigned_request_matches_keys_without_case() {
    let l: ListRequest = decode(
        r#"{"CLIENT_ID": "c", "Id": "i", "include_TAGS": ["a"], "EXCLUDE_tags": ["b"],
            "MAX_JOBS": 3, "Return_All": true, "SORT_BY": "id", "sort_REVERSE": true,
            "Next_Token": "n", "STATES": ["running"]}"#,
    );
    assert_eq!((l.client_id.as_str(), l.id.as_str()), ("c", "i"));
    assert_eq!(
        (l.include_tags.as_slice(), l.exclude_tags.as_slice()),
        (&["a".to_owned()][..], &["b".to_owned()][..])
    );
    assert_eq!((l.max_jobs, l.return_all, l.sort_reverse), (3, true, true));
    assert_eq!((l.sort_by.as_str(), l.next_token.as_str()), ("id", "n"));
    assert_eq!(l.states, ["running"]);

    let s: StateRequest =
        decode(r#"{"Client_ID": "c", "JOB_ID": "j", "AFTER_version": 2, "Wait_Seconds": 1.5}"#);
    assert_eq!((s.client_id.as_str(), s.job_id.as_str()), ("c", "j"));
    assert_eq!((s.after_version, s.wait_seconds), (Some(2), Some(1.5)));

    let e: EventsRequest = decode(
        r#"{"job_ID": "j", "FILTERS": {"SINCE": 5, "Exclude_Execution_Level": true, "exclude_job_LEVEL": true}}"#,
    );
    assert_eq!(e.job_id, "j");
    assert_eq!(e.filters.since, 5);
    assert!(e.filters.exclude_execution_level && e.filters.exclude_job_level);

    let v: VersionRequest = decode(r#"{"CLIENT_ID": "c"}"#);
    assert_eq!(v.client_id, "c");
}

#[test]
fn every_signed_payload_matches_keys_without_case() {
    let c: CancelPayload =
        decode(r#"{"clientid": "c", "JOBID": "j", "reason": "r", "TIMESTAMP": 5, "nonce": "n"}"#);
    assert_eq!(
        (c.client_id.as_str(), c.job_id.as_str(), c.reason.as_str()),
        ("c", "j", "r")
    );
    assert_eq!((c.timestamp, c.nonce.as_deref()), (Some(5), Some("n")));

    let l: LogsPayload = decode(
        r#"{"CLIENTID": "c", "jobid": "j", "executionId": "e", "withhistory": false, "FOLLOW": true,
            "afterseq": 4, "SinceMs": 6, "TAIL": 3, "stream": "stdout", "timestamp": 7, "NONCE": "n"}"#,
    );
    assert_eq!(
        (
            l.client_id.as_str(),
            l.job_id.as_str(),
            l.execution_id.as_str()
        ),
        ("c", "j", "e")
    );
    assert_eq!(
        (l.with_history, l.follow, l.after_seq, l.since_ms, l.tail),
        (Some(false), true, Some(4), Some(6), Some(3))
    );
    assert_eq!(
        (l.stream.as_deref(), l.timestamp, l.nonce.as_deref()),
        (Some("stdout"), Some(7), Some("n"))
    );

    let s: SubmitPayload = decode(
        r#"{"CLIENTID": "c", "ApiVersion": "V1beta1", "SPEC": {}, "timestamp": 1, "Nonce": "n"}"#,
    );
    assert_eq!(
        (s.client_id.as_str(), s.api_version.as_str()),
        ("c", "V1beta1")
    );
    assert!(s.spec.is_some());
    assert_eq!((s.timestamp, s.nonce.as_deref()), (Some(1), Some("n")));
}

#[test]
fn decoded_requests_serialize_with_the_canonical_names() {
    let p: SubmitPayload = decode(
        r#"{"clientid": "c", "apiversion": "V1beta1", "spec": {"resources": {"cpu": "1"}, "INPUTS": [{"PATH": "/i"}]}}"#,
    );
    let out = serde_json::to_value(&p).unwrap();
    assert_eq!(out["ClientID"], "c");
    assert_eq!(out["APIVersion"], "V1beta1");
    assert_eq!(out["Spec"]["Resources"]["CPU"], "1");
    assert_eq!(out["Spec"]["inputs"][0]["path"], "/i");
    assert!(out.get("clientid").is_none() && out["Spec"].get("INPUTS").is_none());
}

#[test]
fn enums_serde_derives_decode_from_strings_and_one_member_objects() {
    #[derive(Debug, Deserialize, PartialEq)]
    enum Shape {
        Dot,
        Circle(f64),
        Rect { w: u8, h: u8 },
    }
    #[derive(Debug, Deserialize, PartialEq)]
    struct Holder {
        shapes: Vec<Shape>,
    }
    let h: Holder = decode(r#"{"SHAPES": ["Dot", {"Circle": 1.5}, {"Rect": {"W": 1, "h": 2}}]}"#);
    assert_eq!(
        h.shapes,
        [Shape::Dot, Shape::Circle(1.5), Shape::Rect { w: 1, h: 2 }]
    );
    assert!(from_slice::<Holder>(br#"{"shapes": [{"Dot": 1, "Circle": 2}]}"#).is_err());
}

#[test]
fn no_wire_type_buffers_its_keys_past_the_matcher() {
    // serde decodes `flatten` structs through `deserialize_map` and untagged or
    // internally tagged enums through its own buffer: neither would reach
    // `deserialize_struct`, where keys are matched, so the wire model uses none of them.
    for (file, text) in [
        ("src/model/mod.rs", include_str!("../mod.rs")),
        ("src/model/enums.rs", include_str!("../enums.rs")),
        ("src/api/dto.rs", include_str!("../../api/dto.rs")),
    ] {
        for attr in ["flatten", "untagged", "tag =", "tag="] {
            assert!(!text.contains(attr), "{file} uses serde `{attr}`");
        }
    }
}
