//! The Docker engine: each execution runs in a container of a real Docker Engine, driven
//! through its API socket with `bollard`.
//!
//! A container gets the job's image, entrypoint, parameters (as `Cmd`), environment and
//! working directory; its inputs are bind-mounted read-only at their `path` (read-write
//! only for a `ReadWrite` LocalDirectory input under a `:rw` root) and its outputs
//! read-write; the network is `none` unless the job asks for `Full`; CPU and memory limits
//! come from `Resources`. Its stdout and stderr are streamed into the execution's log as
//! they are written. On cancel, timeout or shutdown the container gets `docker stop` with
//! the kill grace period, then `kill`. Whatever happens, the container is removed before
//! [`Executor::run`] returns. Images are pulled per `--docker-pull` ([`pull`]); with
//! `never` an image must already be on the node, which submit checks (400) and the run
//! checks again.

mod container;
mod pull;
mod registry;

use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, ListContainersOptions, LogsOptions,
    RemoveContainerOptions, StartContainerOptions, StopContainerOptions, WaitContainerOptions,
};
use bollard::{Docker, API_DEFAULT_VERSION};
use futures::StreamExt;

pub use container::{
    container_name, parse_cpu, parse_memory, LABEL_EXECUTION, LABEL_JOB, LABEL_NODE,
};
pub use pull::Puller;
pub use registry::{pull_reference, registry_of};

use super::{Executor, RunContext};
use crate::config::DockerPull;
use crate::logs::LogSink;
use crate::model::{Engine, LogStream, Spec};
use crate::storage::Workspace;

/// Read/write timeout of each Docker API request until its response headers arrive
/// (bollard's default). Long waits (`wait`, followed logs) get their headers at once.
const REQUEST_TIMEOUT_SECS: u64 = 120;
/// How long start-up waits for the daemon to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a submit waits for each image check (the node, the registry) before leaving
/// the decision to the run.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// How long output may keep arriving after the container exited.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the exit status after `stop` and `kill`.
const EXIT_AFTER_KILL_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs `Spec.Docker` jobs on a Docker daemon. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DockerEngine {
    docker: Docker,
    /// The daemon's CPU count, when it told us.
    cpus: Option<i64>,
    /// This node's id, put on every container as the `hake.node` label.
    node_id: String,
    /// Pulls images per the node's `--docker-pull` policy.
    puller: Puller,
}

