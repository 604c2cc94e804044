//! The publisher: turns the index's deltas into sequenced events and appends them to the log.
//!
//! Invariants:
//! - seqs are assigned `head+1, head+2, …` and every append carries the head it expects, so the
//!   log refuses (rather than duplicates) anything out of step;
//! - the index's published state is only committed after the log accepted the batch, so a failed
//!   append is retried by re-flushing the same keys (coalesced with newer changes);
//! - an append with an unknown outcome (connection lost) is settled by reading meta before
//!   anything else is appended; a log that was wiped, rolled back or diverged gets a new epoch and
//!   a full republish; a newer fence stops this producer.

mod decide;
#[cfg(test)]
mod tests;

pub use decide::{Attempt, Backoff, ErrorClass, Resolution, classify, resolve};

use crate::index::{Delta, Index, Obj, Published};
use crate::lease::{Pause, checkpoint};
use crate::stats::ProducerStats;
use kubecast_shared::log::{
    AppendBatch, AppendEntry, EventLog, Fence, LogError, LogMeta, SnapshotChange,
};
use kubecast_shared::{Epoch, Event, Op, Seq};
use std::collections::BTreeSet;

/// Why publishing stopped or must be retried.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("event log unavailable; will retry")]
    Transient(#[source] LogError),
    #[error("another producer took over the log (our fence {ours}, log fence {current})")]
    Superseded { ours: Fence, current: Fence },
    #[error("event log refused the append")]
    Fatal(#[source] LogError),
}

impl PublishError {
    fn from_log(error: LogError, ours: Fence) -> Self {
        match classify(&error) {
            ErrorClass::Ambiguous => PublishError::Transient(error),
            ErrorClass::Superseded { current } => PublishError::Superseded { ours, current },
            ErrorClass::Refused | ErrorClass::Fatal => PublishError::Fatal(error),
        }
    }
}

/// A batch whose append failed ambiguously.
struct InDoubt {
    attempt: Attempt,
    deltas: Vec<Delta>,
}

/// The single writer of one cluster's log.
pub struct Publisher<L> {
    log: L,
    fence: Fence,
    epoch: Epoch,
    head: Seq,
    batch_max: usize,
    stats: ProducerStats,
    in_doubt: Option<InDoubt>,
    needs_epoch: bool,
    pause: Option<Pause>,
}

impl<L: EventLog> Publisher<L> {
    /// Opens the log: creates an epoch if there is none, otherwise continues the existing one and
    /// returns its snapshot as the published state (so a restart publishes only differences).
    pub async fn start(
        log: L,
        fence: Fence,
        batch_max: usize,
        stats: ProducerStats,
    ) -> Result<(Self, Vec<Published>), PublishError> {
        let err = |e| PublishError::from_log(e, fence);
        let (epoch, head, published) = match log.meta().await.map_err(err)? {
            Some(meta) if meta.fence > fence => {
                return Err(PublishError::Superseded {
                    ours: fence,
                    current: meta.fence,
                });
            }
            Some(meta) => {
                if meta.fence < fence {
                    claim(&log, &meta, fence).await?;
                }
                let snapshot = log.snapshot().await.map_err(err)?;
                if snapshot.meta.fence > fence {
                    return Err(PublishError::Superseded {
                        ours: fence,
                        current: snapshot.meta.fence,
                    });
                }
                let published = snapshot.objects.iter().filter_map(published_of).collect();
                (snapshot.meta.epoch, snapshot.meta.seq, published)
            }
            None => {
                let meta = log
                    .create_epoch(&Epoch::generate(), fence)
                    .await
                    .map_err(err)?;
                stats.epochs_started.inc();
                (meta.epoch, meta.seq, Vec::new())
            }
        };
        tracing::info!(%epoch, %head, fence, objects = published.len(), "event log opened");
        let publisher = Self {
            log,
            fence,
            epoch,
            head,
            batch_max: batch_max.max(1),
            stats,
            in_doubt: None,
            needs_epoch: false,
            pause: None,
        };
        Ok((publisher, published))
    }

    pub fn epoch(&self) -> &Epoch {
        &self.epoch
    }

    /// Test hook: wait at `pause` right before every append (a stalled leader).
    pub fn with_pause(mut self, pause: Option<Pause>) -> Self {
        self.pause = pause;
        self
    }

    /// The fence this publisher appends with.
    pub fn fence(&self) -> Fence {
        self.fence
    }

    pub fn head(&self) -> Seq {
        self.head
    }

    /// Publishes the changes of every key in `pending` and clears it. On error `pending` keeps the
    /// keys still to publish (after a new epoch: every key), so the caller retries with it.
    pub async fn publish(
        &mut self,
        index: &mut Index,
        pending: &mut BTreeSet<String>,
        now_ms: u64,
    ) -> Result<(), PublishError> {
        // A refusal that leads to a new epoch is followed by one more pass; two in a row mean
        // something else keeps changing the log, which retrying later handles better.
        for _ in 0..2 {
            if let Some(doubt) = self.in_doubt.take() {
                self.settle(doubt, index).await?;
            }
            if self.needs_epoch {
                self.new_epoch(index, pending).await?;
            }
            match self.append_all(index, pending, now_ms).await {
                Err(AppendFailure::Refused(e)) if self.needs_epoch => {
                    tracing::warn!(error = %e, "log lost or rolled back; starting a new epoch");
                }
                Err(AppendFailure::Refused(e)) => return Err(PublishError::Transient(e)),
                Err(AppendFailure::Stop(e)) => return Err(e),
                Ok(()) => {
                    pending.clear();
                    return Ok(());
                }
            }
        }
        Err(PublishError::Transient(LogError::Missing))
    }

    async fn append_all(
        &mut self,
        index: &mut Index,
        pending: &BTreeSet<String>,
        now_ms: u64,
    ) -> Result<(), AppendFailure> {
        let deltas = index.flush(pending, now_ms);
        self.stats
            .suppressed
            .add((pending.len() - deltas.len()) as u64);
        for chunk in deltas.chunks(self.batch_max) {
            let batch = self.batch(chunk);
            checkpoint(self.pause.as_ref()).await;
            let started = std::time::Instant::now();
            let appended = self.log.append(&batch).await;
            self.stats
                .append_seconds
                .observe(started.elapsed().as_secs_f64());
            match appended {
                Ok(head) => {
                    self.head = head;
                    index.commit(chunk);
                    self.stats.batches.inc();
                    self.stats.events_published.add(chunk.len() as u64);
                }
                Err(error) => {
                    self.stats.log_failures.inc();
                    return Err(self.on_append_error(error, chunk).await);
                }
            }
        }
        Ok(())
    }

    async fn on_append_error(&mut self, error: LogError, chunk: &[Delta]) -> AppendFailure {
        let attempt = self.attempt(chunk.len());
        match classify(&error) {
            ErrorClass::Ambiguous => {
                self.in_doubt = Some(InDoubt {
                    attempt,
                    deltas: chunk.to_vec(),
                });
                AppendFailure::Stop(PublishError::Transient(error))
            }
            ErrorClass::Superseded { current } => AppendFailure::Stop(PublishError::Superseded {
                ours: self.fence,
                current,
            }),
            ErrorClass::Fatal => AppendFailure::Stop(PublishError::Fatal(error)),
            ErrorClass::Refused => match self.log.meta().await {
                Err(e) => AppendFailure::Stop(PublishError::from_log(e, self.fence)),
                Ok(meta) => match resolve(meta.as_ref(), &attempt) {
                    Resolution::Superseded { current } => {
                        AppendFailure::Stop(PublishError::Superseded {
                            ours: self.fence,
                            current,
                        })
                    }
                    Resolution::NotLanded => AppendFailure::Refused(error),
                    Resolution::Landed | Resolution::Lost => {
                        self.needs_epoch = true;
                        AppendFailure::Refused(error)
                    }
                },
            },
        }
    }

    /// Settles an ambiguous append by reading meta.
    async fn settle(&mut self, doubt: InDoubt, index: &mut Index) -> Result<(), PublishError> {
        let meta = match self.log.meta().await {
            Ok(meta) => meta,
            Err(e) => {
                self.in_doubt = Some(doubt);
                return Err(PublishError::from_log(e, self.fence));
            }
        };
        match resolve(meta.as_ref(), &doubt.attempt) {
            Resolution::Landed => {
                self.head = Seq(doubt.attempt.expected.0 + doubt.attempt.len);
                index.commit(&doubt.deltas);
                self.stats.batches.inc();
                self.stats.events_published.add(doubt.attempt.len);
            }
            Resolution::NotLanded => {}
            Resolution::Lost => self.needs_epoch = true,
            Resolution::Superseded { current } => {
                return Err(PublishError::Superseded {
                    ours: self.fence,
                    current,
                });
            }
        }
        tracing::info!(?meta, "settled an append with an unknown outcome");
        Ok(())
    }

    /// Starts a new epoch; every live object is then pending as `added`.
    async fn new_epoch(
        &mut self,
        index: &mut Index,
        pending: &mut BTreeSet<String>,
    ) -> Result<(), PublishError> {
        let meta = self
            .log
            .create_epoch(&Epoch::generate(), self.fence)
            .await
            .map_err(|e| PublishError::from_log(e, self.fence))?;
        tracing::warn!(old = %self.epoch, new = %meta.epoch, objects = index.len(), "new epoch; republishing everything");
        self.epoch = meta.epoch;
        self.head = meta.seq;
        self.needs_epoch = false;
        self.stats.epochs_started.inc();
        index.reset_published();
        *pending = index.keys();
        Ok(())
    }

    fn attempt(&self, len: usize) -> Attempt {
        Attempt {
            epoch: self.epoch.clone(),
            fence: self.fence,
            expected: self.head,
            len: len as u64,
        }
    }

    fn batch(&self, deltas: &[Delta]) -> AppendBatch {
        let entries = deltas
            .iter()
            .zip(1..)
            .map(|(d, i)| self.entry(Seq(self.head.0 + i), d))
            .collect();
        AppendBatch {
            fence: self.fence,
            epoch: self.epoch.clone(),
            expected_head: self.head,
            entries,
        }
    }

    fn entry(&self, seq: Seq, d: &Delta) -> AppendEntry {
        let event = EventRef {
            seq,
            epoch: &self.epoch,
            ts: d.ts,
            op: d.op,
            kind: d.kind(),
            ns: d.ns(),
            name: d.name(),
            uid: d.uid(),
            obj: &d.obj,
        };
        let snapshot = match d.op {
            Op::Deleted => SnapshotChange::Delete(d.key.clone()),
            Op::Churn => SnapshotChange::None,
            _ => SnapshotChange::Put(d.key.clone()),
        };
        AppendEntry {
            seq,
            raw: event.encode().into(),
            ns: d.ns().to_string(),
            kind: d.kind().to_string(),
            snapshot,
        }
    }
}

/// An [`Event`] borrowing its fields, with `obj` already encoded: encodes to the same bytes as
/// `Event::encode` without building the `Value`.
#[derive(serde::Serialize)]
struct EventRef<'a> {
    seq: Seq,
    epoch: &'a Epoch,
    ts: u64,
    op: Op,
    kind: &'a str,
    ns: &'a str,
    name: &'a str,
    uid: &'a str,
    obj: &'a Obj,
}

