//! Server configuration: plain data, parsed by clap from flags with `HAKE_*` env vars.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Whether to enable the Docker engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DockerMode {
    /// Enable it when a daemon answers at start-up.
    Auto,
    /// Require it: fail to start without a daemon.
    On,
    /// Never.
    Off,
}

/// When the Docker engine pulls a job's image from its registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DockerPull {
    /// Pull when the image is not on the node.
    Missing,
    /// Pull before every execution, even when the image is on the node.
    Always,
    /// Never pull: the image must already be on the node.
    Never,
}

/// `hake serve` settings.
#[derive(Clone, Debug, clap::Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "HAKE_LISTEN", default_value = "127.0.0.1:1234")]
    pub listen: SocketAddr,

    /// Directory for the database, node id, scratch space and published results.
    #[arg(long, env = "HAKE_DATA_DIR", default_value_os_t = default_data_dir())]
    pub data_dir: PathBuf,

    /// Database URL: unset or `sqlite://PATH` for a SQLite file (by default `hake.db` in
    /// the data dir), `postgres://USER:PASSWORD@HOST:PORT/DB` (or `postgresql://`) for a
    /// PostgreSQL database that several nodes may share; `?sslmode=require` for TLS.
    #[arg(long, env = "HAKE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Read connections in the database pool (PostgreSQL: plus one for the writer).
    #[arg(long, env = "HAKE_DATABASE_POOL_SIZE", default_value_t = 4)]
    pub database_pool_size: u32,

    /// Seconds start-up waits for a PostgreSQL server that does not accept connections yet.
    #[arg(long, env = "HAKE_DATABASE_CONNECT_TIMEOUT_SECS", default_value_t = 30)]
    pub database_connect_timeout_secs: u64,

    // --- The cluster (nodes sharing one PostgreSQL; see the README's "Running a cluster") ---
    /// Whether this node runs executions: on (the default) or off (an API-only node).
    #[arg(long, env = "HAKE_COMPUTE", value_enum, default_value_t = Switch::On)]
    pub compute: Switch,

    /// A label of this node, `KEY=VALUE`, that jobs select with `NodeSelectors`
    /// (repeatable; comma-separated in the environment).
    #[arg(
        long = "label",
        env = "HAKE_LABELS",
        value_delimiter = ',',
        value_name = "KEY=VALUE"
    )]
    pub labels: Vec<String>,

    /// The base URL other nodes of the cluster reach this one at (they relay log streams
    /// and Local results of its executions through it); default: the public URL.
    #[arg(long, env = "HAKE_CLUSTER_URL")]
    pub cluster_url: Option<String>,

    /// Seconds after which a silent node is lost and its executions are failed.
    #[arg(long, env = "HAKE_NODE_TIMEOUT_SECS", default_value_t = 30.0)]
    pub node_timeout_secs: f64,

    /// CPU cores this node offers to jobs (default: all cores), e.g. `4` or `1500m`.
    #[arg(long, env = "HAKE_CAPACITY_CPU")]
    pub capacity_cpu: Option<String>,

    /// Memory this node offers to jobs (default: all of it), e.g. `8Gb`.
    #[arg(long, env = "HAKE_CAPACITY_MEMORY")]
    pub capacity_memory: Option<String>,

    /// Disk this node offers to jobs (default: free space in the data dir), e.g. `100Gb`.
    #[arg(long, env = "HAKE_CAPACITY_DISK")]
    pub capacity_disk: Option<String>,

    /// GPUs this node offers to jobs (default: the NVIDIA devices found).
    #[arg(long, env = "HAKE_CAPACITY_GPU")]
    pub capacity_gpu: Option<u64>,

    /// Executions that may run at once (default: the number of cores).
    #[arg(long, env = "HAKE_MAX_CONCURRENT_EXECUTIONS")]
    pub max_concurrent_executions: Option<usize>,

    /// Enable the Exec engine (host processes). Only for trusted single-user setups.
    #[arg(long, env = "HAKE_ALLOW_EXEC")]
    pub allow_exec: bool,

    /// Docker engine: auto (when a daemon answers), on, or off.
    #[arg(long, env = "HAKE_DOCKER", value_enum, default_value_t = DockerMode::Auto)]
    pub docker: DockerMode,

    /// Docker image pulls: missing (pull images not on the node), always, or never.
    /// Registry credentials come from the node's Docker config (`$DOCKER_CONFIG` or
    /// `~/.docker/config.json`).
    #[arg(long, env = "HAKE_DOCKER_PULL", value_enum, default_value_t = DockerPull::Missing)]
    pub docker_pull: DockerPull,

    /// Roots under which LocalDirectory inputs are allowed (repeatable). Inputs are
    /// read-only for every engine; `PATH:rw` lets inputs under PATH that say `ReadWrite`
    /// be written.
    #[arg(
        long = "allowed-input-dir",
        env = "HAKE_ALLOWED_INPUT_DIRS",
        value_delimiter = ','
    )]
    pub allowed_input_dirs: Vec<PathBuf>,

    /// File of authorized ClientIDs or base64 public keys, one per line.
    #[arg(long, env = "HAKE_AUTHORIZED_KEYS")]
    pub authorized_keys: Option<PathBuf>,

    /// Reject signed payloads without Timestamp and Nonce.
    #[arg(long, env = "HAKE_REQUIRE_FRESH_SIGNATURES")]
    pub require_fresh_signatures: bool,

    /// Accepted clock skew of a payload Timestamp, in seconds.
    #[arg(long, env = "HAKE_FRESHNESS_WINDOW_SECS", default_value_t = 300)]
    pub freshness_window_secs: u64,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "HAKE_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Requests per second allowed per client IP, with bursts of as many (0 disables the
    /// limit). Health, readiness and metrics routes are not limited. Over it: 429 with
    /// `Retry-After`.
    #[arg(long, env = "HAKE_RATE_LIMIT", default_value_t = 0)]
    pub rate_limit: u32,

    /// Seconds a client has to send a request's headers; a connection that waits this long
    /// for its first or next request (a silent or idle keep-alive one) is closed too.
    #[arg(long, env = "HAKE_HEADER_TIMEOUT_SECS", default_value_t = 30)]
    pub header_timeout_secs: u64,

    /// Seconds a non-streaming request may take, body upload included (long-polls wait at
    /// most 60 s); past it the answer is 408. Streaming routes are exempt.
    #[arg(long, env = "HAKE_REQUEST_TIMEOUT_SECS", default_value_t = 90)]
    pub request_timeout_secs: u64,

    /// Milliseconds a database write waits for a lock held by another connection before
    /// the request gets 503.
    #[arg(long, env = "HAKE_DB_BUSY_TIMEOUT_MS", default_value_t = 5000)]
    pub db_busy_timeout_ms: u64,

    /// Seconds to let running requests and streams finish on shutdown.
    #[arg(long, env = "HAKE_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Seconds between SIGTERM and SIGKILL when stopping an execution.
    #[arg(long, env = "HAKE_KILL_GRACE_SECS", default_value_t = 5)]
    pub kill_grace_secs: u64,

    /// Timeout of jobs that set none, in seconds.
    #[arg(long, env = "HAKE_DEFAULT_TIMEOUT_SECS", default_value_t = 1800.0)]
    pub default_timeout_secs: f64,

    /// Bytes of stdout and of stderr kept in RunOutput.
    #[arg(long, env = "HAKE_OUTPUT_CAPTURE_BYTES", default_value_t = 64 * 1024)]
    pub output_capture_bytes: usize,

    /// Bytes held in each execution's log ring buffer.
    #[arg(long, env = "HAKE_LOG_RING_BYTES", default_value_t = 1024 * 1024)]
    pub log_ring_bytes: usize,

    /// Lines held in each execution's log ring buffer.
    #[arg(long, env = "HAKE_LOG_RING_LINES", default_value_t = 10_000)]
    pub log_ring_lines: usize,

    /// Log bytes persisted per execution; past it, records are dropped and reported as a Gap.
    #[arg(long, env = "HAKE_LOG_MAX_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub log_max_bytes: u64,

    /// Seconds of silence after which a log stream sends a heartbeat record.
    #[arg(long, env = "HAKE_LOG_HEARTBEAT_SECS", default_value_t = 15.0)]
    pub log_heartbeat_secs: f64,

    /// Log streams one client (ClientID) may have open at once (0: no cap). Over it:
    /// 429 with `Retry-After`.
    #[arg(long, env = "HAKE_MAX_LOG_STREAMS_PER_CLIENT", default_value_t = 64)]
    pub max_log_streams_per_client: usize,

    /// Largest page `list` returns (also what `max_jobs: 0` means).
    #[arg(long, env = "HAKE_LIST_PAGE_CAP", default_value_t = 1000)]
    pub list_page_cap: usize,

    /// Largest Inline or URLDownload input, and most bytes of a job's S3 inputs in all.
    #[arg(long, env = "HAKE_MAX_INPUT_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_input_bytes: u64,

    /// Base URL clients use to reach this server (for result download links).
    #[arg(long, env = "HAKE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Log format.
    #[arg(long, env = "HAKE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    // --- Exec confinement (see the README's "Security model") ---
    /// Confine Exec jobs with Landlock: on (the default; the Exec engine refuses to start
    /// where the kernel lacks Landlock) or off (loudly logged, shown in /node_info).
    #[arg(long, env = "HAKE_EXEC_SANDBOX", value_enum, default_value_t = ExecSandboxMode::On)]
    pub exec_sandbox: ExecSandboxMode,

    /// A server environment variable passed to Exec jobs on purpose (repeatable).
    #[arg(
        long = "exec-pass-env",
        env = "HAKE_EXEC_PASS_ENV",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    pub exec_pass_env: Vec<String>,

    /// Run Exec jobs as this user (the server must run as root).
    #[arg(long, env = "HAKE_EXEC_USER", value_name = "USER")]
    pub exec_user: Option<String>,

    /// A further path Exec jobs may read and execute, besides /usr, /bin, /lib*, /etc,
    /// /opt, /sys and system-wide /proc files (repeatable).
    #[arg(
        long = "exec-read-only-path",
        env = "HAKE_EXEC_READ_ONLY_PATHS",
        value_delimiter = ',',
        value_name = "PATH"
    )]
    pub exec_read_only_paths: Vec<PathBuf>,

    /// Open files an Exec job may hold (RLIMIT_NOFILE).
    #[arg(long, env = "HAKE_EXEC_MAX_OPEN_FILES", default_value_t = 1024)]
    pub exec_max_open_files: u64,

    /// The program that confines Exec jobs: `hake-sandbox` beside this binary by default,
    /// else this binary (`hake sandbox-exec`); either is started as `PROGRAM sandbox-exec`.
    #[arg(long, env = "HAKE_EXEC_HELPER", hide = true)]
    pub exec_helper: Option<PathBuf>,

    /// Testing only: behave as if the kernel lacked Landlock.
    #[arg(long, env = "HAKE_EXEC_SANDBOX_ASSUME_NO_LANDLOCK", hide = true)]
    pub exec_sandbox_assume_no_landlock: bool,

    /// Most bytes of each of stdout and stderr kept in a published result (Local and S3
    /// publishers); the rest is cut.
    #[arg(long, env = "HAKE_MAX_PUBLISHED_OUTPUT_BYTES", default_value_t = 1024 * 1024 * 1024)]
    pub max_published_output_bytes: u64,
}

