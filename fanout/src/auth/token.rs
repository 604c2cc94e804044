//! Where a bearer token comes from: `Authorization: Bearer <jwt>`, the WebSocket subprotocol
//! `bearer.<jwt>` (browsers cannot set headers on a WebSocket; offer it next to
//! [`SUBPROTOCOL`]), or `?token=<jwt>`. The first present wins, in that order.

use super::AuthError;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};

/// The subprotocol a replica selects when the client offers it.
pub const SUBPROTOCOL: &str = "kubecast.v1";
const BEARER_PROTOCOL_PREFIX: &str = "bearer.";
/// Tokens longer than this are refused without parsing.
const MAX_TOKEN: usize = 8 * 1024;

/// Where the token was found (for logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    Header,
    Subprotocol,
    Query,
}

/// The request's bearer token, if any. A malformed `Authorization` header is an error rather
/// than "no token", so a client never silently falls back to less access.
pub fn bearer_token(
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Option<(String, TokenSource)>, AuthError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| AuthError::Invalid("the Authorization header is not ASCII".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| AuthError::Invalid("the Authorization scheme must be Bearer".into()))?;
        return checked(token.trim(), TokenSource::Header).map(Some);
    }
    let offered = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| p.strip_prefix(BEARER_PROTOCOL_PREFIX));
    if let Some(token) = offered {
        return checked(token, TokenSource::Subprotocol).map(Some);
    }
    query
        .filter(|t| !t.is_empty())
        .map(|t| checked(t, TokenSource::Query))
        .transpose()
}

fn checked(token: &str, source: TokenSource) -> Result<(String, TokenSource), AuthError> {
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if token.len() > MAX_TOKEN {
        return Err(AuthError::Invalid("the token is too long".into()));
    }
    Ok((token.to_string(), source))
}
