//! The index: pure, synchronous state between the watchers and the publisher.
//!
//! It keeps the latest projection of every live object (from the watch) and the last *published*
//! one (what the log's snapshot holds), and turns the difference into deltas on flush:
//! - a key is only ever emitted when its rendered projection differs from the published one, so
//!   resourceVersion-only updates and status heartbeats produce nothing, and an object added and
//!   deleted between two flushes produces nothing;
//! - a relist (`Init` … `InitDone`) deletes the objects of that kind it did not list;
//! - pods' `owner` is resolved up the controller chain (Pod → ReplicaSet → Deployment) at render
//!   time; when an object's controller changes (or it appears/disappears) everything it controls
//!   is touched so the next flush re-renders it.
//!
//! - internal kinds (EndpointSlice, Endpoints) are never published; a service is rendered with
//!   the pods its endpoints list (`pods: {ready, notReady}`), and a change of its endpoints
//!   touches the service;
//! - minimum pod lifetime: a pod that was never published is held (its `added` not emitted) until
//!   it is `min_pod_lifetime` old (age from the earlier of its creationTimestamp and when the index
//!   first saw it); deleted before that, it is never published. Held keys are reported by
//!   [`Index::next_release_ms`] / [`Index::take_released`] so the driver flushes them again;
//! - aggregates: `Summary/…` keys ([`Index::set_summaries`]) are published like objects with op
//!   `summary` (and `deleted` when they go away); `Churn/…` keys ([`Index::push_churn`]) are
//!   one-shot `churn` events that never enter the published state.
//!
//! Memory: objects are kept encoded ([`Obj`], compact JSON; serde_json maps are sorted, so the
//! encoding is canonical and equal objects have equal bytes). An object's identity ([`Ident`],
//! kinds and namespaces interned) and its key are shared between the latest and published state,
//! and a committed delta shares its `obj` with the published state.
//!
//! `apply` returns the keys it touched (the driver debounces them); `flush` computes the deltas of
//! some keys; `commit` records deltas once the log accepted them. Uncommitted deltas change
//! nothing, so a failed append can simply be retried with a fresh `flush`.

#[cfg(test)]
mod prop;
mod render;
#[cfg(test)]
mod tests;

use crate::deadlines::Deadlines;
use crate::input::{Input, split_scope};
use crate::kinds::is_internal;
use crate::project::{OwnerRef, ProjectError, Projection, project_dynamic, project_value};
use kubecast_shared::Op;
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// What the log's snapshot holds for one object.
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    pub kind: String,
    pub ns: String,
    pub name: String,
    pub uid: String,
    pub obj: Value,
}

/// A projection object encoded as compact JSON (cheap to clone: the bytes are shared).
#[derive(Clone, PartialEq, Eq)]
pub struct Obj(Arc<[u8]>);

impl Obj {
    /// Encodes `value` (serde_json maps are sorted: equal values encode to equal bytes).
    pub fn encode(value: &Value) -> Self {
        // Serializing a Value cannot fail.
        Self::from_vec(serde_json::to_vec(value).unwrap_or_default())
    }

