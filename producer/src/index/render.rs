//! Rendering a projection for publication: resolving its controller up to the top-level
//! workload with the other objects the index knows.

use super::{Entry, Index, Obj};
use crate::project::{OwnerRef, owner_value};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Controller chains longer than this are cut (they do not exist in Kubernetes; the bound only
/// protects against a cycle in malformed data).
const MAX_DEPTH: usize = 8;

/// The index key of `owner` for an object in namespace `ns` (controllers share the namespace).
pub(super) fn owner_key(ns: &str, owner: &OwnerRef) -> String {
    kubecast_shared::protocol::object_key(&owner.kind, ns, &owner.name)
}

/// The field naming an intermediate controller next to the top-level `owner`.
fn via_field(kind: &str) -> Option<&'static str> {
    match kind {
        "ReplicaSet" => Some("rs"),
        "Job" => Some("job"),
        _ => None,
    }
}

impl Index {
    /// The projection as published: `owner` is the top-level controller (following controllers
    /// the index knows), and a pod controlled by a ReplicaSet also names it in `rs`. An unknown
    /// controller is the top level as far as the index can tell.
    pub(super) fn render(&self, key: &str, e: &Entry) -> Obj {
        if *e.id.kind == *"Service" {
            return self.render_service(key, e);
        }
        let Some(direct) = &e.controller else {
            return e.obj.clone();
        };
        let top = self.resolve(&e.id.ns, direct);
        let owner = raw(&owner_value(&top));
        let via = via_field(&direct.kind).map(|field| (field, raw(&direct.name)));
        let mut fields: Vec<(&str, &RawValue)> = vec![("owner", &*owner)];
        if let Some((field, name)) = &via {
            fields.push((*field, &**name));
        }
        with_fields(&e.obj, &fields)
    }

    /// A service with `pods: {ready, notReady}`: the sorted union of the pods its endpoint
    /// objects list (a pod ready in one slice and not in another counts as ready).
    fn render_service(&self, key: &str, e: &Entry) -> Obj {
        let (mut ready, mut not_ready) = (BTreeSet::new(), BTreeSet::new());
        for key in self.endpoints.get(key).into_iter().flatten() {
            let Some(e) = self.latest.get(key.as_str()) else {
                continue;
            };
            let obj = e.obj.value();
            let names = |field: &str| -> Vec<String> {
                obj[field]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            };
            ready.extend(names("ready"));
            not_ready.extend(names("notReady"));
        }
        not_ready.retain(|pod| !ready.contains(pod));
        let pods = raw(&json!({ "ready": ready, "notReady": not_ready }));
        with_fields(&e.obj, &[("pods", &*pods)])
    }

    pub(super) fn resolve(&self, ns: &str, direct: &OwnerRef) -> OwnerRef {
        let mut current = direct.clone();
        for _ in 0..MAX_DEPTH {
            let next = self
                .latest
                .get(owner_key(ns, &current).as_str())
                .and_then(|e| e.controller.clone());
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        current
    }
}

fn raw<T: serde::Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    // Strings and JSON values always serialize.
    serde_json::value::to_raw_value(value).unwrap_or_default()
}

/// `obj` with `fields` set (inserted or replaced), encoded exactly as `serde_json` encodes the
/// equivalent `Value` (keys sorted, compact), without decoding the untouched fields. Not an
/// object: returned unchanged (as rendering a `Value` that is not an object does).
fn with_fields(obj: &Obj, fields: &[(&str, &RawValue)]) -> Obj {
    match serde_json::from_slice::<BTreeMap<&str, &RawValue>>(obj.as_bytes()) {
        Ok(mut map) => {
            map.extend(fields.iter().copied());
            Obj::from_vec(serde_json::to_vec(&map).unwrap_or_default())
        }
        // Keys with escapes cannot be borrowed, and non-objects are left alone: take the slow way.
        Err(_) => {
            let mut value = obj.value();
            if let Value::Object(map) = &mut value {
                for (k, v) in fields {
                    let v = serde_json::from_str(v.get()).unwrap_or_default();
                    map.insert((*k).to_string(), v);
                }
            }
            Obj::encode(&value)
        }
    }
}
