//! The producer's metrics, shared between its tasks and whoever reads them (tests, and the
//! Prometheus endpoint in `metrics`). Each one is a `prometheus-client` metric behind a small
//! wrapper, so the tasks count with `inc`/`add` and tests read with `get`; no per-object labels.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter as PromCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use std::sync::Arc;

/// Upper bounds (seconds) of the append latency histogram.
pub const APPEND_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0,
];

/// One monotonically increasing counter.
#[derive(Clone, Debug, Default)]
pub struct Counter(pub(crate) PromCounter);

impl Counter {
    pub fn inc(&self) {
        self.0.inc();
    }

    pub fn add(&self, n: u64) {
        self.0.inc_by(n);
    }

    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

/// The `kind` label of per-kind metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

/// The producer's counters; cloning shares them.
#[derive(Clone, Debug, Default)]
pub struct ProducerStats(Arc<Counters>);

/// The metrics behind a [`ProducerStats`].
#[derive(Debug)]
pub struct Counters {
    /// Watch events received from all watchers.
    pub watch_events: Counter,
    /// Watch events received, by kind.
    pub watch_events_by_kind: Family<KindLabel, PromCounter>,
    /// Watch stream errors (each followed by a backoff and a relist).
    pub watch_errors: Counter,
    /// Events appended to the log.
    pub events_published: Counter,
    /// Changes absorbed by the debouncer (the object already had a pending change).
    pub coalesced: Counter,
    /// Flushed keys whose projection had not changed since the last published one.
    pub suppressed: Counter,
    /// Batches appended.
    pub batches: Counter,
    /// Failed append/meta/epoch operations (each retried or resolved).
    pub log_failures: Counter,
    /// Epochs this producer created (start-up on an empty log, or after a loss).
    pub epochs_started: Counter,
    /// Times this replica became leader (with a new fence).
    pub lease_transitions: Counter,
    /// 1 while this replica may publish.
    pub leader: Gauge,
    /// Objects with a change not yet published.
    pub pending: Gauge,
    /// Watch scopes that have not completed their first list.
    pub unlisted: Gauge,
    /// Latency of log appends, in seconds.
    pub append_seconds: Histogram,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            watch_events: Counter::default(),
            watch_events_by_kind: Family::default(),
            watch_errors: Counter::default(),
            events_published: Counter::default(),
            coalesced: Counter::default(),
            suppressed: Counter::default(),
            batches: Counter::default(),
            log_failures: Counter::default(),
            epochs_started: Counter::default(),
            lease_transitions: Counter::default(),
            leader: Gauge::default(),
            pending: Gauge::default(),
            unlisted: Gauge::default(),
            append_seconds: Histogram::new(APPEND_BUCKETS),
        }
    }
}

impl Counters {
    /// Counts one watch event of `kind`.
    pub fn watch_event(&self, kind: &str) {
        self.watch_events.inc();
        self.watch_events_by_kind
            .get_or_create(&KindLabel { kind: kind.into() })
            .inc();
    }
}

impl std::ops::Deref for ProducerStats {
    type Target = Counters;

    fn deref(&self) -> &Counters {
        &self.0
    }
}