impl EventRef<'_> {
    fn encode(&self) -> Vec<u8> {
        // Serializing strings, numbers and valid JSON cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Raises the log's fence to ours with an empty append, so from now on an older writer (a
/// paused former leader) is refused even if we have nothing to publish yet. A head that moved
/// meanwhile is a transient refusal: the caller starts over from a fresh read.
async fn claim<L: EventLog>(log: &L, meta: &LogMeta, fence: Fence) -> Result<(), PublishError> {
    let batch = AppendBatch {
        fence,
        epoch: meta.epoch.clone(),
        expected_head: meta.seq,
        entries: Vec::new(),
    };
    match log.append(&batch).await {
        Ok(_) => Ok(()),
        Err(e @ (LogError::HeadMismatch { .. } | LogError::EpochMismatch { .. })) => {
            Err(PublishError::Transient(e))
        }
        Err(e) => Err(PublishError::from_log(e, fence)),
    }
}

enum AppendFailure {
    /// The log refused the append; `needs_epoch` says whether to start a new epoch.
    Refused(LogError),
    Stop(PublishError),
}

/// The published state of one stored snapshot object (skipped, with a warning, if unreadable:
/// it is then republished as `added`).
fn published_of(stored: &kubecast_shared::StoredEvent) -> Option<Published> {
    match serde_json::from_slice::<Event>(&stored.raw) {
        Ok(e) => Some(Published {
            kind: e.kind,
            ns: e.ns,
            name: e.name,
            uid: e.uid,
            obj: e.obj.unwrap_or_default(),
        }),
        Err(error) => {
            tracing::warn!(key = %stored.head.key(), %error, "unreadable snapshot object");
            None
        }
    }
}
