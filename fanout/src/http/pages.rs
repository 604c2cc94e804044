//! Health probes.

use super::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kubecast_shared::log::EventLog;
use std::time::Duration;

/// A replica is ready while its last successful read of the log is at most this old (the tail
/// reads at least once per second while healthy).
const READY_MAX_AGE: Duration = Duration::from_secs(5);

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
