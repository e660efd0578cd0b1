//! Wiring: builds the [`App`] (store, log hub, engines, job service), binds the listener,
//! serves the router, and shuts everything down in order on a signal.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::{self, error::ApiError, AppState};
use crate::cluster;
use crate::config::{DockerMode, ServeConfig, Switch};
use crate::engines::{self, docker::DockerEngine, Engines};
use crate::jobs::{JobSettings, Jobs};
use crate::logs::StreamSlots;
use crate::logs::{hub::RingLimits, LogHub};
use crate::metrics::Metrics;
use crate::storage::{Storage, StorageSettings};
use crate::store::{redact, DatabaseKind, Store, StoreOptions};

/// Everything the handlers share.
#[derive(Debug)]
pub struct App {
    /// Settings.
    pub config: Arc<ServeConfig>,
    /// The job service.
    pub jobs: Jobs,
    /// Inputs and published results.
    pub storage: Storage,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Signature verification with a cache of decoded client keys.
    pub verifier: crate::auth::Verifier,
    /// ClientIDs allowed to use signed routes, when `--authorized-keys` is set.
    pub authorized: RwLock<Option<HashSet<String>>>,
    /// Open log streams per client, capped by `--max-log-streams-per-client`.
    pub log_streams: Arc<StreamSlots>,
    /// Fires when shutdown begins: new requests get 503 and log streams end.
    pub shutdown: CancellationToken,
    /// What confines Exec jobs, when the Exec engine is enabled.
    pub exec_sandbox: Option<crate::sandbox::SandboxStatus>,
    /// Talks to the other nodes of a cluster (log streams and results they hold).
    pub http: reqwest::Client,
}

impl App {
    /// 403 unless the client may use signed routes.
    pub fn check_authorized(&self, client_id: &str) -> Result<(), ApiError> {
        match &*self.authorized.read().expect("authorized keys") {
            Some(set) if !set.contains(client_id) => {
                self.metrics.signature_failure("not-authorized");
                Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "not-authorized",
                    format!("client {client_id} is not authorized on this node"),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Reads `--authorized-keys` again.
    pub fn reload_authorized(&self) -> anyhow::Result<()> {
        if let Some(path) = &self.config.authorized_keys {
            let set = read_authorized_keys(path)?;
            tracing::info!(clients = set.len(), "authorized keys loaded");
            *self.authorized.write().expect("authorized keys") = Some(set);
        }
        Ok(())
    }
}

/// Parses an authorized-keys file: one ClientID (64 hex) or base64 public key per line;
/// `#` starts a comment.
pub fn read_authorized_keys(path: &Path) -> anyhow::Result<HashSet<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut set = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let id = if entry.len() == 64 && entry.bytes().all(|b| b.is_ascii_hexdigit()) {
            entry.to_ascii_lowercase()
        } else {
            crate::auth::client_id_of(entry)
                .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?
        };
        set.insert(id);
    }
    Ok(set)
}

/// A bound, ready-to-run server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
}

impl Server {
    /// Creates the data dir, opens the database, recovers unfinished jobs and binds.
    pub async fn build(mut config: ServeConfig) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        config.listen = listener.local_addr()?;
        let config = Arc::new(config);
        let node_id = node_id(&config.data_dir)?;

        let store = open_store(&config).await?;
        let storage = Storage::new(StorageSettings {
            data_dir: config.data_dir.clone(),
            public_url: config.public_url(),
            allowed_input_dirs: config.allowed_input_dirs.clone(),
            max_input_bytes: config.max_input_bytes,
            max_published_output_bytes: config.max_published_output_bytes,
        });
        let metrics = Arc::new(Metrics::new());
        let logs = LogHub::new(
            RingLimits {
                bytes: config.log_ring_bytes,
                lines: config.log_ring_lines,
            },
            config.log_max_bytes,
            store.clone(),
            metrics.clone(),
        );
        let (engines, exec_sandbox) = build_engines(&config, &storage, &node_id).await?;
        tracing::info!(engines = ?engines.names(), "engines enabled");
        let node = Arc::new(cluster_node(&config, node_id, &engines)?);
        if store.cluster().is_some() {
            tracing::info!(node = %node.id, labels = ?node.labels(), compute = node.is_compute(),
                "joining the cluster on this database");
        }
        let jobs = Jobs::new(
            store,
            JobSettings {
                max_concurrent: config.max_concurrent(),
                default_timeout_secs: config.default_timeout_secs,
                list_page_cap: config.list_page_cap,
                output_capture_bytes: config.output_capture_bytes,
                kill_grace: Duration::from_secs(config.kill_grace_secs),
                freshness_window: Duration::from_secs(config.freshness_window_secs),
            },
            node,
            engines,
            storage.clone(),
            logs,
            metrics.clone(),
        );
        jobs.recover().await.context("recovering unfinished jobs")?;

