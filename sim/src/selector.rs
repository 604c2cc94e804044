//! Label selectors as the API server parses them from `?labelSelector=`: comma-separated
//! requirements, all of which must hold. Supported: `a=b`, `a==b`, `a!=b`, `a` (exists), `!a`
//! (does not exist), `a in (x,y)` and `a notin (x,y)`. Anything else is a `BadRequest`.
//!
//! As on a real server, `a!=b` and `a notin (…)` also match objects without the label.

use serde_json::Value;

use crate::error::{Error, Result};

/// One requirement on one label key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector(pub Vec<Requirement>);

fn bad(raw: &str) -> Error {
    Error::BadParameter {
        param: "labelSelector",
        value: raw.to_owned(),
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Splits on commas that are not inside a `( … )` value set.
fn split_top_level(raw: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in raw.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&raw[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&raw[start..]);
    parts
}

fn parse_set(raw: &str, rest: &str) -> Result<Vec<String>> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad(raw))?;
    let values: Vec<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
    if values.iter().all(|v| !v.is_empty() && valid_value(v)) {
        Ok(values)
    } else {
        Err(bad(raw))
    }
}

fn parse_requirement(raw: &str, part: &str) -> Result<Requirement> {
    let part = part.trim();
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        return valid_key(key)
            .then(|| Requirement::NotExists(key.to_owned()))
            .ok_or_else(|| bad(raw));
    }
    for (op, build) in [
        (
            "!=",
            Requirement::NotEquals as fn(String, String) -> Requirement,
        ),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ] {
        if let Some((key, value)) = part.split_once(op) {
            let (key, value) = (key.trim(), value.trim());
            if !valid_key(key) || !valid_value(value) {
                return Err(bad(raw));
            }
            return Ok(build(key.to_owned(), value.to_owned()));
        }
    }
    if let Some((key, rest)) = part.split_once(' ') {
        let rest = rest.trim_start();
        if !valid_key(key) {
            return Err(bad(raw));
        }
        if let Some(set) = rest.strip_prefix("notin") {
            return Ok(Requirement::NotIn(key.to_owned(), parse_set(raw, set)?));
        }
        if let Some(set) = rest.strip_prefix("in") {
            return Ok(Requirement::In(key.to_owned(), parse_set(raw, set)?));
        }
        return Err(bad(raw));
    }
    valid_key(part)
        .then(|| Requirement::Exists(part.to_owned()))
        .ok_or_else(|| bad(raw))
}

impl Selector {
    /// Parses a `labelSelector` value; empty or blank means "everything".
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.trim().is_empty() {
            return Ok(Self::default());
        }
        split_top_level(raw)
            .into_iter()
            .map(|part| parse_requirement(raw, part))
            .collect::<Result<Vec<_>>>()
            .map(Self)
    }

    /// Whether the selector selects nothing in particular (matches every object).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        let get = |key: &str| labels.get(key).and_then(Value::as_str);
        self.0.iter().all(|req| match req {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::In(k, vs) => get(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|l| vs.iter().all(|v| v != l)),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(labels: Value) -> Value {
        json!({ "metadata": { "labels": labels } })
    }

    #[test]
    fn selectors_match_like_the_api_server() {
        let web = obj(json!({"app": "web", "tier": "front"}));
        let db = obj(json!({"app": "db"}));
        let bare = json!({"metadata": {}});
        let table: &[(&str, [bool; 3])] = &[
            ("", [true, true, true]),
            ("app=web", [true, false, false]),
            ("app==web", [true, false, false]),
            ("app!=web", [false, true, true]),
            ("tier", [true, false, false]),
            ("!tier", [false, true, true]),
            ("app in (web, db)", [true, true, false]),
            ("app notin (web)", [false, true, true]),
            ("app=web,tier=front", [true, false, false]),
            ("app in (db,web),!tier", [false, true, false]),
            ("kubernetes.io/service-name", [false, false, false]),
        ];
        for (raw, expected) in table {
            let sel = Selector::parse(raw).expect(raw);
            let got = [sel.matches(&web), sel.matches(&db), sel.matches(&bare)];
            assert_eq!(&got, expected, "selector {raw:?}");
        }
    }

    #[test]
    fn set_based_selectors_parse_into_requirements() {
        let sel = Selector::parse("a in (x,y), b notin (z) ,c").expect("parses");
        assert_eq!(
            sel.0,
            vec![
                Requirement::In("a".into(), vec!["x".into(), "y".into()]),
                Requirement::NotIn("b".into(), vec!["z".into()]),
                Requirement::Exists("c".into()),
            ]
        );
    }

    #[test]
    fn unsupported_syntax_is_a_bad_request() {
        for raw in [
            "a>1", "a in x", "a in (x", "=b", "a=b=c", "a exists", "a in ()", "a=(b)",
        ] {
            let err = Selector::parse(raw).expect_err(raw);
            assert_eq!(err.reason(), "BadRequest", "{raw}");
        }
    }
}
