//! Prometheus metrics (text exposition format at `GET /metrics`).

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    status: u16,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    /// The registry; locked only while encoding.
    registry: Mutex<Registry>,
    submitted: Counter,
    submit_latency: Histogram,
    finished: Family<StateLabel, Counter>,
    signature_failures: Family<ReasonLabel, Counter>,
    http: Family<HttpLabels, Counter>,
    running: Gauge,
    waiting: Gauge,
    live_logs: Gauge,
    followers: Gauge,
    log_records: Counter,
    log_bytes: Counter,
    log_evictions: Counter,
    log_gaps: Counter,
    queued: Gauge,
    nonces_expired: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("hake");
        let m = Self {
            registry: Mutex::new(Registry::default()),
            submitted: Counter::default(),
            submit_latency: Histogram::new([
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
            finished: Family::default(),
            signature_failures: Family::default(),
            http: Family::default(),
            running: Gauge::default(),
            waiting: Gauge::default(),
            live_logs: Gauge::default(),
            followers: Gauge::default(),
            log_records: Counter::default(),
            log_bytes: Counter::default(),
            log_evictions: Counter::default(),
            log_gaps: Counter::default(),
            queued: Gauge::default(),
            nonces_expired: Counter::default(),
        };
        r.register(
            "jobs_submitted",
            "Jobs accepted by submit",
            m.submitted.clone(),
        );
        r.register(
            "submit_latency_seconds",
            "Time to verify, store and answer a submit",
            m.submit_latency.clone(),
        );
        r.register(
            "jobs_finished",
            "Jobs that reached a terminal state, by state",
            m.finished.clone(),
        );
        r.register(
            "signature_failures",
            "Signed requests refused, by reason",
            m.signature_failures.clone(),
        );
        r.register(
            "http_requests",
            "HTTP requests by route and status",
            m.http.clone(),
        );
        r.register(
            "executions_running",
            "Executions running now",
            m.running.clone(),
        );
        r.register(
            "jobs_waiting",
            "Jobs waiting for an execution slot",
            m.waiting.clone(),
        );
        r.register(
            "live_execution_logs",
            "Execution logs held in memory",
            m.live_logs.clone(),
        );
        r.register("log_followers", "Log streams open now", m.followers.clone());
        r.register("log_records", "Log records written", m.log_records.clone());
        r.register("log_bytes", "Log bytes written", m.log_bytes.clone());
        r.register(
            "log_ring_evictions",
            "Log records evicted from rings",
            m.log_evictions.clone(),
        );
        r.register(
            "log_gaps",
            "Gaps reported to log followers",
            m.log_gaps.clone(),
        );
        r.register(
            "executions_queued",
            "Executions waiting for a slot",
            m.queued.clone(),
        );
        r.register(
            "nonces_expired",
            "Request nonces deleted after their freshness window",
            m.nonces_expired.clone(),
        );
        *m.registry.lock().expect("registry") = r;
        m
    }

    /// A submit was answered.
    pub fn submitted(&self, took: Duration) {
        self.submitted.inc();
        self.submit_latency.observe(took.as_secs_f64());
    }

    /// A job ended in `state`.
    pub fn finished(&self, state: &str) {
        self.finished
            .get_or_create(&StateLabel {
                state: state.to_owned(),
            })
            .inc();
    }

    /// A signed request was refused.
    pub fn signature_failure(&self, reason: &str) {
        self.signature_failures
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// An HTTP request was answered.
    pub fn http(&self, route: &str, status: u16) {
        self.http
            .get_or_create(&HttpLabels {
                route: route.to_owned(),
                status,
            })
            .inc();
    }

    /// A log stream opened (+1) or closed (-1).
    pub fn follower(&self, delta: i64) {
        self.followers.inc_by(delta);
    }

    /// Log records written.
    pub fn log_written(&self, records: u64, bytes: u64) {
        self.log_records.inc_by(records);
        self.log_bytes.inc_by(bytes);
    }

    /// Ring evictions.
    pub fn log_evicted(&self, records: u64) {
        self.log_evictions.inc_by(records);
    }

    /// A gap was reported to a follower.
    pub fn log_gap(&self) {
        self.log_gaps.inc();
    }

    /// Executions waiting for a slot now (set before rendering).
    pub fn set_executions_queued(&self, n: usize) {
        self.queued.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Expired nonces were deleted.
    pub fn nonces_expired(&self, n: u64) {
        self.nonces_expired.inc_by(n);
    }

    /// Encodes every metric, after setting the gauges to the given values.
    pub fn render(&self, running: usize, waiting: usize, live_logs: usize) -> String {
        self.running.set(running as i64);
        self.waiting.set(waiting as i64);
        self.live_logs.set(live_logs as i64);
        let mut out = String::new();
        let reg = self.registry.lock().expect("registry");
        prometheus_client::encoding::text::encode(&mut out, &reg)
            .expect("encoding to a String cannot fail");
        out
    }
}
