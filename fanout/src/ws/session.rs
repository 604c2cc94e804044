//! One WebSocket session (DESIGN §3), generic over the socket's `Sink`/`Stream` halves.
//!
//! Invariants:
//! - the session subscribes to live changes before it reads anything, so catch-up (ring, log or
//!   snapshot) plus live events leave no gap; live events `≤ last` are dropped as duplicates;
//! - `last` is the highest seq examined for this client: every matching event `≤ last` was sent,
//!   which is exactly what `position` promises;
//! - a resync of the view (new generation) always reaches the client as `reset` + snapshot;
//! - a client that cannot keep up is closed with 4008, never skipped; shutdown closes with 1001.

use crate::cursor::{Page, PageRequest, read_page};
use crate::http::query::Params;
use crate::http::{AppState, filtered_snapshot};
use crate::state::Live;
use axum::extract::ws::{CloseFrame, Message};
use bytes::Bytes;
use futures::{Sink, SinkExt, Stream, StreamExt};
use kubecast_shared::log::EventLog;
use kubecast_shared::protocol::ClientFrame;
use kubecast_shared::protocol::frames;
use kubecast_shared::{Epoch, Filter, Seq};
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::time::MissedTickBehavior;

/// Close code: the server is draining; reconnect elsewhere with `since`.
pub const CLOSE_DRAINING: u16 = 1001;
/// Close code: the client fell too far behind; resume with `since`.
pub const CLOSE_TOO_SLOW: u16 = 4008;
const CLOSE_TRY_LATER: u16 = 1013;
const SNAPSHOT_PART: usize = 1000;
const REPLAY_PAGE: usize = 1000;
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BATCHES_PER_FRAME: usize = 64;

/// Why a session ends.
enum End {
    ClientGone,
    Close(u16, &'static str),
}

type Step = Result<(), End>;

/// A client's subscription and position.
pub struct Session<L> {
    app: AppState<L>,
    since: Option<Seq>,
    requested_epoch: Option<Epoch>,
    filter: Filter,
    epoch: Epoch,
    generation: u64,
    last: Seq,
}

impl<L: EventLog> Session<L> {
    pub fn new(app: AppState<L>, params: Params) -> Self {
        Self {
            app,
            since: params.since,
            requested_epoch: params.epoch,
            filter: params.filter,
            epoch: Epoch(String::new()),
            generation: 0,
            last: Seq::ZERO,
        }
    }

    /// Runs until the client leaves, is too slow, or the server shuts down.
    pub async fn run<S, R, E>(mut self, mut sink: S, mut stream: R)
    where
        S: Sink<Message> + Unpin,
        R: Stream<Item = Result<Message, E>> + Unpin,
    {
        let end = match self.drive(&mut sink, &mut stream).await {
            Ok(()) => End::ClientGone,
            Err(end) => end,
        };
        if let End::Close(code, reason) = end {
            tracing::debug!(code, reason, "closing websocket");
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                sink.send(Message::Close(Some(frame))),
            )
            .await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
    }

    async fn drive<S, R, E>(&mut self, sink: &mut S, stream: &mut R) -> Step
    where
        S: Sink<Message> + Unpin,
        R: Stream<Item = Result<Message, E>> + Unpin,
    {
        let mut rx = self.app.shared.subscribe();
        let head = {
            let view = self.app.shared.read();
            let Some(epoch) = view.epoch() else {
                return Err(End::Close(CLOSE_TRY_LATER, "not ready"));
            };
            self.epoch = epoch.clone();
            self.generation = view.generation();
            view.head()
        };
        let config = self.app.config.clone();
        let heartbeat_ms = config.heartbeat.as_millis() as u64;
        send(
            sink,
            frames::hello(&self.epoch, head, &config.server_name, heartbeat_ms),
        )
        .await?;
        self.catch_up(sink).await?;
        let start = tokio::time::Instant::now() + config.heartbeat;
        let mut heartbeat = tokio::time::interval_at(start, config.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let cancel = self.app.cancel.clone();
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(End::Close(CLOSE_DRAINING, "draining")),
                msg = stream.next() => match msg {
                    Some(Ok(msg)) => self.on_client(msg, sink).await?,
                    None | Some(Err(_)) => return Err(End::ClientGone),
                },
                live = rx.recv() => match live {
                    Ok(live) => self.on_live(live, &mut rx, sink).await?,
                    Err(RecvError::Lagged(_)) => return Err(End::Close(CLOSE_TOO_SLOW, "too slow")),
                    Err(RecvError::Closed) => return Err(End::Close(CLOSE_DRAINING, "draining")),
                },
                _ = heartbeat.tick() => send(sink, frames::position(&self.epoch, self.last)).await?,
            }
        }
    }

