//! WebSocket frames (DESIGN §3). Server frames are assembled as text around the events' stored
//! bytes, so an event is never decoded and re-encoded on its way to a client.

use super::{Epoch, PROTOCOL_VERSION, Seq};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

/// Messages a client may send.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Ping,
    /// Replaces the filter; the server answers with a snapshot for it.
    Subscribe {
        #[serde(default)]
        ns: Option<Vec<String>>,
        #[serde(default)]
        kinds: Option<Vec<String>>,
    },
    GetSnapshot,
    /// Replaces the connection's token before it expires (same or another grant).
    Auth {
        token: String,
    },
}

impl ClientFrame {
    /// Parses one client message. Only a JSON object is a message: serde would also read an
    /// internally tagged enum from an array (`["ping"]`), a form no client is told about.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.trim_start().starts_with('{') {
            return Err("a message must be a JSON object with a \"type\"".into());
        }
        serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            msg.chars().take(200).collect()
        })
    }
}

/// `hello`: the first frame of every connection.
pub fn hello(epoch: &Epoch, seq: Seq, server: &str, heartbeat_ms: u64) -> String {
    json!({
        "type": "hello", "epoch": epoch, "seq": seq, "server": server,
        "heartbeat_ms": heartbeat_ms, "protocol": PROTOCOL_VERSION,
    })
    .to_string()
}

/// `position`: every matching event ≤ `seq` has been sent.
pub fn position(epoch: &Epoch, seq: Seq) -> String {
    json!({"type": "position", "epoch": epoch, "seq": seq}).to_string()
}

/// `reset`: the cursor cannot be resumed; a snapshot follows.
pub fn reset(epoch: &Epoch, seq: Seq, reason: &str) -> String {
    json!({"type": "reset", "epoch": epoch, "seq": seq, "reason": reason}).to_string()
}

pub fn pong() -> String {
    r#"{"type":"pong"}"#.to_string()
}

/// `error`: a bad client message; the connection stays up.
pub fn error(code: &str, message: &str) -> String {
    json!({"type": "error", "code": code, "message": message}).to_string()
}

/// `events`: stored events in seq order, joined without re-encoding.
pub fn events<'a>(epoch: &Epoch, raws: impl IntoIterator<Item = &'a Bytes>) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(r#"{"type":"events","epoch":"#);
    push_json_str(&mut out, epoch.as_str());
    out.push_str(r#","events":["#);
    push_joined(&mut out, raws);
    out.push_str("]}");
    out
}

/// `snapshot`: the filtered state at `seq`. `part` numbers the frames of a split snapshot from 0;
/// `last` marks the final one.
pub fn snapshot<'a>(
    epoch: &Epoch,
    seq: Seq,
    objects: impl IntoIterator<Item = &'a Bytes>,
    summaries: impl IntoIterator<Item = &'a Bytes>,
    part: usize,
    last: bool,
) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str(r#"{"type":"snapshot","epoch":"#);
    push_json_str(&mut out, epoch.as_str());
    out.push_str(&format!(
        r#","seq":{seq},"part":{part},"last":{last},"objects":["#
    ));
    push_joined(&mut out, objects);
    out.push_str(r#"],"summaries":["#);
    push_joined(&mut out, summaries);
    out.push_str("]}");
    out
}

fn push_json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::Value::from(s).to_string());
}

fn push_joined<'a>(out: &mut String, raws: impl IntoIterator<Item = &'a Bytes>) {
    for (i, raw) in raws.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Stored events are UTF-8 JSON written by our own producer, checked here on the fast
        // path; the lossy conversion only guards against a corrupted entry producing invalid
        // UTF-8 in a text frame (it is several times slower on valid input).
        match std::str::from_utf8(raw) {
            Ok(text) => out.push_str(text),
            Err(_) => out.push_str(&String::from_utf8_lossy(raw)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn events_frame_embeds_stored_bytes_verbatim() {
        let a = Bytes::from_static(br#"{"seq":1,"x":"a"}"#);
        let b = Bytes::from_static(br#"{"seq":2,"x":"b"}"#);
        let frame = events(&Epoch("e1".into()), [&a, &b]);
        let v: Value = serde_json::from_str(&frame).expect("valid json");
        assert_eq!(v["type"], "events");
        assert_eq!(v["events"][1]["seq"], 2);
    }

    #[test]
    fn a_corrupt_stored_event_cannot_make_a_frame_invalid_utf8() {
        let bad = Bytes::from_static(b"{\"seq\":1,\"x\":\"\xFF\xFE\"}");
        let frame = events(&Epoch("e1".into()), [&bad]);
        let v: Value = serde_json::from_str(&frame).expect("valid json");
        assert_eq!(v["events"][0]["x"], "\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn snapshot_frame_is_valid_json_when_empty() {
        let frame = snapshot(&Epoch("e\"1".into()), Seq(7), [], [], 0, true);
        let v: Value = serde_json::from_str(&frame).expect("valid json");
        assert_eq!(v["seq"], 7);
        assert_eq!(v["epoch"], "e\"1");
        assert_eq!(v["last"], true);
    }

    #[test]
    fn client_frames_parse_and_unknown_ones_are_refused() {
        assert_eq!(
            ClientFrame::parse(r#"{"type":"ping"}"#),
            Ok(ClientFrame::Ping)
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"subscribe","ns":["a"]}"#),
            Ok(ClientFrame::Subscribe {
                ns: Some(vec!["a".into()]),
                kinds: None
            })
        );
        assert!(ClientFrame::parse(r#"{"type":"launch"}"#).is_err());
        assert!(ClientFrame::parse("not json").is_err());
    }
}