/// A feature turned on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// Whether Exec jobs are confined by Landlock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExecSandboxMode {
    /// Confine them; refuse to run them where the kernel lacks Landlock.
    On,
    /// Run them unconfined by Landlock (environment and limits still apply).
    Off,
}

impl ServeConfig {
    /// Defaults with the given data dir and listen address (for tests and embedding).
    pub fn for_dir(data_dir: PathBuf) -> Self {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Wrap {
            #[command(flatten)]
            c: ServeConfig,
        }
        let mut c = Wrap::parse_from(["hake"]).c;
        c.data_dir = data_dir;
        c
    }

    /// The base URL of this server as clients see it.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The log-stream heartbeat interval (at least 10 ms; 15 s when the flag is not a
    /// valid duration).
    pub fn log_heartbeat(&self) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64(self.log_heartbeat_secs)
            .unwrap_or(std::time::Duration::from_secs(15))
            .max(std::time::Duration::from_millis(10))
    }

    /// How long a silent node stays a member (at least 100 ms).
    pub fn node_timeout(&self) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64(self.node_timeout_secs)
            .unwrap_or(std::time::Duration::from_secs(30))
            .max(std::time::Duration::from_millis(100))
    }

    /// Executions allowed at once.
    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent_executions
            .unwrap_or_else(num_cpus::get)
            .max(1)
    }
}

fn default_data_dir() -> PathBuf {
    dirs::data_local_dir()
        .map(|d| d.join("hake"))
        .unwrap_or_else(|| PathBuf::from("hake-data"))
}
