//! A client-side model of the log, as DESIGN §5 describes the browser client: it keeps
//! `(epoch, last_seq)` and an object map, and counts every broken promise it observes.

use serde_json::Value;
use std::collections::BTreeMap;

/// What a client holds and what it has seen go wrong.
#[derive(Clone, Debug, Default)]
pub struct ClientState {
    pub epoch: Option<String>,
    pub last_seq: u64,
    /// `Kind/ns/name` → projection (`obj`).
    pub objects: BTreeMap<String, Value>,
    /// Events applied (after snapshots).
    pub applied: u64,
    /// Events whose seq was ≤ the last one (duplicates or reordering).
    pub duplicates: u64,
    /// Events that did not directly follow the previous one (only counted when `contiguous`).
    pub gaps: u64,
    pub snapshots: u64,
    pub resets: u64,
    /// Every applied seq, in order.
    pub seqs: Vec<u64>,
    /// Unfiltered subscriptions must see every seq; filtered ones may skip.
    pub contiguous: bool,
}

fn key_of(event: &Value) -> String {
    let s = |f: &str| event[f].as_str().unwrap_or_default().to_string();
    format!("{}/{}/{}", s("kind"), s("ns"), s("name"))
}

impl ClientState {
    pub fn new(contiguous: bool) -> Self {
        Self {
            contiguous,
            ..Self::default()
        }
    }

    /// Replaces the state with a snapshot at `seq` (objects are stored events).
    pub fn apply_snapshot(&mut self, epoch: &str, seq: u64, objects: &[Value], first_part: bool) {
        if first_part {
            self.objects.clear();
            self.snapshots += 1;
        }
        self.epoch = Some(epoch.to_string());
        self.last_seq = seq;
        for o in objects {
            self.objects.insert(key_of(o), o["obj"].clone());
        }
    }

    /// Applies one event, counting duplicates and gaps.
    pub fn apply_event(&mut self, event: &Value) {
        let seq = event["seq"].as_u64().unwrap_or(0);
        if self.epoch.as_deref() != event["epoch"].as_str() {
            self.gaps += 1; // an event from another epoch without a reset is a broken promise
            return;
        }
        if seq <= self.last_seq {
            self.duplicates += 1;
            return;
        }
        if self.contiguous && seq != self.last_seq + 1 {
            self.gaps += 1;
        }
        self.last_seq = seq;
        self.applied += 1;
        self.seqs.push(seq);
        match event["op"].as_str() {
            Some("added" | "updated" | "summary") => {
                self.objects.insert(key_of(event), event["obj"].clone());
            }
            Some("deleted") => {
                self.objects.remove(&key_of(event));
            }
            _ => {}
        }
    }

    /// Objects of the given kinds only.
    pub fn objects_of(&self, kinds: &[impl AsRef<str>]) -> BTreeMap<String, Value> {
        self.objects
            .iter()
            .filter(|(k, _)| {
                kinds
                    .iter()
                    .any(|kind| k.starts_with(&format!("{}/", kind.as_ref())))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}
