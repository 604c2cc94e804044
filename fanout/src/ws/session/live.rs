//! Live batches from the tail: the shared frame for up-to-date unfiltered clients, filtered or
//! merged frames otherwise, resync on a new generation or a gap, and the backlog bound.

use super::{CLOSE_TOO_SLOW, End, MAX_BATCHES_PER_FRAME, MAX_FRAME_BYTES, Session, Step};
use crate::state::{Batch, Live};
use crate::ws::socket::{Io, WsSocket};
use bytes::Bytes;
use kubecast_shared::log::EventLog;
use kubecast_shared::protocol::frames;
use tokio::sync::broadcast::{self, error::TryRecvError};

/// Most shared batch frames sent back to back to one client; more are merged into one frame.
/// One: each frame is its own write (a system call, and on loopback the receiver's work too),
/// which costs more than merging a backlog (measured: 10k clients × 20 events/s, p50 56 → 110 ms
/// and 5.5 → 6.1 CPU s per million deliveries with up to 4 frames).
const MAX_SHARED_FRAMES: usize = 1;

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
        let mut batches = vec![first];
        while batches.len() < MAX_BATCHES_PER_FRAME {
            match rx.try_recv() {
                Ok(live) => batches.push(live),
                Err(TryRecvError::Lagged(_)) => return Err(End::Close(CLOSE_TOO_SLOW, "too slow")),
                Err(_) => break,
            }
        }
        if let Some(shared) = self.in_sync(&batches) {
            let Some(newest) = shared.last() else {
                return Ok(());
            };
            self.consumed = newest.bytes_end;
            let (last, ts) = newest
                .events
                .last()
                .map_or((self.last, 0), |e| (e.seq(), e.head.ts));
            self.last = last;
            self.check_backlog()?;
            let frames: Vec<_> = shared.iter().map(|b| b.frame().clone()).collect();
            self.send_frames(ws, &frames).await?;
            self.app.metrics.fresh(ts);
            return Ok(());
        }
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

    /// The batches, when they are exactly what this client gets next, whole and in order (same
    /// generation, contiguous from `last`, no filter) and few enough to go out as their shared
    /// frames back to back; a longer backlog is merged into one frame instead.
    pub(super) fn in_sync<'a>(&self, batches: &'a [Live]) -> Option<Vec<&'a Batch>> {
        if !self.filter.is_all() || batches.len() > MAX_SHARED_FRAMES {
            return None;
        }
        let mut next = self.last.next();
        let mut out = Vec::with_capacity(batches.len());
        for live in batches {
            let Live::Events(batch) = live else {
                return None;
            };
            let first = batch.events.first()?;
            if batch.generation != self.generation || first.seq() != next {
                return None;
            }
            next = batch.events.last()?.seq().next();
            out.push(&**batch);
        }
        Some(out)
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
