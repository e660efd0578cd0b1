//! Request and response bodies of the HTTP API (wire DTOs). Requests use Bacalhau's
//! snake_case fields and signed payloads its PascalCase; hake's extensions are optional.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::SignedPayload;
use crate::model::{Job, JobHistory, JobState, JobStateType, PublishedResult, Spec};

macro_rules! signed_payload {
    ($t:ty) => {
        impl SignedPayload for $t {
            fn client_id(&self) -> &str {
                &self.client_id
            }
            fn timestamp(&self) -> Option<i64> {
                self.timestamp
            }
            fn nonce(&self) -> Option<&str> {
                self.nonce.as_deref()
            }
        }
    };
}

/// A signed `submit` request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SubmitRequest {
    /// base64 of the 32-byte Ed25519 key, or of the DER PKCS#1 RSA public key.
    pub client_public_key: String,
    /// base64 signature over the payload bytes exactly as sent.
    pub signature: String,
    /// The payload.
    pub payload: SubmitPayload,
}

/// A signed `cancel` request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelRequest {
    /// base64 public key.
    pub client_public_key: String,
    /// base64 signature over the payload bytes exactly as sent.
    pub signature: String,
    /// The payload.
    pub payload: CancelPayload,
}

/// Payload of `submit`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SubmitPayload {
    /// The submitter (must match the key).
    #[serde(rename = "ClientID", default)]
    pub client_id: String,
    /// `V1beta1`.
    #[serde(rename = "APIVersion", default)]
    pub api_version: String,
    /// The job spec.
    #[serde(default)]
    pub spec: Option<Spec>,
    /// Extension: unix ms; outside ±window is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Extension: a repeated nonce returns the original job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}
signed_payload!(SubmitPayload);

/// Payload of `cancel`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct CancelPayload {
    /// The caller (must own the job).
    #[serde(rename = "ClientID", default)]
    pub client_id: String,
    /// Full id or unique prefix (≥ 8 characters).
    #[serde(rename = "JobID", default)]
    pub job_id: String,
    /// Why (recorded on the cancelled executions).
    #[serde(default)]
    pub reason: String,
    /// Extension: unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Extension: nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}
signed_payload!(CancelPayload);

/// `submit` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmitResponse {
    /// The stored job.
    pub job: Job,
}

/// `list` request. Every field is optional.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ListRequest {
    /// Scopes the list to this client unless `return_all`.
    pub client_id: String,
    /// A single job by full id or 8-character prefix (other fields are then ignored).
    pub id: String,
    /// Keep jobs whose first matching annotation is here.
    pub include_tags: Vec<String>,
    /// Drop jobs whose first matching annotation is here.
    pub exclude_tags: Vec<String>,
    /// Page size; 0 means the server's page cap.
    #[schema(minimum = 0)]
    pub max_jobs: i64,
    /// Every client's jobs.
    pub return_all: bool,
    /// `created_at` (default) or `id`.
    #[schema(pattern = "^(created_at|id)?$")]
    pub sort_by: String,
    /// Descending.
    pub sort_reverse: bool,
    /// Extension: the `next_token` of the previous page.
    pub next_token: String,
    /// Extension: only jobs in these states (names are case-insensitive).
    #[schema(value_type = Vec<JobStateType>)]
    pub states: Vec<String>,
}

/// A job with its state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct JobWithInfo {
    /// The job.
    pub job: Job,
    /// Its state.
    pub state: JobState,
}

/// `list` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListResponse {
    /// The page.
    pub jobs: Vec<JobWithInfo>,
    /// Extension: present while more jobs remain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `states` and `results` request.
// Field-level defaults: `job_id` is required, and a default on it would contradict its
// minimum length in the schema.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct StateRequest {
    /// Logged only.
    #[serde(default)]
    pub client_id: String,
    /// Full id or unique prefix (≥ 8 characters).
    #[schema(min_length = 8)]
    pub job_id: String,
    /// Extension (long-poll): answer once `Version` is greater than this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_version: Option<i64>,
    /// Extension (long-poll): wait at most this many seconds (more counts as 60).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub wait_seconds: Option<f64>,
}

/// `states` and `cancel` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StateResponse {
    /// The job's state.
    pub state: JobState,
}

/// `results` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResultsResponse {
    /// One per completed execution; `[]` when none.
    pub results: Vec<PublishedResult>,
}

/// `events` filters.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct EventFilterOptions {
    /// Keep records at or after this unix second.
    pub since: i64,
    /// Drop execution-level records.
    pub exclude_execution_level: bool,
    /// Drop job-level records.
    pub exclude_job_level: bool,
}

/// `events` request.
// Field-level defaults: a container-level `default` would put a default value on the
// nested `filters` object, which generated clients cannot model.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct EventsRequest {
    /// Logged only.
    #[serde(default)]
    pub client_id: String,
    /// Full id or unique prefix (≥ 8 characters).
    #[schema(min_length = 8)]
    pub job_id: String,
    /// Optional filters.
    #[serde(default)]
    pub filters: EventFilterOptions,
}

/// `events` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventsResponse {
    /// History, oldest first.
    pub events: Vec<JobHistory>,
}

/// `version` request.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct VersionRequest {
    /// Ignored.
    pub client_id: String,
}

