//! Lightweight counters shared between the producer's tasks and whoever wants to read them
//! (tests now, Prometheus later). Relaxed atomics: they are statistics, not synchronisation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The producer's counters; cloning shares them.
#[derive(Clone, Debug, Default)]
pub struct ProducerStats(Arc<Counters>);

/// The counters behind a [`ProducerStats`].
#[derive(Debug, Default)]
pub struct Counters {
    /// Watch events received from all watchers.
    pub watch_events: Counter,
    /// Watch stream errors (each followed by a backoff and a relist).
    pub watch_errors: Counter,
    /// Events appended to the log.
    pub events_published: Counter,
    /// Flushed keys whose projection had not changed since the last published one.
    pub suppressed: Counter,
    /// Batches appended.
    pub batches: Counter,
    /// Failed append/meta/epoch operations (each retried or resolved).
    pub log_failures: Counter,
    /// Epochs this producer created (start-up on an empty log, or after a loss).
    pub epochs_started: Counter,
}

impl std::ops::Deref for ProducerStats {
    type Target = Counters;

    fn deref(&self) -> &Counters {
        &self.0
    }
}