        let log_streams = StreamSlots::new(config.max_log_streams_per_client);
        let app = Arc::new(App {
            config,
            jobs,
            storage,
            metrics,
            verifier: crate::auth::Verifier::new(4096),
            authorized: RwLock::new(None),
            log_streams,
            shutdown: CancellationToken::new(),
            exec_sandbox,
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(3))
                .build()
                .context("building the HTTP client")?,
        });
        app.reload_authorized()?;
        Ok(Self { listener, app })
    }

    /// The address really bound (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.app.config.listen
    }

    /// The shared state.
    pub fn app(&self) -> Arc<App> {
        self.app.clone()
    }

    /// Serves until `signal` completes, then shuts down within the grace period: new
    /// requests get 503, log streams end, executions are stopped, the database is closed.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = self.app.clone();
        let router = api::router(AppState(app.clone()));
        let grace = Duration::from_secs(app.config.shutdown_grace_secs);
        let stop = CancellationToken::new();
        let stop2 = stop.clone();
        let app2 = app.clone();
        tokio::spawn(async move {
            signal.await;
            tracing::info!("shutting down");
            app2.shutdown.cancel();
            app2.jobs.shutdown(grace).await;
            stop2.cancel();
        });
        let sweeper = tokio::spawn(sweep_nonces(app.clone()));
        tracing::info!(addr = %self.local_addr(), "hake listening");
        let opts = api::serve::ServeOptions {
            header_timeout: Duration::from_secs(app.config.header_timeout_secs.max(1)),
        };
        let served = tokio::spawn(api::serve::serve(self.listener, router, opts, stop.clone()));
        stop.cancelled().await;
        match tokio::time::timeout(grace, served).await {
            Ok(r) => r.context("server task")?,
            Err(_) => tracing::warn!("connections still open after the grace period; closing"),
        }
        app.jobs.logs().close().await;
        sweeper.abort();
        app.jobs.store().close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Opens the database `--database-url` names (the SQLite file in the data dir by default).
async fn open_store(config: &ServeConfig) -> anyhow::Result<Store> {
    let mut opts = match &config.database_url {
        Some(url) => {
            DatabaseKind::of_url(url).map_err(anyhow::Error::msg)?;
            StoreOptions::from_url(url.clone())
        }
        None => StoreOptions::in_dir(&config.data_dir),
    };
    opts.busy_timeout = Duration::from_millis(config.db_busy_timeout_ms);
    opts.read_connections = config.database_pool_size.max(1);
    opts.connect_timeout = Duration::from_secs(config.database_connect_timeout_secs);
    let store = Store::open(&opts)
        .await
        .with_context(|| format!("opening the database {}", redact(&opts.url)))?;
    tracing::info!(database = ?store.kind(), url = %redact(&opts.url), "database open");
    Ok(store)
}

/// How often expired nonces are deleted: half the freshness window, between 1 s and 60 s.
pub fn nonce_sweep_interval(freshness_window_secs: u64) -> Duration {
    Duration::from_secs((freshness_window_secs / 2).clamp(1, 60))
}

