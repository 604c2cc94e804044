//! One batch on its way to the log. A [`Flight`] owns everything its append needs (a log handle,
//! the deltas, the seqs they get), so the driver can run it as its own task and keep applying
//! watch input while it is in the air: encoding and the Redis round trip then overlap with the
//! index work, on the second core.
//!
//! At most one flight is in the air at a time (its seqs follow the head the previous one left),
//! and nothing it carries is committed to the index until it has [`Landed`].

use crate::index::{Delta, Obj};
use crate::lease::{Pause, checkpoint};
use kubecast_shared::log::{AppendBatch, AppendEntry, EventLog, Fence, LogError, SnapshotChange};
use kubecast_shared::{Epoch, Op, Seq};
use std::time::Duration;

/// A batch ready to append: `deltas` get seqs `expected_head+1 …`.
pub struct Flight<L> {
    pub(super) log: L,
    pub(super) fence: Fence,
    pub(super) epoch: Epoch,
    pub(super) expected_head: Seq,
    pub(super) deltas: Vec<Delta>,
    pub(super) pause: Option<Pause>,
}

/// What came back from the log for one flight.
pub struct Landed {
    pub(super) deltas: Vec<Delta>,
    pub(super) expected_head: Seq,
    pub(super) outcome: Result<Seq, LogError>,
    pub(super) took: Duration,
}

impl Landed {
    /// Whether the log did not accept the batch (or its outcome is unknown).
    pub fn failed(&self) -> bool {
        self.outcome.is_err()
    }
}

impl<L: EventLog> Flight<L> {
    /// Encodes the batch and appends it (after the test pause hook, if any).
    pub async fn fly(self) -> Landed {
        let batch = self.batch();
        checkpoint(self.pause.as_ref()).await;
        let started = std::time::Instant::now();
        let outcome = self.log.append(&batch).await;
        Landed {
            deltas: self.deltas,
            expected_head: self.expected_head,
            outcome,
            took: started.elapsed(),
        }
    }

    fn batch(&self) -> AppendBatch {
        let entries = self
            .deltas
            .iter()
            .zip(1..)
            .map(|(d, i)| self.entry(Seq(self.expected_head.0 + i), d))
            .collect();
        AppendBatch {
            fence: self.fence,
            epoch: self.epoch.clone(),
            expected_head: self.expected_head,
            entries,
        }
    }

    fn entry(&self, seq: Seq, d: &Delta) -> AppendEntry {
        let event = EventRef {
            seq,
            epoch: &self.epoch,
            ts: d.ts,
            op: d.op,
            kind: d.kind(),
            ns: d.ns(),
            name: d.name(),
            uid: d.uid(),
            obj: &d.obj,
        };
        let snapshot = match d.op {
            Op::Deleted => SnapshotChange::Delete(d.key.clone()),
            Op::Churn => SnapshotChange::None,
            _ => SnapshotChange::Put(d.key.clone()),
        };
        AppendEntry {
            seq,
            raw: event.encode().into(),
            ns: d.ns().to_string(),
            kind: d.kind().to_string(),
            snapshot,
        }
    }
}

/// An [`Event`](kubecast_shared::Event) borrowing its fields, with `obj` already encoded:
/// encodes to the same bytes as `Event::encode` without building the `Value`.
#[derive(serde::Serialize)]
struct EventRef<'a> {
    seq: Seq,
    epoch: &'a Epoch,
    ts: u64,
    op: Op,
    kind: &'a str,
    ns: &'a str,
    name: &'a str,
    uid: &'a str,
    obj: &'a Obj,
}

impl EventRef<'_> {
    fn encode(&self) -> Vec<u8> {
        // Serializing strings, numbers and valid JSON cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubecast_shared::Event;

    #[test]
    fn borrowed_events_encode_exactly_like_events() {
        let obj =
            serde_json::json!({"phase": "Running", "labels": {"b": "1", "a": "é\"x"}, "n": 1.5});
        let event = Event {
            seq: Seq(7),
            epoch: Epoch("e1".into()),
            ts: 42,
            op: Op::Updated,
            kind: "Pod".into(),
            ns: "shop".into(),
            name: "web-1".into(),
            uid: "u-1".into(),
            obj: Some(obj.clone()),
        };
        let encoded = crate::index::Obj::encode(&obj);
        let borrowed = EventRef {
            seq: Seq(7),
            epoch: &event.epoch,
            ts: 42,
            op: Op::Updated,
            kind: "Pod",
            ns: "shop",
            name: "web-1",
            uid: "u-1",
            obj: &encoded,
        };
        assert_eq!(borrowed.encode(), event.encode().to_vec());
    }
}
