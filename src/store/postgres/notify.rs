//! Notifications to the cluster's nodes, sent after the transactions they announce have
//! committed, by one task that coalesces them.
//!
//! `NOTIFY` inside a writing transaction takes a database-wide lock at commit and holds it
//! until the commit's WAL flush is done, so every notifying transaction (submit batches,
//! claims, state changes) committed one after the other, each waiting out the others'
//! flushes. Sent here instead, a notification is an autocommit statement of its own that
//! writes no WAL to flush, and every notification waiting while one is sent goes out in
//! the next statement. A listener reads the database when it hears one, and the data is
//! committed before the notification leaves; one lost in a crash between the two is
//! covered by the polls that already cover a listener's reconnects.

use std::collections::BTreeSet;

use sqlx::PgPool;
use tokio::sync::mpsc;

use super::cluster::{JOBS_CHANNEL, PENDING_CHANNEL};

/// Notes waiting to be sent, at most; past that a note is dropped (the polls cover it).
const QUEUE: usize = 4096;
/// Most notes one statement takes.
const BATCH: usize = 1024;

/// What a committed transaction announces.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    /// Executions now wait for a node.
    pub(crate) pending: bool,
    /// Jobs that changed.
    pub(crate) jobs: Vec<String>,
}

impl Notes {
    fn is_empty(&self) -> bool {
        !self.pending && self.jobs.is_empty()
    }
}

/// The sending side of the notification task. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    tx: mpsc::Sender<Notes>,
}

impl Notifier {
    /// Starts the task; it ends when every `Notifier` is dropped.
    pub(super) fn new(pool: PgPool) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, rx));
        Self { tx }
    }

    /// Queues what a transaction that has committed announces.
    pub(super) fn send(&self, notes: Notes) {
        if notes.is_empty() {
            return;
        }
        if self.tx.try_send(notes).is_err() {
            tracing::debug!("notification queue full or closed; the polls will cover it");
        }
    }
}

async fn run(pool: PgPool, mut rx: mpsc::Receiver<Notes>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut pending = false;
        let mut jobs: BTreeSet<String> = BTreeSet::new();
        for n in batch.drain(..) {
            pending |= n.pending;
            jobs.extend(n.jobs);
        }
        let mut channels: Vec<&str> = Vec::with_capacity(jobs.len() + 1);
        let mut payloads: Vec<String> = Vec::with_capacity(jobs.len() + 1);
        if pending {
            channels.push(PENDING_CHANNEL);
            payloads.push(String::new());
        }
        for id in jobs {
            channels.push(JOBS_CHANNEL);
            payloads.push(id);
        }
        let sent =
            sqlx::query("SELECT pg_notify(c, p) FROM UNNEST($1::text[], $2::text[]) AS v(c, p)")
                .bind(&channels)
                .bind(&payloads)
                .execute(&pool)
                .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, notes = payloads.len(), "could not notify the other nodes; their polls will cover it");
        }
    }
}
