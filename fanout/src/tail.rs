//! The tail: the one reader of the log per replica. It loads the snapshot, then follows the log
//! with `wait_after`, applying every batch to the shared [`View`](crate::state::View) and
//! publishing it to live sessions.
//!
//! Invariants:
//! - only contiguous events of the view's epoch are applied (`first == head + 1`);
//! - anything else — another epoch, a gap (retention trimmed past us), a log that vanished or went
//!   backwards — triggers a resync from the snapshot, which bumps the generation so every session
//!   sends `reset` + snapshot;
//! - log errors never end the task: it backs off and retries while sockets stay open.
//!
//! With a batch interval (`--batch-interval`), the tail publishes at most once per interval while
//! events keep coming: what arrives meanwhile goes to every client as one batch, so one frame and
//! one write per client instead of one per read. The first event after a quiet interval goes out
//! at once, and a full read (the tail is behind) is never held back.

use crate::history::{self, HeadCheck, check_head};
use crate::metrics::FanoutMetrics;
use crate::state::Shared;
use kubecast_shared::log::{EventLog, LogError};
use kubecast_shared::{Epoch, Seq, StoredEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Events fetched per read.
const BATCH: usize = 1000;
/// How long one blocking read waits; every empty wait also checks the meta.
const BLOCK: Duration = Duration::from_secs(1);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// A retry a second costs Redis nothing; a longer cap only delays recovery after an outage.
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Follows `log` into `shared` until `cancel` fires, publishing at most once per
/// `batch_interval` while events keep coming (zero: every read at once).
pub async fn run<L: EventLog>(
    log: L,
    shared: Arc<Shared>,
    metrics: FanoutMetrics,
    batch_interval: Duration,
    cancel: CancellationToken,
) {
    let mut tail = Tail::new(log, shared)
        .with_metrics(metrics)
        .with_batch_interval(batch_interval);
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            () = tail.step() => {}
        }
    }
    tracing::debug!("tail stopped");
}

/// One replica's reader state.
pub struct Tail<L> {
    log: L,
    shared: Arc<Shared>,
    need_resync: bool,
    backoff: Duration,
    metrics: Option<FanoutMetrics>,
    batch_interval: Duration,
    /// No read before this instant (set after a publish that did not fill a read).
    next_read: Option<Instant>,
    /// After a failed read: check the log still holds the event we applied at our head (a Redis
    /// restored from an older copy comes back only through a lost connection).
    verify_head: bool,
}

impl<L: EventLog> Tail<L> {
    pub fn new(log: L, shared: Arc<Shared>) -> Self {
        Self {
            log,
            shared,
            need_resync: true,
            backoff: BACKOFF_MIN,
            metrics: None,
            batch_interval: Duration::ZERO,
            next_read: None,
            verify_head: false,
        }
    }

    /// Publishes at most once per `interval` while events keep coming.
    pub fn with_batch_interval(mut self, interval: Duration) -> Self {
        self.batch_interval = interval;
        self
    }

