//! Rendering a projection for publication: resolving its controller up to the top-level
//! workload with the other objects the index knows.

use super::Index;
use crate::project::{OwnerRef, Projection, owner_value};
use serde_json::{Value, json};
use std::collections::BTreeSet;

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
    pub(super) fn render(&self, p: &Projection) -> Value {
        if p.kind == "Service" {
            return self.render_service(p);
        }
        let Some(direct) = &p.controller else {
            return p.obj.clone();
        };
        let top = self.resolve(&p.ns, direct);
        let mut obj = p.obj.clone();
        if let Value::Object(map) = &mut obj {
            map.insert("owner".into(), owner_value(&top));
            if let Some(field) = via_field(&direct.kind) {
                map.insert(field.into(), Value::String(direct.name.clone()));
            }
        }
        obj
    }

    /// A service with `pods: {ready, notReady}`: the sorted union of the pods its endpoint
    /// objects list (a pod ready in one slice and not in another counts as ready).
    fn render_service(&self, p: &Projection) -> Value {
        let (mut ready, mut not_ready) = (BTreeSet::new(), BTreeSet::new());
        for key in self.endpoints.get(&p.key()).into_iter().flatten() {
            let Some(e) = self.latest.get(key) else {
                continue;
            };
            let names = |field: &str| -> Vec<String> {
                e.projection.obj[field]
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
        let mut obj = p.obj.clone();
        if let Value::Object(map) = &mut obj {
            map.insert(
                "pods".into(),
                json!({ "ready": ready, "notReady": not_ready }),
            );
        }
        obj
    }

    pub(super) fn resolve(&self, ns: &str, direct: &OwnerRef) -> OwnerRef {
        let mut current = direct.clone();
        for _ in 0..MAX_DEPTH {
            let next = self
                .latest
                .get(&owner_key(ns, &current))
                .and_then(|e| e.projection.controller.clone());
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        current
    }
}
