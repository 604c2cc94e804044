//! Hostile input for the client-message parser ([`ClientFrame::parse`]) and the `subscribe`
//! filter built from it: arbitrary bytes, arbitrary JSON, and well-formed messages with hostile
//! field values. Properties: no panic; an error is a short message (never the input echoed at
//! length); a valid message round-trips. Cases: proptest's default (256 per property), raised
//! with `PROPTEST_CASES=<n>`.

use super::{ClientFrame, Filter};
use proptest::prelude::*;
use serde_json::{Value, json};

/// What every refusal must look like: something to show a client, bounded in size.
fn assert_clear(message: &str) {
    assert!(!message.is_empty(), "an error says what is wrong");
    assert!(message.chars().count() <= 200, "bounded: {message}");
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::from),
        prop_oneof![
            Just("ping"),
            Just("subscribe"),
            Just("get_snapshot"),
            Just("auth"),
            Just("type")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_string()),
                    Just("ns".to_string()),
                    Just("kinds".to_string()),
                    Just("token".to_string()),
                    ".{0,8}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Hostile list items: any unicode, control characters, long runs, look-alikes of valid names.
fn hostile_item() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9.-]{0,20}",
        ".{0,30}",
        "\\PC{0,10}",
        (0usize..600).prop_map(|n| "a".repeat(n)),
        Just("*".to_string()),
        Just("shop\u{0}".to_string()),
        Just("ѕhop".to_string()),
    ]
}

fn list() -> impl Strategy<Value = Option<Vec<String>>> {
    proptest::option::of(prop_oneof![
        prop::collection::vec(hostile_item(), 0..8),
        (250usize..400).prop_map(|n| (0..n).map(|i| format!("ns{i}")).collect()),
    ])
}

fn valid_frame() -> impl Strategy<Value = ClientFrame> {
    prop_oneof![
        Just(ClientFrame::Ping),
        Just(ClientFrame::GetSnapshot),
        (list(), list()).prop_map(|(ns, kinds)| ClientFrame::Subscribe { ns, kinds }),
        ".{0,64}".prop_map(|token| ClientFrame::Auth { token }),
    ]
}

fn to_json(frame: &ClientFrame) -> Value {
    match frame {
        ClientFrame::Ping => json!({"type": "ping"}),
        ClientFrame::GetSnapshot => json!({"type": "get_snapshot"}),
        ClientFrame::Subscribe { ns, kinds } => {
            json!({"type": "subscribe", "ns": ns, "kinds": kinds})
        }
        ClientFrame::Auth { token } => json!({"type": "auth", "token": token}),
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_parse_or_get_a_clear_error(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(message) = ClientFrame::parse(&String::from_utf8_lossy(&bytes)) {
            assert_clear(&message);
        }
    }

    #[test]
    fn arbitrary_json_is_a_known_message_or_a_clear_error(value in arbitrary_json()) {
        match ClientFrame::parse(&value.to_string()) {
            Ok(frame) => prop_assert_eq!(to_json(&frame)["type"].clone(), value["type"].clone()),
            Err(message) => assert_clear(&message),
        }
    }

    #[test]
    fn a_valid_message_round_trips_and_its_filter_is_valid_or_refused_by_name(frame in valid_frame()) {
        let parsed = ClientFrame::parse(&to_json(&frame).to_string());
        prop_assert_eq!(parsed.as_ref(), Ok(&frame));
        if let ClientFrame::Subscribe { ns, kinds } = frame {
            match Filter::from_vecs(ns, kinds) {
                Ok(filter) => {
                    for set in [&filter.namespaces, &filter.kinds].into_iter().flatten() {
                        prop_assert!(!set.is_empty() && set.len() <= 256);
                        prop_assert!(set.iter().all(|s| s.len() <= 253
                            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))));
                    }
                }
                Err(message) => {
                    assert_clear(&message);
                    prop_assert!(message.starts_with("ns:") || message.starts_with("kinds:"), "{}", message);
                }
            }
        }
    }
}

#[test]
fn hostile_values_in_well_formed_messages_are_refused() {
    let deep = format!(
        r#"{{"type":"subscribe","ns":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    for text in [
        deep.as_str(),
        r#"{"type":"subscribe","ns":[1e400]}"#,
        r#"{"type":"subscribe","ns":[18446744073709551616]}"#,
        r#"{"type":"subscribe","ns":"shop"}"#,
        r#"{"type":"subscribe","ns":[null]}"#,
        r#"{"type":"ping","type":"ping"}"#,
        r#"{"type":"auth"}"#,
        r#"{"type":"auth","token":7}"#,
        r#"{"type":"PING"}"#,
        r#"{"type":"ping"} trailing"#,
        r#"["ping"]"#,
        r#"["subscribe",["shop"],null]"#,
        "\u{feff}{\"type\":\"ping\"}",
        "",
    ] {
        let message = ClientFrame::parse(text).expect_err(&text[..text.len().min(60)]);
        assert_clear(&message);
    }
}

#[test]
fn a_huge_subscribe_list_is_refused_by_the_filter_not_truncated() {
    let names: Vec<String> = (0..100_000).map(|i| format!("ns{i}")).collect();
    let text = json!({"type": "subscribe", "ns": names}).to_string();
    let Ok(ClientFrame::Subscribe { ns, kinds }) = ClientFrame::parse(&text) else {
        panic!("a long list is still a well-formed message");
    };
    assert_eq!(
        Filter::from_vecs(ns, kinds),
        Err("ns: at most 256 items".to_string())
    );
}
