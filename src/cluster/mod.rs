//! This node as a member of a cluster: what it says of itself (labels, engines, capacity,
//! URL), what it knows of the other nodes (the registry, refreshed at each heartbeat),
//! the resources its running executions hold, and the placement questions asked of all
//! that. On SQLite the cluster is this node alone.

pub mod placement;

use std::collections::BTreeMap;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Spec;
use crate::store::postgres::cluster::NodeRow;
use crate::time::{self, Time};
pub use placement::Capacity;

/// What a node says of itself in the registry (`nodes.info`, JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeSpec {
    /// Base URL other nodes and clients reach it at.
    pub url: String,
    /// Its labels (`--label`).
    pub labels: BTreeMap<String, String>,
    /// Engines it runs (empty for an API-only node).
    pub engines: Vec<String>,
    /// Whether it runs executions (`--compute on`).
    pub compute: bool,
    /// What it has.
    pub max_capacity: Capacity,
    /// What its running executions leave free.
    pub available_capacity: Capacity,
    /// Executions it may run at once.
    pub slots: usize,
    /// Executions it runs now.
    pub running: usize,
    /// hake's version.
    pub version: String,
}

/// A node as the registry knows it.
#[derive(Debug, Clone)]
pub struct Member {
    /// Node id.
    pub id: String,
    /// What it says of itself.
    pub spec: NodeSpec,
    /// Heard from within the node timeout.
    pub alive: bool,
    /// Its last heartbeat (the database's clock).
    pub last_seen: Time,
}

/// Why no node can ever run a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplaceable(pub String);

/// This node in its cluster.
#[derive(Debug)]
pub struct Node {
    /// This node's id.
    pub id: String,
    /// A silent node is lost after this long.
    pub timeout: Duration,
    /// What this node says of itself, but for the changing counts.
    base: NodeSpec,
    /// The registry as of the last heartbeat; this node alone until then.
    members: RwLock<Vec<Member>>,
    /// Resources held by the executions running here.
    used: Mutex<Capacity>,
}

impl Node {
    /// This node with its facts.
    pub fn new(id: String, base: NodeSpec, timeout: Duration) -> Self {
        let me = Member {
            id: id.clone(),
            spec: base.clone(),
            alive: true,
            last_seen: time::now(),
        };
        Self {
            id,
            timeout,
            base,
            members: RwLock::new(vec![me]),
            used: Mutex::new(Capacity::default()),
        }
    }

    /// This node's facts with `running` executions now.
    pub fn spec(&self, running: usize) -> NodeSpec {
        let used = *self.used.lock().expect("used capacity");
        NodeSpec {
            available_capacity: self.base.max_capacity.minus(&used),
            running,
            ..self.base.clone()
        }
    }

    /// Whether this node runs executions.
    pub fn is_compute(&self) -> bool {
        self.base.compute
    }

