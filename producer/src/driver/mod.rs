//! The thin async driver: receives watch inputs, feeds the index and the debouncer, and publishes
//! due keys, retrying transient log failures with backoff. All decisions live in the pure parts
//! (`index`, `debounce`, `publish::decide`); this loop only sequences them in time.
//!
//! Nothing is published before every kind has completed its first list, so the start-up diff
//! against the stored snapshot deletes only objects that are truly gone.
//!
//! Time: the index and the aggregates get milliseconds from one [`Clock`] (wall clock at start
//! plus tokio's monotonic time since), so held pods and churn windows follow tokio time in tests.

use crate::aggregate::Aggregator;
use crate::config::ProducerConfig;
use crate::debounce::Debouncer;
use crate::error::{ProducerError, Result};
use crate::index::Index;
use crate::input::Input;
use crate::publish::{Backoff, PublishError, Publisher};
use crate::stats::ProducerStats;
use kubecast_shared::log::EventLog;
use kubecast_shared::time::now_ms;
use std::collections::BTreeSet;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Runs the index/debounce/publish loop on `inputs` until `cancel` fires. `kinds` are the kinds
/// whose first `InitDone` gates the first flush.
pub async fn run_inputs<L: EventLog>(
    log: L,
    config: ProducerConfig,
    stats: ProducerStats,
    kinds: Vec<String>,
    mut inputs: mpsc::Receiver<Input>,
    cancel: CancellationToken,
) -> Result<()> {
    let fence = config.fence.unwrap_or_else(now_ms);
    let Some((publisher, published)) = start(log, &config, fence, &stats, &cancel).await? else {
        return Ok(());
    };
    let mut index = Index::with_min_pod_lifetime(millis(config.min_pod_lifetime));
    index.load_published(published);
    let mut state = State {
        clock: Clock::new(),
        aggregator: Aggregator::new(config.churn_threshold),
        summary_interval: config.summary_interval,
        next_summary: None,
        index,
        debounce: Debouncer::new(config.debounce, config.max_wait),
        pending: BTreeSet::new(),
        unlisted: kinds.into_iter().collect(),
        retry_at: None,
        backoff: Backoff::default(),
        publisher,
        stats,
    };
    loop {
        let wake = state.wake(Instant::now());
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Ok(()),
            _ = sleep_until(wake), if wake.is_some() => state.flush().await?,
            input = inputs.recv() => match input {
                Some(input) => state.on_input(input),
                None => return Err(ProducerError::WatchersStopped),
            },
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds since the Unix epoch that advance with tokio time.
struct Clock {
    wall0: u64,
    t0: Instant,
}

impl Clock {
    fn new() -> Self {
        Self {
            wall0: now_ms(),
            t0: Instant::now(),
        }
    }

    fn ms(&self) -> u64 {
        self.wall0 + millis(self.t0.elapsed())
    }

    /// The instant at which [`ms`](Self::ms) reaches `at_ms`.
    fn instant(&self, at_ms: u64) -> Instant {
        self.t0 + std::time::Duration::from_millis(at_ms.saturating_sub(self.wall0))
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// Opens the log, retrying while it is unreachable; `None` if cancelled first.
async fn start<L: EventLog>(
    log: L,
    config: &ProducerConfig,
    fence: u64,
    stats: &ProducerStats,
    cancel: &CancellationToken,
) -> Result<Option<(Publisher<L>, Vec<crate::index::Published>)>> {
    let mut backoff = Backoff::default();
    loop {
        match Publisher::start(log.clone(), fence, config.batch_max, stats.clone()).await {
            Ok(started) => return Ok(Some(started)),
            Err(PublishError::Transient(error)) => {
                stats.log_failures.inc();
                let delay = backoff.next_delay();
                tracing::warn!(%error, ?delay, "event log unreachable at start-up; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return Ok(None),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

struct State<L> {
    clock: Clock,
    aggregator: Aggregator,
    summary_interval: std::time::Duration,
    /// When summaries are next computed (`None` until every kind has listed).
    next_summary: Option<Instant>,
    index: Index,
    debounce: Debouncer,
    /// Keys due for publication (kept across failed attempts).
    pending: BTreeSet<String>,
    /// Kinds that have not completed their first list yet.
    unlisted: BTreeSet<String>,
    /// While set, the log is failing: do not publish before this instant.
    retry_at: Option<Instant>,
    backoff: Backoff,
    publisher: Publisher<L>,
    stats: ProducerStats,
}

impl<L: EventLog> State<L> {
    fn ready(&self) -> bool {
        self.unlisted.is_empty()
    }

    /// When the loop must next flush (`None`: only inputs can make progress).
    fn wake(&self, now: Instant) -> Option<Instant> {
        if !self.ready() {
            return None;
        }
        let retry = (!self.pending.is_empty()).then(|| self.retry_at.unwrap_or(now));
        let release = self
            .index
            .next_release_ms()
            .map(|ms| self.clock.instant(ms));
        [
            self.debounce.next_deadline(),
            retry,
            release,
            self.next_summary,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn on_input(&mut self, input: Input) {
        self.stats.watch_events.inc();
        let was_ready = self.ready();
        if let Input::InitDone(kind) = &input {
            self.unlisted.remove(kind);
        }
        let touched = self.index.apply(input, self.clock.ms());
        if was_ready {
            let now = Instant::now();
            touched
                .into_iter()
                .for_each(|key| self.debounce.touch(key, now));
        } else if self.ready() {
            tracing::info!(
                objects = self.index.len(),
                "every kind listed; publishing the initial diff"
            );
            self.debounce.clear();
            self.pending = self.index.keys();
            // A zero interval disables summaries and churn warnings.
            self.next_summary = (!self.summary_interval.is_zero()).then(Instant::now);
        }
    }

    async fn flush(&mut self) -> Result<()> {
        let now = Instant::now();
        let now_ms = self.clock.ms();
        self.pending.extend(self.debounce.due(now));
        self.pending.extend(self.index.take_released(now_ms));
        if self.next_summary.is_some_and(|at| at <= now) {
            self.pending
                .extend(self.aggregator.tick(&mut self.index, now_ms));
            self.next_summary = Some(now + self.summary_interval);
        }
        if self.pending.is_empty() || self.retry_at.is_some_and(|at| at > now) {
            return Ok(());
        }
        match self
            .publisher
            .publish(&mut self.index, &mut self.pending, now_ms)
            .await
        {
            Ok(()) => {
                self.backoff.reset();
                self.retry_at = None;
                Ok(())
            }
            Err(PublishError::Transient(error)) => {
                let delay = self.backoff.next_delay();
                tracing::warn!(%error, ?delay, pending = self.pending.len(), "publish failed; retrying");
                self.retry_at = Some(now + delay);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests;
