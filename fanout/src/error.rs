//! HTTP errors: each variant maps to a status and a JSON body that never leaks internals.

use crate::cursor::CursorError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What a route refuses or fails with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed client input (400).
    #[error("{0}")]
    BadRequest(String),
    /// The replica cannot answer right now (503): not loaded yet, log unreachable, draining.
    #[error("{0}")]
    Unavailable(&'static str),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        };
        let body = json!({"error": {"code": code, "message": self.to_string()}});
        (status, Json(body)).into_response()
    }
}

impl From<CursorError> for ApiError {
    fn from(e: CursorError) -> Self {
        match e {
            CursorError::NotReady => {
                ApiError::Unavailable("the replica has not loaded the log yet")
            }
            CursorError::Log(error) => {
                tracing::warn!(%error, "reading the log for a client failed");
                ApiError::Unavailable("the event log is unreachable; retry shortly")
            }
        }
    }
}
