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
//! `apply` returns the keys it touched (the driver debounces them); `flush` computes the deltas of
//! some keys; `commit` records deltas once the log accepted them. Uncommitted deltas change
//! nothing, so a failed append can simply be retried with a fresh `flush`.

#[cfg(test)]
mod prop;
mod render;
#[cfg(test)]
mod tests;

use crate::input::{Input, split_scope};
use crate::kinds::is_internal;
use crate::project::{OwnerRef, ProjectError, Projection, project_dynamic, project_value};
use kubecast_shared::Op;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// What the log's snapshot holds for one object.
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    pub kind: String,
    pub ns: String,
    pub name: String,
    pub uid: String,
    pub obj: Value,
}

/// One change to publish.
#[derive(Clone, Debug, PartialEq)]
pub struct Delta {
    pub key: String,
    pub op: Op,
    pub kind: String,
    pub ns: String,
    pub name: String,
    pub uid: String,
    /// The new projection, or for `deleted` the last published one.
    pub obj: Value,
    /// Milliseconds since the Unix epoch when the producer saw the change.
    pub ts: u64,
}

struct Entry {
    projection: Projection,
    seen_ms: u64,
    /// When the object came to life as far as the index can tell (min pod lifetime).
    born_ms: u64,
}

/// A pod appearing or disappearing (for churn rates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodLife {
    pub ns: String,
    /// The pod's top-level workload (`Kind/name`), if any.
    pub workload: Option<String>,
    pub at_ms: u64,
}

/// The kind of summary events and of their keys.
pub const SUMMARY_KIND: &str = "Summary";
/// The kind of churn events and of their keys.
pub const CHURN_KIND: &str = "Churn";

/// Latest and published state of every object.
#[derive(Default)]
pub struct Index {
    latest: HashMap<String, Entry>,
    published: HashMap<String, Published>,
    /// When each deleted key was seen gone (the `ts` of its `deleted` event).
    gone_ms: HashMap<String, u64>,
    /// Controller key → keys of the objects it controls.
    dependents: HashMap<String, BTreeSet<String>>,
    /// Relist scope → keys listed so far by its running relist.
    relists: HashMap<String, HashSet<String>>,
    /// Service key → keys of the endpoint objects naming it.
    endpoints: HashMap<String, BTreeSet<String>>,
    /// Pods younger than this (ms) are not published yet.
    min_pod_lifetime_ms: u64,
    /// Held (never published) pod key → when it may be published.
    held: HashMap<String, u64>,
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

