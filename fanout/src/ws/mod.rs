//! `GET /ws`: validates the query before upgrading (malformed input is a 400 JSON, not a socket),
//! then runs a [`session`] on a [`socket`] of its own, on a task tracked for shutdown.

mod session;
pub mod socket;

use crate::auth::Grant;
use crate::auth::{AuthError, bearer_token};
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::query::{Params, RawQuery};
use crate::limits::{Admission, PeerAddr, Refusal, client_ip};
use crate::metrics::FanoutMetrics;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use kubecast_shared::log::EventLog;
use kubecast_shared::protocol::frames;
use socket::handshake::UpgradeError;
use socket::{Io, Upgrade, WsSocket};
use std::time::Duration;

pub use session::{
    CLOSE_DRAINING, CLOSE_FORBIDDEN, CLOSE_POLICY, CLOSE_TOO_SLOW, CLOSE_TRY_LATER,
    CLOSE_UNAUTHENTICATED, Session,
};

/// Largest message a client may send; anything bigger closes the socket (1009).
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;

/// `GET /ws`. A refused Origin is answered 403 before any upgrade (a page on another site must
/// not get a socket at all). A missing or bad token, or a filter outside the grant, is answered
/// after the upgrade with an `error` frame and close 4401 / 4403, which a browser can see (it
/// cannot read the status of a failed upgrade).
pub async fn upgrade<L: EventLog>(
    State(app): State<AppState<L>>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    query: Result<Query<RawQuery>, QueryRejection>,
    ws: Result<Upgrade, UpgradeError>,
) -> Result<Response, ApiError> {
    if let Err(refused) = app.config.auth.check_origin(&headers) {
        app.metrics.refuse(refused.reason());
        return Err(refused.into());
    }
    let params = Params::parse(query)?;
    let ws = ws.map_err(|e| ApiError::BadRequest(format!("websocket upgrade required: {e}")))?;
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
    let send_buffer = app.config.send_buffer;
    let start = Start::new(app, params, admitted, counted);
    Ok(
        ws.on_upgrade(MAX_CLIENT_MESSAGE, send_buffer, move |socket| {
            tracker.track_future(start.run(socket))
        }),
    )
}

/// What an upgraded connection gets: a session, or the reason it is turned away. Decided before
/// the upgrade and kept behind pointers, so the task that waits for the upgrade (and then runs
/// the session) stays small: it is held for the life of every connection.
enum Start<L> {
    Session(Box<Session<L>>),
    TurnAway(Refusal, FanoutMetrics),
    Refuse(Box<AuthError>, FanoutMetrics),
}

impl<L: EventLog> Start<L> {
    fn new(
        app: AppState<L>,
        params: Params,
        admitted: Result<Grant, AuthError>,
        counted: Result<Admission, Refusal>,
    ) -> Self {
        let metrics = app.metrics.clone();
        let admission = match counted {
            Ok(admission) => admission,
            Err(over) => return Self::TurnAway(over, metrics),
        };
        match admitted.and_then(|grant| Session::new(app, params, grant)) {
            Ok(session) => Self::Session(Box::new(session.with_admission(admission))),
            Err(refused) => Self::Refuse(Box::new(refused), metrics),
        }
    }

    async fn run<T: Io>(self, socket: Box<WsSocket<T>>) {
        match self {
            Self::Session(session) => session.run(socket).await,
            Self::TurnAway(over, metrics) => turn_away(socket, over, &metrics).await,
            Self::Refuse(refused, metrics) => refuse(socket, &refused, &metrics).await,
        }
    }
}

/// Tells a client why it is not let in (`error` frame, then close 4401 or 4403).
async fn refuse<T: Io>(socket: Box<WsSocket<T>>, refused: &AuthError, metrics: &FanoutMetrics) {
    metrics.refuse(refused.reason());
    let (code, close) = if refused.is_unauthenticated() {
        (CLOSE_UNAUTHENTICATED, "unauthenticated")
    } else {
        (CLOSE_FORBIDDEN, "forbidden")
    };
    let frame = frames::error(refused.reason(), &refused.to_string());
    goodbye(socket, frame, code, close).await;
}

/// Turns a connection away at a limit: 1013 when the replica is full (try again, maybe
/// elsewhere), 1008 when this address holds too many connections.
async fn turn_away<T: Io>(socket: Box<WsSocket<T>>, over: Refusal, metrics: &FanoutMetrics) {
    let (code, reason, message) = match over {
        Refusal::Full => (CLOSE_TRY_LATER, "full", "the replica is full; retry later"),
        Refusal::PerIp => (
            CLOSE_POLICY,
            "per_ip",
            "too many connections from this address",
        ),
    };
    metrics.refuse(reason);
    goodbye(socket, frames::error("limit", message), code, reason).await;
}

/// Sends `frame` and a close, bounded in time.
async fn goodbye<T: Io>(mut socket: Box<WsSocket<T>>, frame: String, code: u16, close: &str) {
    let said = tokio::time::timeout(
        Duration::from_secs(1),
        socket.send(socket::frame::text(&frame)),
    );
    if matches!(said.await, Ok(Ok(()))) {
        socket.close(code, close).await;
    }
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
mod hostile_auth_tests;
#[cfg(test)]
mod hostile_frames_tests;
#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod tests;
