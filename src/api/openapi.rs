//! The OpenAPI document, generated from the handlers and DTOs with utoipa, and the routes
//! that serve it: `/openapi.yaml`, `/openapi.json` and a self-contained `/docs` page.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use utoipa::OpenApi;

use super::{dto, error, logs, node, requester, results};
use crate::model;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "hake requester API",
        description = "A Bacalhau-compatible (v0.3.26–v1.0.3) requester API. Every route is also served under the `/api/v1` prefix. Signed routes carry `{client_public_key, signature, payload}`; the signature covers the payload bytes exactly as sent (Ed25519, or RSA PKCS#1 v1.5 with SHA-256). Errors are `{code, message, details}`.",
        license(name = "Apache-2.0")
    ),
    paths(
        requester::submit, requester::list, requester::states, requester::events,
        requester::results, requester::cancel, logs::logs, node::nodes,
        node::version, node::livez, node::readyz, node::healthz, node::node_info, node::id,
        node::metrics, results::download,
    ),
    components(schemas(
        error::ErrorBody,
        dto::SubmitRequest, dto::SubmitPayload, dto::SubmitResponse,
        dto::CancelRequest, dto::CancelPayload, dto::StateResponse,
        dto::ListRequest, dto::ListResponse, dto::JobWithInfo,
        dto::StateRequest, dto::ResultsResponse, dto::EventsRequest, dto::EventsResponse,
        dto::EventFilterOptions, dto::VersionRequest, dto::VersionResponse, dto::BuildVersionInfo,
        dto::NodeInfo, dto::PeerInfo, dto::ClusterNode, dto::ComputeNodeInfo,
        crate::cluster::Capacity,
        dto::LogsRequest, dto::LogsPayload, dto::LogFrame, dto::LogGap, dto::LogEnd,
        model::Job, model::Metadata, model::RequesterInfo, model::Spec, model::PublisherSpec,
        model::DockerSpec, model::LanguageSpec, model::WasmSpec, model::ExecSpec, model::Resources,
        model::NetworkConfig, model::LabelSelector, model::Deal, model::StorageSpec, model::JobState,
        model::ExecutionState, model::VerificationResult, model::RunCommandResult, model::JobHistory,
        model::PublishedResult, model::Engine, model::Verifier, model::Publisher, model::StorageSource,
        model::Network, model::JobStateType, model::ExecutionStateType, model::HistoryType,
    )),
    tags(
        (name = "requester", description = "Jobs: submit, list, states, events, results, cancel, logs"),
        (name = "node", description = "Version, health and metrics"),
        (name = "results", description = "Published outputs"),
    )
)]
pub struct ApiDoc;

/// The document as YAML (what `openapi.yaml` at the repo root holds).
pub fn yaml() -> String {
    ApiDoc::openapi()
        .to_yaml()
        .expect("the OpenAPI document serializes to YAML")
}

/// `GET /openapi.yaml`.
pub async fn serve_yaml() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], yaml())
}

/// `GET /openapi.json`.
pub async fn serve_json() -> impl IntoResponse {
    let json = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes to JSON");
    ([(header::CONTENT_TYPE, "application/json")], json)
}

/// `GET /docs`: a page rendered here from the document, with no external assets.
pub async fn docs_page() -> Html<String> {
    let doc = ApiDoc::openapi();
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>{}</h1><p>{}</p>",
        esc(&doc.info.title),
        esc(doc.info.description.as_deref().unwrap_or(""))
    ));
    body.push_str("<p><a href=\"/openapi.yaml\">openapi.yaml</a> · <a href=\"/openapi.json\">openapi.json</a></p>");
    for (path, item) in doc.paths.paths.iter() {
        let ops = [("GET", &item.get), ("POST", &item.post)];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            body.push_str(&format!(
                "<section><h2><code>{method} {}</code></h2><p>{}</p><ul>",
                esc(path),
                esc(op
                    .description
                    .as_deref()
                    .or(op.summary.as_deref())
                    .unwrap_or(""))
            ));
            for (status, resp) in op.responses.responses.iter() {
                let text = match resp {
                    utoipa::openapi::RefOr::T(r) => r.description.clone(),
                    utoipa::openapi::RefOr::Ref(r) => r.ref_location.clone(),
                };
                body.push_str(&format!("<li><b>{}</b> {}</li>", esc(status), esc(&text)));
            }
            body.push_str("</ul></section>");
        }
    }
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>hake API</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         section{{border-top:1px solid #ddd;padding:.5rem 0}}code{{background:#f4f4f4;padding:.1rem .3rem}}\
         </style></head><body>{body}</body></html>"
    ))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
