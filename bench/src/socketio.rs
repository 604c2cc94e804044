//! The Engine.IO v4 / Socket.IO v5 packets a WebSocket-only client exchanges with a Socket.IO
//! server on the default namespace: pure parsing and encoding, no I/O.
//!
//! On the websocket transport every Engine.IO packet is one text frame: a type digit and its
//! payload (`0{…}` open, `1` close, `2` ping, `3` pong, `4…` message, `6` noop). A message carries
//! one Socket.IO packet, again a type digit and its payload: `40{…}` connect, `41` disconnect,
//! `42[…]` event, `44{…}` connect error. A packet for another namespace starts with `/nsp,` after
//! the type; an event sent with an acknowledgement id has the id's digits before its `[`.
//!
//! With `connectionStateRecovery` on, the server appends the event's offset (for the Redis
//! streams adapter, the stream entry id, e.g. `"1712345678901-0"`) as the LAST argument of every
//! broadcast event: `42["event",{…},"1712345678901-0"]`. A client keeps the last offset and, when it
//! reconnects, sends it with the private session id (`pid`) it got in `40{"sid":…,"pid":…}`:
//! `40{"pid":"…","offset":"…"}`; the server then replays what the client missed.

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// The path a Socket.IO server answers WebSocket-only Engine.IO v4 clients on.
pub const WEBSOCKET_PATH: &str = "/socket.io/?EIO=4&transport=websocket";

/// A client's answer to an Engine.IO ping.
pub const PONG: &str = "3";

/// What went wrong with a server frame.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("empty frame")]
    Empty,
    #[error("unknown Engine.IO packet type {0:?}")]
    UnknownEngineType(char),
    #[error("unknown Socket.IO packet type {0:?}")]
    UnknownSocketType(char),
    #[error("packet for namespace {0:?}, not the default one")]
    OtherNamespace(String),
    #[error("binary packets are not supported")]
    Binary,
    #[error("bad payload: {0}")]
    BadPayload(String),
}

/// One server frame, with the data of an event parsed as `T`.
#[derive(Debug, PartialEq)]
pub enum Packet<'a, T> {
    /// Engine.IO `0{…}`: the session is open; answer with [`connect_packet`].
    Open(Handshake<'a>),
    /// Engine.IO `1`: the server closes the session.
    Close,
    /// Engine.IO `2`: answer with [`PONG`].
    Ping,
    /// Engine.IO `3` pong, `5` upgrade, `6` noop: nothing to do.
    Noop,
    /// Socket.IO `40{"sid":…,"pid":…}`: the namespace accepted the client.
    Connected(Connected<'a>),
    /// Socket.IO `41`: the server disconnected the client from the namespace.
    Disconnected,
    /// Socket.IO `44{"message":…}`: the namespace refused the client.
    ConnectError(Cow<'a, str>),
    /// Socket.IO `42["name", data, offset?]`.
    Event(Event<'a, T>),
    /// Socket.IO `43[…]`: an acknowledgement (this client requests none).
    Ack,
}

/// The Engine.IO open packet's fields a client uses.
#[derive(Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake<'a> {
    #[serde(borrow)]
    pub sid: Cow<'a, str>,
    /// Milliseconds between the server's pings.
    pub ping_interval: u64,
    /// Milliseconds the server waits for the pong.
    pub ping_timeout: u64,
}

/// The Socket.IO connect acknowledgement.
#[derive(Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Connected<'a> {
    #[serde(borrow)]
    pub sid: Cow<'a, str>,
    /// The private session id: present when connection state recovery is on.
    #[serde(default, borrow)]
    pub pid: Option<Cow<'a, str>>,
}

/// An event: its name, its first argument, and the recovery offset when the server sent one.
#[derive(Debug, PartialEq)]
pub struct Event<'a, T> {
    pub name: Cow<'a, str>,
    pub data: T,
    /// The last argument, when it is a string after the data: the recovery offset.
    pub offset: Option<Cow<'a, str>>,
}

/// What a reconnecting client sends to recover its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery<'a> {
    pub pid: &'a str,
    pub offset: &'a str,
}

/// The Socket.IO CONNECT to the default namespace: `40`, or `40{"pid":…,"offset":…}` to recover a
/// session.
pub fn connect_packet(recovery: Option<Recovery<'_>>) -> String {
    match recovery {
        None => "40".into(),
        // `Value`'s Display writes a JSON string, escaped.
        Some(r) => format!(
            r#"40{{"pid":{},"offset":{}}}"#,
            Value::from(r.pid),
            Value::from(r.offset)
        ),
    }
}

/// Whether a frame is an Engine.IO ping, without parsing anything else (for clients that only
/// hold their connection).
pub fn is_ping(text: &str) -> bool {
    text == "2"
}

