//! The opening handshake (RFC 6455 §4.2): an axum extractor that checks the upgrade request and
//! answers `101 Switching Protocols`, then hands the upgraded stream to a [`WsSocket`].

use super::WsSocket;
use crate::auth::SUBPROTOCOL;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Version, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hyper::upgrade::OnUpgrade;
use sha1::{Digest, Sha1};

use super::stream::UpgradedStream;

/// A valid WebSocket upgrade request, ready to be answered.
pub struct Upgrade {
    accept: HeaderValue,
    /// The client offered `kubecast.v1` (it is then named in the answer).
    kubecast_protocol: bool,
    on_upgrade: OnUpgrade,
}

/// Why a request is not a WebSocket upgrade Kubecast can accept (answered 400).
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("the method must be GET over HTTP/1.1")]
    Method,
    #[error("`Connection: upgrade` and `Upgrade: websocket` are required")]
    NotUpgrade,
    #[error("`Sec-WebSocket-Version: 13` is required")]
    Version,
    #[error("`Sec-WebSocket-Key` must be 16 bytes in base64")]
    Key,
    #[error("this connection cannot be upgraded")]
    NotUpgradable,
}

impl axum::response::IntoResponse for UpgradeError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = UpgradeError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if parts.method != Method::GET || parts.version != Version::HTTP_11 {
            return Err(UpgradeError::Method);
        }
        let headers = &parts.headers;
        if !has_token(headers, header::CONNECTION, "upgrade")
            || !has_token(headers, header::UPGRADE, "websocket")
        {
            return Err(UpgradeError::NotUpgrade);
        }
        if headers.get(header::SEC_WEBSOCKET_VERSION) != Some(&HeaderValue::from_static("13")) {
            return Err(UpgradeError::Version);
        }
        let key = headers
            .get(header::SEC_WEBSOCKET_KEY)
            .filter(|key| BASE64.decode(key.as_bytes()).is_ok_and(|k| k.len() == 16))
            .ok_or(UpgradeError::Key)?;
        let accept = accept_key(key.as_bytes());
        let kubecast_protocol = has_token(headers, header::SEC_WEBSOCKET_PROTOCOL, SUBPROTOCOL);
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(UpgradeError::NotUpgradable)?;
        Ok(Self {
            accept,
            kubecast_protocol,
            on_upgrade,
        })
    }
}

impl Upgrade {
    /// Answers `101` and, once the connection is switched, runs `session` on a new task with a
    /// socket that refuses client messages over `max_message` bytes and whose kernel send buffer
    /// is `send_buffer` bytes (0: the kernel's own sizing). The socket is boxed: the task lives as
    /// long as the connection, and futures that hold pointers stay small.
    pub fn on_upgrade<F, Fut>(self, max_message: usize, send_buffer: usize, session: F) -> Response
    where
        F: FnOnce(Box<WsSocket<UpgradedStream>>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    // `received` may share hyper's whole request buffer: it must not live
                    // across the session's awaits.
                    let socket = {
                        let (io, received) = UpgradedStream::new(upgraded);
                        io.limit_send_buffer(send_buffer);
                        Box::new(WsSocket::new(io, max_message, &received))
                    };
                    session(socket).await;
                }
                Err(error) => tracing::debug!(%error, "websocket upgrade did not complete"),
            }
        });
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, self.accept);
        if self.kubecast_protocol {
            headers.insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(SUBPROTOCOL),
            );
        }
        response
    }
}

/// Whether a comma-separated header lists `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

/// `Sec-WebSocket-Accept` for a client's key.
fn accept_key(key: &[u8]) -> HeaderValue {
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let digest = Sha1::new().chain_update(key).chain_update(GUID).finalize();
    HeaderValue::from_str(&BASE64.encode(digest)).expect("base64 is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_key_is_the_one_from_rfc_6455() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn protocol_tokens_are_found_in_lists_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        assert!(has_token(&headers, header::CONNECTION, "upgrade"));
        assert!(!has_token(&headers, header::CONNECTION, "close"));
    }
}
