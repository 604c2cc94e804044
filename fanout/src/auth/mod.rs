//! Who may connect and what they may see (DESIGN §6).
//!
//! - **Tokens**: a JWT signed with HS256 (shared secret) or RS256 (public key), taken from
//!   `Authorization: Bearer`, the WebSocket subprotocol `bearer.<jwt>` or `?token=` (see
//!   [`token`]). Exactly the configured algorithm is accepted (so `alg: none` or an HS256 token
//!   signed with an RS256 public key are refused); `exp` is required, `nbf`, `aud` and `iss` are
//!   checked, with a small leeway.
//! - **Grants**: the namespaces claim (default `namespaces`: `"*"`, or a list that may contain
//!   `"*"`) bounds every output: a request for other namespaces is refused (403 / close 4403), and
//!   a request for no particular namespace is narrowed to the granted ones. Cluster-scoped objects
//!   (nodes) are only visible with `"*"`.
//! - **Origin**: with an allow-list, a WebSocket upgrade from another `Origin` is refused (403)
//!   before it starts; requests without an `Origin` (non-browser clients) are not affected.
//!
//! Without a key, every request is granted everything (the default for the loopback-only
//! embedded setup; the binaries refuse to listen elsewhere without a key unless told to).

mod grant;
mod token;
mod verify;

pub use grant::Grant;
pub use token::{SUBPROTOCOL, TokenSource, bearer_token};
pub use verify::{AuthConfig, KeySource};

use axum::http::HeaderMap;
use axum::http::header::ORIGIN;
use std::collections::BTreeSet;

/// Why a request is not let in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("a bearer token is required")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("the token has expired")]
    Expired,
    #[error("{0}")]
    Forbidden(String),
    #[error("origin {0:?} is not allowed")]
    Origin(String),
}

impl AuthError {
    /// Whether the client is unauthenticated (401 / 4401) rather than forbidden (403 / 4403).
    pub fn is_unauthenticated(&self) -> bool {
        matches!(
            self,
            AuthError::Missing | AuthError::Invalid(_) | AuthError::Expired
        )
    }

    /// The metrics label.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing | AuthError::Invalid(_) | AuthError::Expired => "unauthenticated",
            AuthError::Forbidden(_) => "forbidden",
            AuthError::Origin(_) => "origin",
        }
    }
}

/// The replica's authentication policy, built once from the configuration.
#[derive(Default)]
pub struct Auth {
    verifier: Option<verify::Verifier>,
    origins: Option<BTreeSet<String>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("tokens", &self.verifier.as_ref().map(|v| v.algorithm()))
            .field("origins", &self.origins)
            .finish()
    }
}

impl Auth {
    /// Everyone sees everything; any origin.
    pub fn open() -> Self {
        Self::default()
    }

    /// The policy `config` describes (an unreadable key is an error).
    pub fn new(config: &AuthConfig) -> Result<Self, String> {
        let verifier = config
            .key
            .as_ref()
            .map(|key| verify::Verifier::new(key, config))
            .transpose()?;
        let origins = (!config.origins.is_empty())
            .then(|| config.origins.iter().map(|o| normalize(o)).collect());
        Ok(Self { verifier, origins })
    }

    /// Whether tokens are required.
    pub fn requires_tokens(&self) -> bool {
        self.verifier.is_some()
    }

    /// The grant of `token` (every namespace when no key is configured).
    pub fn authenticate(&self, token: Option<&str>) -> Result<Grant, AuthError> {
        match &self.verifier {
            None => Ok(Grant::everything()),
            Some(verifier) => verifier.verify(token.ok_or(AuthError::Missing)?),
        }
    }

    /// Refuses a request whose `Origin` is not on the allow-list (if there is one). Several
    /// `Origin` headers are refused whatever they say: a browser sends one, and judging only the
    /// first would let an allowed value vouch for a forged one behind it.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        let Some(allowed) = &self.origins else {
            return Ok(());
        };
        let mut sent = headers.get_all(ORIGIN).iter();
        let Some(origin) = sent.next() else {
            return Ok(());
        };
        if sent.next().is_some() {
            return Err(AuthError::Origin("several Origin headers".into()));
        }
        let origin = String::from_utf8_lossy(origin.as_bytes());
        if allowed.contains("*") || allowed.contains(&normalize(&origin)) {
            Ok(())
        } else {
            Err(AuthError::Origin(origin.chars().take(200).collect()))
        }
    }
}

/// Origins compare case-insensitively and without a trailing slash.
fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
