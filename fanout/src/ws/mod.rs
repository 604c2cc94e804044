//! `GET /ws`: validates the query before upgrading (malformed input is a 400 JSON, not a socket),
//! then runs a [`session`] on a task tracked for shutdown.

mod session;

use crate::auth::{AuthError, SUBPROTOCOL, bearer_token};
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::query::{Params, RawQuery};
use crate::limits::{PeerAddr, Refusal, client_ip};
use crate::metrics::FanoutMetrics;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{CloseFrame, Message};
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures::{Sink, SinkExt, Stream, StreamExt};
use kubecast_shared::log::EventLog;
use kubecast_shared::protocol::frames;
use std::time::Duration;

pub use session::{
    CLOSE_DRAINING, CLOSE_FORBIDDEN, CLOSE_POLICY, CLOSE_TOO_SLOW, CLOSE_TRY_LATER,
    CLOSE_UNAUTHENTICATED, Session,
};

/// Largest message a client may send; anything bigger closes the socket (1009).
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Initial read buffer of a socket. Clients only send small control messages, so tungstenite's
/// default (128 KiB per connection) would be almost all waste at 19,000 connections; a larger
/// message grows the buffer as needed.
pub const READ_BUFFER: usize = 512;
/// Every frame is written and flushed at once (a session awaits each send), so nothing is gained
/// by collecting writes; the buffer then only ever holds the frame being written.
pub const WRITE_BUFFER: usize = 0;
/// Upper bound of a socket's write buffer (the largest frame: a snapshot part or a backlog of
/// batches); reaching it is an error that closes the session rather than unbounded growth.
pub const MAX_WRITE_BUFFER: usize = 64 << 20;

/// `GET /ws`. A refused Origin is answered 403 before any upgrade (a page on another site must
/// not get a socket at all). A missing or bad token, or a filter outside the grant, is answered
/// after the upgrade with an `error` frame and close 4401 / 4403, which a browser can see (it
/// cannot read the status of a failed upgrade).
pub async fn upgrade<L: EventLog>(
    State(app): State<AppState<L>>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    query: Result<Query<RawQuery>, QueryRejection>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if let Err(refused) = app.config.auth.check_origin(&headers) {
        app.metrics.refuse(refused.reason());
        return Err(refused.into());
    }
    let params = Params::parse(query)?;
    let ws = ws.map_err(|e| {
        ApiError::BadRequest(format!("websocket upgrade required: {}", e.body_text()))
    })?;
    if app.cancel.is_cancelled() {
        return Err(ApiError::Unavailable("draining"));
    }
    wait_for_epoch(&app, app.config.catchup_wait).await?;
    let admitted = bearer_token(&headers, params.token.as_deref()).and_then(|token| {
        app.config
            .auth
            .authenticate(token.as_ref().map(|(t, _)| t.as_str()))
    });
    let ip = client_ip(
        peer.map(|p| p.ip()),
        &headers,
        &app.config.limits.trusted_proxies,
    );
    let counted = app.limits.admit(ip);
    let tracker = app.sessions.clone();
    Ok(ws
        .protocols([SUBPROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| {
            tracker.track_future(async move {
                let (sink, stream) = socket.split();
                let metrics = app.metrics.clone();
                let admission = match counted {
                    Ok(admission) => admission,
                    Err(over) => return turn_away(sink, stream, over, &metrics).await,
                };
                match admitted.and_then(|grant| Session::new(app, params, grant)) {
                    Ok(session) => session.with_admission(admission).run(sink, stream).await,
                    Err(refused) => refuse(sink, stream, &refused, &metrics).await,
                }
            })
        })
        .into_response())
}

/// Tells a client why it is not let in (`error` frame, then close 4401 or 4403).
async fn refuse<S, R, E>(sink: S, stream: R, refused: &AuthError, metrics: &FanoutMetrics)
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    metrics.refuse(refused.reason());
    let (code, close) = if refused.is_unauthenticated() {
        (CLOSE_UNAUTHENTICATED, "unauthenticated")
    } else {
        (CLOSE_FORBIDDEN, "forbidden")
    };
    let frame = frames::error(refused.reason(), &refused.to_string());
    goodbye(sink, stream, frame, code, close).await;
}

/// Turns a connection away at a limit: 1013 when the replica is full (try again, maybe
/// elsewhere), 1008 when this address holds too many connections.
async fn turn_away<S, R, E>(sink: S, stream: R, over: Refusal, metrics: &FanoutMetrics)
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    let (code, reason, message) = match over {
        Refusal::Full => (CLOSE_TRY_LATER, "full", "the replica is full; retry later"),
        Refusal::PerIp => (
            CLOSE_POLICY,
            "per_ip",
            "too many connections from this address",
        ),
    };
    metrics.refuse(reason);
    goodbye(sink, stream, frames::error("limit", message), code, reason).await;
}

/// Sends `frame` and a close, bounded in time.
async fn goodbye<S, R, E>(mut sink: S, mut stream: R, frame: String, code: u16, close: &str)
where
    S: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    let bye = async {
        sink.send(Message::Text(frame.into())).await?;
        sink.send(Message::Close(Some(CloseFrame {
            code,
            reason: close.into(),
        })))
        .await
    };
    if let Ok(Ok(())) = tokio::time::timeout(Duration::from_secs(1), bye).await {
        session::await_close_reply(&mut stream).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

/// Waits (bounded) for the tail to load the log, so `hello` has an epoch to announce.
async fn wait_for_epoch<L: EventLog>(
    app: &AppState<L>,
    patience: Duration,
) -> Result<(), ApiError> {
    let mut progress = app.shared.progress();
    let loaded = |p: &crate::state::Progress| p.generation > 0;
    match tokio::time::timeout(patience, progress.wait_for(loaded)).await {
        Ok(Ok(_)) => Ok(()),
        _ => Err(ApiError::Unavailable(
            "the replica has not loaded the log yet",
        )),
    }
}

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod tests;
