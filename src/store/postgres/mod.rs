//! The PostgreSQL side of the store (a cluster's shared database): a connection pool
//! for reads, and the group-commit writer on connections of its own from the same pool.
//! Every node migrates at start-up; sqlx holds PostgreSQL's advisory lock while it does,
//! so nodes starting together migrate one after the other.

pub mod cluster;
mod notify;
pub(super) mod reads;
mod write;

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use super::{StoreError, StoreOptions};
pub use cluster::PgCluster;
pub(crate) use reads::PgReads;
pub(crate) use write::PgWriter;

/// The embedded PostgreSQL migrations in `migrations/postgres/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections beyond the reads and the writer's: the job-locked state changes and the
/// claims of a cluster node, which run side by side.
const CHANGE_CONNECTIONS: u32 = 8;

/// How long a request waits for a pooled connection before it is answered 503: short, so
/// that an unreachable database is reported within a few seconds, never as a hang.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Connects (retrying for up to `opts.connect_timeout` while the server is not up yet)
/// and runs the migrations.
pub(super) async fn open(
    opts: &StoreOptions,
) -> Result<(PgReads, PgWriter, PgCluster), StoreError> {
    let connect = PgConnectOptions::from_str(&opts.url)?
        .application_name("hake")
        .statement_cache_capacity(512)
        // Every statement here reads or writes a few rows; JIT compiling one whose
        // estimate is off (tables not yet analyzed) costs 10–15 ms for nothing.
        .options([("jit", "off")])
        .disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(opts.read_connections.max(1) + 1 + CHANGE_CONNECTIONS)
        .min_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(connect);
    let deadline = Instant::now() + opts.connect_timeout;
    loop {
        match pool.acquire().await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline && super::sqlx_error_is_unavailable(&e) => {
                tracing::info!(error = %e, "waiting for PostgreSQL");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    MIGRATOR.run(&pool).await?;
    let notifier = notify::Notifier::new(pool.clone());
    Ok((
        PgReads { pool: pool.clone() },
        PgWriter::new(pool.clone(), notifier.clone()),
        PgCluster::new(pool, notifier),
    ))
}

/// Whether a PostgreSQL SQLSTATE means the database cannot serve now: connection
/// exceptions (08), insufficient resources such as a full disk (53), operator
/// intervention such as a shutdown (57P), and transaction conflicts worth retrying (40).
pub(super) fn code_is_unavailable(code: &str) -> bool {
    ["08", "53", "57P", "40"]
        .iter()
        .any(|c| code.starts_with(c))
}

/// A pool for tests and tools that need plain SQL on the same database.
pub async fn connect(url: &str) -> Result<PgPool, StoreError> {
    Ok(PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(PgConnectOptions::from_str(url)?.disable_statement_logging())
        .await?)
}

/// Creates an empty database `name` on the server of `admin_url` and returns the URL of
/// the new database (for tests and tools that want a fresh database per run).
pub async fn create_database(admin_url: &str, name: &str) -> Result<String, StoreError> {
    let pool = connect(admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
        .execute(&pool)
        .await?;
    pool.close().await;
    let mut url = url::Url::parse(admin_url)
        .map_err(|e| StoreError::Corrupt(format!("database URL: {e}")))?;
    url.set_path(name);
    Ok(url.to_string())
}

/// Drops database `name` on the server of `admin_url`, closing its connections.
pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
    let pool = connect(admin_url).await?;
    sqlx::query(&format!(
        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
        name.replace('"', "")
    ))
    .execute(&pool)
    .await?;
    pool.close().await;
    Ok(())
}
