//! The job model exactly as Bacalhau v0.3.26–v1.0.3 puts it on the wire: PascalCase
//! fields, the odd lower-case names (`inputs`, `outputs`, `path`, `NodeId`), enums as
//! strings, unknown fields ignored. hake's extensions are optional extra fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod decode;
mod enums;
pub mod spare;

pub use self::enums::*;
pub use self::spare::Spare;
use crate::time::{self, Time};

/// A job: what was asked for and who asked.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Job {
    /// Always `V1beta1`.
    #[serde(rename = "APIVersion", default)]
    pub api_version: String,
    /// Filled in by the server.
    #[serde(default)]
    pub metadata: Metadata,
    /// The job spec.
    #[serde(default)]
    pub spec: Spec,
}

/// Who submitted a job and when. The server fills every field.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata {
    /// The job id (a UUIDv4).
    #[serde(rename = "ID", default)]
    pub id: String,
    /// When the job was created.
    #[serde(with = "time::rfc3339", default = "time::zero")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    /// The submitting client (hex SHA-256 of its key material).
    #[serde(rename = "ClientID", default)]
    pub client_id: String,
    /// The node that accepted the job.
    #[serde(default)]
    pub requester: RequesterInfo,
}

impl Default for Metadata {
    fn default() -> Self {
        Self {
            id: String::new(),
            created_at: time::zero(),
            client_id: String::new(),
            requester: RequesterInfo::default(),
        }
    }
}

/// The node that accepted a job.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RequesterInfo {
    /// The node id.
    #[serde(rename = "RequesterNodeID", default)]
    pub requester_node_id: String,
    /// The node's public key (base64); hake leaves it empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub requester_public_key: String,
}

/// What to run and how.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Spec {
    /// The engine that runs the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<Engine>,
    /// The verifier (only `Noop` semantics are implemented).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier: Option<Verifier>,
    /// Deprecated copy of `PublisherSpec.Type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<Publisher>,
    /// Where outputs are published.
    #[serde(default)]
    pub publisher_spec: PublisherSpec,
    /// Docker engine parameters.
    #[serde(default)]
    #[schema(value_type = DockerSpec)]
    pub docker: Spare<DockerSpec>,
    /// Language engine parameters (not supported by hake; kept for the wire).
    #[serde(default)]
    #[schema(value_type = LanguageSpec)]
    pub language: Spare<LanguageSpec>,
    /// Wasm engine parameters.
    #[serde(default)]
    #[schema(value_type = WasmSpec)]
    pub wasm: Spare<WasmSpec>,
    /// Extension: host-process engine parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecSpec>,
    /// Requested resources.
    #[serde(default)]
    pub resources: Resources,
    /// Network access.
    #[serde(default)]
    pub network: NetworkConfig,
    /// Seconds before an execution is killed (0 means the server's default).
    #[serde(default)]
    pub timeout: f64,
    /// Input data, mounted at their `path`.
    #[serde(rename = "inputs", default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<StorageSpec>,
    /// Output directories, collected at their `path`.
    #[serde(rename = "outputs", default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<StorageSpec>,
    /// Free-form tags; `list` filters on them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<String>,
    /// Node label selectors (accepted, not used by a single node).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_selectors: Vec<LabelSelector>,
    /// Bacalhau's "do not track" flag.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub do_not_track: bool,
    /// How many executions to run.
    #[serde(default)]
    pub deal: Deal,
}

/// Publisher type and parameters.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PublisherSpec {
    /// The publisher.
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Publisher>,
    /// Publisher-specific parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub params: BTreeMap<String, serde_json::Value>,
}

/// Docker engine parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct DockerSpec {
    /// The image; pulled from its registry when it is not on the node (per the node's
    /// `--docker-pull`).
    #[serde(default)]
    pub image: String,
    /// The command to run (replaces the image's entrypoint).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    /// Extension: arguments appended after the entrypoint (the image's CMD).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<String>,
    /// `KEY=VALUE` pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment_variables: Vec<String>,
    /// The working directory inside the container.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_directory: String,
}

/// Language engine parameters (Bacalhau's; hake refuses the Language engine).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LanguageSpec {
    /// The language.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub language: String,
    /// Its version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub language_version: String,
    /// Whether the run must be deterministic.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deterministic_execution: bool,
    /// The job context.
    #[serde(default)]
    pub job_context: StorageSpec,
    /// The command.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub command: String,
    /// The program path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub program_path: String,
    /// The requirements path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub requirements_path: String,
}

