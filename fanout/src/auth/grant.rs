//! What a token lets its bearer see, and how a requested filter is narrowed to it.

use super::AuthError;
use kubecast_shared::Filter;
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The namespaces a client may see and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// `None`: every namespace (and cluster-scoped objects).
    namespaces: Option<BTreeSet<String>>,
    /// When the token expires (seconds since the Unix epoch), if it does.
    expires_at: Option<u64>,
}

impl Grant {
    /// Everything, forever (no authentication configured).
    pub fn everything() -> Self {
        Self {
            namespaces: None,
            expires_at: None,
        }
    }

    pub(super) fn new(namespaces: Option<BTreeSet<String>>, expires_at: Option<u64>) -> Self {
        Self {
            namespaces,
            expires_at,
        }
    }

    /// How long until the token expires (`None`: never); zero once it has.
    pub fn remaining(&self) -> Option<Duration> {
        let at = UNIX_EPOCH + Duration::from_secs(self.expires_at?);
        Some(at.duration_since(SystemTime::now()).unwrap_or_default())
    }

    /// The filter to serve for `requested`: refused when it names a namespace outside the grant,
    /// narrowed to the granted namespaces when it names none.
    pub fn restrict(&self, requested: &Filter) -> Result<Filter, AuthError> {
        let Some(granted) = &self.namespaces else {
            return Ok(requested.clone());
        };
        let namespaces = match &requested.namespaces {
            None => granted.clone(),
            Some(asked) => {
                let outside: Vec<&str> = asked
                    .iter()
                    .filter(|ns| !granted.contains(*ns))
                    .map(String::as_str)
                    .collect();
                if !outside.is_empty() {
                    return Err(AuthError::Forbidden(format!(
                        "the token does not grant namespace(s) {}",
                        outside.join(",")
                    )));
                }
                asked.clone()
            }
        };
        Ok(Filter {
            namespaces: Some(namespaces),
            kinds: requested.kinds.clone(),
        })
    }
}
