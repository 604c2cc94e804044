//! `GET /ws`: validates the query before upgrading (malformed input is a 400 JSON, not a socket),
//! then runs a [`session`] on a task tracked for shutdown.

mod session;

use crate::error::ApiError;
use crate::http::AppState;
use crate::http::query::{Params, RawQuery};
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use kubecast_shared::log::EventLog;
use std::time::Duration;

pub use session::{CLOSE_DRAINING, CLOSE_TOO_SLOW, Session};

/// Largest message a client may send; anything bigger closes the socket (1009).
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;

pub async fn upgrade<L: EventLog>(
    State(app): State<AppState<L>>,
    query: Result<Query<RawQuery>, QueryRejection>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let params = Params::parse(query)?;
    let ws = ws.map_err(|e| {
        ApiError::BadRequest(format!("websocket upgrade required: {}", e.body_text()))
    })?;
    if app.cancel.is_cancelled() {
        return Err(ApiError::Unavailable("draining"));
    }
    wait_for_epoch(&app, app.config.catchup_wait).await?;
    let tracker = app.sessions.clone();
    Ok(ws
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| {
            tracker.track_future(async move {
                let (sink, stream) = socket.split();
                Session::new(app, params).run(sink, stream).await;
            })
        })
        .into_response())
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
mod tests;