/// Deletes expired nonces periodically until shutdown, so the table holds only the
/// nonces of the last two freshness windows.
async fn sweep_nonces(app: Arc<App>) {
    let mut tick = tokio::time::interval(nonce_sweep_interval(app.config.freshness_window_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = app.shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match app.jobs.expire_nonces().await {
            Ok(0) => {}
            Ok(n) => {
                app.metrics.nonces_expired(n);
                tracing::debug!(deleted = n, "expired nonces deleted");
            }
            Err(e) => tracing::warn!(error = %e, "deleting expired nonces failed; will retry"),
        }
    }
}

/// The enabled engines, and what confines Exec jobs when Exec is one of them.
async fn build_engines(
    config: &ServeConfig,
    storage: &Storage,
    node_id: &str,
) -> anyhow::Result<(Engines, Option<crate::sandbox::SandboxStatus>)> {
    let mut e = Engines::default()
        .with(Arc::new(engines::noop::NoopEngine))
        .with(Arc::new(engines::wasm::WasmEngine::new(storage.clone())?));
    let mut exec_sandbox = None;
    if config.allow_exec {
        let sandbox = crate::sandbox::Sandbox::from_config(config)?;
        let status = sandbox.status();
        tracing::info!(sandbox = ?status, "Exec engine enabled");
        exec_sandbox = Some(status);
        e = e.with(Arc::new(engines::exec::ExecEngine::new(Arc::new(sandbox))));
    }
    if let Some(docker) = docker_engine(config.docker, node_id).await? {
        e = e.with(Arc::new(docker.with_pull_policy(config.docker_pull)));
    }
    Ok((e, exec_sandbox))
}

/// The Docker engine per `--docker`: `off` never, `on` or fail, `auto` when the daemon
/// answers at start-up (and says why not otherwise).
async fn docker_engine(mode: DockerMode, node_id: &str) -> anyhow::Result<Option<DockerEngine>> {
    let engine = match mode {
        DockerMode::Off => return Ok(None),
        DockerMode::On => DockerEngine::connect(None)
            .await
            .context("--docker on: the Docker engine needs a reachable daemon")?,
        DockerMode::Auto => match DockerEngine::connect(None).await {
            Ok(engine) => engine,
            Err(e) => {
                tracing::info!(reason = %format!("{e:#}"), "Docker engine disabled (--docker auto)");
                return Ok(None);
            }
        },
    };
    let engine = engine.with_node_id(node_id);
    match engine.remove_leftovers().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "removed containers left by an earlier run"),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "could not look for leftover containers")
        }
    }
    Ok(Some(engine))
}

/// This node's facts for the cluster registry, from the flags and the machine.
fn cluster_node(
    config: &ServeConfig,
    node_id: String,
    engines: &Engines,
) -> anyhow::Result<cluster::Node> {
    let labels = cluster::placement::parse_labels(&config.labels).map_err(anyhow::Error::msg)?;
    let mut cap = cluster::detect_capacity(&config.data_dir);
    let size = |flag: &str, v: &str| {
        crate::engines::wasm::limits::parse_memory(v)
            .map_err(|e| anyhow::anyhow!("--capacity-{flag} {v:?}: {e}"))
    };
    if let Some(v) = &config.capacity_cpu {
        cap.cpu = cluster::placement::parse_cpu(v.trim())
            .map_err(|e| anyhow::anyhow!("--capacity-cpu {v:?}: {e}"))?;
    }
    if let Some(v) = &config.capacity_memory {
        cap.memory = size("memory", v)?;
    }
    if let Some(v) = &config.capacity_disk {
        cap.disk = size("disk", v)?;
    }
    if let Some(v) = config.capacity_gpu {
        cap.gpu = v;
    }
    let compute = config.compute == Switch::On;
    let spec = cluster::NodeSpec {
        url: config
            .cluster_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| config.public_url()),
        labels,
        engines: if compute { engines.names() } else { Vec::new() },
        compute,
        max_capacity: cap,
        available_capacity: cap,
        slots: if compute { config.max_concurrent() } else { 0 },
        running: 0,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    Ok(cluster::Node::new(node_id, spec, config.node_timeout()))
}

/// The node id kept in `<data dir>/node_id`, created on first start.
fn node_id(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("node_id");
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => {
            let id = format!("n-{}", uuid::Uuid::new_v4());
            std::fs::write(&path, &id).with_context(|| format!("writing {}", path.display()))?;
            Ok(id)
        }
    }
}

/// Completes on SIGINT or SIGTERM; SIGHUP reloads the authorized keys.
pub async fn shutdown_signal(app: Arc<App>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            _ = term.recv() => return,
            _ = hup.recv() => {
                if let Err(e) = app.reload_authorized() {
                    tracing::error!(error = %e, "reloading authorized keys failed; keeping the old list");
                }
            }
        }
    }
}
