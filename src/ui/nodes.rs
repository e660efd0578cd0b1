//! The nodes the console's nodes page lists: the cluster registry (this node alone on
//! SQLite).

use std::collections::BTreeMap;

use crate::app::App;

/// One node as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// Node id.
    pub id: String,
    /// `alive` (this node answers, since it rendered the page).
    pub liveness: String,
    /// Where it listens.
    pub addrs: Vec<String>,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Engines enabled on it.
    pub engines: Vec<String>,
    /// Executions running now.
    pub running: usize,
    /// Jobs waiting for a slot.
    pub waiting: usize,
    /// Execution slots.
    pub capacity: usize,
    /// hake's version on the node.
    pub version: String,
}

/// The nodes of the cluster as this node knows them (the registry as of its last
/// heartbeat, with its own entry current); on SQLite, itself.
pub fn list(app: &App) -> Vec<NodeView> {
    let sched = app.jobs.scheduler();
    let me = app.jobs.node_id();
    app.jobs
        .node()
        .members_now(sched.running())
        .into_iter()
        .map(|m| NodeView {
            liveness: if m.alive { "alive" } else { "lost" }.to_owned(),
            addrs: vec![m.spec.url.clone()],
            labels: m.spec.labels.clone(),
            engines: m.spec.engines.clone(),
            running: m.spec.running,
            waiting: if m.id == me { sched.waiting() } else { 0 },
            capacity: m.spec.slots,
            version: m.spec.version.clone(),
            id: m.id,
        })
        .collect()
}
