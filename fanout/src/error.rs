//! HTTP errors: each variant maps to a status and a JSON body that never leaks internals.

use crate::cursor::CursorError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
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
    /// No valid token (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// The token does not grant this (403), or the Origin is not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// No such file or route (404).
    #[error("{0}")]
    NotFound(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        };
        let body = json!({"error": {"code": code, "message": self.to_string()}});
        let mut response = (status, Json(body)).into_response();
        match self {
            ApiError::Unauthenticated(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="kubecast""#),
                );
            }
            // Not loaded yet, the log unreachable, or draining: all short-lived for this
            // replica, and another replica may answer at once.
            ApiError::Unavailable(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(e: crate::auth::AuthError) -> Self {
        if e.is_unauthenticated() {
            ApiError::Unauthenticated(e.to_string())
        } else {
            ApiError::Forbidden(e.to_string())
        }
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
