//! The harness switch between databases. With `HAKE_TEST_DATABASE=postgres` every server
//! a test starts (in-process or as the real binary) uses a fresh PostgreSQL database on
//! the server `HAKE_TEST_PG_URL` names, one per data dir, so a restart over the same data
//! dir finds the same database. Otherwise servers use their SQLite file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Test databases older than this are dropped when a new one is made: no test run lasts
/// that long, and the throwaway server then stays small across runs.
const STALE_SECS: u64 = 3 * 3600;

/// Whether this run's servers use PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("HAKE_TEST_DATABASE").as_deref() == Ok("postgres")
}

/// The admin URL of the test PostgreSQL server, or why there is none.
pub fn pg_admin_url() -> Result<String, String> {
    match std::env::var("HAKE_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Ok(u),
        _ => Err(
            "HAKE_TEST_PG_URL is not set (scripts/test.sh starts a throwaway PostgreSQL)".into(),
        ),
    }
}

/// The admin URL, or None after printing why the test skips; under CI=true a missing
/// server fails the test instead.
pub fn pg_or_skip(test: &str) -> Option<String> {
    match pg_admin_url() {
        Ok(u) => Some(u),
        Err(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true and PostgreSQL is missing: {why}"
            );
            eprintln!("skipping {test}: {why}");
            None
        }
    }
}

/// For tests of SQLite's own failure modes (its file locked, its disk full): true, after
/// saying so, when this run is on PostgreSQL (whose outage has tests of its own).
pub fn sqlite_only(test: &str) -> bool {
    if on_postgres() {
        eprintln!("skipping {test}: it tests the SQLite file; this run is on PostgreSQL");
    }
    on_postgres()
}

static DATABASES: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);

/// The database URL servers over `data_dir` use in this run: None on SQLite.
pub fn database_url_for(data_dir: &Path) -> Option<String> {
    if !on_postgres() {
        return None;
    }
    let admin = pg_admin_url().unwrap_or_else(|why| panic!("HAKE_TEST_DATABASE=postgres: {why}"));
    let mut map = DATABASES.lock().unwrap();
    let map = map.get_or_insert_with(HashMap::new);
    if let Some(url) = map.get(data_dir) {
        return Some(url.clone());
    }
    let url = fresh_database(&admin);
    map.insert(data_dir.to_owned(), url.clone());
    Some(url)
}

/// Creates a new empty database on the admin URL's server and returns its URL.
pub fn fresh_database(admin: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let name = format!("hake_it_{now}_{}", uuid::Uuid::new_v4().simple());
    let admin = admin.to_owned();
    // Servers are started from sync and async code alike: this runs on a thread of its own.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            drop_stale(&admin, now).await;
            hake::store::postgres::create_database(&admin, &name)
                .await
                .expect("creating a test database")
        })
    })
    .join()
    .unwrap()
}

async fn drop_stale(admin: &str, now: u64) {
    let Ok(pool) = hake::store::postgres::connect(admin).await else {
        return;
    };
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'hake_it_%'")
            .fetch_all(&pool)
            .await
            .unwrap_or_default();
    pool.close().await;
    for name in names {
        let made: u64 = name
            .split('_')
            .nth(2)
            .and_then(|t| t.parse().ok())
            .unwrap_or(now);
        if now.saturating_sub(made) > STALE_SECS {
            let _ = hake::store::postgres::drop_database(admin, &name).await;
        }
    }
}

/// A PostgreSQL server of a test's own, which the test may stop and start again (the
/// shared one must stay up for the others). Made with Debian's binaries by `initdb` into a
/// temporary directory, as the `postgres` user when the tests run as root.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl PgServer {
    /// Starts a new server, or None (after saying why) when PostgreSQL is not installed;
    /// under CI=true that is a failure.
    pub fn start(test: &str) -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| d.filter_map(Result::ok).map(|e| e.path().join("bin")).max());
        let Some(bin) = bin.filter(|b| b.join("initdb").exists()) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true and PostgreSQL's binaries are missing"
            );
            eprintln!("skipping {test}: PostgreSQL is not installed under /usr/lib/postgresql");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = Self { dir, bin, port };
        if running_as_root() {
            let status = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(server.dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown of the server's directory");
        }
        server.run(
            "initdb",
            &[
                "-D",
                &server.data(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        server.start_again();
        Some(server)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut cmd = if running_as_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            std::process::Command::new(&program)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts it (again) and waits until it accepts connections.
    pub fn start_again(&self) {
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "-o",
                &opts,
                "start",
            ],
        );
    }

    /// Stops it at once, as a crash or an operator's `pg_ctl stop -m immediate` would.
    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.stop()));
    }
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}
