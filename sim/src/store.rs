//! The object store: current objects per kind, one global resourceVersion counter, a bounded event
//! history per kind and a broadcast channel per kind for live watchers.
//!
//! Invariants: every write bumps the counter by one and stamps `metadata.resourceVersion` of the
//! written object (and its event) with the new value; per kind, every event with an RV greater than
//! `floor` is still in `history`, so a watch from any RV ≥ `floor` can be replayed without a gap.
//! Broadcasts happen while the caller holds the store's lock, so "replay history + subscribe" under
//! the same lock never misses or duplicates an event.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::kinds::{KINDS, KindSpec};

/// Capacity of each kind's live broadcast channel; a watcher that lags further is ended (it then
/// resumes from its last RV, served from history).
const BROADCAST_CAPACITY: usize = 4096;

/// Watch event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    /// The wire name (`ADDED`, `MODIFIED`, `DELETED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change of one object, as kept in history and sent to watchers.
#[derive(Debug)]
pub struct StoredEvent {
    pub rv: u64,
    pub ty: EventType,
    /// Namespace of the object ("" for cluster-scoped kinds other than Namespace).
    pub ns: String,
    pub object: Arc<Value>,
    /// The object before this change (`None` for ADDED); lets a selector watch tell an object
    /// leaving or entering its selection.
    pub prev: Option<Arc<Value>>,
    /// The event's wire line, serialized once by the first watcher that sends it as is.
    pub wire: OnceLock<Bytes>,
}

/// (namespace, name); Namespace objects use their own name as namespace.
type Key = (String, String);

struct KindState {
    spec: &'static KindSpec,
    objects: BTreeMap<Key, Arc<Value>>,
    history: VecDeque<Arc<StoredEvent>>,
    floor: u64,
    tx: broadcast::Sender<Arc<StoredEvent>>,
}

/// Where a new watch starts: the events to replay, then the live receiver.
pub struct WatchStart {
    pub replay: Vec<Arc<StoredEvent>>,
    pub rx: broadcast::Receiver<Arc<StoredEvent>>,
    /// RV the watch is positioned at (the requested one, or the current one for "now").
    pub rv: u64,
}

/// All kinds' objects, RV counter and history. Not thread-safe by itself; the cluster wraps it in a
/// mutex.
pub struct Store {
    rv: u64,
    history_cap: usize,
    kinds: HashMap<&'static str, KindState>,
}

impl Store {
    /// An empty store keeping at most `history_cap` events per kind.
    pub fn new(history_cap: usize) -> Self {
        let kinds = KINDS
            .iter()
            .map(|spec| {
                let state = KindState {
                    spec,
                    objects: BTreeMap::new(),
                    history: VecDeque::new(),
                    floor: 0,
                    tx: broadcast::channel(BROADCAST_CAPACITY).0,
                };
                (spec.kind, state)
            })
            .collect();
        Self {
            rv: 0,
            history_cap: history_cap.max(1),
            kinds,
        }
    }

    /// The current (latest) resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// Creates or replaces an object; returns `None` for an unknown kind or an object without a name.
    pub fn upsert(&mut self, kind: &str, mut obj: Value) -> Option<Arc<StoredEvent>> {
        let state = self.kinds.get_mut(kind)?;
        let key = object_key(state.spec, &obj)?;
        self.rv += 1;
        stamp(state.spec, &mut obj, self.rv);
        let obj = Arc::new(obj);
        let prev = state.objects.insert(key.clone(), Arc::clone(&obj));
        let ty = match prev {
            Some(_) => EventType::Modified,
            None => EventType::Added,
        };
        Some(Self::record(
            state,
            self.history_cap,
            self.rv,
            ty,
            key.0,
            (obj, prev),
        ))
    }

    /// Deletes an object; returns `None` if it did not exist.
    pub fn delete(&mut self, kind: &str, ns: &str, name: &str) -> Option<Arc<StoredEvent>> {
        let state = self.kinds.get_mut(kind)?;
        let key = (ns_of(state.spec, ns, name), name.to_owned());
        let old = state.objects.remove(&key)?;
        self.rv += 1;
        let mut obj = (*old).clone();
        stamp(state.spec, &mut obj, self.rv);
        Some(Self::record(
            state,
            self.history_cap,
            self.rv,
            EventType::Deleted,
            key.0,
            (Arc::new(obj), Some(old)),
        ))
    }

