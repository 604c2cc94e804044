//! Prometheus metrics of a fanout replica (prefix `kubecast_fanout_`, base units, `_total`
//! counters, bounded label values), exposed by the replica itself at `/metrics`.
//!
//! Hot paths only touch atomics: a session counts one frame per send, and observes freshness once
//! per live frame (not per event or per delivery).

use axum::extract::State;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// Upper bounds (seconds) of the freshness histogram: from the producer seeing a change to a
/// replica sending it.
const FRESHNESS_BUCKETS: [f64; 14] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// One label value from a fixed set (a close reason, a catch-up source, a status class).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Source {
    pub source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Status {
    pub code: u16,
}

/// Every metric of a replica; cheap to clone.
#[derive(Clone)]
pub struct FanoutMetrics(Arc<Inner>);

pub struct Inner {
    /// Open WebSocket sessions.
    pub connections: Gauge,
    /// WebSocket sessions started.
    pub connections_opened: Counter,
    /// Sessions ended, by reason (`client`, `too_slow`, `draining`, `unauthenticated`, …).
    pub closes: Family<Reason, Counter>,
    /// Upgrades or requests refused before a session started, by reason.
    pub refused: Family<Reason, Counter>,
    /// WebSocket frames sent, and their bytes.
    pub frames_sent: Counter,
    pub bytes_sent: Counter,
    /// Catch-ups (WebSocket resumes and `/events` pages) by where they were served from: `ring`,
    /// `redis`, or `snapshot` (a reset or a client without a cursor).
    pub catchups: Family<Source, Counter>,
    /// `/events` answers by status code.
    pub events_requests: Family<Status, Counter>,
    /// How many seqs the replica's reader is behind the log's head.
    pub reader_lag_seqs: Gauge,
    /// Age of the newest event the reader applied, when it applied it.
    pub reader_lag_seconds: Gauge<f64, AtomicU64>,
    /// From the producer seeing a change to a replica sending it (once per live frame).
    pub freshness: Histogram,
}

impl Default for FanoutMetrics {
    fn default() -> Self {
        Self(Arc::new(Inner {
            connections: Gauge::default(),
            connections_opened: Counter::default(),
            closes: Family::default(),
            refused: Family::default(),
            frames_sent: Counter::default(),
            bytes_sent: Counter::default(),
            catchups: Family::default(),
            events_requests: Family::default(),
            reader_lag_seqs: Gauge::default(),
            reader_lag_seconds: Gauge::default(),
            freshness: Histogram::new(FRESHNESS_BUCKETS),
        }))
    }
}

impl std::ops::Deref for FanoutMetrics {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Inner {
    pub fn close(&self, reason: &'static str) {
        self.closes.get_or_create(&Reason { reason }).inc();
    }

    pub fn refuse(&self, reason: &'static str) {
        self.refused.get_or_create(&Reason { reason }).inc();
    }

    pub fn catchup(&self, source: &'static str) {
        self.catchups.get_or_create(&Source { source }).inc();
    }

    pub fn events_answer(&self, code: u16) {
        self.events_requests.get_or_create(&Status { code }).inc();
    }

    /// Counts a sent frame of `bytes`.
    pub fn sent(&self, bytes: usize) {
        self.frames_sent.inc();
        self.bytes_sent.inc_by(bytes as u64);
    }

    /// Observes the freshness of an event stamped `ts_ms` (producer clock) sent now.
    pub fn fresh(&self, ts_ms: u64) {
        if ts_ms == 0 {
            return;
        }
        let age_ms = kubecast_shared::time::now_ms().saturating_sub(ts_ms);
        self.freshness.observe(age_ms as f64 / 1000.0);
    }
}

/// A registry exposing `metrics`.
pub fn registry(metrics: &FanoutMetrics) -> Registry {
    let mut r = Registry::with_prefix("kubecast_fanout");
    r.register(
        "connections",
        "Open WebSocket sessions",
        metrics.connections.clone(),
    );
    r.register(
        "connections_opened",
        "WebSocket sessions started",
        metrics.connections_opened.clone(),
    );
    r.register(
        "closes",
        "Sessions ended, by reason",
        metrics.closes.clone(),
    );
    r.register(
        "refused",
        "Upgrades and requests refused before a session started, by reason",
        metrics.refused.clone(),
    );
    r.register(
        "frames_sent",
        "WebSocket frames sent",
        metrics.frames_sent.clone(),
    );
    r.register_with_unit(
        "sent",
        "WebSocket payload bytes sent",
        Unit::Bytes,
        metrics.bytes_sent.clone(),
    );
    r.register(
        "catchups",
        "Catch-ups by where they were served from (ring, redis, snapshot)",
        metrics.catchups.clone(),
    );
    r.register(
        "events_requests",
        "/events answers by status code",
        metrics.events_requests.clone(),
    );
    r.register(
        "reader_lag_seqs",
        "Seqs the replica's reader is behind the log's head",
        metrics.reader_lag_seqs.clone(),
    );
    r.register_with_unit(
        "reader_lag",
        "Age of the newest event the reader applied, when it applied it",
        Unit::Seconds,
        metrics.reader_lag_seconds.clone(),
    );
    r.register_with_unit(
        "event_freshness",
        "From the producer seeing a change to this replica sending it",
        Unit::Seconds,
        metrics.freshness.clone(),
    );
    r
}

/// `GET /metrics`: the text exposition.
pub async fn serve_metrics(State(registry): State<Arc<Registry>>) -> Response {
    kubecast_shared::metrics::exposition(&registry)
}
