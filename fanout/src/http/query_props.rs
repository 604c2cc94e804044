//! Hostile query strings for the parser shared by `/events`, `/snapshot` and the `/ws` upgrade
//! ([`Params::parse`]): repeated keys, percent-encoding (valid and not), overflowing integers,
//! empty values, long or odd epochs. Properties: no panic; a valid answer keeps every documented
//! bound; a refusal is a 400 naming the parameter; valid parameters round-trip through a query
//! string. Cases: proptest's default (256), raised with `PROPTEST_CASES=<n>`.

use super::query::{MAX_LIMIT, MAX_WAIT, Params};
use crate::error::ApiError;
use axum::extract::Query;
use axum::http::Uri;
use kubecast_shared::{Epoch, Filter, Seq};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::time::Duration;

const NAMES: [&str; 8] = [
    "since", "epoch", "ns", "kinds", "limit", "wait", "token", "x",
];

fn parse(query: &str) -> Option<Result<Params, ApiError>> {
    let uri: Uri = format!("http://x/events?{query}").parse().ok()?;
    Some(Params::parse(Query::try_from_uri(&uri)))
}

/// Percent-encodes every byte that is not unreserved (RFC 3986), so any string fits a URI.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,25}",
        Just(String::new()),
        Just(u64::MAX.to_string()),
        Just("18446744073709551616".to_string()),
        Just("-1".to_string()),
        Just("+1".to_string()),
        Just("1e3".to_string()),
        Just(" 7".to_string()),
        "[a-z0-9,._-]{0,30}",
        ".{0,20}".prop_map(|s| encode(&s)),
        Just("%".to_string()),
        Just("%zz".to_string()),
        Just("%FF%FE".to_string()),
        (100usize..300).prop_map(|n| "e".repeat(n)),
    ]
}

fn hostile_query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        prop::sample::select(&NAMES[..]).prop_map(String::from),
        Just("since%00".to_string()),
        Just("%73ince".to_string()),
        Just("".to_string()),
    ];
    prop::collection::vec((key, hostile_value(), any::<bool>()), 0..6).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v, bare)| if bare { k } else { format!("{k}={v}") })
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn assert_bounds(p: &Params) {
    assert!((1..=MAX_LIMIT).contains(&p.limit), "limit {}", p.limit);
    assert!(p.wait <= MAX_WAIT, "wait {:?}", p.wait);
    if let Some(epoch) = &p.epoch {
        assert!(
            !epoch.0.is_empty() && epoch.0.len() <= 128,
            "epoch {epoch:?}"
        );
    }
    for set in [&p.filter.namespaces, &p.filter.kinds]
        .into_iter()
        .flatten()
    {
        assert!(!set.is_empty() && set.len() <= 256);
        for item in set {
            assert!(item.len() <= 253);
            assert!(
                item.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)),
                "{item:?}"
            );
        }
    }
}

fn assert_refusal_names_its_cause(error: &ApiError) {
    let ApiError::BadRequest(message) = error else {
        panic!("a bad query is a 400, got {error:?}");
    };
    let named = [
        "since:",
        "epoch:",
        "ns:",
        "kinds:",
        "limit:",
        "wait:",
        "malformed query",
    ]
    .iter()
    .any(|cause| message.starts_with(cause));
    assert!(named, "{message}");
    assert!(message.len() <= 300, "{message}");
}

fn valid_params() -> impl Strategy<Value = Params> {
    let list = proptest::option::of(prop::collection::btree_set("[a-zA-Z0-9._-]{1,20}", 1..6));
    (
        proptest::option::of(any::<u64>()),
        proptest::option::of("[a-f0-9]{1,128}"),
        list.clone(),
        list,
        1..=MAX_LIMIT,
        0..=MAX_WAIT.as_secs(),
        proptest::option::of("[A-Za-z0-9._-]{1,60}"),
    )
        .prop_map(
            |(since, epoch, namespaces, kinds, limit, wait, token)| Params {
                since: since.map(Seq),
                epoch: epoch.map(Epoch),
                filter: Filter { namespaces, kinds },
                limit,
                wait: Duration::from_secs(wait),
                token,
            },
        )
}

fn to_query(p: &Params) -> String {
    let join = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(",");
    let mut pairs = vec![
        format!("limit={}", p.limit),
        format!("wait={}", p.wait.as_secs()),
    ];
    pairs.extend(p.since.map(|s| format!("since={s}")));
    pairs.extend(p.epoch.as_ref().map(|e| format!("epoch={}", encode(&e.0))));
    pairs.extend(
        p.filter
            .namespaces
            .as_ref()
            .map(|n| format!("ns={}", encode(&join(n)))),
    );
    pairs.extend(
        p.filter
            .kinds
            .as_ref()
            .map(|k| format!("kinds={}", encode(&join(k)))),
    );
    pairs.extend(p.token.as_ref().map(|t| format!("token={}", encode(t))));
    pairs.join("&")
}

proptest! {
    #[test]
    fn a_hostile_query_is_valid_within_bounds_or_a_400_naming_its_cause(query in hostile_query()) {
        if let Some(result) = parse(&query) {
            match result {
                Ok(params) => assert_bounds(&params),
                Err(error) => assert_refusal_names_its_cause(&error),
            }
        }
    }

    #[test]
    fn printable_garbage_never_panics(query in "[ -~]{0,80}") {
        if let Some(Err(error)) = parse(&query) {
            assert_refusal_names_its_cause(&error);
        }
    }

    #[test]
    fn valid_parameters_round_trip_through_a_query_string(params in valid_params()) {
        let query = to_query(&params);
        let parsed = parse(&query).expect("an encoded query is a valid URI");
        prop_assert_eq!(parsed.ok(), Some(params), "{}", query);
    }
}

#[test]
fn edge_values_get_their_documented_answers() {
    let ok = |q: &str| parse(q).expect("uri").expect(q);
    assert_eq!(
        ok(&format!("since={}", u64::MAX)).since,
        Some(Seq(u64::MAX))
    );
    assert_eq!(ok("limit=18446744073709551615").limit, MAX_LIMIT);
    assert_eq!(ok("wait=18446744073709551615").wait, MAX_WAIT);
    assert_eq!(
        ok("epoch=").epoch,
        None,
        "an empty epoch means the current one"
    );
    assert_eq!(
        ok("ns=,,,").filter,
        Filter::all(),
        "empty items are ignored"
    );
    assert_eq!(
        ok("%73ince=3").since,
        Some(Seq(3)),
        "keys are percent-decoded"
    );
    for refused in [
        "since=18446744073709551616",
        "since=%2B1",
        "since=1%00",
        "limit=",
        "wait=-0",
        "ns=shop&ns=web",
        "kinds=Pod%00",
        "since=%FF",
    ] {
        let error = parse(refused).expect("uri").expect_err(refused);
        assert_refusal_names_its_cause(&error);
    }
    let long_epoch = format!("epoch={}", "e".repeat(129));
    assert_refusal_names_its_cause(&parse(&long_epoch).expect("uri").expect_err("too long"));
}
