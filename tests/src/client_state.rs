//! A client-side model of the log, as DESIGN §5 describes the browser client: it keeps
//! `(epoch, last_seq)` and an object map, and counts every broken promise it observes.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How many recent seqs a client remembers to tell duplicates from late events (bounded, so a
/// soak of hours does not grow the test's memory).
pub const REMEMBERED: usize = 100_000;

/// What a client holds and what it has seen go wrong.
#[derive(Clone, Debug, Default)]
pub struct ClientState {
    pub epoch: Option<String>,
    pub last_seq: u64,
    /// `Kind/ns/name` → projection (`obj`).
    pub objects: BTreeMap<String, Value>,
    /// Events applied (after snapshots).
    pub applied: u64,
    /// Events whose seq this client had already applied in this epoch.
    pub duplicates: u64,
    /// Events whose seq was below the last one but never applied (they came out of order).
    pub misordered: u64,
    /// Events that did not directly follow the previous one (only counted when `contiguous`).
    pub gaps: u64,
    /// Seqs skipped by those gaps (events lost, unless a reset followed).
    pub lost: u64,
    pub snapshots: u64,
    pub resets: u64,
    /// Applied seqs, in order (the newest [`REMEMBERED`] of them).
    pub seqs: Vec<u64>,
    /// Seqs applied in the current epoch (tells a duplicate from a late event).
    epoch_seqs: BTreeSet<u64>,
    /// Hybrid clients: events applied from a poll that the socket has not brought yet.
    polled_ahead: BTreeSet<u64>,
    /// Hybrid clients: events applied first from a poll.
    pub via_poll: u64,
    /// Hybrid clients: copies of an event the other source had already applied (not applied
    /// again, and no broken promise).
    pub merged: u64,
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
        if self.epoch.as_deref() != Some(epoch) {
            self.epoch_seqs.clear();
            self.polled_ahead.clear();
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
            // an event from another epoch without a reset is a broken promise
            self.gaps += 1;
            self.lost += 1;
            return;
        }
        if seq <= self.last_seq {
            if self.polled_ahead.remove(&seq) {
                self.merged += 1;
            } else if self.epoch_seqs.contains(&seq) {
                self.duplicates += 1;
            } else {
                self.misordered += 1;
            }
            return;
        }
        if self.contiguous && seq != self.last_seq + 1 {
            self.gaps += 1;
            self.lost += seq - self.last_seq - 1;
        }
        self.last_seq = seq;
        self.applied += 1;
        self.seqs.push(seq);
        self.epoch_seqs.insert(seq);
        self.forget_old_seqs();
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

    /// Applies an event from a hybrid client's poll: a seq it already holds is a copy (merged),
    /// a seq that continues it is applied (the socket's copy will be merged), anything else is
    /// counted like a socket event.
    pub fn apply_polled(&mut self, event: &Value) {
        let seq = event["seq"].as_u64().unwrap_or(0);
        let same_epoch = self.epoch.as_deref() == event["epoch"].as_str();
        if same_epoch && seq <= self.last_seq && self.epoch_seqs.contains(&seq) {
            self.merged += 1;
            return;
        }
        let applied = self.applied;
        self.apply_event(event);
        if self.applied > applied {
            self.via_poll += 1;
            self.polled_ahead.insert(seq);
        }
    }

    fn forget_old_seqs(&mut self) {
        if self.seqs.len() > 2 * REMEMBERED {
            self.seqs.drain(..REMEMBERED);
        }
        while self.epoch_seqs.len() > REMEMBERED {
            self.epoch_seqs.pop_first();
        }
        while self.polled_ahead.len() > REMEMBERED {
            self.polled_ahead.pop_first();
        }
    }

    /// Whether the objects of `kinds` are exactly `expected` (compared in place).
    pub fn holds_exactly(&self, expected: &BTreeMap<String, Value>, kinds: &[String]) -> bool {
        let of_kinds = |key: &String| {
            kinds.iter().any(|kind| {
                key.strip_prefix(kind.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            })
        };
        let mut held = 0;
        for (key, value) in self.objects.iter().filter(|(k, _)| of_kinds(k)) {
            if expected.get(key) != Some(value) {
                return false;
            }
            held += 1;
        }
        held == expected.len()
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

    /// Applies one server frame (`snapshot`, `events`, `reset`, `position`; others are ignored).
    pub fn apply_frame(&mut self, frame: &Value) {
        match frame["type"].as_str() {
            Some("snapshot") => {
                let objects = frame["objects"].as_array().cloned().unwrap_or_default();
                let first = frame["part"].as_u64().unwrap_or(0) == 0;
                let epoch = frame["epoch"].as_str().unwrap_or_default();
                let seq = frame["seq"].as_u64().unwrap_or(0);
                self.apply_snapshot(epoch, seq, &objects, first);
            }
            Some("events") => {
                for event in frame["events"].as_array().into_iter().flatten() {
                    self.apply_event(event);
                }
            }
            Some("reset") => self.resets += 1,
            Some("position") => {
                let seq = frame["seq"].as_u64().unwrap_or(0);
                if frame["epoch"].as_str() == self.epoch.as_deref() && seq > self.last_seq {
                    self.last_seq = seq;
                }
            }
            _ => {}
        }
    }
}
