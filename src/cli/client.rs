//! The small HTTP client every client command shares: the server URL, JSON calls, signed
//! calls (every signed payload carries `Timestamp` and `Nonce`), and errors turned into
//! the server's `message` with exit code 5 (never a debug dump).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::exit::{CliError, CliResult};
use crate::api::dto::{JobWithInfo, ListRequest, ListResponse, StateRequest, StateResponse};
use crate::auth::Signer;

/// The default server.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:1234";

/// How long an ordinary call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A client of one server.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client of `server` (`http://host:port`; a bare `host:port` means http).
    pub fn new(server: &str) -> CliResult<Self> {
        let s = server.trim().trim_end_matches('/');
        let with_scheme = if s.contains("://") {
            s.to_owned()
        } else {
            format!("http://{s}")
        };
        let url = url::Url::parse(&with_scheme)
            .map_err(|e| CliError::usage(format!("--server {server:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(CliError::usage(format!(
                "--server {server:?} must be an http:// or https:// URL"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("hake/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::local(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            base: with_scheme.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs `body` (JSON text) and decodes a JSON answer; `timeout` bounds the whole call.
    pub async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        body: String,
        timeout: Duration,
    ) -> CliResult<T> {
        let resp = self
            .http
            .post(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let resp = self.check(resp).await?;
        let bytes = resp.bytes().await.map_err(|e| self.transport(e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            CliError::server(format!(
                "the server at {} sent an answer this client cannot read: {e}",
                self.base
            ))
        })
    }

    /// POSTs an unsigned JSON request.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> CliResult<T> {
        let text = serde_json::to_string(body).expect("request bodies serialize");
        self.call(path, text, CALL_TIMEOUT).await
    }

    /// POSTs a signed envelope around `payload` (sent byte for byte).
    pub async fn post_signed<T: DeserializeOwned>(
        &self,
        path: &str,
        signer: &Signer,
        payload: &str,
    ) -> CliResult<T> {
        self.call(path, signer.envelope(payload), CALL_TIMEOUT)
            .await
    }

    /// Opens a signed streaming request (logs); the caller reads the body.
    pub async fn open_stream(
        &self,
        path: &str,
        signer: &Signer,
        payload: &str,
    ) -> CliResult<reqwest::Response> {
        let resp = self
            .http
            .post(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/x-ndjson")
            .body(signer.envelope(payload))
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        self.check(resp).await
    }

    /// GETs a URL (absolute, or a path on this server) for a download.
    pub async fn get(&self, url: &str) -> CliResult<reqwest::Response> {
        let url = if url.starts_with('/') {
            self.url(url)
        } else {
            url.to_owned()
        };
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        self.check(resp).await
    }

    /// The job's state now.
    pub async fn state(&self, job: &str) -> CliResult<StateResponse> {
        self.post(
            "/requester/states",
            &StateRequest {
                job_id: job.to_owned(),
                ..Default::default()
            },
        )
        .await
    }

    /// The job's state once its version is above `after`, or after `wait` at most.
    pub async fn state_after(
        &self,
        job: &str,
        after: i64,
        wait: Duration,
    ) -> CliResult<StateResponse> {
        let req = StateRequest {
            job_id: job.to_owned(),
            after_version: Some(after),
            wait_seconds: Some(wait.as_secs_f64()),
            ..Default::default()
        };
        let text = serde_json::to_string(&req).expect("request bodies serialize");
        self.call("/requester/states", text, wait + Duration::from_secs(30))
            .await
    }

    /// The job with its spec and state (by full id or unique prefix).
    pub async fn job(&self, job: &str) -> CliResult<JobWithInfo> {
        let page: ListResponse = self
            .post(
                "/requester/list",
                &ListRequest {
                    id: job.to_owned(),
                    return_all: true,
                    ..Default::default()
                },
            )
            .await?;
        page.jobs
            .into_iter()
            .next()
            .ok_or_else(|| CliError::server(format!("Job not found. ID: {job}")))
    }

    /// A transport failure (the server was not reached or the connection broke).
    fn transport(&self, e: reqwest::Error) -> CliError {
        let root = root_cause(&e);
        let msg = if e.is_connect() {
            format!(
                "cannot reach the server at {} ({root}); is `hake serve` running there? (set --server or HAKE_SERVER)",
                self.base
            )
        } else if e.is_timeout() {
            format!("the server at {} did not answer in time", self.base)
        } else {
            format!("talking to the server at {} failed: {root}", self.base)
        };
        CliError::server(msg).retryable()
    }

    /// Passes 2xx answers; turns others into the server's error message.
    async fn check(&self, resp: reqwest::Response) -> CliResult<reqwest::Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let text = resp.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .or_else(|| v.get("Message"))
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| {
                let snippet: String = text.trim().chars().take(200).collect();
                if snippet.is_empty() {
                    format!("the server at {} answered HTTP {status}", self.base)
                } else {
                    format!(
                        "the server at {} answered HTTP {status}: {snippet}",
                        self.base
                    )
                }
            });
        let err = CliError::server(message);
        Err(if matches!(status.as_u16(), 429 | 503) {
            err.retryable()
        } else {
            err
        })
    }
}

/// The innermost cause of an error, for a one-line message.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