impl DockerEngine {
    /// Connects to the daemon at `host` (`unix:///path`, a socket path, or `tcp://` /
    /// `http://host:port`); without one, to `DOCKER_HOST` when set, else the local socket
    /// `/var/run/docker.sock`. Negotiates the API version down to the daemon's and pings it,
    /// so an error here means the daemon is not usable.
    pub async fn connect(host: Option<&str>) -> anyhow::Result<Self> {
        let env_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
        let target = host
            .map(str::to_owned)
            .or_else(|| env_host.clone())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
        let client = match host {
            Some(h) if h.starts_with("tcp://") || h.starts_with("http://") => {
                Docker::connect_with_http(h, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
            }
            Some(h) => Docker::connect_with_socket(h, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION),
            None if env_host.is_some() => Docker::connect_with_defaults(),
            None => Docker::connect_with_local_defaults(),
        }
        .map_err(|e| anyhow!("cannot connect to the Docker daemon at {target}: {e}"))?;
        let docker = match tokio::time::timeout(CONNECT_TIMEOUT, async {
            let docker = client.negotiate_version().await?;
            docker.ping().await?;
            Ok::<_, DockerError>(docker)
        })
        .await
        {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => bail!("the Docker daemon at {target} does not answer: {e}"),
            Err(_) => bail!(
                "the Docker daemon at {target} did not answer within {}s",
                CONNECT_TIMEOUT.as_secs()
            ),
        };
        // Facts only; a daemon whose /info we cannot read is still usable.
        let (cpus, version) = match docker.info().await {
            Ok(info) => (info.ncpu, info.server_version),
            Err(e) => {
                tracing::debug!(error = %e, "reading the Docker daemon's info failed");
                (None, None)
            }
        };
        tracing::info!(
            daemon = %target,
            server_version = version.as_deref().unwrap_or("unknown"),
            api_version = %docker.client_version(),
            cpus,
            "Docker daemon connected"
        );
        Ok(Self {
            puller: Puller::new(docker.clone(), DockerPull::Missing),
            docker,
            cpus,
            node_id: String::new(),
        })
    }

    /// Labels this node's containers with `hake.node=<node_id>`, so
    /// [`remove_leftovers`](Self::remove_leftovers) finds them after a crash.
    pub fn with_node_id(mut self, node_id: &str) -> Self {
        self.node_id = node_id.to_owned();
        self
    }

    /// Pulls images per `policy` (the default is `missing`).
    pub fn with_pull_policy(mut self, policy: DockerPull) -> Self {
        self.puller = Puller::new(self.docker.clone(), policy);
        self
    }

    /// Removes the containers a previous run of this node left behind (it was killed before
    /// it could remove them). Call at start-up, before any execution starts. Returns how
    /// many were removed.
    pub async fn remove_leftovers(&self) -> anyhow::Result<usize> {
        if self.node_id.is_empty() {
            return Ok(0);
        }
        let filters = [(
            "label".to_owned(),
            vec![format!("{LABEL_NODE}={}", self.node_id)],
        )];
        let opts = ListContainersOptions {
            all: true,
            filters: Some(filters.into_iter().collect()),
            ..Default::default()
        };
        let found = self
            .docker
            .list_containers(Some(opts))
            .await
            .context("listing this node's containers")?;
        let mut removed = 0;
        for c in found {
            if let Some(id) = c.id {
                tracing::info!(container = %id, names = ?c.names, "removing a container left by an earlier run");
                remove_container(&self.docker, &id).await;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Starts the container, streams its output and waits for it; stops it on `ctx.stop`.
    async fn supervise(&self, ctx: &RunContext, id: &str) -> anyhow::Result<i32> {
        if ctx.stop.is_cancelled() {
            bail!("the execution was stopped before its container started");
        }
        self.docker
            .start_container(id, None::<StartContainerOptions>)
            .await
            .map_err(|e| docker_failure("starting the container failed", e))?;
        let mut pump = tokio::spawn(pump_logs(
            self.docker.clone(),
            id.to_owned(),
            ctx.logs.clone(),
        ));
        let wait = wait_exit(&self.docker, id);
        tokio::pin!(wait);
        let code = tokio::select! {
            r = &mut wait => r,
            () = ctx.stop.cancelled() => {
                self.stop(id, ctx.kill_grace).await;
                match tokio::time::timeout(EXIT_AFTER_KILL_TIMEOUT, &mut wait).await {
                    Ok(r) => r,
                    Err(_) => Err(anyhow!("the container did not exit after docker stop and kill")),
                }
            }
        };
        if tokio::time::timeout(DRAIN_TIMEOUT, &mut pump)
            .await
            .is_err()
        {
            tracing::warn!(execution = %ctx.execution_id, "container output still open after exit; dropping the rest");
            pump.abort();
        }
        code
    }

    /// `docker stop` with the grace period (SIGTERM, then the daemon's SIGKILL), then a
    /// `kill` in case the container still runs (a stop request that failed or timed out).
    async fn stop(&self, id: &str, grace: Duration) {
        let opts = StopContainerOptions {
            t: Some(i32::try_from(grace.as_secs()).unwrap_or(i32::MAX)),
            signal: None,
        };
        let stop = self.docker.stop_container(id, Some(opts));
        match tokio::time::timeout(grace + Duration::from_secs(10), stop).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) if status_of(&e).is_some_and(|s| s == 404) => return,
            Ok(Err(e)) => {
                tracing::warn!(container = %id, error = %e, "docker stop failed; killing")
            }
            Err(_) => tracing::warn!(container = %id, "docker stop did not return; killing"),
        }
        let kill = KillContainerOptions {
            signal: "KILL".to_owned(),
        };
        match self.docker.kill_container(id, Some(kill)).await {
            Ok(()) => tracing::debug!(container = %id, "killed after stop"),
            // 409: not running any more, as expected after a stop.
            Err(e) if status_of(&e).is_some_and(|s| s == 404 || s == 409) => {}
            Err(e) => tracing::warn!(container = %id, error = %e, "docker kill failed"),
        }
    }
}

#[async_trait::async_trait]
impl Executor for DockerEngine {
    fn kind(&self) -> Engine {
        Engine::Docker
    }

    fn validate(&self, spec: &Spec) -> Result<(), String> {
        container::validate(spec, self.cpus)
    }

    /// The image must be on the node (`--docker-pull never`) or in its registry when the
    /// run would pull it. Only a definite answer refuses the job: when the daemon or the
    /// registry cannot be asked, the run decides.
    async fn check(&self, spec: &Spec) -> Result<(), String> {
        let image = &spec.docker.image;
        let policy = self.puller.policy();
        if policy == DockerPull::Always {
            return self.puller.check_registry(image, CHECK_TIMEOUT).await;
        }
        match tokio::time::timeout(CHECK_TIMEOUT, self.docker.inspect_image(image)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => match status_of(&e) {
                Some(404) if policy == DockerPull::Missing => {
                    self.puller.check_registry(image, CHECK_TIMEOUT).await
                }
                Some(404) => Err(not_present(image, policy)),
                Some(400) => Err(format!(
                    "Docker.Image {image:?} is not a valid image reference: {}",
                    message_of(&e)
                )),
                _ => {
                    tracing::warn!(image = %image, error = %e, "could not check the image at submit");
                    Ok(())
                }
            },
            Err(_) => {
                tracing::warn!(image = %image, "the image check timed out at submit");
                Ok(())
            }
        }
    }

    async fn run(&self, ctx: RunContext) -> anyhow::Result<i32> {
        let spec = &ctx.job.spec;
        let body = container::container_body(
            spec,
            &ctx.job.metadata.id,
            &ctx.execution_id,
            &self.node_id,
            &ctx.workspace,
        )?;
        self.puller
            .ensure(&spec.docker.image, &ctx.status, &ctx.stop)
            .await?;
        set_output_modes(&ctx.workspace, 0o777).await?;
        let opts = CreateContainerOptions {
            name: Some(container_name(&ctx.execution_id)),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(Some(opts), body)
            .await
            .map_err(|e| {
                if status_of(&e) == Some(404) {
                    anyhow!(not_present(&spec.docker.image, self.puller.policy()))
                } else {
                    docker_failure("creating the container failed", e)
                }
            });
        let created = match created {
            Ok(c) => c,
            Err(e) => {
                let _ = set_output_modes(&ctx.workspace, 0o755).await;
                return Err(e);
            }
        };
        for w in &created.warnings {
            tracing::info!(execution = %ctx.execution_id, warning = %w, "Docker warning");
        }
        let cleanup = Cleanup {
            docker: self.docker.clone(),
            id: Some(created.id.clone()),
        };
        let result = self.supervise(&ctx, &created.id).await;
        cleanup.remove().await;
        if let Err(e) = set_output_modes(&ctx.workspace, 0o755).await {
            tracing::warn!(execution = %ctx.execution_id, error = %e, "could not restore output directory modes");
        }
        result
    }
}

/// The message for an image that is not on the node and that this node may not pull
/// (`--docker-pull never`), or that left the node after its pull.
fn not_present(image: &str, policy: DockerPull) -> String {
    match policy {
        DockerPull::Never => format!(
            "image {image} is not present on this node and this node never pulls (--docker-pull never): load or build it on the node first (docker load, docker build)"
        ),
        DockerPull::Missing | DockerPull::Always => {
            format!("image {image} is not present on this node: it was removed after its pull")
        }
    }
}

/// The daemon's HTTP status of a failed request.
fn status_of(e: &DockerError) -> Option<u16> {
    match e {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// The daemon's own words for a failed request, or the client error.
fn message_of(e: &DockerError) -> String {
    match e {
        DockerError::DockerResponseServerError { message, .. } => message.trim().to_owned(),
        DockerError::DockerStreamError { error } => error.trim().to_owned(),
        other => other.to_string(),
    }
}

fn docker_failure(what: &str, e: DockerError) -> anyhow::Error {
    anyhow!("{what}: {}", message_of(&e))
}

/// Waits for the container to stop and returns its exit code.
async fn wait_exit(docker: &Docker, id: &str) -> anyhow::Result<i32> {
    let mut stream = docker.wait_container(id, None::<WaitContainerOptions>);
    let code = match stream.next().await {
        Some(Ok(r)) => {
            if let Some(msg) = r.error.and_then(|e| e.message).filter(|m| !m.is_empty()) {
                tracing::warn!(container = %id, error = %msg, "Docker reported a wait error");
            }
            r.status_code
        }
        // bollard reports non-zero exits as errors; they are ordinary results here.
        Some(Err(DockerError::DockerContainerWaitError { code, error })) => {
            if !error.is_empty() {
                tracing::warn!(container = %id, error = %error, "Docker reported a wait error");
            }
            code
        }
        Some(Err(e)) => return Err(docker_failure("waiting for the container failed", e)),
        None => bail!("the Docker daemon ended the wait without an exit status"),
    };
    Ok(i32::try_from(code).unwrap_or(-1))
}

/// Copies the container's stdout and stderr into the log until the container stops.
async fn pump_logs(docker: Docker, id: String, sink: LogSink) {
    let opts = LogsOptions {
        follow: true,
        stdout: true,
        stderr: true,
        ..Default::default()
    };
    let mut stream = docker.logs(&id, Some(opts));
    while let Some(item) = stream.next().await {
        match item {
            Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                sink.write(LogStream::Stdout, &message)
            }
            Ok(LogOutput::StdErr { message }) => sink.write(LogStream::Stderr, &message),
            Ok(LogOutput::StdIn { .. }) => {}
            Err(e) => {
                tracing::warn!(container = %id, error = %e, "reading container output failed");
                break;
            }
        }
    }
    sink.flush(LogStream::Stdout);
    sink.flush(LogStream::Stderr);
}

/// Output directories are world-writable while the container runs (as Bacalhau makes
/// them), so images whose `USER` is not root can write results; 0755 again afterwards.
async fn set_output_modes(ws: &Workspace, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    for m in &ws.outputs {
        tokio::fs::set_permissions(&m.host, std::fs::Permissions::from_mode(mode))
            .await
            .with_context(|| format!("setting the mode of {}", m.host.display()))?;
    }
    Ok(())
}

/// Removes a container when dropped, even if the execution's task is cancelled midway;
/// [`Cleanup::remove`] does it in line.
struct Cleanup {
    docker: Docker,
    id: Option<String>,
}

impl Cleanup {
    async fn remove(mut self) {
        if let Some(id) = self.id.take() {
            remove_container(&self.docker, &id).await;
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let docker = self.docker.clone();
                rt.spawn(async move { remove_container(&docker, &id).await });
            }
            Err(_) => {
                tracing::warn!(container = %id, "container left behind: no runtime to remove it")
            }
        }
    }
}

/// Force-removes a container and its anonymous volumes; gone already is fine.
async fn remove_container(docker: &Docker, id: &str) {
    let opts = RemoveContainerOptions {
        force: true,
        v: true,
        link: false,
    };
    for attempt in 1..=3 {
        match docker.remove_container(id, Some(opts.clone())).await {
            Ok(()) => return,
            Err(e) if status_of(&e) == Some(404) => return,
            // 409: a removal is already in progress; look again.
            Err(e) if attempt < 3 => {
                tracing::debug!(container = %id, error = %e, attempt, "removing the container failed; retrying");
                tokio::time::sleep(Duration::from_millis(300 * attempt)).await;
            }
            Err(e) => tracing::warn!(container = %id, error = %e, "could not remove the container"),
        }
    }
}