    /// Replaces the published state (start-up: what the stored snapshot holds).
    pub fn load_published(&mut self, objects: impl IntoIterator<Item = Published>) {
        self.published = objects
            .into_iter()
            .map(|p| {
                (
                    kubecast_shared::protocol::object_key(&p.kind, &p.ns, &p.name),
                    p,
                )
            })
            .collect();
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
                let scoped = crate::input::scope(&p.kind, Some(&p.ns));
                for scope in [&p.kind, &scoped] {
                    if let Some(seen) = self.relists.get_mut(scope) {
                        seen.insert(p.key());
                    }
                }
                self.upsert(p, now_ms, false)
            }
            Input::Apply(p) => self.upsert(p, now_ms, true),
            Input::Delete(p) => self.remove(&p.key(), now_ms),
            Input::InitDone(scope) => self.finish_relist(&scope, now_ms),
        }
    }

    fn upsert(&mut self, p: Projection, now_ms: u64, watched: bool) -> Vec<String> {
        let key = p.key();
        let owner = p.controller.as_ref().map(|c| render::owner_key(&p.ns, c));
        let service = service_of(&p);
        let born_ms = match self.latest.get(&key) {
            Some(e) => e.born_ms,
            None => p.created_ms.map_or(now_ms, |c| c.min(now_ms)),
        };
        let is_new_pod = p.kind == "Pod" && !self.latest.contains_key(&key);
        let prev = self.latest.insert(
            key.clone(),
            Entry {
                projection: p,
                seen_ms: now_ms,
                born_ms,
            },
        );
        self.gone_ms.remove(&key);
        if is_new_pod && watched {
            self.record_life(&key, now_ms);
        }
        let prev_service = prev.as_ref().and_then(|e| service_of(&e.projection));
        if service.is_some() || prev_service.is_some() {
            return self.relink_endpoints(&key, prev_service, service);
        }
        let prev_owner = prev.as_ref().and_then(|e| {
            e.projection
                .controller
                .as_ref()
                .map(|c| render::owner_key(&e.projection.ns, c))
        });
        if prev.is_some() && prev_owner == owner {
            return vec![key];
        }
        self.unlink(prev_owner.as_deref(), &key);
        if let Some(owner) = owner {
            self.dependents
                .entry(owner)
                .or_default()
                .insert(key.clone());
        }
        self.with_dependents(key)
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
        if let Some(service) = service_of(&prev.projection) {
            return self.relink_endpoints(key, Some(service), None);
        }
        let owner = prev
            .projection
            .controller
            .as_ref()
            .map(|c| render::owner_key(&prev.projection.ns, c));
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
        let p = &e.projection;
        let workload = p
            .controller
            .as_ref()
            .map(|c| self.resolve(&p.ns, c))
            .map(|top| format!("{}/{}", top.kind, top.name));
        self.lifecycle.push(PodLife {
            ns: p.ns.clone(),
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
                out.extend(
                    children
                        .iter()
                        .filter(|c| !out.contains(c))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
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
                e.projection.kind == kind
                    && ns.is_none_or(|ns| e.projection.ns == ns)
                    && !seen.contains(*key)
            })
            .map(|(key, _)| key.clone())
            .collect();
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
            .chain(self.gone_ms.keys())
            .chain(self.summaries.keys())
            .chain(self.oneshots.keys())
            .cloned()
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
                if self.published.get(key).is_none_or(|old| old.obj != s.obj) {
                    let s = s.clone();
                    deltas.push(delta(
                        key,
                        Op::Summary,
                        s.kind,
                        s.ns,
                        s.name,
                        s.uid,
                        s.obj,
                        now_ms,
                    ));
                }
                continue;
            }
            match (self.latest.get(key), self.published.get(key)) {
                (Some(entry), _) if is_internal(&entry.projection.kind) => {}
                (Some(entry), None) if self.is_held(entry, now_ms) => {
                    let release = entry.born_ms + self.min_pod_lifetime_ms;
                    self.held.insert(key.clone(), release);
                }
                (Some(entry), published) => {
                    let obj = self.render(&entry.projection);
                    let p = &entry.projection;
                    let op = match published {
                        None => Op::Added,
                        Some(old) if old.obj == obj && old.uid == p.uid => continue,
                        Some(_) => Op::Updated,
                    };
                    deltas.push(delta(
                        key,
                        op,
                        p.kind.clone(),
                        p.ns.clone(),
                        p.name.clone(),
                        p.uid.clone(),
                        obj,
                        entry.seen_ms,
                    ));
                }
                (None, Some(old)) => {
                    let ts = self.gone_ms.get(key).copied().unwrap_or(now_ms);
                    let Published {
                        kind,
                        ns,
                        name,
                        uid,
                        obj,
                    } = old.clone();
                    deltas.push(delta(key, Op::Deleted, kind, ns, name, uid, obj, ts));
                }
                (None, None) => {
                    self.gone_ms.remove(key);
                }
            }
        }
        deltas
    }

    fn is_held(&self, entry: &Entry, now_ms: u64) -> bool {
        entry.projection.kind == "Pod"
            && self.min_pod_lifetime_ms > 0
            && now_ms < entry.born_ms.saturating_add(self.min_pod_lifetime_ms)
    }

    /// When the earliest held pod may be published.
    pub fn next_release_ms(&self) -> Option<u64> {
        self.held.values().min().copied()
    }

    /// Removes and returns the held pods that may be published at `now_ms` (flush them).
    pub fn take_released(&mut self, now_ms: u64) -> Vec<String> {
        let due: Vec<String> = self
            .held
            .iter()
            .filter(|(_, at)| **at <= now_ms)
            .map(|(k, _)| k.clone())
            .collect();
        due.iter().for_each(|k| {
            self.held.remove(k);
        });
        due
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
            .filter(|(k, p)| self.published.get(*k).is_none_or(|old| old.obj != p.obj))
            .map(|(k, _)| k.clone())
            .collect();
        let prefix = format!("{SUMMARY_KIND}/");
        touched.extend(
            self.published
                .keys()
                .chain(self.summaries.keys())
                .filter(|k| k.starts_with(&prefix) && !next.contains_key(*k))
                .cloned(),
        );
        self.summaries = next;
        touched.into_iter().collect()
    }

    /// Queues a one-shot churn event; returns its key (flush it).
    pub fn push_churn(&mut self, ns: &str, name: &str, obj: Value, now_ms: u64) -> String {
        let key = kubecast_shared::protocol::object_key(CHURN_KIND, ns, name);
        let d = delta(
            &key,
            Op::Churn,
            CHURN_KIND.into(),
            ns.into(),
            name.into(),
            String::new(),
            obj,
            now_ms,
        );
        self.oneshots.insert(key.clone(), d);
        key
    }

    /// Records deltas the log accepted as the published state.
    pub fn commit(&mut self, deltas: &[Delta]) {
        for d in deltas {
            if d.op == Op::Churn {
                self.oneshots.remove(&d.key);
                continue;
            }
            if d.op == Op::Deleted {
                self.published.remove(&d.key);
                self.gone_ms.remove(&d.key);
            } else {
                let Delta {
                    kind,
                    ns,
                    name,
                    uid,
                    obj,
                    ..
                } = d.clone();
                self.published.insert(
                    d.key.clone(),
                    Published {
                        kind,
                        ns,
                        name,
                        uid,
                        obj,
                    },
                );
            }
        }
    }

    /// The published state, by key.
    pub fn published(&self) -> &HashMap<String, Published> {
        &self.published
    }

    /// The rendered latest state of every live object, by key.
    pub fn rendered(&self) -> BTreeMap<String, Value> {
        self.latest
            .iter()
            .filter(|(_, e)| !is_internal(&e.projection.kind))
            .map(|(k, e)| (k.clone(), self.render(&e.projection)))
            .collect()
    }

    /// What the aggregates are computed from: every live published-kind object with its
    /// top-level controller resolved.
    pub fn facts(&self) -> Vec<crate::aggregate::Fact<'_>> {
        self.latest
            .values()
            .filter(|e| !is_internal(&e.projection.kind))
            .map(|e| {
                let p = &e.projection;
                let top: Option<OwnerRef> = p.controller.as_ref().map(|c| self.resolve(&p.ns, c));
                crate::aggregate::Fact::new(&p.kind, &p.ns, &p.name, top, &p.obj)
            })
            .collect()
    }

    /// Number of live objects.
    pub fn len(&self) -> usize {
        self.latest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }
}

#[allow(clippy::too_many_arguments)]
fn delta(
    key: &str,
    op: Op,
    kind: String,
    ns: String,
    name: String,
    uid: String,
    obj: Value,
    ts: u64,
) -> Delta {
    Delta {
        key: key.to_string(),
        op,
        kind,
        ns,
        name,
        uid,
        obj,
        ts,
    }
}

/// The service key an endpoint object (EndpointSlice/Endpoints) names.
fn service_of(p: &Projection) -> Option<String> {
    if !is_internal(&p.kind) {
        return None;
    }
    let name = p.obj.get("service")?.as_str()?;
    Some(kubecast_shared::protocol::object_key(
        "Service", &p.ns, name,
    ))
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
