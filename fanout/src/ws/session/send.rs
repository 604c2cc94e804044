//! Sending frames: bounded by [`SEND_TIMEOUT`], by the client's backlog and by its keep-alive
//! deadline while blocked.

use super::{CLOSE_TOO_SLOW, End, SEND_TIMEOUT, Session, Step};
use crate::ws::socket::{Io, WsSocket, frame};
use bytes::Bytes;
use kubecast_shared::log::EventLog;
use std::task::Poll;
use std::time::Duration;

/// How often a session blocked on a send checks its bounds (backlog, keep-alive, send timeout).
const BACKLOG_CHECK: Duration = Duration::from_millis(100);

impl<L: EventLog> Session<L> {
    /// Sends one text frame. A client that does not take it within [`SEND_TIMEOUT`], or that
    /// falls more than `max_backlog` bytes behind the live stream meanwhile, is closed with 4008.
    pub(super) async fn send<T: Io>(&self, ws: &mut WsSocket<T>, text: String) -> Step {
        self.send_frames(ws, &[frame::text(&text)]).await
    }

    /// Sends whole encoded frames back to back, each bounded as in [`send`](Self::send).
    pub(super) async fn send_frames<T: Io>(&self, ws: &mut WsSocket<T>, frames: &[Bytes]) -> Step {
        for frame in frames {
            self.flushed(ws).await?;
            ws.queue(frame.clone());
            self.flushed(ws).await?;
            self.app.metrics.sent(frame.len());
        }
        Ok(())
    }

    /// Finishes writing the current frame. Most writes complete at once; a blocked one is
    /// checked every [`BACKLOG_CHECK`]: the backlog bound, the send timeout, and whether the
    /// client is there at all. A client that neither took a byte nor said anything for the
    /// keep-alive window is a half-open connection; one that takes bytes slowly is only slow.
    async fn flushed<T: Io>(&self, ws: &mut WsSocket<T>) -> Step {
        if let Poll::Ready(written) = futures::poll!(std::pin::pin!(ws.flush())) {
            return written.map_err(|_| End::ClientGone);
        }
        let started = tokio::time::Instant::now();
        let (mut took_bytes, mut left) = (started, ws.unsent_len());
        let mut check = tokio::time::interval_at(started + BACKLOG_CHECK, BACKLOG_CHECK);
        loop {
            // `flush` is cancel-safe: what the kernel took stays taken.
            tokio::select! {
                written = ws.flush() => return written.map_err(|_| End::ClientGone),
                _ = check.tick() => {}
            }
            if ws.unsent_len() < left {
                (took_bytes, left) = (tokio::time::Instant::now(), ws.unsent_len());
            }
            self.check_backlog()?;
            self.check_alive(Some(took_bytes))?;
            if started.elapsed() >= SEND_TIMEOUT {
                return Err(End::Close(CLOSE_TOO_SLOW, "too slow"));
            }
        }
    }
}
