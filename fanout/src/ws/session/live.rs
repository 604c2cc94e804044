//! Live batches from the tail: the shared frame for up-to-date unfiltered clients, filtered or
//! merged frames otherwise, resync on a new generation or a gap, and the backlog bound.
//!
//! A backlog of several batches is merged into one frame rather than sent as their shared frames
//! back to back: each frame is its own write (a system call, and on loopback the receiver's work
//! too), which costs more than the merge (measured: 10k clients × 20 events/s, p50 56 → 110 ms
//! and 5.5 → 6.1 CPU s per million deliveries with up to 4 shared frames). Under load most
//! unfiltered clients are behind by the same run of batches, so that merged frame is shared too
//! ([`Batch::run_frame`]).

use super::{CLOSE_TOO_SLOW, End, MAX_BATCHES_PER_FRAME, MAX_FRAME_BYTES, Session, Step};
use crate::state::{Batch, Live};
use crate::ws::socket::{Io, WsSocket};
use bytes::Bytes;
use kubecast_shared::Seq;
use kubecast_shared::log::EventLog;
use kubecast_shared::protocol::frames;
use tokio::sync::broadcast::{self, error::TryRecvError};

impl<L: EventLog> Session<L> {
    /// Forwards a live batch (plus any already queued behind it) as one `events` frame, or a
    /// `position` when nothing matched, so filtered clients still advance. An unfiltered client
    /// that is up to date gets the batch's shared frame (encoded once for every session).
    pub(super) async fn on_live<T: Io>(
        &mut self,
        first: Live,
        rx: &mut broadcast::Receiver<Live>,
        ws: &mut WsSocket<T>,
    ) -> Step {
        let next = match rx.try_recv() {
            Ok(next) => Some(next),
            Err(TryRecvError::Lagged(_)) => return Err(End::Close(CLOSE_TOO_SLOW, "too slow")),
            Err(_) => None,
        };
        if next.is_none()
            && let Some(batch) = self.in_sync(&first)
        {
            return self.send_run(&[batch], ws).await;
        }
        let mut batches: Vec<Live> = [first].into_iter().chain(next).collect();
        while batches.len() < MAX_BATCHES_PER_FRAME {
            match rx.try_recv() {
                Ok(live) => batches.push(live),
                Err(TryRecvError::Lagged(_)) => return Err(End::Close(CLOSE_TOO_SLOW, "too slow")),
                Err(_) => break,
            }
        }
        if let Some(run) = self.in_sync_run(&batches) {
            return self.send_run(&run, ws).await;
        }
        self.merge(batches, ws).await
    }

    /// The batches as one run, when together they are exactly what this client gets next (see
    /// [`in_sync`](Self::in_sync)) and fit in one frame.
    fn in_sync_run<'a>(&self, batches: &'a [Live]) -> Option<Vec<&'a Batch>> {
        let mut run: Vec<&Batch> = Vec::with_capacity(batches.len());
        let mut size = 0;
        for live in batches {
            let after = run
                .last()
                .and_then(|b| b.events.last())
                .map_or(self.last, |e| e.seq());
            let batch = self.whole_after(live, after)?;
            size += batch.events.iter().map(|e| e.raw.len() + 1).sum::<usize>();
            if size > MAX_FRAME_BYTES {
                return None;
            }
            run.push(batch);
        }
        Some(run)
    }

    /// Sends a run of batches as the frame shared by every client it is next for: a single
    /// batch's own frame, or the run's (shared by every client behind by the same run).
    async fn send_run<T: Io>(&mut self, run: &[&Batch], ws: &mut WsSocket<T>) -> Step {
        let (Some(first), Some(newest)) = (run.first(), run.last()) else {
            return Ok(());
        };
        self.consumed = newest.bytes_end;
        let Some(event) = newest.events.last() else {
            return Ok(());
        };
        self.last = event.seq();
        self.check_backlog()?;
        let frame = match run {
            [only] => only.frame().clone(),
            _ => first.run_frame(run),
        };
        self.send_frames(ws, std::slice::from_ref(&frame)).await?;
        self.app.metrics.fresh(event.head.ts);
        Ok(())
    }

    /// Forwards a backlog of batches (or one a filter applies to) as merged `events` frames, with
    /// a resync on a new generation or a gap.
    async fn merge<T: Io>(&mut self, batches: Vec<Live>, ws: &mut WsSocket<T>) -> Step {
        let start = self.last;
        let mut out: Vec<Bytes> = Vec::new();
        let mut newest_ts = 0;
        let mut out_bytes = 0;
        for live in batches {
            let (generation, batch) = match live {
                Live::Resync { generation } => (generation, None),
                Live::Events(batch) => (batch.generation, Some(batch)),
            };
            if let Some(batch) = &batch {
                self.consumed = batch.bytes_end;
            }
            if generation < self.generation {
                continue;
            }
            let gap = batch
                .as_ref()
                .and_then(|b| b.events.iter().find(|e| e.seq() > self.last))
                .is_some_and(|e| e.seq() != self.last.next());
            if generation > self.generation || gap {
                self.flush(ws, &mut out).await?;
                self.resync(ws, if gap { "gap" } else { "resync" }).await?;
                continue;
            }
            for ev in batch.iter().flat_map(|b| b.events.iter()) {
                if ev.seq() <= self.last {
                    continue;
                }
                self.last = ev.seq();
                if self.filter.matches(&ev.head.ns, &ev.head.kind) {
                    out.push(ev.raw.clone());
                    newest_ts = ev.head.ts;
                    out_bytes += ev.raw.len() + 1;
                    if out_bytes >= MAX_FRAME_BYTES {
                        self.flush(ws, &mut out).await?;
                        out_bytes = 0;
                    }
                }
            }
        }
        self.check_backlog()?;
        if !out.is_empty() {
            self.flush(ws, &mut out).await?;
            self.app.metrics.fresh(newest_ts);
            Ok(())
        } else if self.last > start {
            self.send(ws, frames::position(&self.epoch, self.last))
                .await
        } else {
            Ok(())
        }
    }

    /// The batch, when it is exactly what this client gets next, whole (same generation,
    /// contiguous from `last`, no filter).
    pub(super) fn in_sync<'a>(&self, live: &'a Live) -> Option<&'a Batch> {
        self.whole_after(live, self.last)
    }

    /// The batch, when this client gets all of it right after seq `after`: events of the
    /// current generation, unfiltered, starting at `after + 1`.
    fn whole_after<'a>(&self, live: &'a Live, after: Seq) -> Option<&'a Batch> {
        let Live::Events(batch) = live else {
            return None;
        };
        let first = batch.events.first()?;
        let whole = self.filter.is_all()
            && batch.generation == self.generation
            && first.seq() == after.next();
        whole.then_some(&**batch)
    }

    /// Closes a client that is more than `max_backlog` bytes of live events behind (it resumes
    /// with `since`); the others never wait for it.
    pub(super) fn check_backlog(&self) -> Step {
        let behind = self
            .app
            .shared
            .published_bytes()
            .saturating_sub(self.consumed);
        if behind > self.app.config.max_backlog {
            tracing::debug!(behind, "client over its backlog bound");
            return Err(End::Close(CLOSE_TOO_SLOW, "too slow"));
        }
        Ok(())
    }

    pub(super) async fn flush<T: Io>(&self, ws: &mut WsSocket<T>, out: &mut Vec<Bytes>) -> Step {
        if out.is_empty() {
            return Ok(());
        }
        let frame = frames::events(&self.epoch, out.iter());
        out.clear();
        self.send(ws, frame).await
    }
}
