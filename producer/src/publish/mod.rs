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
mod flight;
#[cfg(test)]
mod tests;

pub use decide::{Attempt, Backoff, ErrorClass, Resolution, classify, resolve};
pub use flight::{Flight, Landed};

use crate::index::{Delta, Index, Published};
use crate::lease::Pause;
use crate::stats::ProducerStats;
use kubecast_shared::log::{AppendBatch, EventLog, Fence, LogError, LogMeta};
use kubecast_shared::{Epoch, Event, Seq};
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

    /// Publishes the changes of every key in `pending` and clears it, one flight after the
    /// other. On error `pending` keeps the keys still to publish (after a new epoch: every key),
    /// so the caller retries with it.
    ///
    /// The sequential form of what the driver does with the same steps (`prepare`, `plan`,
    /// `launch`, `land`) while it keeps taking input; the unit tests drive the steps through it.
    #[cfg(test)]
    pub async fn publish(
        &mut self,
        index: &mut Index,
        pending: &mut BTreeSet<String>,
        now_ms: u64,
    ) -> Result<(), PublishError> {
        // A refusal that leads to a new epoch is followed by one more pass; two in a row mean
        // something else keeps changing the log, which retrying later handles better.
        for _ in 0..2 {
            self.prepare(index, pending).await?;
            let mut outbox = self.plan(index, pending, now_ms);
            while let Some(flight) = self.launch(&mut outbox) {
                let landed = flight.fly().await;
                if let Err(failure) = self.land(index, landed, &mut outbox, pending).await {
                    match failure {
                        AppendFailure::Refused(e) if self.needs_epoch => {
                            tracing::warn!(error = %e, "log lost or rolled back; starting a new epoch");
                        }
                        AppendFailure::Refused(e) => return Err(PublishError::Transient(e)),
                        AppendFailure::Stop(e) => return Err(e),
                    }
                    break;
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
        }
        Err(PublishError::Transient(LogError::Missing))
    }

    /// Settles an append whose outcome is unknown and starts the new epoch a lost log needs;
    /// call before [`plan`](Self::plan).
    pub async fn prepare(
        &mut self,
        index: &mut Index,
        pending: &mut BTreeSet<String>,
    ) -> Result<(), PublishError> {
        if let Some(doubt) = self.in_doubt.take() {
            self.settle(doubt, index).await?;
        }
        if self.needs_epoch {
            self.new_epoch(index, pending).await?;
        }
        Ok(())
    }

    /// The deltas of every key in `pending`, in batches of at most `batch_max`. `pending` is
    /// emptied: a batch that does not land puts its keys (and those of the batches after it)
    /// back, see [`land`](Self::land).
    pub fn plan(
        &mut self,
        index: &mut Index,
        pending: &mut BTreeSet<String>,
        now_ms: u64,
    ) -> Outbox {
        let deltas = index.flush(pending.iter(), now_ms);
        self.stats
            .suppressed
            .add((pending.len() - deltas.len()) as u64);
        pending.clear();
        let mut outbox = Outbox::default();
        let mut deltas = deltas.into_iter().peekable();
        while deltas.peek().is_some() {
            outbox
                .batches
                .push_back(deltas.by_ref().take(self.batch_max).collect());
        }
        outbox
    }

    /// The next batch of `outbox` as a flight appending after the current head (`None` when
    /// the outbox is empty). Launch the next one only after this one has landed.
    pub fn launch(&self, outbox: &mut Outbox) -> Option<Flight<L>> {
        let deltas = outbox.batches.pop_front()?;
        Some(Flight {
            log: self.log.clone(),
            fence: self.fence,
            epoch: self.epoch.clone(),
            expected_head: self.head,
            deltas,
            pause: self.pause.clone(),
        })
    }

    /// Records a flight's outcome: a landed batch moves the head and is committed to the index;
    /// otherwise its keys and the outbox's go back to `pending` and the failure says what next.
    pub async fn land(
        &mut self,
        index: &mut Index,
        landed: Landed,
        outbox: &mut Outbox,
        pending: &mut BTreeSet<String>,
    ) -> Result<(), AppendFailure> {
        let Landed {
            deltas,
            expected_head,
            outcome,
            took,
        } = landed;
        self.stats.append_seconds.observe(took.as_secs_f64());
        let error = match outcome {
            Ok(head) => {
                // One flight at a time, and nothing else moves the head while it is in the air.
                debug_assert_eq!(expected_head, self.head, "flights land in launch order");
                self.head = head;
                index.commit(&deltas);
                self.stats.batches.inc();
                self.stats.events_published.add(deltas.len() as u64);
                return Ok(());
            }
            Err(error) => error,
        };
        self.stats.log_failures.inc();
        pending.extend(deltas.iter().map(|d| d.key.clone()));
        pending.extend(outbox.keys().cloned());
        outbox.batches.clear();
        let attempt = Attempt {
            epoch: self.epoch.clone(),
            fence: self.fence,
            expected: expected_head,
            len: deltas.len() as u64,
        };
        Err(self.on_append_error(error, attempt, deltas).await)
    }

    async fn on_append_error(
        &mut self,
        error: LogError,
        attempt: Attempt,
        deltas: Vec<Delta>,
    ) -> AppendFailure {
        match classify(&error) {
            ErrorClass::Ambiguous => {
                self.in_doubt = Some(InDoubt { attempt, deltas });
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

    /// Whether the next publication starts a new epoch (the log was lost or rolled back).
    pub fn needs_epoch(&self) -> bool {
        self.needs_epoch
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
}

/// Batches planned but not launched yet.
#[derive(Default)]
pub struct Outbox {
    batches: std::collections::VecDeque<Vec<Delta>>,
}

impl Outbox {
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    fn keys(&self) -> impl Iterator<Item = &String> {
        self.batches.iter().flatten().map(|d| &d.key)
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

/// Why a flight did not land.
pub enum AppendFailure {
    /// The log refused the append; [`Publisher::needs_epoch`] says whether to start a new epoch.
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
