//! `hake sign`: prints a signed envelope so plain `curl` can use the signed routes.
//! Every payload the CLI signs carries `Timestamp` (unix ms) and a random `Nonce`.

use std::path::PathBuf;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Signer;
use crate::model::decode::{self, Tree};

/// What to sign.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SignWhat {
    /// A submit envelope around a spec file (JSON or YAML; `-` for stdin).
    Submit {
        /// The spec, or a whole `{"Spec": ...}` payload.
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
    /// A cancel envelope.
    Cancel {
        /// Job id (or unique prefix).
        job: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// A logs envelope.
    Logs {
        /// Job id (or unique prefix).
        job: String,
        /// Execution id (default: the latest).
        #[arg(long)]
        execution: Option<String>,
        /// Keep the stream open until the execution ends.
        #[arg(short = 'f', long)]
        follow: bool,
        /// Only the last N lines.
        #[arg(long)]
        tail: Option<u64>,
    },
}

/// Timestamp and nonce for a fresh payload.
pub fn freshness() -> (i64, String) {
    (
        crate::time::now().timestamp_millis(),
        uuid::Uuid::new_v4().to_string(),
    )
}

/// Reads a spec file (JSON or YAML); accepts a bare Spec or a payload with `Spec` (the
/// key matched as the server matches keys: `spec` and `SPEC` count). The spec is kept in
/// document order, repeated keys included, for the server to decode.
pub fn read_spec(path: &PathBuf) -> anyhow::Result<Tree> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the spec from stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    parse_spec(&text, &path.display().to_string())
}

/// Parses spec text (JSON or YAML; a bare Spec or a payload with `Spec`, the key matched
/// as the server matches keys); `origin` names the text in errors. The spec is kept in
/// document order, repeated keys included, for the server to decode.
pub fn parse_spec(text: &str, origin: &str) -> anyhow::Result<Tree> {
    let v: Tree = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(json_err) => serde_norway::from_str(text).map_err(|yaml_err| {
            anyhow::anyhow!("{origin} is neither JSON ({json_err}) nor YAML ({yaml_err})")
        })?,
    };
    /// A whole payload: only its spec is used.
    #[derive(Deserialize)]
    struct Payload {
        #[serde(rename = "Spec")]
        spec: Option<Tree>,
    }
    let payload = match &v {
        Tree::Object(_) => {
            decode::from_tree::<Payload>(v.clone()).with_context(|| format!("reading {origin}"))?
        }
        _ => Payload { spec: None },
    };
    Ok(payload.spec.unwrap_or(v))
}

/// The submit payload text for `spec`.
pub fn submit_payload(signer: &Signer, spec: &Tree) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Payload<'a> {
        #[serde(rename = "ClientID")]
        client_id: &'a str,
        #[serde(rename = "APIVersion")]
        api_version: &'a str,
        spec: &'a Tree,
        timestamp: i64,
        nonce: String,
    }
    let (timestamp, nonce) = freshness();
    serde_json::to_string(&Payload {
        client_id: &signer.client_id(),
        api_version: "V1beta1",
        spec,
        timestamp,
        nonce,
    })
    .expect("payloads serialize")
}

/// The cancel payload text.
pub fn cancel_payload(signer: &Signer, job: &str, reason: &str) -> String {
    let (ts, nonce) = freshness();
    json!({"ClientID": signer.client_id(), "JobID": job, "Reason": reason, "Timestamp": ts, "Nonce": nonce}).to_string()
}

/// Runs `hake sign`.
pub fn run(signer: &Signer, what: &SignWhat) -> anyhow::Result<()> {
    let payload = match what {
        SignWhat::Submit { file } => submit_payload(signer, &read_spec(file)?),
        SignWhat::Cancel { job, reason } => cancel_payload(signer, job, reason),
        SignWhat::Logs {
            job,
            execution,
            follow,
            tail,
        } => {
            let (ts, nonce) = freshness();
            let mut p = json!({"ClientID": signer.client_id(), "JobID": job, "WithHistory": true,
                               "Follow": follow, "Timestamp": ts, "Nonce": nonce});
            if let Some(e) = execution {
                p["ExecutionID"] = json!(e);
            }
            if let Some(t) = tail {
                p["Tail"] = json!(t);
            }
            p.to_string()
        }
    };
    println!("{}", signer.envelope(&payload));
    Ok(())
}
