//! Live batches from the tail: the shared frame for up-to-date unfiltered clients, filtered or
//! merged frames otherwise, resync on a new generation or a gap, and the backlog bound.

use super::{CLOSE_TOO_SLOW, End, MAX_BATCHES_PER_FRAME, Session, Step};
use crate::state::{Batch, Live};
use axum::extract::ws::Message;
use bytes::Bytes;
use futures::Sink;
use kubecast_shared::log::EventLog;
use kubecast_shared::protocol::frames;
use tokio::sync::broadcast::{self, error::TryRecvError};

impl<L: EventLog> Session<L> {
    /// Forwards a live batch (plus any already queued behind it) as one `events` frame, or a
    /// `position` when nothing matched, so filtered clients still advance. An unfiltered client
    /// that is up to date gets the batch's shared frame (encoded once for every session).
    pub(super) async fn on_live<S: Sink<Message> + Unpin>(
        &mut self,
        first: Live,
        rx: &mut broadcast::Receiver<Live>,
        sink: &mut S,
    ) -> Step {
        let mut batches = vec![first];
        while batches.len() < MAX_BATCHES_PER_FRAME {
            match rx.try_recv() {
                Ok(live) => batches.push(live),
                Err(TryRecvError::Lagged(_)) => return Err(End::Close(CLOSE_TOO_SLOW, "too slow")),
                Err(_) => break,
            }
        }
        if let [Live::Events(batch)] = batches.as_slice()
            && self.continues_with(batch)
        {
            self.consumed = batch.bytes_end;
            let newest = batch.events.last().map(|e| (e.seq(), e.head.ts));
            let (last, ts) = newest.unwrap_or((self.last, 0));
            self.last = last;
            self.send_frame(sink, batch.frame().clone()).await?;
            self.app.metrics.fresh(ts);
            return Ok(());
        }
        let start = self.last;
        let mut out: Vec<Bytes> = Vec::new();
        let mut newest_ts = 0;
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
                self.flush(sink, &mut out).await?;
                self.resync(sink, if gap { "gap" } else { "resync" })
                    .await?;
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
                }
            }
        }
        self.check_backlog()?;
        if !out.is_empty() {
            self.flush(sink, &mut out).await?;
            self.app.metrics.fresh(newest_ts);
            Ok(())
        } else if self.last > start {
            self.send(sink, frames::position(&self.epoch, self.last))
                .await
        } else {
            Ok(())
        }
    }

    /// Whether `batch` is exactly the next thing this client should get, whole: same
    /// generation, starting right after `last`, and no filter to apply.
    pub(super) fn continues_with(&self, batch: &Batch) -> bool {
        batch.generation == self.generation
            && self.filter.is_all()
            && batch
                .events
                .first()
                .is_some_and(|e| e.seq() == self.last.next())
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

    pub(super) async fn flush<S: Sink<Message> + Unpin>(
        &self,
        sink: &mut S,
        out: &mut Vec<Bytes>,
    ) -> Step {
        if out.is_empty() {
            return Ok(());
        }
        let frame = frames::events(&self.epoch, out.iter());
        out.clear();
        self.send(sink, frame).await
    }
}
