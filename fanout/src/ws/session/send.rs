//! Sending frames: bounded by [`SEND_TIMEOUT`] and by the client's backlog while blocked.

use super::{CLOSE_TOO_SLOW, End, SEND_TIMEOUT, Session, Step};
use axum::extract::ws::{Message, Utf8Bytes};
use futures::{Sink, SinkExt};
use kubecast_shared::log::EventLog;
use std::task::Poll;
use std::time::Duration;

/// How often a session blocked on a send checks whether it fell too far behind.
const BACKLOG_CHECK: Duration = Duration::from_millis(100);

impl<L: EventLog> Session<L> {
    pub(super) async fn send<S: Sink<Message> + Unpin>(&self, sink: &mut S, text: String) -> Step {
        self.send_frame(sink, text.into()).await
    }

    /// Sends one text frame. A client that does not take it within [`SEND_TIMEOUT`], or that
    /// falls more than `max_backlog` bytes behind the live stream meanwhile, is closed with 4008.
    pub(super) async fn send_frame<S: Sink<Message> + Unpin>(
        &self,
        sink: &mut S,
        text: Utf8Bytes,
    ) -> Step {
        self.send_frames(sink, std::slice::from_ref(&text)).await
    }

    /// Sends `frames` back to back with one flush at the end, each bounded as in
    /// [`send_frame`](Self::send_frame).
    pub(super) async fn send_frames<S: Sink<Message> + Unpin>(
        &self,
        sink: &mut S,
        frames: &[Utf8Bytes],
    ) -> Step {
        let Some((last, first)) = frames.split_last() else {
            return Ok(());
        };
        for frame in first {
            self.watched(sink.feed(Message::Text(frame.clone())))
                .await?;
        }
        self.watched(sink.send(Message::Text(last.clone()))).await?;
        for frame in frames {
            self.app.metrics.sent(frame.len());
        }
        Ok(())
    }

    /// Drives one write to completion. Most writes complete at once; only a blocked one starts
    /// the timer that checks the backlog bound and the send timeout.
    pub(super) async fn watched<E>(&self, write: impl Future<Output = Result<(), E>>) -> Step {
        tokio::pin!(write);
        if let Poll::Ready(written) = futures::poll!(&mut write) {
            return written.map_err(|_| End::ClientGone);
        }
        let started = tokio::time::Instant::now();
        let mut check = tokio::time::interval_at(started + BACKLOG_CHECK, BACKLOG_CHECK);
        loop {
            tokio::select! {
                written = &mut write => return written.map_err(|_| End::ClientGone),
                _ = check.tick() => {
                    self.check_backlog()?;
                    if started.elapsed() >= SEND_TIMEOUT {
                        return Err(End::Close(CLOSE_TOO_SLOW, "too slow"));
                    }
                }
            }
        }
    }
}
