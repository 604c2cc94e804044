//! One WebSocket session (DESIGN §3) on a [`WsSocket`], generic over its byte stream (tests
//! drive sessions over in-memory streams).
//!
//! Invariants:
//! - the session subscribes to live changes before it reads anything, so catch-up (ring, log or
//!   snapshot) plus live events leave no gap; live events `≤ last` are dropped as duplicates;
//! - `last` is the highest seq examined for this client: every matching event `≤ last` was sent,
//!   which is exactly what `position` promises;
//! - a resync of the view (new generation) always reaches the client as `reset` + snapshot;
//! - a client that cannot keep up is closed with 4008, never skipped; shutdown closes with 1001.

use super::socket::Io;
use super::socket::{self, WsSocket, frame};
use crate::auth::{AuthError, Grant};
use crate::cursor::{Page, PageRequest, read_page};
use crate::http::query::Params;
use crate::http::{AppState, filtered_snapshot};
use crate::limits::Admission;
use bytes::Bytes;
use kubecast_shared::log::EventLog;
use kubecast_shared::protocol::frames;
use kubecast_shared::{Epoch, Filter, Seq};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::MissedTickBehavior;

mod control;
mod live;
mod send;

/// Close code: the server is draining; reconnect elsewhere with `since`.
pub const CLOSE_DRAINING: u16 = 1001;
/// Close code: the client fell too far behind; resume with `since`.
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// Close code: no valid token, or it expired; reconnect with a fresh one.
pub const CLOSE_UNAUTHENTICATED: u16 = 4401;
/// Close code: the token does not grant what the client asked for.
pub const CLOSE_FORBIDDEN: u16 = 4403;
/// Close code: try again later (not ready, the log unreachable, the replica full or busy).
pub const CLOSE_TRY_LATER: u16 = 1013;
/// Close code: a policy limit (connections per address, message rate).
pub const CLOSE_POLICY: u16 = 1008;
/// Close code: a client message over the size limit.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close reason of a client that stopped answering pings (a half-open connection).
const PING_TIMEOUT: &str = "ping timeout";
/// Largest frame body a session builds (snapshot parts, merged backlogs; a single stored batch
/// may exceed it): bounds what a session holds while a send is blocked, and lets a client start
/// on a large snapshot before all of it is encoded.
const MAX_FRAME_BYTES: usize = 64 * 1024;
const REPLAY_PAGE: usize = 1000;
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BATCHES_PER_FRAME: usize = 64;
/// A WebSocket ping with no payload (the server's keep-alive probe).
const PING: &[u8] = &[0x80 | frame::OP_PING, 0];

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
    /// The filter the client asked for, and the one served (narrowed to the grant).
    requested: Filter,
    filter: Filter,
    grant: Grant,
    /// When the token expires (the connection is then closed with 4401).
    expires: Option<tokio::time::Instant>,
    epoch: Epoch,
    generation: u64,
    last: Seq,
    /// `bytes_end` of the last live batch handled (see [`Batch::bytes_end`]).
    consumed: u64,
    /// When the client last sent anything (pongs included), and when we last pinged it.
    /// `None` until the catch-up is done: keep-alive counts only from then on.
    heard: Option<tokio::time::Instant>,
    pinged: tokio::time::Instant,
    /// This connection's place in the limits (released when the session ends).
    admission: Option<Admission>,
}

impl<L: EventLog> Session<L> {
    /// A session for a client holding `grant`; refused when its filter asks for more.
    pub fn new(app: AppState<L>, params: Params, grant: Grant) -> Result<Self, AuthError> {
        let filter = grant.restrict(&params.filter)?;
        let expires = expiry(&grant);
        Ok(Self {
            app,
            since: params.since,
            requested_epoch: params.epoch,
            requested: params.filter,
            filter,
            grant,
            expires,
            epoch: Epoch(String::new()),
            generation: 0,
            last: Seq::ZERO,
            consumed: 0,
            heard: None,
            pinged: tokio::time::Instant::now(),
            admission: None,
        })
    }

    /// Counts this session in the limits (message rate, catch-up slots).
    pub fn with_admission(mut self, admission: Admission) -> Self {
        self.admission = Some(admission);
        self
    }

    /// Runs until the client leaves, is too slow, or the server shuts down.
    /// Both arrive boxed: an async fn keeps its arguments for its whole life, so pointers keep
    /// every idle connection's task small.
    pub async fn run<T: Io>(mut self: Box<Self>, mut ws: Box<WsSocket<T>>) {
        let metrics = self.app.metrics.clone();
        metrics.connections.inc();
        metrics.connections_opened.inc();
        let end = match self.drive(&mut ws).await {
            Ok(()) => End::ClientGone,
            Err(end) => end,
        };
        metrics.connections.dec();
        metrics.close(match &end {
            End::ClientGone => "client",
            End::Close(_, PING_TIMEOUT) => "ping_timeout",
            End::Close(code, _) => close_reason(*code),
        });
        match end {
            End::Close(code, reason) => {
                tracing::debug!(code, reason, "closing websocket");
                Box::pin(ws.close(code, reason)).await;
            }
            // Answer a client's close frame; a connection that just ended has nobody to tell.
            End::ClientGone if ws.peer_closed() => Box::pin(ws.close(1000, "")).await,
            End::ClientGone => {}
        }
    }