    fn record(
        state: &mut KindState,
        cap: usize,
        rv: u64,
        ty: EventType,
        ns: String,
        (object, prev): (Arc<Value>, Option<Arc<Value>>),
    ) -> Arc<StoredEvent> {
        let wire = OnceLock::new();
        let ev = Arc::new(StoredEvent {
            rv,
            ty,
            ns,
            object,
            prev,
            wire,
        });
        state.history.push_back(Arc::clone(&ev));
        while state.history.len() > cap {
            if let Some(dropped) = state.history.pop_front() {
                state.floor = dropped.rv;
            }
        }
        // No receivers is fine: nobody is watching this kind right now.
        let _ = state.tx.send(Arc::clone(&ev));
        ev
    }

    /// Current objects of a kind in (namespace, name) order, optionally in one namespace.
    pub fn items(&self, kind: &str, ns: Option<&str>) -> Vec<Arc<Value>> {
        let Some(state) = self.kinds.get(kind) else {
            return Vec::new();
        };
        state
            .objects
            .iter()
            .filter(|((obj_ns, _), _)| ns.is_none_or(|ns| ns == obj_ns))
            .map(|(_, v)| Arc::clone(v))
            .collect()
    }

    /// One object by namespace and name.
    pub fn get(&self, kind: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let state = self.kinds.get(kind)?;
        state
            .objects
            .get(&(ns_of(state.spec, ns, name), name.to_owned()))
            .cloned()
    }

    /// Every object of every kind as (kind, namespace, name, object).
    pub fn all(&self) -> Vec<(&'static str, String, String, Arc<Value>)> {
        KINDS
            .iter()
            .filter_map(|spec| self.kinds.get(spec.kind))
            .flat_map(|s| {
                s.objects
                    .iter()
                    .map(|((ns, name), v)| (s.spec.kind, ns.clone(), name.clone(), Arc::clone(v)))
            })
            .collect()
    }

    /// Starts a watch after `from` (`None` = now). Fails with 410 semantics if `from` is older than
    /// the retained history of this kind.
    pub fn watch(&self, kind: &str, ns: Option<&str>, from: Option<u64>) -> Result<WatchStart> {
        let state = self.kinds.get(kind).ok_or(Error::UnknownPath)?;
        let rx = state.tx.subscribe();
        let Some(from) = from else {
            return Ok(WatchStart {
                replay: Vec::new(),
                rx,
                rv: self.rv,
            });
        };
        if from < state.floor {
            return Err(Error::TooOldResourceVersion {
                requested: from,
                oldest: state.floor,
            });
        }
        let replay = state
            .history
            .iter()
            .filter(|ev| ev.rv > from && ns.is_none_or(|ns| ns == ev.ns))
            .cloned()
            .collect();
        Ok(WatchStart {
            replay,
            rx,
            rv: from,
        })
    }

    /// Drops all history: any watch from an RV before now gets 410 Expired.
    pub fn compact_history(&mut self) {
        for state in self.kinds.values_mut() {
            state.history.clear();
            state.floor = self.rv;
        }
    }
}

/// The namespace part of an object's key: Namespaces key under their own name, other cluster-scoped
/// kinds under "".
fn ns_of(spec: &KindSpec, ns: &str, name: &str) -> String {
    match (spec.kind, spec.namespaced) {
        ("Namespace", _) => name.to_owned(),
        (_, false) => String::new(),
        (_, true) => ns.to_owned(),
    }
}

fn object_key(spec: &KindSpec, obj: &Value) -> Option<Key> {
    let meta = obj.get("metadata")?;
    let name = meta.get("name")?.as_str()?;
    let ns = meta.get("namespace").and_then(Value::as_str).unwrap_or("");
    Some((ns_of(spec, ns, name), name.to_owned()))
}

/// Sets apiVersion, kind and metadata.resourceVersion.
fn stamp(spec: &KindSpec, obj: &mut Value, rv: u64) {
    if let Some(map) = obj.as_object_mut() {
        map.insert("apiVersion".into(), spec.api_version.into());
        map.insert("kind".into(), spec.kind.into());
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), rv.to_string().into());
        }
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
