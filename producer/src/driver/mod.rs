//! The thin async driver: receives watch inputs, feeds the index and the debouncer, and publishes
//! due keys, retrying transient log failures with backoff. All decisions live in the pure parts
//! (`index`, `debounce`, `publish::decide`, `lease::machine`); this loop only sequences them in
//! time.
//!
//! Nothing is published before every kind has completed its first list, so the start-up diff
//! against the stored snapshot deletes only objects that are truly gone. Only a leader publishes:
//! a follower keeps its index current but holds no publisher; on becoming leader it opens the log
//! with its fence (read meta, claim the fence, load the snapshot) and publishes only the
//! differences. Losing leadership (or its deadline passing) drops the publisher before the next
//! append. An unreachable log — at start-up too — is retried with backoff while the watchers keep
//! running; pending changes coalesce per object in the index meanwhile.
//!
//! Pipelining: a publication is planned (index → deltas → batches of `batch_max`) and its batches
//! are appended one after the other, each as its own task (a [`Flight`]), while this loop keeps
//! taking watch input: encoding and the Redis round trip overlap with the index work. Nothing new
//! is planned until the last batch has landed, so every plan diffs against a committed published
//! state. Inputs are taken in bursts of up to [`INPUT_BURST`] per wake-up.
//!
//! Time: the index and the aggregates get milliseconds from one [`Clock`] (wall clock at start
//! plus tokio's monotonic time since), so held pods and churn windows follow tokio time in tests.

use crate::aggregate::Aggregator;
use crate::config::ProducerConfig;
use crate::debounce::Debouncer;
use crate::error::{ProducerError, Result};
use crate::index::Index;
use crate::input::Input;
use crate::lease::{Leadership, Role};
use crate::publish::{AppendFailure, Backoff, Landed, Outbox, PublishError, Publisher};
use crate::stats::ProducerStats;
use kubecast_shared::log::{EventLog, Fence};
use kubecast_shared::time::now_ms;
use std::collections::BTreeSet;
use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Most watch inputs taken from the channel per wake-up of the loop.
pub const INPUT_BURST: usize = 256;

/// How often the scopes holding back the first publication are logged.
const UNLISTED_REPORT_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs the index/debounce/publish loop on `inputs` until `cancel` fires, always as the leader
/// with `config.fence` (the dev mode). `kinds` are the kinds whose first `InitDone` gates the
/// first flush.
pub async fn run_inputs<L: EventLog>(
    log: L,
    config: ProducerConfig,
    stats: ProducerStats,
    kinds: Vec<String>,
    inputs: mpsc::Receiver<Input>,
    cancel: CancellationToken,
) -> Result<()> {
    let fence = config.fence.unwrap_or_else(now_ms);
    let leadership = Leadership::fixed(fence);
    run_led(log, config, stats, kinds, inputs, leadership, cancel).await
}

/// [`run_inputs`], publishing only while `leadership` says we lead.
pub async fn run_led<L: EventLog>(
    log: L,
    config: ProducerConfig,
    stats: ProducerStats,
    kinds: Vec<String>,
    mut inputs: mpsc::Receiver<Input>,
    mut leadership: Leadership,
    cancel: CancellationToken,
) -> Result<()> {
    let role = *leadership.role.borrow_and_update();
    let mut state = State {
        index: Index::with_min_pod_lifetime(millis(config.min_pod_lifetime)),
        clock: Clock::new(),
        aggregator: Aggregator::new(config.churn_threshold),
        summary_interval: config.summary_interval,
        next_summary: None,
        debounce: Debouncer::new(config.debounce, config.max_wait),
        pending: BTreeSet::new(),
        unlisted: kinds.into_iter().collect(),
        retry_at: None,
        backoff: Backoff::default(),
        publisher: None,
        outbox: Outbox::default(),
        flight: None,
        epoch_retried: false,
        log,
        role,
        refused: None,
        config,
        stats,
    };
    let mut role_open = true;
    let mut burst = Vec::with_capacity(INPUT_BURST);
    let mut unlisted_report = tokio::time::interval_at(
        Instant::now() + UNLISTED_REPORT_EVERY,
        UNLISTED_REPORT_EVERY,
    );
    loop {
        state.gauge();
        let wake = state.wake(Instant::now());
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                state.ground();
                return Ok(());
            }
            changed = leadership.role.changed(), if role_open => match changed {
                Ok(()) => state.on_role(*leadership.role.borrow_and_update()),
                // The elector is gone: the last role stands until its deadline.
                Err(_) => role_open = false,
            },
            landed = landing(&mut state.flight) => state.on_landed(landed, &leadership).await?,
            _ = unlisted_report.tick(), if !state.ready() => state.report_unlisted(),
            _ = sleep_until(wake), if wake.is_some() => state.flush(&leadership).await?,
            taken = inputs.recv_many(&mut burst, INPUT_BURST) => {
                if taken == 0 {
                    state.ground();
                    return Err(ProducerError::WatchersStopped);
                }
                burst.drain(..).for_each(|input| state.on_input(input));
            }
        }
    }
}

