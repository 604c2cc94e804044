//! Health probes and the embedded live page with its JS client.

use super::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use kubecast_shared::log::EventLog;
use std::time::Duration;

/// A replica is ready while its last successful read of the log is at most this old (the tail
/// reads at least once per second while healthy).
const READY_MAX_AGE: Duration = Duration::from_secs(5);

static INDEX_HTML: &str = include_str!("../../../web/index.html");
static CLIENT_JS: &str = include_str!("../../../web/client/kubecast.js");

/// `GET /healthz`: the process is alive.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: the tail has an epoch and read the log recently; 503 once draining.
pub async fn readyz<L: EventLog>(State(app): State<AppState<L>>) -> Response {
    if app.cancel.is_cancelled() {
        return ApiError::Unavailable("draining").into_response();
    }
    if !app.shared.is_fresh(READY_MAX_AGE) {
        return ApiError::Unavailable("not caught up with the event log").into_response();
    }
    let view = app.shared.read();
    Json(serde_json::json!({"status": "ready", "epoch": view.epoch(), "seq": view.head()}))
        .into_response()
}

/// `GET /`: the minimal live page.
pub async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

/// `GET /kubecast.js`: the browser client (an ES module).
pub async fn client_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        CLIENT_JS,
    )
}