spare::empty_default!(DockerSpec, LanguageSpec, WasmSpec);

/// Wasm engine parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct WasmSpec {
    /// Where the module comes from (Inline, URLDownload or LocalDirectory).
    #[serde(default)]
    pub entry_module: StorageSpec,
    /// The exported function to call; `_start` when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub entry_point: String,
    /// argv after the program name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<String>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment_variables: BTreeMap<String, String>,
    /// Extra modules to link (not supported; must be empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub import_modules: Vec<StorageSpec>,
}

/// Extension: a host process.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ExecSpec {
    /// Program and arguments.
    #[serde(default)]
    pub command: Vec<String>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment_variables: BTreeMap<String, String>,
    /// Working directory; the execution's scratch directory when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_directory: String,
}

/// Requested resources, in Bacalhau's string units (`"500m"`, `"1Gb"`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Resources {
    /// CPU, e.g. `"500m"` or `"2"`.
    #[serde(rename = "CPU", default, skip_serializing_if = "String::is_empty")]
    pub cpu: String,
    /// Memory, e.g. `"512Mb"`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub memory: String,
    /// Disk.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub disk: String,
    /// GPUs (always present, a string).
    #[serde(rename = "GPU", default)]
    pub gpu: String,
}

/// Network access of a job.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkConfig {
    /// None, Full or HTTP.
    #[serde(rename = "Type", default = "network_none")]
    pub kind: Network,
    /// Allowed domains for HTTP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
}

fn network_none() -> Network {
    Network::None
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            kind: Network::None,
            domains: Vec::new(),
        }
    }
}

/// A node label selector.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LabelSelector {
    /// Label key.
    #[serde(default)]
    pub key: String,
    /// Operator.
    #[serde(default)]
    pub operator: String,
    /// Values.
    #[serde(default)]
    pub values: Vec<String>,
}

/// How many executions to run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Deal {
    /// Executions to run (≥ 1).
    #[serde(default)]
    pub concurrency: i64,
    /// Completed executions needed for `Completed` (0 means all).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub confidence: i64,
    /// Minimum bids (accepted, not used by a single node).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_bids: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Where data lives, and where it is mounted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct StorageSpec {
    /// The kind of source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_source: Option<StorageSource>,
    /// A name (outputs: the output's name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// IPFS CID.
    #[serde(rename = "CID", default, skip_serializing_if = "String::is_empty")]
    pub cid: String,
    /// URL (URLDownload; Inline takes a data URL).
    #[serde(rename = "URL", default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// S3 location (StorageSource `S3`).
    #[serde(rename = "S3", default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<Box<S3StorageSpec>>,
    /// Repository URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repo: String,
    /// Host path (LocalDirectory).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_path: String,
    /// Mount read-write.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_write: bool,
    /// Mount path inside the job.
    #[serde(rename = "path", default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// An object (or, with a Key ending in `/` or `*`, every object under a prefix) in an S3
/// bucket, named as Bacalhau names it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct S3StorageSpec {
    /// The bucket.
    #[serde(default)]
    pub bucket: String,
    /// The object key, or a prefix when it ends in `/` or `*`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// Base64 (or hex) SHA-256 the object must have (single keys only).
    #[serde(
        rename = "ChecksumSHA256",
        alias = "Checksum",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub checksum_sha256: String,
    /// The object version to read (single keys only).
    #[serde(
        rename = "VersionID",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub version_id: String,
    /// An S3-compatible endpoint URL (path-style addressing); AWS when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
    /// The region; the node's AWS configuration (else `us-east-1`) when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
}

/// The state of a job and its executions.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct JobState {
    /// The job id.
    #[serde(rename = "JobID")]
    pub job_id: String,
    /// Executions in creation order.
    #[serde(default)]
    pub executions: Vec<ExecutionState>,
    /// The job's state.
    pub state: JobStateType,
    /// Starts at 1, grows by one per job-level change.
    pub version: i64,
    /// When the job was created.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub create_time: Time,
    /// When the job last changed.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub update_time: Time,
    /// The deadline of the running executions (zero time until started).
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub timeout_at: Time,
}

