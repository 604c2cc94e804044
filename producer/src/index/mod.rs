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
//! `apply` returns the keys it touched (the driver debounces them); `flush` computes the deltas of
//! some keys; `commit` records deltas once the log accepted them. Uncommitted deltas change
//! nothing, so a failed append can simply be retried with a fresh `flush`.

#[cfg(test)]
mod prop;
mod render;
#[cfg(test)]
mod tests;

use crate::input::Input;
use crate::project::{ProjectError, Projection, project_value};
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
}

/// Latest and published state of every object.
#[derive(Default)]
pub struct Index {
    latest: HashMap<String, Entry>,
    published: HashMap<String, Published>,
    /// When each deleted key was seen gone (the `ts` of its `deleted` event).
    gone_ms: HashMap<String, u64>,
    /// Controller key → keys of the objects it controls.
    dependents: HashMap<String, BTreeSet<String>>,
    /// Kind → keys listed so far by its running relist.
    relists: HashMap<String, HashSet<String>>,
}

impl Index {
    pub fn new() -> Self {
        Self::default()
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
            Input::Init(kind) => {
                self.relists.insert(kind, HashSet::new());
                Vec::new()
            }
            Input::InitApply(p) => {
                if let Some(seen) = self.relists.get_mut(&p.kind) {
                    seen.insert(p.key());
                }
                self.upsert(p, now_ms)
            }
            Input::Apply(p) => self.upsert(p, now_ms),
            Input::Delete(p) => self.remove(&p.key(), now_ms),
            Input::InitDone(kind) => self.finish_relist(&kind, now_ms),
        }
    }

    fn upsert(&mut self, p: Projection, now_ms: u64) -> Vec<String> {
        let key = p.key();
        let owner = p.controller.as_ref().map(|c| render::owner_key(&p.ns, c));
        let prev = self.latest.insert(
            key.clone(),
            Entry {
                projection: p,
                seen_ms: now_ms,
            },
        );
        self.gone_ms.remove(&key);
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
        let Some(prev) = self.latest.remove(key) else {
            return vec![key.to_string()];
        };
        let owner = prev
            .projection
            .controller
            .as_ref()
            .map(|c| render::owner_key(&prev.projection.ns, c));
        self.unlink(owner.as_deref(), key);
        self.with_dependents(key.to_string())
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

    fn finish_relist(&mut self, kind: &str, now_ms: u64) -> Vec<String> {
        let Some(seen) = self.relists.remove(kind) else {
            return Vec::new();
        };
        let gone: Vec<String> = self
            .latest
            .iter()
            .filter(|(key, e)| e.projection.kind == kind && !seen.contains(*key))
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
            match (self.latest.get(key), self.published.get(key)) {
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

    /// Records deltas the log accepted as the published state.
    pub fn commit(&mut self, deltas: &[Delta]) {
        for d in deltas {
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
            .map(|(k, e)| (k.clone(), self.render(&e.projection)))
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

/// The published state (`key → obj`, owners resolved) of a set of `(kind, object JSON)`s, as the
/// producer would publish it after listing them: the expected state for integration tests.
pub fn project_all<'a>(
    objects: impl IntoIterator<Item = (&'a str, &'a Value)>,
) -> Result<BTreeMap<String, Value>, ProjectError> {
    let mut index = Index::new();
    for (kind, value) in objects {
        index.apply(Input::Apply(project_value(kind, value)?), 0);
    }
    Ok(index.rendered())
}
