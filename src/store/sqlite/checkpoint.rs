//! WAL checkpoints off the writer's path. The writer connection would otherwise copy the
//! WAL back into the database file (and fsync it) inside whichever commit crosses
//! SQLite's auto-checkpoint mark, stalling every request waiting on that batch. A task
//! with its own connection runs passive checkpoints instead, which never block writers;
//! the writer keeps a far higher auto-checkpoint mark as a safety net for when this task
//! cannot keep up.

use std::time::Duration;

use sqlx::sqlite::SqliteConnection;
use sqlx::Connection;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Pages in the WAL past which the writer checkpoints by itself (64 MB at 4 KB pages).
pub const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// How often the task checkpoints.
const EVERY: Duration = Duration::from_millis(100);

/// The running checkpoint task.
#[derive(Debug)]
pub struct Checkpointer {
    /// Stops the task.
    stop: CancellationToken,
    /// The task (it closes its connection when it stops).
    task: JoinHandle<()>,
}

impl Checkpointer {
    /// Starts checkpointing through `conn`.
    pub fn start(conn: SqliteConnection) -> Self {
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(conn, stop.clone()));
        Self { stop, task }
    }

    /// Stops the task and closes its connection.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

async fn run(mut conn: SqliteConnection, stop: CancellationToken) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        // PASSIVE copies what it can without waiting for readers or the writer. A busy
        // database is not an error here: the next tick tries again.
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await
        {
            tracing::debug!(error = %e, "background checkpoint failed");
        }
    }
    let _ = conn.close().await;
}