/// Parses one server frame; an event's first argument is parsed as `T`.
pub fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> Result<Packet<'a, T>, PacketError> {
    let mut chars = text.chars();
    let kind = chars.next().ok_or(PacketError::Empty)?;
    let rest = chars.as_str();
    match kind {
        '0' => Ok(Packet::Open(json(rest)?)),
        '1' => Ok(Packet::Close),
        '2' => Ok(Packet::Ping),
        '3' | '5' | '6' => Ok(Packet::Noop),
        '4' => parse_socket(rest),
        other => Err(PacketError::UnknownEngineType(other)),
    }
}

fn parse_socket<'a, T: Deserialize<'a>>(text: &'a str) -> Result<Packet<'a, T>, PacketError> {
    let mut chars = text.chars();
    let kind = chars.next().ok_or(PacketError::Empty)?;
    let rest = default_namespace(chars.as_str())?;
    match kind {
        '0' => Ok(Packet::Connected(json(rest)?)),
        '1' => Ok(Packet::Disconnected),
        '2' => Ok(Packet::Event(event(skip_ack_id(rest))?)),
        '3' => Ok(Packet::Ack),
        '4' => Ok(Packet::ConnectError(connect_error(rest)?)),
        '5' | '6' => Err(PacketError::Binary),
        other => Err(PacketError::UnknownSocketType(other)),
    }
}

/// The payload after an optional `/,` (the default namespace written out); any other namespace
/// is an error, since this client joins only the default one.
fn default_namespace(rest: &str) -> Result<&str, PacketError> {
    if !rest.starts_with('/') {
        return Ok(rest);
    }
    let (nsp, payload) = rest.split_once(',').unwrap_or((rest, ""));
    if nsp == "/" {
        Ok(payload)
    } else {
        Err(PacketError::OtherNamespace(nsp.into()))
    }
}

fn skip_ack_id(rest: &str) -> &str {
    rest.trim_start_matches(|c: char| c.is_ascii_digit())
}

fn json<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, PacketError> {
    serde_json::from_str(text).map_err(|e| PacketError::BadPayload(e.to_string()))
}

/// `44{"message":"…"}` (Socket.IO v5); older servers sent the message as a bare string.
fn connect_error(text: &str) -> Result<Cow<'_, str>, PacketError> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Reason<'a> {
        Object {
            #[serde(borrow)]
            message: Cow<'a, str>,
        },
        Text(#[serde(borrow)] Cow<'a, str>),
    }
    Ok(match json(text)? {
        Reason::Object { message } | Reason::Text(message) => message,
    })
}

fn event<'a, T: Deserialize<'a>>(text: &'a str) -> Result<Event<'a, T>, PacketError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let ev = de
        .deserialize_seq(EventVisitor(PhantomData))
        .and_then(|ev| de.end().map(|()| ev))
        .map_err(|e| PacketError::BadPayload(e.to_string()))?;
    Ok(ev)
}

/// A string that borrows from the frame when it has no escapes.
#[derive(serde::Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Reads `["name", data]` or `["name", data, "offset"]` without collecting the array.
struct EventVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for EventVisitor<T> {
    type Value = Event<'de, T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event: [name, data] or [name, data, offset]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let Text(name) = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let data = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        let offset = seq.next_element::<Text<'de>>()?.map(|Text(o)| o);
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(4, &self));
        }
        Ok(Event { name, data, offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The part of the benchmark's event a test looks at.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Data {
        seq: u64,
    }

    fn parse_event(text: &str) -> Result<Event<'_, Data>, PacketError> {
        match parse::<Data>(text)? {
            Packet::Event(ev) => Ok(ev),
            other => panic!("expected an event, got {other:?}"),
        }
    }

    fn bad_payload<T: fmt::Debug>(r: Result<T, PacketError>) -> bool {
        matches!(r, Err(PacketError::BadPayload(_)))
    }

    #[test]
    fn open_packet_gives_the_session_and_the_ping_timing() {
        let frame = r#"0{"sid":"4tiHBc2XgsHIg_0gAAAA","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        let Ok(Packet::Open(h)) = parse::<Data>(frame) else {
            panic!("not an open packet");
        };
        assert_eq!(h.sid, "4tiHBc2XgsHIg_0gAAAA");
        assert_eq!((h.ping_interval, h.ping_timeout), (25_000, 20_000));
    }

    #[test]
    fn connect_ack_carries_the_private_session_id_when_recovery_is_on() {
        let with = parse::<Data>(r#"40{"sid":"Pzj_GqDB","pid":"fUaaQHO_"}"#);
        let Ok(Packet::Connected(c)) = with else {
            panic!("not a connect ack: {with:?}");
        };
        assert_eq!(
            (c.sid.as_ref(), c.pid.as_deref()),
            ("Pzj_GqDB", Some("fUaaQHO_"))
        );
        let without = parse::<Data>(r#"40{"sid":"Pzj_GqDB"}"#);
        assert!(matches!(
            without,
            Ok(Packet::Connected(Connected { pid: None, .. }))
        ));
    }

    #[test]
    fn broadcast_event_has_its_recovery_offset_as_the_last_argument() {
        let frame = r#"42["event",{"seq":1,"epoch":"abc","obj":{"pad":"xx","sent_us":17}},"1795502365211-0"]"#;
        let ev = parse_event(frame).expect("event");
        assert_eq!(ev.name, "event");
        assert_eq!(ev.data, Data { seq: 1 });
        assert_eq!(ev.offset.as_deref(), Some("1795502365211-0"));
    }

    #[test]
    fn event_without_recovery_has_no_offset() {
        let ev = parse_event(r#"42["event",{"seq":7}]"#).expect("event");
        assert_eq!((ev.data.seq, ev.offset), (7, None));
    }

    #[test]
    fn ack_id_and_explicit_default_namespace_are_skipped() {
        assert_eq!(
            parse_event(r#"4212["event",{"seq":3}]"#)
                .expect("ack id")
                .data
                .seq,
            3
        );
        let ev = parse_event(r#"42/,["event",{"seq":4},"1-0"]"#).expect("namespace /");
        assert_eq!((ev.data.seq, ev.offset.as_deref()), (4, Some("1-0")));
    }

    #[test]
    fn escaped_names_and_offsets_are_decoded() {
        let ev = parse_event(r#"42["ev\"ent",{"seq":1},"1-\u0030"]"#).expect("event");
        assert_eq!(
            (ev.name.as_ref(), ev.offset.as_deref()),
            ("ev\"ent", Some("1-0"))
        );
    }

    #[test]
    fn engine_io_control_packets_are_recognised() {
        assert_eq!(parse::<Data>("2"), Ok(Packet::Ping));
        assert_eq!(parse::<Data>("1"), Ok(Packet::Close));
        assert_eq!(parse::<Data>("6"), Ok(Packet::Noop));
        assert_eq!(parse::<Data>("41"), Ok(Packet::Disconnected));
        assert!(is_ping("2") && !is_ping("42[\"2\"]") && !is_ping("3"));
    }

    #[test]
    fn connect_error_gives_the_reason() {
        let refused = parse::<Data>(r#"44{"message":"Not authorized"}"#);
        assert_eq!(refused, Ok(Packet::ConnectError("Not authorized".into())));
        let v4 = parse::<Data>(r#"44"Invalid namespace""#);
        assert_eq!(v4, Ok(Packet::ConnectError("Invalid namespace".into())));
    }

    #[test]
    fn malformed_frames_are_errors_not_events() {
        assert_eq!(parse::<Data>(""), Err(PacketError::Empty));
        assert_eq!(parse::<Data>("4"), Err(PacketError::Empty));
        assert_eq!(parse::<Data>("9"), Err(PacketError::UnknownEngineType('9')));
        assert_eq!(
            parse::<Data>("47"),
            Err(PacketError::UnknownSocketType('7'))
        );
        assert_eq!(parse::<Data>("451-[\"e\"]"), Err(PacketError::Binary));
        assert!(bad_payload(parse::<Data>("0{not json")));
        assert!(bad_payload(parse::<Data>("40")));
        // No data; data of the wrong shape; an offset that is not a string; an extra argument;
        // cut short; trailing bytes; not an array.
        assert!(bad_payload(parse::<Data>(r#"42["event"]"#)));
        assert!(bad_payload(parse::<Data>(r#"42["event",{"sequence":1}]"#)));
        assert!(bad_payload(parse::<Data>(r#"42["event",{"seq":1},7]"#)));
        assert!(bad_payload(parse::<Data>(
            r#"42["event",{"seq":1},"1-0","x"]"#
        )));
        assert!(bad_payload(parse::<Data>(r#"42["event",{"seq":1}"#)));
        assert!(bad_payload(parse::<Data>(r#"42["event",{"seq":1}]x"#)));
        assert!(bad_payload(parse::<Data>(r#"42{"seq":1}"#)));
    }

    #[test]
    fn other_namespaces_are_refused() {
        assert_eq!(
            parse::<Data>(r#"42/admin,["event",{"seq":1}]"#),
            Err(PacketError::OtherNamespace("/admin".into()))
        );
    }

    #[test]
    fn connect_packet_asks_for_recovery_with_pid_and_offset() {
        assert_eq!(connect_packet(None), "40");
        let recovery = Recovery {
            pid: "fUaa\"QHO",
            offset: "1795502365211-0",
        };
        assert_eq!(
            connect_packet(Some(recovery)),
            r#"40{"pid":"fUaa\"QHO","offset":"1795502365211-0"}"#
        );
    }
}