    fn from_vec(bytes: Vec<u8>) -> Self {
        Self(Arc::from(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The decoded object.
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for Obj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl serde::Serialize for Obj {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_slice::<&RawValue>(&self.0) {
            Ok(raw) => raw.serialize(s),
            Err(_) => self.value().serialize(s),
        }
    }
}

/// Who an object is: shared by its latest and published state and by its deltas.
#[derive(Debug, PartialEq, Eq)]
pub struct Ident {
    pub kind: Arc<str>,
    pub ns: Arc<str>,
    pub name: Box<str>,
    pub uid: Box<str>,
}

/// One change to publish.
#[derive(Clone, Debug, PartialEq)]
pub struct Delta {
    pub key: String,
    pub op: Op,
    pub id: Arc<Ident>,
    /// The new projection, or for `deleted` the last published one.
    pub obj: Obj,
    /// Milliseconds since the Unix epoch when the producer saw the change.
    pub ts: u64,
}

impl Delta {
    pub fn kind(&self) -> &str {
        &self.id.kind
    }

    pub fn ns(&self) -> &str {
        &self.id.ns
    }

    pub fn name(&self) -> &str {
        &self.id.name
    }

    pub fn uid(&self) -> &str {
        &self.id.uid
    }
}

/// The latest state of one live object.
struct Entry {
    id: Arc<Ident>,
    /// The controlling ownerReference (`controller: true`), if any.
    controller: Option<OwnerRef>,
    /// The projection (with `owner` = the direct controller).
    obj: Obj,
    seen_ms: u64,
    /// When the object came to life as far as the index can tell (min pod lifetime).
    born_ms: u64,
}

/// The published state of one object.
struct Pub {
    id: Arc<Ident>,
    obj: Obj,
}

impl Pub {
    /// Whether publishing `obj` as `id` would change nothing.
    fn same(&self, obj: &Obj, id: &Ident) -> bool {
        self.obj == *obj && self.id.uid == id.uid
    }
}

/// A pod appearing or disappearing (for churn rates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodLife {
    pub ns: String,
    /// The pod's top-level workload (`Kind/name`), if any.
    pub workload: Option<String>,
    pub at_ms: u64,
}

/// The interned-name set is first pruned at this size.
const MIN_PRUNE_NAMES_AT: usize = 1024;

/// The kind of summary events and of their keys.
pub const SUMMARY_KIND: &str = "Summary";
/// The kind of churn events and of their keys.
pub const CHURN_KIND: &str = "Churn";

/// Latest and published state of every object.
#[derive(Default)]
pub struct Index {
    latest: HashMap<Arc<str>, Entry>,
    published: HashMap<Arc<str>, Pub>,
    /// Interned kinds, namespaces and controller names (few distinct values, shared by every
    /// object); pruned of unused names when it reaches `prune_names_at`.
    names: HashSet<Arc<str>>,
    prune_names_at: usize,
    /// When each deleted key was seen gone (the `ts` of its `deleted` event).
    gone_ms: HashMap<String, u64>,
    /// Controller key → keys of the objects it controls.
    dependents: HashMap<String, BTreeSet<Arc<str>>>,
    /// Relist scope → keys listed so far by its running relist.
    relists: HashMap<String, HashSet<Arc<str>>>,
    /// Service key → keys of the endpoint objects naming it.
    endpoints: HashMap<String, BTreeSet<String>>,
    /// Pods younger than this (ms) are not published yet.
    min_pod_lifetime_ms: u64,
    /// Held (never published) pod key → when it may be published.
    held: Deadlines<String, u64>,
    /// Pods that appeared/disappeared since the last [`take_pod_lifecycle`](Self::take_pod_lifecycle).
    lifecycle: Vec<PodLife>,
    /// Current summaries by key.
    summaries: HashMap<String, Published>,
    /// Churn events not yet committed, by key.
    oneshots: BTreeMap<String, Delta>,
}

impl Index {
    pub fn new() -> Self {
        Self::default()
    }

    /// An index that holds new pods until they are `min_pod_lifetime_ms` old (0: never).
    pub fn with_min_pod_lifetime(min_pod_lifetime_ms: u64) -> Self {
        Self {
            min_pod_lifetime_ms,
            ..Self::default()
        }
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(found) = self.names.get(s) {
            return found.clone();
        }
        if self.names.len() >= self.prune_names_at {
            // Names nothing else holds any more (a replaced ReplicaSet, a deleted namespace).
            self.names.retain(|n| Arc::strong_count(n) > 1);
            self.prune_names_at = (2 * self.names.len()).max(MIN_PRUNE_NAMES_AT);
        }
        let interned: Arc<str> = Arc::from(s);
        self.names.insert(interned.clone());
        interned
    }

    /// `owner` with its kind and name interned (every pod of a ReplicaSet shares them).
    fn intern_owner(&mut self, owner: OwnerRef) -> OwnerRef {
        OwnerRef {
            kind: self.intern(&owner.kind),
            name: self.intern(&owner.name),
        }
    }

    fn ident(&mut self, kind: &str, ns: &str, name: &str, uid: &str) -> Arc<Ident> {
        Arc::new(Ident {
            kind: self.intern(kind),
            ns: self.intern(ns),
            name: name.into(),
            uid: uid.into(),
        })
    }

    /// Replaces the published state (start-up: what the stored snapshot holds).
    pub fn load_published(&mut self, objects: impl IntoIterator<Item = Published>) {
        self.published.clear();
        for p in objects {
            let key = kubecast_shared::protocol::object_key(&p.kind, &p.ns, &p.name);
            let id = self.ident(&p.kind, &p.ns, &p.name, &p.uid);
            let key = self.shared_key(&key);
            let obj = Obj::encode(&p.obj);
            self.published.insert(key, Pub { id, obj });
        }
    }

    /// The key as an `Arc<str>`, sharing the allocation of the live or published object's key.
    fn shared_key(&self, key: &str) -> Arc<str> {
        self.latest
            .get_key_value(key)
            .map(|(k, _)| k)
            .or_else(|| self.published.get_key_value(key).map(|(k, _)| k))
            .cloned()
            .unwrap_or_else(|| Arc::from(key))
    }

    /// Forgets the published state (a new epoch starts empty); every live object then flushes
    /// as `added`.
    pub fn reset_published(&mut self) {
        self.published.clear();
    }

    /// Applies one watch input seen at `now_ms`; returns the keys whose rendering may have changed.
    pub fn apply(&mut self, input: Input, now_ms: u64) -> Vec<String> {
        match input {
            Input::Init(scope) => {
                self.relists.insert(scope, HashSet::new());
                Vec::new()
            }
            Input::InitApply(p) => {
                let key = self.shared_key(&p.key());
                if !self.relists.is_empty() {
                    let scoped = crate::input::scope(&p.kind, Some(&p.ns));
                    for scope in [&p.kind, &scoped] {
                        if let Some(seen) = self.relists.get_mut(scope) {
                            seen.insert(key.clone());
                        }
                    }
                }
                self.upsert(key, p, now_ms, false)
            }
            Input::Apply(p) => {
                let key = self.shared_key(&p.key());
                self.upsert(key, p, now_ms, true)
            }
            Input::Delete(p) => self.remove(&p.key(), now_ms),
            Input::InitDone(scope) => self.finish_relist(&scope, now_ms),
        }
    }

    fn upsert(&mut self, key: Arc<str>, p: Projection, now_ms: u64, watched: bool) -> Vec<String> {
        let service = service_of(&p.kind, &p.ns, &p.obj);
        let (born_ms, id) = match self.latest.get(&*key) {
            Some(e) if *e.id.uid == *p.uid => (e.born_ms, e.id.clone()),
            Some(e) => (e.born_ms, self.ident(&p.kind, &p.ns, &p.name, &p.uid)),
            None => (
                p.created_ms.map_or(now_ms, |c| c.min(now_ms)),
                self.ident(&p.kind, &p.ns, &p.name, &p.uid),
            ),
        };
        let is_new_pod = p.kind == "Pod" && !self.latest.contains_key(&*key);
        let obj = Obj::encode(&p.obj);
        drop(p.obj);
        let controller = p.controller.map(|c| self.intern_owner(c));
        let prev = self.latest.insert(
            key.clone(),
            Entry {
                id,
                controller,
                obj,
                seen_ms: now_ms,
                born_ms,
            },
        );
        if !self.gone_ms.is_empty() {
            self.gone_ms.remove(&*key);
        }
        if is_new_pod && watched {
            self.record_life(&key, now_ms);
        }
        let prev_service = prev.as_ref().and_then(Entry::service);
        if service.is_some() || prev_service.is_some() {
            return self.relink_endpoints(&key, prev_service, service);
        }
        let owner = match self.latest.get(&*key) {
            Some(e)
                if prev
                    .as_ref()
                    .is_some_and(|prev| prev.controller == e.controller) =>
            {
                return vec![key.to_string()];
            }
            Some(e) => e
                .controller
                .as_ref()
                .map(|c| render::owner_key(&e.id.ns, c)),
            None => None,
        };
        let Some(prev) = prev else {
            return self.link(owner, key);
        };
        let prev_owner = prev
            .controller
            .as_ref()
            .map(|c| render::owner_key(&prev.id.ns, c));
        self.unlink(prev_owner.as_deref(), &key);
        self.link(owner, key)
    }

    /// Records that `owner` controls `key`; returns `key` and its dependents.
    fn link(&mut self, owner: Option<String>, key: Arc<str>) -> Vec<String> {
        if let Some(owner) = owner {
            self.dependents
                .entry(owner)
                .or_default()
                .insert(key.clone());
        }
        self.with_dependents(key.to_string())
    }

    fn remove(&mut self, key: &str, now_ms: u64) -> Vec<String> {
        self.gone_ms.insert(key.to_string(), now_ms);
        self.held.remove(key);
        if key.starts_with("Pod/") && self.latest.contains_key(key) {
            self.record_life(key, now_ms);
        }
        let Some(prev) = self.latest.remove(key) else {
            return vec![key.to_string()];
        };
        if let Some(service) = prev.service() {
            return self.relink_endpoints(key, Some(service), None);
        }
        let owner = prev
            .controller
            .as_ref()
            .map(|c| render::owner_key(&prev.id.ns, c));
        self.unlink(owner.as_deref(), key);
        self.with_dependents(key.to_string())
    }

    /// Moves endpoint object `key` from service `prev` to `next`; returns the touched keys.
    fn relink_endpoints(
        &mut self,
        key: &str,
        prev: Option<String>,
        next: Option<String>,
    ) -> Vec<String> {
        if let Some(prev) = &prev
            && let Some(set) = self.endpoints.get_mut(prev)
        {
            set.remove(key);
            if set.is_empty() {
                self.endpoints.remove(prev);
            }
        }
        if let Some(next) = &next {
            self.endpoints
                .entry(next.clone())
                .or_default()
                .insert(key.to_string());
        }
        let mut out = vec![key.to_string()];
        out.extend(prev.into_iter().chain(next).filter(|s| s != key));
        out.dedup();
        out
    }

    fn record_life(&mut self, key: &str, now_ms: u64) {
        let Some(e) = self.latest.get(key) else {
            return;
        };
        let workload = e
            .controller
            .as_ref()
            .map(|c| self.resolve(&e.id.ns, c))
            .map(|top| format!("{}/{}", top.kind, top.name));
        self.lifecycle.push(PodLife {
            ns: e.id.ns.to_string(),
            workload,
            at_ms: now_ms,
        });
    }

    /// Pods that appeared (watch `Apply` of a new pod) or disappeared since the last call.
    /// Pods listed by a (re)list are not births: the initial list would look like a storm.
    pub fn take_pod_lifecycle(&mut self) -> Vec<PodLife> {
        std::mem::take(&mut self.lifecycle)
    }

    fn unlink(&mut self, owner: Option<&str>, key: &str) {
        let Some(owner) = owner else { return };
        if let Some(set) = self.dependents.get_mut(owner) {
            set.remove(key);
            if set.is_empty() {
                self.dependents.remove(owner);
            }
        }
    }

    /// `key` plus everything it controls, transitively.
    fn with_dependents(&self, key: String) -> Vec<String> {
        let mut out = vec![key];
        let mut i = 0;
        while i < out.len() && out.len() <= self.latest.len() + 1 {
            if let Some(children) = self.dependents.get(&out[i]) {
                let new: Vec<String> = children
                    .iter()
                    .filter(|c| !out.iter().any(|o| o.as_str() == &***c))
                    .map(|c| c.to_string())
                    .collect();
                out.extend(new);
            }
            i += 1;
        }
        out
    }

    fn finish_relist(&mut self, scope: &str, now_ms: u64) -> Vec<String> {
        let Some(seen) = self.relists.remove(scope) else {
            return Vec::new();
        };
        let (kind, ns) = split_scope(scope);
        let gone: Vec<String> = self
            .latest
            .iter()
            .filter(|(key, e)| {
                *e.id.kind == *kind && ns.is_none_or(|ns| *e.id.ns == *ns) && !seen.contains(*key)
            })
            .map(|(key, _)| key.to_string())
            .collect();
        drop(seen);
        gone.iter()
            .flat_map(|key| self.remove(key, now_ms))
            .collect()
    }

    /// Every key that is live, published or recently deleted (the keys a full flush must look
    /// at; flushing the deleted ones also forgets them).
    pub fn keys(&self) -> BTreeSet<String> {
        self.latest
            .keys()
            .chain(self.published.keys())
            .map(|k| k.to_string())
            .chain(self.gone_ms.keys().cloned())
            .chain(self.summaries.keys().cloned())
            .chain(self.oneshots.keys().cloned())
            .collect()
    }

    /// The deltas that bring the published state of `keys` up to date (nothing is recorded until
    /// [`commit`](Self::commit)). `now_ms` stamps deletes whose time was not seen.
    pub fn flush<'a>(
        &mut self,
        keys: impl IntoIterator<Item = &'a String>,
        now_ms: u64,
    ) -> Vec<Delta> {
        let mut deltas = Vec::new();
        for key in keys {
            if let Some(d) = self.oneshots.get(key) {
                deltas.push(d.clone());
                continue;
            }
            if let Some(s) = self.summaries.get(key) {
                let obj = Obj::encode(&s.obj);
                if self
                    .published
                    .get(key.as_str())
                    .is_none_or(|old| old.obj != obj)
                {
                    let id = Arc::new(Ident {
                        kind: SUMMARY_KIND.into(),
                        ns: s.ns.as_str().into(),
                        name: s.name.as_str().into(),
                        uid: s.uid.as_str().into(),
                    });
                    deltas.push(delta(key, Op::Summary, id, obj, now_ms));
                }
                continue;
            }
            match (
                self.latest.get(key.as_str()),
                self.published.get(key.as_str()),
            ) {
                (Some(entry), _) if is_internal(&entry.id.kind) => {}
                (Some(entry), None) if self.is_held(entry, now_ms) => {
                    let release = entry.born_ms + self.min_pod_lifetime_ms;
                    self.held.set(key.clone(), release);
                }
                (Some(entry), published) => {
                    let obj = self.render(key, entry);
                    let unchanged = published.is_some_and(|old| old.same(&obj, &entry.id));
                    let op = if published.is_some() {
                        Op::Updated
                    } else {
                        Op::Added
                    };
                    let d = (!unchanged)
                        .then(|| delta(key, op, entry.id.clone(), obj.clone(), entry.seen_ms));
                    // Keep the rendering: it shares its bytes with the delta and, once
                    // committed, with the published state (one copy per object).
                    self.keep_rendering(key, obj);
                    deltas.extend(d);
                }
                (None, Some(old)) => {
                    let ts = self.gone_ms.get(key).copied().unwrap_or(now_ms);
                    deltas.push(delta(key, Op::Deleted, old.id.clone(), old.obj.clone(), ts));
                }
                (None, None) => {
                    self.gone_ms.remove(key);
                }
            }
        }
        deltas
    }

    /// Stores `rendered` as the latest object of `key`, or, if it has the same bytes, makes the
    /// stored object share the published allocation. Rendering is idempotent (it only sets the
    /// derived fields), so storing the rendered form changes no later rendering.
    fn keep_rendering(&mut self, key: &str, rendered: Obj) {
        let published = self.published.get(key).map(|p| &p.obj);
        let Some(entry) = self.latest.get_mut(key) else {
            return;
        };
        entry.obj = match published {
            Some(p) if *p == rendered => p.clone(),
            _ => rendered,
        };
    }

    fn is_held(&self, entry: &Entry, now_ms: u64) -> bool {
        *entry.id.kind == *"Pod"
            && self.min_pod_lifetime_ms > 0
            && now_ms < entry.born_ms.saturating_add(self.min_pod_lifetime_ms)
    }

    /// When the earliest held pod may be published.
    pub fn next_release_ms(&self) -> Option<u64> {
        self.held.next()
    }

    /// Removes and returns the held pods that may be published at `now_ms` (flush them).
    pub fn take_released(&mut self, now_ms: u64) -> Vec<String> {
        self.held.take_due(now_ms)
    }

    /// Replaces the summaries (`(ns, name) → obj`); returns the keys to flush (changed, new or
    /// gone summaries: gone ones flush as `deleted`).
    pub fn set_summaries(&mut self, summaries: BTreeMap<(String, String), Value>) -> Vec<String> {
        let next: HashMap<String, Published> = summaries
            .into_iter()
            .map(|((ns, name), obj)| {
                let key = kubecast_shared::protocol::object_key(SUMMARY_KIND, &ns, &name);
                let p = Published {
                    kind: SUMMARY_KIND.into(),
                    ns,
                    name,
                    uid: String::new(),
                    obj,
                };
                (key, p)
            })
            .collect();
        let mut touched: BTreeSet<String> = next
            .iter()
            .filter(|(k, p)| {
                self.published
                    .get(k.as_str())
                    .is_none_or(|old| old.obj != Obj::encode(&p.obj))
            })
            .map(|(k, _)| k.clone())
            .collect();
        let prefix = format!("{SUMMARY_KIND}/");
        touched.extend(
            self.published
                .keys()
                .map(|k| &**k)
                .chain(self.summaries.keys().map(String::as_str))
                .filter(|k| k.starts_with(&prefix) && !next.contains_key(*k))
                .map(String::from),
        );
        self.summaries = next;
        touched.into_iter().collect()
    }

    /// Queues a one-shot churn event; returns its key (flush it).
    pub fn push_churn(&mut self, ns: &str, name: &str, obj: Value, now_ms: u64) -> String {
        let key = kubecast_shared::protocol::object_key(CHURN_KIND, ns, name);
        let id = self.ident(CHURN_KIND, ns, name, "");
        let d = delta(&key, Op::Churn, id, Obj::encode(&obj), now_ms);
        self.oneshots.insert(key.clone(), d);
        key
    }

    /// Records deltas the log accepted as the published state.
    pub fn commit(&mut self, deltas: &[Delta]) {
        for d in deltas {
            match d.op {
                Op::Churn => {
                    self.oneshots.remove(&d.key);
                }
                Op::Deleted => {
                    self.published.remove(d.key.as_str());
                    self.gone_ms.remove(&d.key);
                }
                _ => {
                    let p = Pub {
                        id: d.id.clone(),
                        obj: d.obj.clone(),
                    };
                    match self.published.get_mut(d.key.as_str()) {
                        Some(slot) => *slot = p,
                        None => {
                            let key = self.shared_key(&d.key);
                            self.published.insert(key, p);
                        }
                    }
                }
            }
        }
    }

    /// The published state, by key (decoded: for tests and diagnostics).
    pub fn published(&self) -> HashMap<String, Published> {
        self.published
            .iter()
            .map(|(k, p)| {
                let published = Published {
                    kind: p.id.kind.to_string(),
                    ns: p.id.ns.to_string(),
                    name: p.id.name.to_string(),
                    uid: p.id.uid.to_string(),
                    obj: p.obj.value(),
                };
                (k.to_string(), published)
            })
            .collect()
    }

    /// The rendered latest state of every live object, by key.
    pub fn rendered(&self) -> BTreeMap<String, Value> {
        self.latest
            .iter()
            .filter(|(_, e)| !is_internal(&e.id.kind))
            .map(|(k, e)| (k.to_string(), self.render(k, e).value()))
            .collect()
    }

    /// Calls `f` with what the aggregates are computed from: every live published-kind object
    /// with its top-level controller resolved.
    pub fn with_facts<R>(&self, f: impl FnOnce(&[crate::aggregate::Fact<'_>]) -> R) -> R {
        let live: Vec<(&Entry, Value)> = self
            .latest
            .values()
            .filter(|e| !is_internal(&e.id.kind))
            .map(|e| (e, e.obj.value()))
            .collect();
        let facts: Vec<crate::aggregate::Fact<'_>> = live
            .iter()
            .map(|(e, obj)| {
                let top: Option<OwnerRef> =
                    e.controller.as_ref().map(|c| self.resolve(&e.id.ns, c));
                crate::aggregate::Fact::new(&e.id.kind, &e.id.ns, &e.id.name, top, obj)
            })
            .collect();
        f(&facts)
    }

    /// Number of live objects.
    pub fn len(&self) -> usize {
        self.latest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }
}

impl Entry {
    /// The service key this endpoint object names (`None` for other kinds).
    fn service(&self) -> Option<String> {
        if !is_internal(&self.id.kind) {
            return None;
        }
        service_of(&self.id.kind, &self.id.ns, &self.obj.value())
    }
}

fn delta(key: &str, op: Op, id: Arc<Ident>, obj: Obj, ts: u64) -> Delta {
    Delta {
        key: key.to_string(),
        op,
        id,
        obj,
        ts,
    }
}

/// The service key an endpoint object (EndpointSlice/Endpoints) names.
fn service_of(kind: &str, ns: &str, obj: &Value) -> Option<String> {
    if !is_internal(kind) {
        return None;
    }
    let name = obj.get("service")?.as_str()?;
    Some(kubecast_shared::protocol::object_key("Service", ns, name))
}

/// The published objects (`key → obj`, owners resolved, services with their endpoints' pods;
/// no summaries) of a set of `(kind, object JSON)`s, as the producer would publish them after
/// listing them: the expected state for integration tests.
///
/// Kinds of the kind table are projected as typed objects (internal kinds such as EndpointSlice
/// only feed their service); any other kind is projected as a dynamic resource
/// (`--watch-resource`), so leave out objects of kinds the producer does not watch.
pub fn project_all<'a>(
    objects: impl IntoIterator<Item = (&'a str, &'a Value)>,
) -> Result<BTreeMap<String, Value>, ProjectError> {
    let mut index = Index::new();
    for (kind, value) in objects {
        let p = match crate::kinds::find(kind) {
            Some(_) => project_value(kind, value)?,
            None => project_dynamic(kind, value)?,
        };
        index.apply(Input::Apply(p), 0);
    }
    Ok(index.rendered())
}