/// The outcome of the flight in the air (never ready when there is none).
async fn landing(flight: &mut Option<JoinHandle<Landed>>) -> Result<Landed, JoinError> {
    let Some(handle) = flight.as_mut() else {
        return std::future::pending().await;
    };
    let landed = handle.await;
    *flight = None;
    landed
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

struct State<L> {
    index: Index,
    debounce: Debouncer,
    clock: Clock,
    aggregator: Aggregator,
    summary_interval: std::time::Duration,
    /// When summaries are next computed (`None` until every kind has listed).
    next_summary: Option<Instant>,
    /// Keys due for publication (kept across failed attempts).
    pending: BTreeSet<String>,
    /// Kinds that have not completed their first list yet.
    unlisted: BTreeSet<String>,
    /// While set, the log is failing: do not publish (or open it) before this instant.
    retry_at: Option<Instant>,
    backoff: Backoff,
    /// Present only while we lead and the log is open with our fence.
    publisher: Option<Publisher<L>>,
    /// Batches planned and not launched yet.
    outbox: Outbox,
    /// The batch being appended, if any.
    flight: Option<JoinHandle<Landed>>,
    /// Whether the current publication already started a new epoch after a refusal.
    epoch_retried: bool,
    log: L,
    role: Role,
    /// The fence the log refused: wait for a higher one before publishing again.
    refused: Option<Fence>,
    config: ProducerConfig,
    stats: ProducerStats,
}

impl<L: EventLog> State<L> {
    fn ready(&self) -> bool {
        self.unlisted.is_empty()
    }

    /// Whether we may publish at `now` with a fence the log has not refused.
    fn leading(&self, now: Instant) -> Option<Fence> {
        let fence = self.role.fence()?;
        let refused = self.refused.is_some_and(|r| fence <= r);
        (self.role.is_leader_at(now) && !refused).then_some(fence)
    }

    /// Stops publishing: forgets the publisher and its plan. A flight still in the air is left
    /// to land (it carries our old fence, so a newer leader's log refuses it) and its outcome is
    /// only counted; nothing is opened again before it has landed, so a later open reads a log
    /// that already includes or refused it.
    fn stop_publishing(&mut self) {
        self.publisher = None;
        self.outbox = Outbox::default();
    }

    /// Aborts the flight in the air, if any (its outcome is settled by the next open).
    fn ground(&mut self) {
        if let Some(flight) = self.flight.take() {
            flight.abort();
        }
    }

    fn gauge(&self) {
        let dirty = self.pending.len() + self.debounce.len();
        self.stats
            .pending
            .set(i64::try_from(dirty).unwrap_or(i64::MAX));
        let unlisted = self.unlisted.len();
        self.stats
            .unlisted
            .set(i64::try_from(unlisted).unwrap_or(i64::MAX));
    }

    /// Says which scopes hold back the first publication (their watchers log why).
    fn report_unlisted(&self) {
        tracing::warn!(
            unlisted = ?self.unlisted,
            "still waiting for the first list of these scopes; nothing is published until each has listed"
        );
    }

    /// When the loop must next flush (`None`: only inputs or a role change can make progress).
    fn wake(&self, now: Instant) -> Option<Instant> {
        self.leading(now)?;
        if self.flight.is_some() {
            return None;
        }
        if self.publisher.is_none() {
            return Some(self.retry_at.unwrap_or(now));
        }
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

    fn on_role(&mut self, role: Role) {
        let keep = self
            .publisher
            .as_ref()
            .is_some_and(|p| Some(p.fence()) == role.fence());
        if !keep && self.publisher.is_some() {
            self.stop_publishing();
            tracing::warn!(
                ?role,
                "no longer leader with this fence; stopped publishing"
            );
        }
        self.role = role;
        self.retry_at = None;
        self.backoff.reset();
    }

    fn on_input(&mut self, input: Input) {
        self.stats.watch_event(input.kind());
        let was_ready = self.ready();
        if let Input::InitDone(kind) = &input {
            self.unlisted.remove(kind);
        }
        let touched = self.index.apply(input, self.clock.ms());
        if was_ready {
            // Followers keep the index current but have nothing to debounce: a takeover diffs
            // every key against the log's snapshot anyway.
            if self.publisher.is_none() {
                return;
            }
            let now = Instant::now();
            for key in touched {
                let before = self.debounce.len();
                self.debounce.touch(key, now);
                if self.debounce.len() == before {
                    self.stats.coalesced.inc();
                }
            }
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

    async fn flush(&mut self, leadership: &Leadership) -> Result<()> {
        let now = Instant::now();
        let Some(fence) = self.leading(now) else {
            self.stop_publishing();
            return Ok(());
        };
        if self.retry_at.is_some_and(|at| at > now) {
            return Ok(());
        }
        let Some(publisher) = self.publisher.as_mut() else {
            return self.open(fence, leadership).await;
        };
        let now_ms = self.clock.ms();
        self.pending.extend(self.debounce.due(now));
        self.pending.extend(self.index.take_released(now_ms));
        if self.next_summary.is_some_and(|at| at <= now) {
            self.pending
                .extend(self.aggregator.tick(&mut self.index, now_ms));
            self.next_summary = Some(now + self.summary_interval);
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        if let Err(e) = publisher.prepare(&mut self.index, &mut self.pending).await {
            return self.settle(Err(e), fence, leadership);
        }
        self.outbox = publisher.plan(&mut self.index, &mut self.pending, now_ms);
        self.launch_next(fence, leadership)
    }

    /// Launches the next planned batch, or, when every batch has landed, ends the publication.
    fn launch_next(&mut self, fence: Fence, leadership: &Leadership) -> Result<()> {
        let Some(publisher) = self.publisher.as_ref() else {
            return Ok(());
        };
        if self.leading(Instant::now()) != Some(fence) {
            self.stop_publishing();
            return Ok(());
        }
        match publisher.launch(&mut self.outbox) {
            Some(flight) => {
                self.flight = Some(tokio::spawn(flight.fly()));
                Ok(())
            }
            None => {
                self.epoch_retried = false;
                self.settle(Ok(()), fence, leadership)
            }
        }
    }

    async fn on_landed(
        &mut self,
        landed: Result<Landed, JoinError>,
        leadership: &Leadership,
    ) -> Result<()> {
        let landed = match landed {
            Ok(landed) => landed,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => return Ok(()),
        };
        // Without a publisher (leadership changed while it flew) the next open diffs every key
        // against the log, which includes the batch if it landed.
        let Some(publisher) = self.publisher.as_mut() else {
            if landed.failed() {
                self.stats.log_failures.inc();
            }
            return Ok(());
        };
        let fence = publisher.fence();
        let landing = publisher
            .land(&mut self.index, landed, &mut self.outbox, &mut self.pending)
            .await;
        match landing {
            Ok(()) => self.launch_next(fence, leadership),
            // A lost or rolled-back log: the next flush starts a new epoch and republishes. A
            // second refusal in a row means something else keeps changing the log: back off.
            Err(AppendFailure::Refused(e)) if publisher.needs_epoch() && !self.epoch_retried => {
                tracing::warn!(error = %e, "log lost or rolled back; starting a new epoch");
                self.epoch_retried = true;
                self.retry_at = None;
                Ok(())
            }
            Err(AppendFailure::Refused(e)) => {
                self.epoch_retried = false;
                self.settle(Err(PublishError::Transient(e)), fence, leadership)
            }
            Err(AppendFailure::Stop(e)) => {
                self.epoch_retried = false;
                self.settle(Err(e), fence, leadership)
            }
        }
    }

    /// Opens the log as the leader with `fence`: the index's published state becomes the log's
    /// snapshot, and every key is diffed against it.
    async fn open(&mut self, fence: Fence, leadership: &Leadership) -> Result<()> {
        let started = Publisher::start(
            self.log.clone(),
            fence,
            self.config.batch_max,
            self.stats.clone(),
        )
        .await;
        match started {
            Ok((publisher, published)) => {
                self.publisher = Some(publisher.with_pause(self.config.pause.clone()));
                self.index.load_published(published);
                self.debounce.clear();
                if self.ready() {
                    self.pending = self.index.keys();
                }
                self.backoff.reset();
                self.retry_at = None;
                Ok(())
            }
            Err(e) => {
                if matches!(e, PublishError::Transient(_)) {
                    self.stats.log_failures.inc();
                }
                self.settle(Err(e), fence, leadership)
            }
        }
    }

    fn settle(
        &mut self,
        outcome: Result<(), PublishError>,
        fence: Fence,
        leadership: &Leadership,
    ) -> Result<()> {
        match outcome {
            Ok(()) => {
                self.backoff.reset();
                self.retry_at = None;
                Ok(())
            }
            Err(PublishError::Transient(error)) => {
                let delay = self.backoff.next_delay();
                tracing::warn!(%error, ?delay, pending = self.pending.len(), "event log unavailable; retrying");
                self.retry_at = Some(Instant::now() + delay);
                Ok(())
            }
            Err(PublishError::Superseded { ours, current }) if leadership.elected => {
                tracing::warn!(ours, current, "the log has a newer fence; stepping down");
                self.stop_publishing();
                self.refused = Some(self.refused.unwrap_or(0).max(fence));
                leadership.refused_by.send_replace(current);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests;

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
