//! Query-string parsing for `/events`, `/snapshot` and `/ws`. Every value arrives as a string and
//! is validated here, so malformed input becomes a 400 with a JSON body, never a 500.

use crate::error::ApiError;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use kubecast_shared::{Epoch, Filter, Seq};
use serde::Deserialize;
use std::time::Duration;

pub const DEFAULT_LIMIT: usize = 500;
pub const MAX_LIMIT: usize = 5000;
pub const MAX_WAIT: Duration = Duration::from_secs(30);
const MAX_EPOCH_LEN: usize = 128;

/// The raw query (unknown parameters are ignored).
#[derive(Debug, Default, Deserialize)]
pub struct RawQuery {
    token: Option<String>,
    since: Option<String>,
    epoch: Option<String>,
    ns: Option<String>,
    kinds: Option<String>,
    limit: Option<String>,
    wait: Option<String>,
}

/// A validated query.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub since: Option<Seq>,
    pub epoch: Option<Epoch>,
    pub filter: Filter,
    pub limit: usize,
    pub wait: Duration,
    /// `?token=`: a bearer token (see [`crate::auth::bearer_token`]).
    pub token: Option<String>,
}

impl Params {
    /// Validates the extracted query (or its rejection).
    pub fn parse(raw: Result<Query<RawQuery>, QueryRejection>) -> Result<Self, ApiError> {
        let Query(raw) = raw.map_err(|e| bad(format!("malformed query: {}", e.body_text())))?;
        let since = raw
            .since
            .as_deref()
            .map(|s| s.parse::<Seq>().map_err(|e| bad(format!("since: {e}"))))
            .transpose()?;
        let epoch = match raw.epoch {
            Some(e) if e.len() > MAX_EPOCH_LEN => return Err(bad("epoch: too long".into())),
            Some(e) if e.is_empty() => None,
            other => other.map(Epoch),
        };
        let filter = Filter::from_lists(raw.ns.as_deref(), raw.kinds.as_deref()).map_err(bad)?;
        let limit = match raw.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(s) => match positive(s) {
                Some(n) => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
                None => {
                    return Err(bad(format!(
                        "limit: must be a positive integer (got {})",
                        shown(s)
                    )));
                }
            },
        };
        let wait = match raw.wait.as_deref() {
            None => Duration::ZERO,
            Some(s) => match non_negative(s) {
                Some(n) => Duration::from_secs(n).min(MAX_WAIT),
                None => {
                    return Err(bad(format!(
                        "wait: must be whole seconds (got {})",
                        shown(s)
                    )));
                }
            },
        };
        Ok(Self {
            since,
            epoch,
            filter,
            limit,
            wait,
            token: raw.token,
        })
    }
}

fn bad(message: String) -> ApiError {
    ApiError::BadRequest(message)
}

fn non_negative(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn positive(s: &str) -> Option<u64> {
    non_negative(s).filter(|n| *n > 0)
}

fn shown(s: &str) -> String {
    format!("{:?}", s.chars().take(32).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Uri;

    fn parse(q: &str) -> Result<Params, ApiError> {
        let uri: Uri = format!("http://x/events?{q}").parse().expect("uri");
        Params::parse(Query::try_from_uri(&uri))
    }

    #[test]
    fn defaults_apply_when_parameters_are_absent() {
        let p = parse("").expect("valid");
        assert_eq!(
            (p.since, p.epoch, p.limit, p.wait),
            (None, None, DEFAULT_LIMIT, Duration::ZERO)
        );
        assert!(p.filter.is_all());
    }

    #[test]
    fn limits_and_waits_are_capped() {
        let p = parse("since=5&epoch=e1&limit=999999&wait=3600&ns=a,b").expect("valid");
        assert_eq!(p.since, Some(Seq(5)));
        assert_eq!(p.limit, MAX_LIMIT);
        assert_eq!(p.wait, MAX_WAIT);
    }

    #[test]
    fn malformed_values_are_refused() {
        for q in [
            "since=-1",
            "since=abc",
            "since=",
            "limit=0",
            "limit=-3",
            "wait=1.5",
            "wait=x",
            "ns=a%20b",
            "since=1&since=2",
            "limit=99999999999999999999999",
        ] {
            assert!(
                matches!(parse(q), Err(ApiError::BadRequest(_))),
                "{q} should be refused"
            );
        }
    }
}
