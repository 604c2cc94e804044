//! Sending frames: bounded by [`SEND_TIMEOUT`] and by the client's backlog while blocked.

use super::{CLOSE_TOO_SLOW, End, SEND_TIMEOUT, Session, Step};
use crate::ws::socket::{Io, WsSocket, frame};
use bytes::Bytes;
use kubecast_shared::log::EventLog;
use std::task::Poll;
use std::time::Duration;

/// How often a session blocked on a send checks whether it fell too far behind.
const BACKLOG_CHECK: Duration = Duration::from_millis(100);

impl<L: EventLog> Session<L> {
    /// Sends one text frame. A client that does not take it within [`SEND_TIMEOUT`], or that
    /// falls more than `max_backlog` bytes behind the live stream meanwhile, is closed with 4008.
    pub(super) async fn send<T: Io>(&self, ws: &mut WsSocket<T>, text: String) -> Step {
        self.send_frames(ws, &[frame::text(&text)]).await
    }

    /// Sends whole encoded frames back to back, each bounded as in [`send`](Self::send).
    pub(super) async fn send_frames<T: Io>(&self, ws: &mut WsSocket<T>, frames: &[Bytes]) -> Step {
        self.watched(ws.send_all(frames)).await?;
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
