//! What a token lets its bearer see, and how a requested filter is narrowed to it.

use super::AuthError;
use kubecast_shared::Filter;
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest a live socket's token is honoured for (about 100 years): any later `exp` counts
/// as this.
pub const MAX_REMAINING: Duration = Duration::from_secs(100 * 365 * 86_400);

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

    /// How long until the token expires (`None`: never); zero once it has. Capped at
    /// [`MAX_REMAINING`], so a far-future `exp` cannot overflow a clock on the way to a timer.
    pub fn remaining(&self) -> Option<Duration> {
        let at = UNIX_EPOCH.checked_add(Duration::from_secs(self.expires_at?));
        let left = at.map_or(MAX_REMAINING, |at| {
            at.duration_since(SystemTime::now()).unwrap_or_default()
        });
        Some(left.min(MAX_REMAINING))
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
