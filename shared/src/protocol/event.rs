//! Events: the log entries, exactly as clients receive them (DESIGN §2).
//!
//! The producer builds an [`Event`] and encodes it once. Readers get [`StoredEvent`]s: the encoded
//! bytes plus the few header fields needed to route them, so fanout never re-encodes an event.

use super::{Epoch, Seq};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// What happened to the object (or, for `summary`/`churn`, what kind of aggregate this is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Added,
    Updated,
    Deleted,
    /// Per-namespace/per-workload pod counts.
    Summary,
    /// High-churn warning.
    Churn,
}

impl Op {
    /// Whether the event leaves its object in the snapshot (`deleted` and `churn` do not).
    pub fn keeps_object(self) -> bool {
        matches!(self, Op::Added | Op::Updated | Op::Summary)
    }
}

/// One event of the log, as encoded by the producer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log; contiguous per epoch.
    pub seq: Seq,
    /// Incarnation of the log this seq belongs to.
    pub epoch: Epoch,
    /// Milliseconds since the Unix epoch when the producer saw the change.
    pub ts: u64,
    pub op: Op,
    /// Kubernetes kind (`Pod`, `Deployment`, …) or `Summary`/`Churn` for aggregates.
    pub kind: String,
    /// Namespace; for a `Namespace` object its own name; empty for other cluster-scoped objects.
    pub ns: String,
    pub name: String,
    /// Kubernetes UID, empty for aggregates.
    #[serde(default)]
    pub uid: String,
    /// The compact projection (for `deleted`, the last known one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obj: Option<serde_json::Value>,
}

impl Event {
    /// The snapshot key of the object this event is about: `Kind/namespace/name`.
    pub fn key(&self) -> String {
        object_key(&self.kind, &self.ns, &self.name)
    }

    /// Encodes the event; the bytes are what every client receives.
    pub fn encode(&self) -> Bytes {
        // Serializing a struct of strings, numbers and a Value cannot fail.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// `Kind/namespace/name`, the key of an object in the snapshot hash.
pub fn object_key(kind: &str, ns: &str, name: &str) -> String {
    format!("{kind}/{ns}/{name}")
}

/// The header fields of an encoded event, parsed without touching `obj`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct EventHead {
    pub seq: Seq,
    pub epoch: Epoch,
    #[serde(default)]
    pub ts: u64,
    pub op: Op,
    pub kind: String,
    pub ns: String,
    pub name: String,
}

impl EventHead {
    pub fn parse(raw: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(raw)
    }

    pub fn key(&self) -> String {
        object_key(&self.kind, &self.ns, &self.name)
    }
}

/// An event as read back from the log: its encoded bytes and the header parsed from them.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub head: EventHead,
    /// The event JSON exactly as the producer encoded it.
    pub raw: Bytes,
}

impl StoredEvent {
    /// Parses the header of an encoded event.
    pub fn from_raw(raw: Bytes) -> Result<Self, serde_json::Error> {
        let head = EventHead::parse(&raw)?;
        Ok(Self { head, raw })
    }

    pub fn seq(&self) -> Seq {
        self.head.seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_event() -> Event {
        Event {
            seq: Seq(1042),
            epoch: Epoch("3f9c2a".into()),
            ts: 1_763_900_000_123,
            op: Op::Updated,
            kind: "Pod".into(),
            ns: "shop".into(),
            name: "web-7d9f-x2k4".into(),
            uid: "u-1".into(),
            obj: Some(serde_json::json!({"phase": "Running"})),
        }
    }

    #[test]
    fn events_encode_in_the_documented_shape() {
        let raw = pod_event().encode();
        let v: serde_json::Value = serde_json::from_slice(&raw).expect("json");
        assert_eq!(v["seq"], 1042);
        assert_eq!(v["epoch"], "3f9c2a");
        assert_eq!(v["op"], "updated");
        assert_eq!(v["obj"]["phase"], "Running");
    }

    #[test]
    fn stored_events_parse_their_header_from_the_bytes() {
        let ev = pod_event();
        let stored = StoredEvent::from_raw(ev.encode()).expect("parse");
        assert_eq!(stored.seq(), Seq(1042));
        assert_eq!(stored.head.key(), "Pod/shop/web-7d9f-x2k4");
        assert_eq!(stored.head.op, Op::Updated);
    }

    #[test]
    fn garbage_is_not_an_event() {
        assert!(StoredEvent::from_raw(Bytes::from_static(b"{\"seq\":1}")).is_err());
    }
}
