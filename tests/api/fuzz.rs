//! Property tests (proptest) over everything a client controls before the job service:
//! the signature check, the payload and Spec parsing, Spec validation, and whole signed
//! envelopes sent to a real server. Whatever the input: no panic, and the answer is a
//! success or a JSON 4xx error, never a 5xx. Case counts are bounded so this runs in
//! seconds.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};

use hake::api::dto::{CancelPayload, SubmitPayload};
use hake::api::extract::parse_value;
use hake::model::Spec;

use crate::helpers::*;

/// Field names of the wire model, so generated objects reach deep into the parsers.
const KEYS: &[&str] = &[
    "Engine",
    "Verifier",
    "Publisher",
    "PublisherSpec",
    "Type",
    "Params",
    "Docker",
    "Image",
    "Entrypoint",
    "Parameters",
    "EnvironmentVariables",
    "WorkingDirectory",
    "Wasm",
    "EntryModule",
    "EntryPoint",
    "ImportModules",
    "Exec",
    "Command",
    "Resources",
    "CPU",
    "Memory",
    "Disk",
    "GPU",
    "Network",
    "Domains",
    "Timeout",
    "inputs",
    "outputs",
    "StorageSource",
    "URL",
    "path",
    "Name",
    "SourcePath",
    "CID",
    "Annotations",
    "NodeSelectors",
    "Key",
    "Operator",
    "Values",
    "DoNotTrack",
    "Deal",
    "Concurrency",
    "Confidence",
    "MinBids",
    "ClientID",
    "APIVersion",
    "Spec",
    "Timestamp",
    "Nonce",
    "JobID",
    "Reason",
];

/// Values the model gives meaning to.
const WORDS: &[&str] = &[
    "Noop",
    "Docker",
    "Wasm",
    "Exec",
    "Language",
    "Inline",
    "URLDownload",
    "LocalDirectory",
    "IPFS",
    "S3",
    "Local",
    "Estuary",
    "None",
    "Full",
    "HTTP",
    "Deterministic",
    "data:,hi",
    "data:text/plain;base64,aGk=",
    "http://127.0.0.1:9/x",
    "/outputs",
    "/",
    "..",
    "1Gb",
    "0.5",
    "-1",
    "500m",
    "hake-test-busybox:latest",
    "in",
    "notin",
    "V1beta1",
    "",
    "\u{0}",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        // Go's key matching: the same names in other cases reach the same fields.
        1 => proptest::sample::select(KEYS).prop_map(str::to_ascii_lowercase),
        1 => proptest::sample::select(KEYS).prop_map(str::to_ascii_uppercase),
        1 => "[a-zA-Z_]{0,8}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,16}".prop_map(Value::String),
        proptest::sample::select(WORDS).prop_map(|w| Value::String(w.to_owned())),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A JSON object with model keys (what a payload or spec looks like, or almost).
fn json_object() -> impl Strategy<Value = Value> {
    proptest::collection::vec((key(), json_value()), 0..10)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn spec_parsing_and_validation_never_panic(v in json_object()) {
        match parse_value::<Spec>(v, "spec") {
            Ok(spec) => {
                let _ = hake::jobs::validate::spec(&spec);
            }
            Err(e) => prop_assert_eq!(e.status.as_u16(), 400),
        }
    }

    #[test]
    fn payload_parsing_never_panics(v in json_object()) {
        for r in [
            parse_value::<SubmitPayload>(v.clone(), "payload").err(),
            parse_value::<CancelPayload>(v, "payload").err(),
        ].into_iter().flatten() {
            prop_assert_eq!(r.status.as_u16(), 400);
        }
    }

    #[test]
    fn the_signature_check_never_panics(
        key in prop_oneof![
            proptest::collection::vec(any::<u8>(), 32..=32),
            proptest::collection::vec(any::<u8>(), 0..600).prop_map(|mut k| { k.insert(0, 0x30); k }),
            proptest::collection::vec(any::<u8>(), 0..80),
        ],
        key_text in prop_oneof![Just(None), "\\PC{0,40}".prop_map(Some)],
        sig in proptest::collection::vec(any::<u8>(), 0..600),
        sig_text in prop_oneof![Just(None), "\\PC{0,40}".prop_map(Some)],
        message in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let key = key_text.unwrap_or_else(|| B64.encode(&key));
        let sig = sig_text.unwrap_or_else(|| B64.encode(&sig));
        if let Ok(v) = hake::auth::verify(&key, &sig, &message) {
            prop_assert_eq!(v.client_id.len(), 64);
        }
        let _ = hake::auth::client_id_of(&key);
    }
}

/// How a valid envelope is damaged.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize),
    Insert(usize, u8),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let structural = proptest::sample::select(&b"{}[]\":,\\ 0an"[..]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), structural).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        if bytes.is_empty() {
            break;
        }
        let at = |i: usize| i % bytes.len();
        match *m {
            Mutation::Flip(i, b) => {
                let i = at(i);
                bytes[i] ^= b.max(1);
            }
            Mutation::Delete(i) => {
                bytes.remove(at(i));
            }
            Mutation::Insert(i, b) => {
                let i = at(i);
                bytes.insert(i, b);
            }
            Mutation::Truncate(i) => bytes.truncate(at(i)),
        }
    }
    bytes
}

/// A body: a mutated signed envelope (submit or cancel), or a valid envelope around an
/// arbitrary payload, or plain bytes.
fn body(signer: hake::auth::Signer) -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    let s1 = signer.clone();
    let s2 = signer;
    let route = proptest::sample::select(&["/requester/submit", "/requester/cancel"][..]);
    prop_oneof![
        (route.clone(), proptest::collection::vec(mutation(), 1..4)).prop_map(move |(r, ms)| {
            let payload = json!({"ClientID": s1.client_id(), "APIVersion": "V1beta1",
                                 "Spec": noop_spec(), "JobID": "0000000", "Nonce": "n"})
            .to_string();
            (r, mutate(s1.envelope(&payload).into_bytes(), &ms))
        }),
        (route.clone(), json_object()).prop_map(move |(r, mut payload)| {
            if let Value::Object(m) = &mut payload {
                m.insert("ClientID".into(), json!(s2.client_id()));
            }
            (r, s2.envelope(&payload.to_string()).into_bytes())
        }),
        (route, proptest::collection::vec(any::<u8>(), 0..256)),
    ]
}

#[test]
fn mutated_envelopes_get_json_4xx_or_200_from_a_real_server_never_5xx() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(spawn_app());
    let mut runner = proptest::test_runner::TestRunner::new(config(256));
    runner
        .run(&body(app.signer.clone()), |(route, bytes)| {
            let (status, json) = rt.block_on(app.post_raw(route, bytes));
            prop_assert!(
                status.is_success() || status.is_client_error(),
                "{status} {json}"
            );
            if status.is_client_error() {
                prop_assert!(json["code"].is_string(), "not a JSON error: {json}");
            }
            Ok(())
        })
        .unwrap();
    drop(app);
}