    /// Reports the reader's lag into `metrics`.
    pub fn with_metrics(mut self, metrics: FanoutMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// One read (or resync), with back-off after a failure.
    pub async fn step(&mut self) {
        let result = if self.need_resync {
            self.resync().await
        } else {
            self.follow().await
        };
        match result {
            Ok(()) => self.backoff = BACKOFF_MIN,
            Err(LogError::Missing) => {
                tracing::debug!("the log does not exist yet; waiting for the producer");
                tokio::time::sleep(BACKOFF_MIN * 5).await;
            }
            Err(error) => {
                self.verify_head = true;
                tracing::warn!(%error, backoff_ms = self.backoff.as_millis() as u64, "reading the log failed");
                tokio::time::sleep(self.backoff).await;
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
            }
        }
    }

    /// Whether the log's event at `head` differs from the one we applied there.
    async fn head_was_rewritten(&self, head: Seq) -> Result<bool, LogError> {
        let ours = {
            let view = self.shared.read();
            let before = Seq(head.0.saturating_sub(1));
            view.ring_after(before)
                .and_then(|mut ring| ring.next().map(|e| e.raw.clone()))
        };
        let page = self
            .log
            .read_range(Seq(head.0.saturating_sub(1)), 1)
            .await?;
        Ok(check_head(head, ours.as_ref(), page.events.first()) == HeadCheck::Rewritten)
    }

    /// The log's history under `epoch` is not the one we applied up to `head`: retire the epoch
    /// (clients reset; the producer starts a new one) and resync.
    async fn retire(&mut self, epoch: &Epoch, head: Seq) -> Result<(), LogError> {
        let retired = self
            .log
            .retire_epoch(epoch, &history::retired(epoch))
            .await?;
        tracing::warn!(%epoch, %head, retired, "the log's history was rewritten under our epoch; retiring it");
        self.need_resync = true;
        Ok(())
    }

    async fn resync(&mut self) -> Result<(), LogError> {
        let snap = self.log.snapshot().await?;
        tracing::info!(epoch = %snap.meta.epoch, seq = %snap.meta.seq, objects = snap.objects.len(), "loaded snapshot");
        self.shared.reset(snap);
        self.need_resync = false;
        Ok(())
    }

    async fn follow(&mut self) -> Result<(), LogError> {
        let (epoch, head) = {
            let view = self.shared.read();
            match view.epoch() {
                Some(epoch) => (epoch.clone(), view.head()),
                None => {
                    self.need_resync = true;
                    return Ok(());
                }
            }
        };
        if self.verify_head {
            let rewritten = self.head_was_rewritten(head).await?;
            self.verify_head = false;
            if rewritten {
                return self.retire(&epoch, head).await;
            }
        }
        if let Some(at) = self.next_read.take() {
            tokio::time::sleep_until(at).await;
        }
        let events = self.log.wait_after(head, BATCH, BLOCK).await?;
        if events.is_empty() {
            self.report_lag(0, None);
            match self.log.meta().await? {
                Some(meta) if meta.epoch == epoch && meta.seq >= head => self.shared.mark_ok(),
                Some(meta) if meta.epoch == epoch => return self.retire(&epoch, head).await,
                meta => {
                    tracing::info!(ours = %epoch, head = %head, log = ?meta.map(|m| (m.epoch, m.seq)), "log changed under us; resyncing");
                    self.need_resync = true;
                }
            }
            return Ok(());
        }
        let usable = contiguous_prefix(&events, &epoch, head.0);
        if usable < events.len() {
            tracing::info!(ours = %epoch, head = %head, "gap or epoch change in the log; resyncing");
            self.need_resync = true;
        }
        let mut events = events;
        events.truncate(usable);
        let newest_ts = events.last().map(|e| e.head.ts);
        let full = events.len() == BATCH;
        self.shared.apply(events);
        if !full && !self.batch_interval.is_zero() {
            self.next_read = Some(Instant::now() + self.batch_interval);
        }
        // A full read may leave more behind: ask the log how far (only then, it costs a call).
        let behind = match full {
            true => self
                .log
                .meta()
                .await?
                .map_or(0, |m| m.seq.0.saturating_sub(self.shared.read().head().0)),
            false => 0,
        };
        self.report_lag(behind, newest_ts);
        Ok(())
    }

    fn report_lag(&self, seqs: u64, newest_ts: Option<u64>) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        metrics
            .reader_lag_seqs
            .set(i64::try_from(seqs).unwrap_or(i64::MAX));
        let age_ms = newest_ts
            .filter(|ts| *ts > 0)
            .map_or(0, |ts| kubecast_shared::time::now_ms().saturating_sub(ts));
        metrics.reader_lag_seconds.set(age_ms as f64 / 1000.0);
    }
}