    /// Its labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.base.labels
    }

    /// Engines it runs, when it is a compute node.
    pub fn engines(&self) -> Vec<String> {
        if self.base.compute {
            self.base.engines.clone()
        } else {
            Vec::new()
        }
    }

    /// The registry as of the last heartbeat.
    pub fn members(&self) -> Vec<Member> {
        self.members.read().expect("members").clone()
    }

    /// The registry with this node's own entry as it is now (`running` executions).
    pub fn members_now(&self, running: usize) -> Vec<Member> {
        let mut all = self.members();
        let me = Member {
            id: self.id.clone(),
            spec: self.spec(running),
            alive: true,
            last_seen: time::now(),
        };
        match all.iter_mut().find(|m| m.id == self.id) {
            Some(m) => *m = me,
            None => all.insert(0, me),
        }
        all
    }

    /// Replaces the registry with what the database holds.
    pub fn set_members(&self, rows: Vec<NodeRow>) {
        let members = rows
            .into_iter()
            .map(|r| {
                let mut spec: NodeSpec = serde_json::from_str(&r.info).unwrap_or_default();
                spec.running = usize::try_from(r.running).unwrap_or(0);
                Member {
                    spec,
                    id: r.id,
                    alive: r.alive,
                    last_seen: time::from_nanos(r.last_seen_ns),
                }
            })
            .collect();
        *self.members.write().expect("members") = members;
    }

    /// Holds `need` for an execution until the returned guard drops (callers check
    /// [`Node::has_free`] first; claims running side by side may overcommit briefly).
    pub fn reserve(self: &std::sync::Arc<Self>, need: Capacity) -> Reservation {
        let mut used = self.used.lock().expect("used capacity");
        *used = used.plus(&need);
        Reservation {
            node: self.clone(),
            need,
        }
    }

    /// Whether what is free here now fits `need`.
    pub fn has_free(&self, need: &Capacity) -> bool {
        let used = self.used.lock().expect("used capacity");
        self.base.max_capacity.minus(&used).fits(need)
    }

    /// Live compute nodes that could ever run `spec` (engine, selectors, capacity).
    pub fn candidates(&self, spec: &Spec, need: &Capacity) -> Vec<Member> {
        let engine = spec.engine.map(|e| e.to_string()).unwrap_or_default();
        self.matching(&engine, &spec.node_selectors, need)
    }

    /// Live compute nodes that run `engine`, match `selectors` and could hold `need`.
    pub fn matching(
        &self,
        engine: &str,
        selectors: &[crate::model::LabelSelector],
        need: &Capacity,
    ) -> Vec<Member> {
        self.members()
            .into_iter()
            .filter(|m| m.alive && m.spec.compute && m.spec.engines.iter().any(|e| e == engine))
            .filter(|m| placement::selectors_match(selectors, &m.spec.labels))
            .filter(|m| m.spec.max_capacity.fits(need))
            .collect()
    }

    /// Checks that some live node could ever run `spec`; the error names the first
    /// requirement no live node meets.
    pub fn check_placeable(&self, spec: &Spec) -> Result<Capacity, Unplaceable> {
        placement::validate_selectors(&spec.node_selectors).map_err(Unplaceable)?;
        let need = Capacity::of(&spec.resources).map_err(Unplaceable)?;
        if !self.candidates(spec, &need).is_empty() {
            return Ok(need);
        }
        let engine = spec.engine.map(|e| e.to_string()).unwrap_or_default();
        let live: Vec<Member> = self
            .members()
            .into_iter()
            .filter(|m| m.alive && m.spec.compute)
            .collect();
        if live.is_empty() {
            return Err(Unplaceable("no live compute node in the cluster".into()));
        }
        let with_engine: Vec<&Member> = live
            .iter()
            .filter(|m| m.spec.engines.contains(&engine))
            .collect();
        if with_engine.is_empty() {
            let mut all: Vec<String> = live.iter().flat_map(|m| m.spec.engines.clone()).collect();
            all.sort();
            all.dedup();
            return Err(Unplaceable(format!(
                "engine {engine} is not enabled on any live node (enabled: {})",
                all.join(", ")
            )));
        }
        let selected: Vec<&&Member> = with_engine
            .iter()
            .filter(|m| placement::selectors_match(&spec.node_selectors, &m.spec.labels))
            .collect();
        if selected.is_empty() {
            let labels: Vec<String> = with_engine
                .iter()
                .map(|m| format!("{} {:?}", m.id, m.spec.labels))
                .collect();
            return Err(Unplaceable(format!(
                "no live node running {engine} matches NodeSelectors {} (nodes: {})",
                serde_json::to_string(&spec.node_selectors).unwrap_or_default(),
                labels.join("; ")
            )));
        }
        let best = selected
            .iter()
            .map(|m| m.spec.max_capacity)
            .find_map(|c| c.shortfall(&need))
            .unwrap_or_default();
        Err(Unplaceable(format!(
            "Resources exceed the capacity of every matching live node ({best})"
        )))
    }
}

/// Resources held for one execution; released when dropped.
#[derive(Debug)]
pub struct Reservation {
    node: std::sync::Arc<Node>,
    need: Capacity,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut used = self.node.used.lock().expect("used capacity");
        *used = used.minus(&self.need);
    }
}

/// What this machine has: CPU cores, memory (from /proc/meminfo, or the cgroup's limit
/// when lower), free disk under `dir`, and NVIDIA GPUs (`/dev/nvidiaN`).
pub fn detect_capacity(dir: &std::path::Path) -> Capacity {
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024);
    // In a container, the cgroup's limit (v2, then v1) when it is lower.
    let limit = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok());
    let memory = limit.map_or(memory, |l| memory.min(l));
    let disk = nix::sys::statvfs::statvfs(dir)
        .map(|s| s.blocks_available() * s.fragment_size())
        .unwrap_or(0);
    let gpu = std::fs::read_dir("/dev")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    let n = e.file_name();
                    let n = n.to_string_lossy();
                    n.strip_prefix("nvidia")
                        .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
                })
                .count() as u64
        })
        .unwrap_or(0);
    Capacity {
        cpu: num_cpus::get() as f64,
        memory,
        disk,
        gpu,
    }
}

/// How often a node heartbeats: a fifth of the node timeout, between 200 ms and 5 s.
pub fn heartbeat_interval(timeout: Duration) -> Duration {
    (timeout / 5).clamp(Duration::from_millis(200), Duration::from_secs(5))
}
