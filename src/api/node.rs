//! Node routes: version, liveness, readiness, health, node info, id and metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::dto::*;
use super::error::{ApiError, ErrorBody};
use super::extract::JsonBody;
use super::AppState;

/// Build facts; `gitversion` is Bacalhau's dev sentinel so every Go CLI accepts us.
pub fn build_info() -> BuildVersionInfo {
    let version = env!("CARGO_PKG_VERSION");
    let mut parts = version.split('.');
    BuildVersionInfo {
        major: parts.next().unwrap_or("0").to_owned(),
        minor: parts.next().unwrap_or("0").to_owned(),
        gitversion: "v0.0.0-xxxxxxx".to_owned(),
        gitcommit: String::new(),
        builddate: String::new(),
        goos: std::env::consts::OS.to_owned(),
        goarch: std::env::consts::ARCH.to_owned(),
        hake_version: version.to_owned(),
    }
}

/// Server version in Bacalhau's shape.
#[utoipa::path(post, path = "/version", tag = "node",
    request_body(content = Option<VersionRequest>, description = "Optional"),
    responses((status = 200, description = "Build facts", body = VersionResponse),
              (status = 400, description = "Malformed JSON", body = ErrorBody)))]
pub async fn version(JsonBody(_req): JsonBody<VersionRequest>) -> Json<VersionResponse> {
    Json(VersionResponse {
        build_version_info: build_info(),
    })
}

/// Liveness: `OK`.
#[utoipa::path(get, path = "/livez", tag = "node",
    responses((status = 200, description = "The process is up", body = String, content_type = "text/plain")))]
pub async fn livez() -> &'static str {
    "OK"
}

/// Readiness: `READY` when the database answers.
#[utoipa::path(get, path = "/readyz", tag = "node",
    responses((status = 200, description = "Ready", body = String, content_type = "text/plain"),
              (status = 503, description = "Database unreachable or shutting down", body = ErrorBody)))]
pub async fn readyz(State(app): State<AppState>) -> Result<&'static str, ApiError> {
    if app.jobs.store().ping().await {
        Ok("READY")
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "the database does not answer",
        )
        .with_retry_after(1))
    }
}

fn space(path: &std::path::Path) -> serde_json::Value {
    match nix::sys::statvfs::statvfs(path) {
        Ok(s) => {
            let frag = s.fragment_size();
            let all = s.blocks() * frag;
            let free = s.blocks_available() * frag;
            json!({ "All": all, "Used": all.saturating_sub(s.blocks_free() * frag), "Free": free })
        }
        Err(_) => json!({}),
    }
}

/// Disk space of the data dir and the temp dir, in Bacalhau's shape.
#[utoipa::path(get, path = "/healthz", tag = "node",
    responses((status = 200, description = "Free space", body = Object)))]
pub async fn healthz(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "FreeSpace": {
        "root": space(&app.config.data_dir),
        "tmp": space(&std::env::temp_dir()),
    }}))
}

/// Facts about this node.
#[utoipa::path(get, path = "/node_info", tag = "node",
    responses((status = 200, description = "Node facts", body = NodeInfo)))]
pub async fn node_info(State(app): State<AppState>) -> Json<NodeInfo> {
    let sched = app.jobs.scheduler();
    Json(NodeInfo {
        bacalhau_version: build_info(),
        peer_info: PeerInfo {
            id: app.jobs.node_id().to_owned(),
            addrs: vec![app.config.public_url()],
        },
        node_type: 1,
        labels: json!(app.jobs.node().labels()),
        engines: app.jobs.engines().names(),
        executions_running: sched.running(),
        jobs_waiting: sched.waiting(),
        max_concurrent_executions: app.config.max_concurrent(),
        exec_sandbox: app.exec_sandbox.clone(),
    })
}

/// This node's id, as a JSON string.
/// The nodes of the cluster (this node alone on SQLite), live and lost.
#[utoipa::path(post, path = "/requester/nodes", tag = "requester",
    responses((status = 200, description = "Every registered node", body = [ClusterNode]),
              (status = 503, description = "Database unavailable", body = ErrorBody)))]
pub async fn nodes(State(app): State<AppState>) -> Result<Json<Vec<ClusterNode>>, ApiError> {
    Ok(Json(
        app.jobs
            .nodes()
            .await?
            .into_iter()
            .map(|m| ClusterNode {
                bacalhau_version: build_info(),
                peer_info: PeerInfo {
                    id: m.id,
                    addrs: vec![m.spec.url.clone()],
                },
                node_type: if m.spec.compute {
                    "Compute"
                } else {
                    "Requester"
                }
                .to_owned(),
                labels: m.spec.labels.clone(),
                compute_node_info: m.spec.compute.then(|| ComputeNodeInfo {
                    execution_engines: m.spec.engines.clone(),
                    max_capacity: m.spec.max_capacity,
                    available_capacity: m.spec.available_capacity,
                    max_job_requirements: m.spec.max_capacity,
                    running_executions: m.spec.running,
                    max_concurrent_executions: m.spec.slots,
                }),
                connection: if m.alive { "CONNECTED" } else { "DISCONNECTED" }.to_owned(),
                last_seen: crate::time::format(&m.last_seen),
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/id", tag = "node",
    responses((status = 200, description = "Node id", body = String, content_type = "application/json")))]
pub async fn id(State(app): State<AppState>) -> Json<String> {
    Json(app.jobs.node_id().to_owned())
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "node",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let sched = app.jobs.scheduler();
    app.metrics.set_executions_queued(sched.queued_executions());
    let body = app.metrics.render(
        sched.running(),
        sched.waiting(),
        app.jobs.logs().live_count(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