/// How many leading events continue `head` in `epoch` without a gap.
fn contiguous_prefix(events: &[StoredEvent], epoch: &kubecast_shared::Epoch, head: u64) -> usize {
    events
        .iter()
        .enumerate()
        .take_while(|(i, ev)| ev.head.epoch == *epoch && ev.seq().0 == head + 1 + *i as u64)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FanoutConfig;
    use crate::state::Live;
    use crate::testkit::{Fixture, stored, test_config};
    use kubecast_shared::{Epoch, Op};
    use tokio::sync::broadcast;

    /// The seqs of the next published batch.
    async fn next_batch(rx: &mut broadcast::Receiver<Live>) -> Vec<u64> {
        let live = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a batch in time")
            .expect("channel open");
        match live {
            Live::Events(batch) => batch.events.iter().map(|e| e.seq().0).collect(),
            Live::Resync { .. } => panic!("unexpected resync"),
        }
    }

    #[tokio::test]
    async fn with_a_batch_interval_a_steady_stream_is_published_once_per_interval() {
        let interval = Duration::from_secs(1);
        let config = FanoutConfig {
            batch_interval: interval,
            ..test_config()
        };
        let mut fx = Fixture::start(1000, config).await;
        let mut rx = fx.app.shared.subscribe();
        let pod = [("ns", "Pod", "p", Op::Updated)];
        let started = Instant::now();
        fx.append_unapplied(&pod, 0).await;
        assert_eq!(next_batch(&mut rx).await, [1], "the first event goes alone");
        // Three more, each long enough after the other for the tail to have read it alone.
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(30)).await;
            fx.append_unapplied(&pod, 0).await;
        }
        assert_eq!(
            next_batch(&mut rx).await,
            [2, 3, 4],
            "held until the interval"
        );
        assert!(started.elapsed() >= interval, "not before the interval");
        // After a quiet interval, the next event is not held back.
        tokio::time::sleep(interval).await;
        let quiet = Instant::now();
        fx.append_unapplied(&pod, 0).await;
        assert_eq!(next_batch(&mut rx).await, [5]);
        assert!(quiet.elapsed() < interval, "published at once after quiet");
    }

    #[tokio::test]
    async fn a_head_gone_backwards_in_our_epoch_retires_the_epoch_and_resyncs() {
        let mut fx = Fixture::default().await;
        fx.append_pods("a", 5).await;
        // Redis restored from an older copy and a fresh writer: the same epoch, head below ours.
        fx.new_epoch("e1").await;
        fx.append_unapplied(&[("a", "Pod", "other", Op::Added)], 0)
            .await;
        fx.wait_generation(2).await;
        let retired = Epoch("e1-retired".into());
        assert_eq!(fx.app.shared.read().epoch(), Some(&retired));
        let meta = fx.log.meta().await.expect("meta").expect("log");
        assert_eq!(
            meta.epoch, retired,
            "the writer's next append will be refused"
        );
    }

    #[tokio::test]
    async fn without_a_batch_interval_every_read_is_published_at_once() {
        let mut fx = Fixture::start(1000, test_config()).await;
        let mut rx = fx.app.shared.subscribe();
        let pod = [("ns", "Pod", "p", Op::Updated)];
        for seq in 1..=3 {
            fx.append(&pod).await;
            assert_eq!(next_batch(&mut rx).await, [seq]);
        }
    }

    #[test]
    fn only_the_contiguous_prefix_of_our_epoch_is_usable() {
        let e = Epoch("e".into());
        let evs = vec![
            stored("e", 4, "a", Op::Added),
            stored("e", 5, "a", Op::Updated),
            stored("e", 7, "b", Op::Added),
        ];
        assert_eq!(contiguous_prefix(&evs, &e, 3), 2);
        assert_eq!(contiguous_prefix(&evs, &e, 2), 0);
        let other = vec![stored("f", 4, "a", Op::Added)];
        assert_eq!(contiguous_prefix(&other, &e, 3), 0);
    }
}