/// Build facts in Bacalhau's shape.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BuildVersionInfo {
    /// Major version.
    pub major: String,
    /// Minor version.
    pub minor: String,
    /// `v0.0.0-xxxxxxx`, so every Bacalhau Go CLI skips its version check.
    pub gitversion: String,
    /// Commit.
    pub gitcommit: String,
    /// Build date.
    pub builddate: String,
    /// OS.
    pub goos: String,
    /// Architecture.
    pub goarch: String,
    /// Extension: hake's own version.
    pub hake_version: String,
}

/// `version` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionResponse {
    /// Build facts.
    pub build_version_info: BuildVersionInfo,
}

/// `node_info` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct NodeInfo {
    /// Version facts.
    pub bacalhau_version: BuildVersionInfo,
    /// This node.
    pub peer_info: PeerInfo,
    /// Always 1 (requester + compute in one).
    pub node_type: i32,
    /// Labels.
    #[schema(value_type = Object)]
    pub labels: serde_json::Value,
    /// Extension: engines enabled here.
    pub engines: Vec<String>,
    /// Extension: executions running and jobs waiting.
    pub executions_running: usize,
    /// Extension: jobs waiting for a slot.
    pub jobs_waiting: usize,
    /// Extension: the slot count.
    pub max_concurrent_executions: usize,
    /// Extension: what confines Exec jobs (absent when the Exec engine is off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_sandbox: Option<crate::sandbox::SandboxStatus>,
}

/// One node of the cluster: Bacalhau's `NodeInfo`, with whether it is connected and
/// when it was last heard from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ClusterNode {
    /// Version facts.
    pub bacalhau_version: BuildVersionInfo,
    /// The node.
    pub peer_info: PeerInfo,
    /// `Compute` (runs executions) or `Requester` (API only).
    pub node_type: String,
    /// Its labels (`--label`).
    pub labels: std::collections::BTreeMap<String, String>,
    /// What it runs, for a compute node.
    #[serde(rename = "ComputeNodeInfo", skip_serializing_if = "Option::is_none")]
    pub compute_node_info: Option<ComputeNodeInfo>,
    /// `CONNECTED` or `DISCONNECTED` (silent longer than the node timeout).
    pub connection: String,
    /// Its last heartbeat (RFC 3339).
    pub last_seen: String,
}

/// A compute node's engines and capacity.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ComputeNodeInfo {
    /// Engines it runs.
    pub execution_engines: Vec<String>,
    /// What it has.
    pub max_capacity: crate::cluster::Capacity,
    /// What its running executions leave free.
    pub available_capacity: crate::cluster::Capacity,
    /// The most one job may ask for (its whole capacity).
    pub max_job_requirements: crate::cluster::Capacity,
    /// Executions running on it.
    pub running_executions: usize,
    /// Executions it may run at once (extension).
    pub max_concurrent_executions: usize,
}

/// A node's identity.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct PeerInfo {
    /// Node id.
    #[serde(rename = "ID")]
    pub id: String,
    /// Listen addresses.
    pub addrs: Vec<String>,
}

/// A signed `logs` request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LogsRequest {
    /// base64 public key.
    pub client_public_key: String,
    /// base64 signature over the payload bytes exactly as sent.
    pub signature: String,
    /// The payload.
    pub payload: LogsPayload,
}

/// Payload of `logs`: Bacalhau's fields plus hake's optional extensions.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LogsPayload {
    /// The caller (must own the job).
    #[serde(rename = "ClientID", default)]
    pub client_id: String,
    /// Full id or unique prefix (≥ 8 characters).
    #[serde(rename = "JobID", default)]
    pub job_id: String,
    /// The execution (`ComputeReference`); the job's latest when empty.
    #[serde(
        rename = "ExecutionID",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub execution_id: String,
    /// Start from the first record (default true); false starts at the live tail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_history: Option<bool>,
    /// Keep the stream open until the execution is terminal, waiting for the job to be
    /// scheduled and started if needed.
    #[serde(default)]
    pub follow: bool,
    /// Extension: start after this seq (resume); negative means no constraint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<i64>,
    /// Extension: only records that arrived at or after this unix time in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<i64>,
    /// Extension: start at the last N lines (after the other filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<u64>,
    /// Extension: `stdout`, `stderr` or `all` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// Extension: unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Extension: nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}
signed_payload!(LogsPayload);

/// One record of a log stream: an NDJSON line, or the `data:` of an SSE event. `Tag` 1
/// and 2 carry a line of stdout or stderr; `Tag` 0 carries exactly one of `Gap`,
/// `Heartbeat` or `End` (always the last record).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LogFrame {
    /// 0 control, 1 stdout, 2 stderr.
    pub tag: u8,
    /// The line (lossy UTF-8, with its newline when it had one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The record's position in the execution's log (from 0, over both streams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Arrival time, RFC 3339 with nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Records that are no longer held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<LogGap>,
    /// Sent after a period of silence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<bool>,
    /// The last record of every stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<LogEnd>,
}

/// Records `From..=To` are not held (dropped past the per-execution cap).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LogGap {
    /// First missing seq.
    pub from: u64,
    /// Last missing seq.
    pub to: u64,
}

/// Why the stream ended.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LogEnd {
    /// `completed`, `failed`, `cancelled`, `timed_out`, `server_shutdown`; without
    /// `Follow`: `caught_up` (the execution still runs) or `not_started` (no execution
    /// yet); `error` when the server could not read the log.
    pub reason: String,
    /// The execution's state (the job's when it has no execution).
    pub state: String,
    /// The exit code, when the execution has a RunOutput.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}
