//! The nodes the console's nodes page lists. Today that is this node alone, from the
//! same facts `/node_info` serves; when the cluster registry lands, only [`list`]
//! changes its data source.

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

/// The nodes of the cluster as this node knows them: itself.
pub fn list(app: &App) -> Vec<NodeView> {
    let sched = app.jobs.scheduler();
    vec![NodeView {
        id: app.jobs.node_id().to_owned(),
        liveness: "alive".to_owned(),
        addrs: vec![app.config.public_url()],
        labels: BTreeMap::new(),
        engines: app.jobs.engines().names(),
        running: sched.running(),
        waiting: sched.waiting(),
        capacity: app.config.max_concurrent(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }]
}