/// One execution of a job.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionState {
    /// The job id.
    #[serde(rename = "JobID")]
    pub job_id: String,
    /// The node that ran it (note the lower-case `d`, as Bacalhau).
    #[serde(rename = "NodeId")]
    pub node_id: String,
    /// The execution id (`e-<uuid>`).
    pub compute_reference: String,
    /// The execution's state.
    pub state: ExecutionStateType,
    /// Always true on hake (the node accepts what it was asked).
    #[serde(default)]
    pub accepted_ask_for_bid: bool,
    /// Why the execution is in its state.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Verification result.
    #[serde(default)]
    pub verification_result: VerificationResult,
    /// Where the outputs were published.
    #[serde(default)]
    pub published_results: StorageSpec,
    /// Bounded stdout/stderr and exit code, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_output: Option<RunCommandResult>,
    /// Starts at 1, grows by one per change.
    pub version: i64,
    /// When the execution was created.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub create_time: Time,
    /// When the execution last changed.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub update_time: Time,
    /// Extension: when the engine started it.
    #[serde(
        default,
        with = "time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start_time: Option<Time>,
    /// Extension: when it reached a terminal state.
    #[serde(
        default,
        with = "time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<Time>,
    /// Extension: `EndTime - StartTime` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
}

/// Verification outcome (hake verifies nothing, so this is empty).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct VerificationResult {
    /// Verification finished.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub complete: bool,
    /// Verification passed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub result: bool,
}

/// Bounded output of a finished execution.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunCommandResult {
    /// The first bytes of stdout.
    #[serde(default)]
    pub stdout: String,
    /// Whether stdout was cut.
    #[serde(default)]
    pub stdouttruncated: bool,
    /// The first bytes of stderr.
    #[serde(default)]
    pub stderr: String,
    /// Whether stderr was cut.
    #[serde(default)]
    pub stderrtruncated: bool,
    /// The process exit code.
    #[serde(rename = "exitCode", default)]
    pub exit_code: i32,
    /// What went wrong outside the program, if anything.
    #[serde(rename = "runnerError", default)]
    pub runner_error: String,
}

/// One entry of a job's history.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct JobHistory {
    /// JobLevel or ExecutionLevel.
    #[serde(rename = "Type")]
    pub kind: HistoryType,
    /// The job id.
    #[serde(rename = "JobID")]
    pub job_id: String,
    /// The node (execution-level records).
    #[serde(rename = "NodeID", default, skip_serializing_if = "String::is_empty")]
    pub node_id: String,
    /// The execution id (execution-level records).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub compute_reference: String,
    /// The job-state change (job-level records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_state: Option<StateChange<JobStateType>>,
    /// The execution-state change (execution-level records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_state: Option<StateChange<ExecutionStateType>>,
    /// The version after the change.
    pub new_version: i64,
    /// Why.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// When.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub time: Time,
}

/// A state change; `New` is omitted like Go's zero value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct StateChange<S> {
    /// The state before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<S>,
    /// The state after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<S>,
}

/// A published result of a completed execution.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PublishedResult {
    /// The node that produced it.
    #[serde(rename = "NodeID")]
    pub node_id: String,
    /// Where it is.
    pub data: StorageSpec,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_keeps_bacalhau_odd_names() {
        let raw = r#"{"Engine":"docker","PublisherSpec":{"Type":"ipfs"},"Docker":{"Image":"ubuntu"},
            "outputs":[{"Name":"outputs","StorageSource":"IPFS","path":"/outputs"}],"Deal":{"Concurrency":1},
            "Unknown":{"x":1}}"#;
        let spec: Spec = serde_json::from_str(raw).unwrap();
        assert_eq!(spec.engine, Some(Engine::Docker));
        assert_eq!(spec.outputs[0].path, "/outputs");
        let out = serde_json::to_value(&spec).unwrap();
        assert_eq!(out["outputs"][0]["StorageSource"], "IPFS");
        assert_eq!(out["Network"]["Type"], "None");
        assert_eq!(out["Resources"]["GPU"], "");
        assert!(out.get("Unknown").is_none());
    }

    #[test]
    fn run_output_uses_bacalhau_key_names() {
        let out = serde_json::to_value(RunCommandResult {
            exit_code: 3,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(out["exitCode"], 3);
        assert!(out.get("stdouttruncated").is_some());
        assert!(out.get("runnerError").is_some());
    }
}