    async fn drive<T: Io>(&mut self, ws: &mut WsSocket<T>) -> Step {
        let mut rx = self.app.shared.subscribe();
        self.consumed = self.app.shared.published_bytes();
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
        // Everything but the idle wait is boxed: an idle session then holds only its wait
        // state, a few hundred bytes (19,000 sessions per replica).
        Box::pin(self.greet(ws, head)).await?;
        // Nobody read the client's socket while it queued for and ran its catch-up: keep-alive
        // starts counting now, or a long catch-up would look like silence.
        self.pinged = tokio::time::Instant::now();
        self.heard = Some(self.pinged);
        let start = tokio::time::Instant::now() + config.heartbeat;
        let mut heartbeat = tokio::time::interval_at(start, config.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Registered once, not on every turn of the loop (every session waits on this token).
        let cancel = self.app.cancel.clone();
        let cancelled = cancel.cancelled();
        tokio::pin!(cancelled);
        // One timer for the session's own deadlines: token expiry and, once draining, its close.
        let mut draining_at = None;
        let mut timer_at = None;
        let mut timer = Box::pin(tokio::time::sleep_until(far_future()));
        loop {
            let due = [self.expires, draining_at].into_iter().flatten().min();
            if due != timer_at {
                timer_at = due;
                timer.as_mut().reset(due.unwrap_or_else(far_future));
            }
            tokio::select! {
                biased;
                () = &mut cancelled, if draining_at.is_none() => {
                    draining_at = Some(tokio::time::Instant::now() + self.drain_delay());
                }
                () = &mut timer, if timer_at.is_some() => {
                    return Err(match draining_at {
                        Some(at) if at <= tokio::time::Instant::now() => {
                            End::Close(CLOSE_DRAINING, "draining")
                        }
                        _ => End::Close(CLOSE_UNAUTHENTICATED, "token expired"),
                    });
                }
                msg = ws.recv() => match msg {
                    Ok(msg) => {
                        self.heard = Some(tokio::time::Instant::now());
                        Box::pin(self.on_client(msg, ws)).await?;
                    }
                    Err(socket::RecvError::Protocol(error)) => {
                        tracing::debug!(%error, "websocket protocol error");
                        return Err(End::Close(error.close_code(), protocol_reason(error)));
                    }
                    Err(socket::RecvError::Eof | socket::RecvError::Io(_)) => return Err(End::ClientGone),
                },
                live = rx.recv() => match live {
                    Ok(live) => Box::pin(self.on_live(live, &mut rx, ws)).await?,
                    Err(RecvError::Lagged(_)) => return Err(End::Close(CLOSE_TOO_SLOW, "too slow")),
                    Err(RecvError::Closed) => return Err(End::Close(CLOSE_DRAINING, "draining")),
                },
                _ = heartbeat.tick() => Box::pin(self.on_heartbeat(ws)).await?,
            }
        }
    }

    /// Every heartbeat: a `position` frame; every `ping_interval` a WebSocket ping.
    async fn on_heartbeat<T: Io>(&mut self, ws: &mut WsSocket<T>) -> Step {
        self.check_alive(None)?;
        let config = &self.app.config;
        let now = tokio::time::Instant::now();
        self.send(ws, frames::position(&self.epoch, self.last))
            .await?;
        if now.duration_since(self.pinged) >= config.ping_interval {
            self.pinged = now;
            self.send_frames(ws, &[Bytes::from_static(PING)]).await?;
        }
        Ok(())
    }

    /// A client with no sign of life for `ping_interval + ping_timeout` since its catch-up is
    /// gone without having said so (a half-open connection): close it. A sign of life is any
    /// message (pongs included) or, while a send is blocked, `took_bytes`: the kernel taking
    /// more of the frame. A blocked send is where a half-open socket ends up once the buffers
    /// are full, and nothing reads the client's pongs meanwhile.
    fn check_alive(&self, took_bytes: Option<tokio::time::Instant>) -> Step {
        let config = &self.app.config;
        let Some(heard) = self.heard else {
            return Ok(());
        };
        let alive = took_bytes.map_or(heard, |took| took.max(heard));
        if alive.elapsed() > config.ping_interval + config.ping_timeout {
            return Err(End::Close(CLOSE_DRAINING, PING_TIMEOUT));
        }
        Ok(())
    }

    /// How long this session keeps serving after shutdown began before it closes with 1001:
    /// uniform over the drain window, so clients reconnect elsewhere spread out, not at once.
    fn drain_delay(&self) -> Duration {
        let window = self.app.config.drain_window;
        if window.is_zero() {
            return Duration::ZERO;
        }
        window.mul_f64(rand::random::<f64>())
    }

    /// `hello`, then the catch-up.
    async fn greet<T: Io>(&mut self, ws: &mut WsSocket<T>, head: Seq) -> Step {
        let config = &self.app.config;
        let heartbeat_ms = config.heartbeat.as_millis() as u64;
        let hello = frames::hello(&self.epoch, head, &config.server_name, heartbeat_ms);
        self.send(ws, hello).await?;
        self.join(ws).await
    }

    /// Catches up once a catch-up slot is free (a reconnect storm queues here instead of
    /// building thousands of snapshots at once); 1013 when none frees up in time.
    async fn join<T: Io>(&mut self, ws: &mut WsSocket<T>) -> Step {
        let limits = self.admission.as_ref().map(|a| a.limits().clone());
        let _slot = match &limits {
            Some(limits) => Some(
                limits
                    .join()
                    .await
                    .ok_or(End::Close(CLOSE_TRY_LATER, "busy"))?,
            ),
            None => None,
        };
        self.catch_up(ws).await
    }

    /// Replays the missed events after `since`, or sends a snapshot (after a reset if `since`
    /// cannot be resumed).
    async fn catch_up<T: Io>(&mut self, ws: &mut WsSocket<T>) -> Step {
        let Some(since) = self.since else {
            return self.send_snapshot(ws).await;
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
                    self.send(ws, frames::reset(&epoch, seq, reason)).await?;
                    return self.send_snapshot(ws).await;
                }
                Ok(Page::Events {
                    epoch: page_epoch,
                    events,
                    next,
                    head,
                    source,
                }) => {
                    self.app.metrics.catchup(source.as_str());
                    if !events.is_empty() {
                        self.send(
                            ws,
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

    /// Sends the filtered state at the view's head in parts of at most [`MAX_FRAME_BYTES`]:
    /// the objects first, then the summaries; `last` marks the final part.
    async fn send_snapshot<T: Io>(&mut self, ws: &mut WsSocket<T>) -> Step {
        self.app.metrics.catchup("snapshot");
        let snap = filtered_snapshot(&self.app.shared, &self.filter)
            .ok_or(End::Close(CLOSE_TRY_LATER, "not ready"))?;
        self.epoch = snap.epoch.clone();
        self.generation = snap.generation;
        self.last = snap.seq;
        let empty: &[Bytes] = &[];
        let mut parts: Vec<(&[Bytes], &[Bytes])> = by_size(&snap.objects, MAX_FRAME_BYTES)
            .map(|objects| (objects, empty))
            .chain(by_size(&snap.summaries, MAX_FRAME_BYTES).map(|summaries| (empty, summaries)))
            .collect();
        if parts.is_empty() {
            parts.push((empty, empty));
        }
        let count = parts.len();
        for (i, (objects, summaries)) in parts.into_iter().enumerate() {
            let frame =
                frames::snapshot(&snap.epoch, snap.seq, objects, summaries, i, i + 1 == count);
            self.send(ws, frame).await?;
        }
        Ok(())
    }

    /// The view was rebuilt: `reset` + snapshot.
    async fn resync<T: Io>(&mut self, ws: &mut WsSocket<T>, reason: &str) -> Step {
        let (epoch, seq) = {
            let view = self.app.shared.read();
            (
                view.epoch().cloned().unwrap_or_else(|| self.epoch.clone()),
                view.head(),
            )
        };
        self.send(ws, frames::reset(&epoch, seq, reason)).await?;
        self.send_snapshot(ws).await
    }
}

/// `items` in consecutive runs of at most `max` encoded bytes (at least one item each).
fn by_size(items: &[Bytes], max: usize) -> impl Iterator<Item = &[Bytes]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut size = 0;
        let take = rest
            .iter()
            .take_while(|item| {
                size += item.len() + 1;
                size <= max
            })
            .count()
            .max(1);
        let (part, tail) = rest.split_at(take);
        rest = tail;
        Some(part)
    })
}

/// The close reason for a client's protocol error.
fn protocol_reason(error: frame::ProtocolError) -> &'static str {
    match error.close_code() {
        CLOSE_TOO_BIG => "message too big",
        1007 => "invalid utf-8",
        _ => "protocol error",
    }
}

/// The metrics label of a close code.
fn close_reason(code: u16) -> &'static str {
    match code {
        CLOSE_DRAINING => "draining",
        CLOSE_TOO_SLOW => "too_slow",
        CLOSE_TRY_LATER => "try_later",
        CLOSE_UNAUTHENTICATED => "unauthenticated",
        CLOSE_FORBIDDEN => "forbidden",
        CLOSE_POLICY => "policy",
        _ => "other",
    }
}

/// When `grant` runs out, on tokio's clock.
fn expiry(grant: &Grant) -> Option<tokio::time::Instant> {
    grant
        .remaining()
        .map(|left| tokio::time::Instant::now() + left)
}

/// A deadline that never comes (for a disabled timer).
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86_400 * 365)
}
