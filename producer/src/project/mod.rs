//! Projections (DESIGN §2): the compact, kind-specific view of a Kubernetes object that clients
//! receive as an event's `obj`. Everything here is pure: a typed object in, a [`Projection`] out.
//!
//! Invariants:
//! - a projection never contains `managedFields`, `resourceVersion` or timestamps that change on
//!   status heartbeats, so an update that only touches those projects to an equal value and is
//!   suppressed by the index;
//! - the `owner` a projection carries is the object's *direct* controller. Resolving a pod's owner
//!   up to its top-level workload (Pod → ReplicaSet → Deployment) needs the other objects, so the
//!   [`Index`](crate::index::Index) does it when it renders the event (see `Index::render`).

mod batch;
mod dynamic;
mod endpoints;
mod node;
mod pod;
mod service;
mod workload;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

pub use batch::{project_cron_job, project_job};
pub use dynamic::{project_dynamic, project_dynamic_object};
pub use endpoints::{project_endpoint_slice, project_endpoints};
pub use node::project_node;
pub use pod::project_pod;
pub use service::{project_namespace, project_service};
pub use workload::{
    project_daemon_set, project_deployment, project_replica_set, project_stateful_set,
};

/// Why a JSON object could not be projected.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("kind {0:?} is not watched by the producer")]
    UnknownKind(String),
    #[error("object of kind {kind} does not deserialize")]
    Malformed {
        kind: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("object of kind {0} has no metadata.name")]
    MissingName(String),
}

/// A reference to an object's controlling owner, as published (`{"kind":…,"name":…}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OwnerRef {
    pub kind: Arc<str>,
    pub name: Arc<str>,
}

/// One object's compact projection plus the identity the index and the events need.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Kubernetes kind (`Pod`, `Deployment`, …).
    pub kind: String,
    /// Namespace; for a `Namespace` object its own name (see `object_key`).
    pub ns: String,
    pub name: String,
    /// Kubernetes UID (empty if the object has none, e.g. in hand-written fixtures).
    pub uid: String,
    /// The controlling ownerReference (`controller: true`), if any.
    pub controller: Option<OwnerRef>,
    /// The compact projection (`obj` of the event), with `owner` = the direct controller.
    pub obj: Value,
    /// `metadata.creationTimestamp` in ms since the Unix epoch (not published; the index uses it
    /// for the minimum pod lifetime).
    pub created_ms: Option<u64>,
}

impl Projection {
    /// The snapshot key `Kind/ns/name`.
    pub fn key(&self) -> String {
        kubecast_shared::protocol::object_key(&self.kind, &self.ns, &self.name)
    }
}

/// A Kubernetes type the producer watches and projects.
pub trait Project:
    kube::Resource<DynamicType = ()>
    + Clone
    + std::fmt::Debug
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The kind as published in events.
    const KIND: &'static str;

    /// The compact projection; `None` if the object is unusable (no name).
    fn project(&self) -> Option<Projection>;
}

/// Deserializes `value` as the typed object of `kind` and projects it.
///
/// For pods the `owner` is the direct controller (usually a ReplicaSet); the published events
/// carry the top-level workload instead, which needs the ReplicaSets too: use
/// [`crate::index::project_all`] to compute the published state of a whole set of objects.
pub fn project_value(kind: &str, value: &Value) -> Result<Projection, ProjectError> {
    let spec = crate::kinds::find(kind).ok_or_else(|| ProjectError::UnknownKind(kind.into()))?;
    (spec.project_value)(value)
}

/// `project_value` for one typed kind (the function stored in the kind table).
pub(crate) fn project_json<K: Project>(value: &Value) -> Result<Projection, ProjectError> {
    let object: K =
        serde_json::from_value(value.clone()).map_err(|source| ProjectError::Malformed {
            kind: K::KIND.into(),
            source,
        })?;
    object
        .project()
        .ok_or_else(|| ProjectError::MissingName(K::KIND.into()))
}

/// Builds a projection from an object's metadata; `None` without a name.
pub(crate) fn from_meta(kind: &str, meta: &ObjectMeta, obj: Value) -> Option<Projection> {
    let name = meta.name.clone()?;
    let ns = if kind == "Namespace" {
        name.clone()
    } else {
        meta.namespace.clone().unwrap_or_default()
    };
    let controller = controller_of(meta);
    let mut obj = obj;
    if let (Some(owner), Value::Object(map)) = (&controller, &mut obj) {
        map.insert("owner".into(), owner_value(owner));
    }
    Some(Projection {
        kind: kind.into(),
        ns,
        name,
        uid: meta.uid.clone().unwrap_or_default(),
        controller,
        obj,
        created_ms: meta
            .creation_timestamp
            .as_ref()
            .and_then(|t| u64::try_from(t.0.as_millisecond()).ok()),
    })
}

/// The controlling ownerReference of an object.
pub(crate) fn controller_of(meta: &ObjectMeta) -> Option<OwnerRef> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
        .map(|r| OwnerRef {
            kind: r.kind.as_str().into(),
            name: r.name.as_str().into(),
        })
}

/// `{"kind":…,"name":…}`.
pub(crate) fn owner_value(owner: &OwnerRef) -> Value {
    serde_json::json!({ "kind": owner.kind, "name": owner.name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn unknown_kinds_are_refused() {
        let err = project_value("Gizmo", &serde_json::json!({})).expect_err("unknown");
        assert!(matches!(err, ProjectError::UnknownKind(k) if k == "Gizmo"));
    }

    #[test]
    fn malformed_objects_are_refused() {
        let err = project_value("Pod", &serde_json::json!({"spec": 3})).expect_err("bad");
        assert!(matches!(err, ProjectError::Malformed { .. }));
    }

    #[test]
    fn objects_without_a_name_are_refused() {
        let err =
            project_value("Namespace", &serde_json::json!({"metadata": {}})).expect_err("no name");
        assert!(matches!(err, ProjectError::MissingName(_)));
    }

    #[test]
    fn project_value_matches_the_typed_projection() {
        let pod = fixtures::pod("shop", "web-1")
            .owned_by_rs("web-7d9f")
            .running()
            .build();
        let value = serde_json::to_value(&pod).expect("json");
        let projected = project_value("Pod", &value).expect("projects");
        assert_eq!(Some(projected), pod.project());
    }

    #[test]
    fn namespaces_use_their_own_name_as_namespace() {
        let ns = fixtures::namespace("shop");
        let p = ns.project().expect("projects");
        assert_eq!(p.key(), "Namespace/shop/shop");
    }
}
