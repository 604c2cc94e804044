//! Sending frames: bounded by [`SEND_TIMEOUT`] and by the client's backlog while blocked.

use super::{CLOSE_TOO_SLOW, End, SEND_TIMEOUT, Session, Step};
use axum::extract::ws::{Message, Utf8Bytes};
use futures::{Sink, SinkExt};
use kubecast_shared::log::EventLog;
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
        let deadline = tokio::time::Instant::now() + SEND_TIMEOUT;
        let bytes = text.len();
        let sending = sink.send(Message::Text(text));
        tokio::pin!(sending);
        let mut check = tokio::time::interval(BACKLOG_CHECK);
        check.reset();
        loop {
            tokio::select! {
                sent = &mut sending => {
                    sent.map_err(|_| End::ClientGone)?;
                    self.app.metrics.sent(bytes);
                    return Ok(());
                }
                _ = check.tick() => {
                    self.check_backlog()?;
                    if tokio::time::Instant::now() >= deadline {
                        return Err(End::Close(CLOSE_TOO_SLOW, "too slow"));
                    }
                }
            }
        }
    }
}
