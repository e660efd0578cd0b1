//! WAL checkpoints off the writer's path. The writer connection would otherwise copy the
//! WAL back into the database file (and fsync it) inside whichever commit crosses
//! SQLite's auto-checkpoint mark, stalling every request waiting on that batch. A task
//! with its own connection runs passive checkpoints instead, which never block writers;
//! the writer keeps a far higher auto-checkpoint mark as a safety net for when this task
//! cannot keep up.
//!
//! While writes come in, the task checkpoints every [`EVERY`]. A checkpoint that finds the
//! WAL as the previous one left it, all copied back, doubles the wait, up to
//! [`IDLE_EVERY`]; any change brings it back to [`EVERY`]. An idle node so wakes once a
//! second for this, not ten times.

use std::time::Duration;

use sqlx::sqlite::SqliteConnection;
use sqlx::Connection;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Pages in the WAL past which the writer checkpoints by itself (64 MB at 4 KB pages).
pub const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// How often the task checkpoints while the database is being written.
const EVERY: Duration = Duration::from_millis(100);

/// The longest wait between checkpoints of an idle database.
const IDLE_EVERY: Duration = Duration::from_secs(1);

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
    let mut wait = EVERY;
    let mut last: Option<WalState> = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
        // PASSIVE copies what it can without waiting for readers or the writer. A busy
        // database is not an error here: the next tick tries again.
        let state = match sqlx::query_as::<_, WalState>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut conn)
            .await
        {
            Ok(state) => Some(state),
            Err(e) => {
                tracing::debug!(error = %e, "background checkpoint failed");
                None
            }
        };
        wait = next_wait(wait, last, state);
        last = state;
    }
    let _ = conn.close().await;
}

/// `wal_checkpoint`'s row: busy (0 or 1), frames in the WAL, frames copied back.
type WalState = (i64, i64, i64);

/// The wait before the next checkpoint, given this one's outcome and the previous one's.
fn next_wait(wait: Duration, last: Option<WalState>, now: Option<WalState>) -> Duration {
    match now {
        Some(now @ (0, log, copied)) if log == copied && last == Some(now) => {
            (wait * 2).min(IDLE_EVERY)
        }
        _ => EVERY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_fully_copied_wal_backs_off_to_the_idle_wait() {
        let done = Some((0, 40, 40));
        let mut wait = EVERY;
        let mut seen = Vec::new();
        for _ in 0..6 {
            wait = next_wait(wait, done, done);
            seen.push(wait.as_millis());
        }
        assert_eq!(seen, [200, 400, 800, 1000, 1000, 1000]);
    }

    #[test]
    fn new_frames_a_lagging_copy_busy_or_an_error_bring_the_short_wait_back() {
        let idle = IDLE_EVERY;
        // The writer appended frames since the last checkpoint.
        assert_eq!(next_wait(idle, Some((0, 40, 40)), Some((0, 90, 90))), EVERY);
        // The WAL was reset and written again.
        assert_eq!(next_wait(idle, Some((0, 40, 40)), Some((0, 12, 12))), EVERY);
        // Frames left to copy (a reader holds an older snapshot).
        assert_eq!(next_wait(idle, Some((0, 90, 60)), Some((0, 90, 60))), EVERY);
        assert_eq!(next_wait(idle, Some((1, 90, 90)), Some((1, 90, 90))), EVERY);
        assert_eq!(next_wait(idle, Some((0, 40, 40)), None), EVERY);
        // The first checkpoint has nothing to compare with.
        assert_eq!(next_wait(EVERY, None, Some((0, 0, 0))), EVERY);
    }
}
