//! Errors the API answers with. Each one renders as a Kubernetes `Status` object (the shape kube-rs
//! parses into `kube::core::ErrorResponse`), so clients see exactly what a real API server sends.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// What went wrong with a request.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A watch asked for a resourceVersion older than the retained history.
    #[error("too old resource version: {requested} ({oldest})")]
    TooOldResourceVersion { requested: u64, oldest: u64 },
    /// A list continue token is unknown or its snapshot was evicted.
    #[error(
        "The provided continue parameter is too old to display a consistent list result. \
         You can start a new list without the continue parameter."
    )]
    ContinueExpired,
    /// GET of an object that does not exist.
    #[error("{plural} \"{name}\" not found")]
    NotFound { plural: &'static str, name: String },
    /// A malformed query parameter.
    #[error("invalid value for {param}: {value:?}")]
    BadParameter { param: &'static str, value: String },
    /// No resource lives at this path.
    #[error("the server could not find the requested resource")]
    UnknownPath,
    /// Watches are refused for now (a test is simulating an unreachable API server).
    #[error("the server is currently unable to handle the request")]
    Unavailable,
    /// The caller may not read this kind (as RBAC answers; see `SimCluster::forbid`).
    #[error(
        "{plural} is forbidden: User \"system:serviceaccount:kubecast:producer\" cannot list resource \"{plural}\""
    )]
    Forbidden { plural: &'static str },
    /// The simulator does not implement this verb (yet).
    #[error("method not allowed: the simulator serves get, list and watch")]
    MethodNotAllowed,
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status code carried in the `Status` object.
    pub fn code(&self) -> StatusCode {
        match self {
            Self::TooOldResourceVersion { .. } | Self::ContinueExpired => StatusCode::GONE,
            Self::NotFound { .. } | Self::UnknownPath => StatusCode::NOT_FOUND,
            Self::BadParameter { .. } => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
        }
    }

    /// The machine-readable `reason` of the `Status` object.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TooOldResourceVersion { .. } | Self::ContinueExpired => "Expired",
            Self::NotFound { .. } | Self::UnknownPath => "NotFound",
            Self::BadParameter { .. } => "BadRequest",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::Unavailable => "ServiceUnavailable",
            Self::Forbidden { .. } => "Forbidden",
        }
    }

    /// The `Status` object as JSON.
    pub fn status(&self) -> Value {
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code().as_u16(),
        })
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        (self.code(), Json(self.status())).into_response()
    }
}