    /// Replays the missed events after `since`, or sends a snapshot (after a reset if `since`
    /// cannot be resumed).
    async fn catch_up<S: Sink<Message> + Unpin>(&mut self, sink: &mut S) -> Step {
        let Some(since) = self.since else {
            return self.send_snapshot(sink).await;
        };
        let mut cursor = since;
        let mut epoch = self.requested_epoch.clone();
        loop {
            let req = PageRequest {
                epoch: epoch.as_ref(),
                since: cursor,
                filter: &self.filter,
                limit: REPLAY_PAGE,
                catchup_wait: self.app.config.catchup_wait,
            };
            match read_page(&self.app.shared, &self.app.log, req).await {
                Err(error) => {
                    tracing::warn!(%error, "catch-up failed");
                    return Err(End::Close(CLOSE_TRY_LATER, "log unavailable"));
                }
                Ok(Page::Reset { epoch, seq, reason }) => {
                    send(sink, frames::reset(&epoch, seq, reason)).await?;
                    return self.send_snapshot(sink).await;
                }
                Ok(Page::Events {
                    epoch: page_epoch,
                    events,
                    next,
                    head,
                }) => {
                    if !events.is_empty() {
                        send(
                            sink,
                            frames::events(&page_epoch, events.iter().map(|e| &e.raw)),
                        )
                        .await?;
                    }
                    let stalled = next == cursor;
                    self.epoch = page_epoch.clone();
                    self.last = next;
                    cursor = next;
                    epoch = Some(page_epoch);
                    // A stalled page means the log has nothing more for us; live events (and their
                    // gap check) take over from here.
                    if next >= head || stalled {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Sends the filtered state at the view's head, in parts of at most [`SNAPSHOT_PART`] objects.
    async fn send_snapshot<S: Sink<Message> + Unpin>(&mut self, sink: &mut S) -> Step {
        let snap = filtered_snapshot(&self.app.shared, &self.filter)
            .ok_or(End::Close(CLOSE_TRY_LATER, "not ready"))?;
        self.epoch = snap.epoch.clone();
        self.generation = snap.generation;
        self.last = snap.seq;
        let parts: Vec<&[Bytes]> = if snap.objects.is_empty() {
            vec![&[]]
        } else {
            snap.objects.chunks(SNAPSHOT_PART).collect()
        };
        let count = parts.len();
        for (i, objects) in parts.into_iter().enumerate() {
            let last = i + 1 == count;
            let summaries: &[Bytes] = if last { &snap.summaries } else { &[] };
            send(
                sink,
                frames::snapshot(&snap.epoch, snap.seq, objects, summaries, i, last),
            )
            .await?;
        }
        Ok(())
    }

    /// The view was rebuilt: `reset` + snapshot.
    async fn resync<S: Sink<Message> + Unpin>(&mut self, sink: &mut S, reason: &str) -> Step {
        let (epoch, seq) = {
            let view = self.app.shared.read();
            (
                view.epoch().cloned().unwrap_or_else(|| self.epoch.clone()),
                view.head(),
            )
        };
        send(sink, frames::reset(&epoch, seq, reason)).await?;
        self.send_snapshot(sink).await
    }

    async fn on_client<S: Sink<Message> + Unpin>(&mut self, msg: Message, sink: &mut S) -> Step {
        let text = match msg {
            Message::Text(text) => text,
            Message::Binary(_) => {
                return send(
                    sink,
                    frames::error("bad_message", "binary messages are not supported"),
                )
                .await;
            }
            Message::Close(_) => return Err(End::ClientGone),
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
        };
        match ClientFrame::parse(text.as_str()) {
            Ok(ClientFrame::Ping) => send(sink, frames::pong()).await,
            Ok(ClientFrame::GetSnapshot) => self.send_snapshot(sink).await,
            Ok(ClientFrame::Subscribe { ns, kinds }) => match Filter::from_vecs(ns, kinds) {
                Ok(filter) => {
                    self.filter = filter;
                    self.send_snapshot(sink).await
                }
                Err(message) => send(sink, frames::error("bad_filter", &message)).await,
            },
            Err(message) => send(sink, frames::error("bad_message", &message)).await,
        }
    }

    /// Forwards a live batch (plus any already queued behind it) as one `events` frame, or a
    /// `position` when nothing matched, so filtered clients still advance.
    async fn on_live<S: Sink<Message> + Unpin>(
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
        let start = self.last;
        let mut out: Vec<Bytes> = Vec::new();
        for live in batches {
            let (generation, events) = match live {
                Live::Resync { generation } => (generation, None),
                Live::Events {
                    generation, events, ..
                } => (generation, Some(events)),
            };
            if generation < self.generation {
                continue;
            }
            let gap = events
                .as_ref()
                .and_then(|evs| evs.iter().find(|e| e.seq() > self.last))
                .is_some_and(|e| e.seq() != self.last.next());
            if generation > self.generation || gap {
                self.flush(sink, &mut out).await?;
                self.resync(sink, if gap { "gap" } else { "resync" })
                    .await?;
                continue;
            }
            for ev in events.iter().flat_map(|evs| evs.iter()) {
                if ev.seq() <= self.last {
                    continue;
                }
                self.last = ev.seq();
                if self.filter.matches(&ev.head.ns, &ev.head.kind) {
                    out.push(ev.raw.clone());
                }
            }
        }
        if !out.is_empty() {
            self.flush(sink, &mut out).await
        } else if self.last > start {
            send(sink, frames::position(&self.epoch, self.last)).await
        } else {
            Ok(())
        }
    }

    async fn flush<S: Sink<Message> + Unpin>(&self, sink: &mut S, out: &mut Vec<Bytes>) -> Step {
        if out.is_empty() {
            return Ok(());
        }
        let frame = frames::events(&self.epoch, out.iter());
        out.clear();
        send(sink, frame).await
    }
}

async fn send<S: Sink<Message> + Unpin>(sink: &mut S, text: String) -> Step {
    match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::ClientGone),
        Err(_) => Err(End::Close(CLOSE_TOO_SLOW, "too slow")),
    }
}
