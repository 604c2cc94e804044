//! The table of watched kinds. Adding a kind (Nodes, StatefulSets, Jobs, …) is one `Project` impl
//! in `project/` plus one line in [`KINDS`]; the watchers, `project_value` and the start-up gate
//! ("every kind has listed once") all read this table.

use crate::input::Input;
use crate::project::{Project, ProjectError, Projection, project_json};
use crate::stats::ProducerStats;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Spawnable watch loop of one kind.
pub type WatchFn = fn(
    kube::Client,
    mpsc::Sender<Input>,
    ProducerStats,
    CancellationToken,
) -> BoxFuture<'static, ()>;

/// One watched kind.
pub struct KindSpec {
    /// The kind as published (`Pod`, …).
    pub kind: &'static str,
    /// Watches every object of the kind cluster-wide and sends [`Input`]s until cancelled.
    pub watch: WatchFn,
    /// Deserializes a JSON object of this kind and projects it.
    pub project_value: fn(&Value) -> Result<Projection, ProjectError>,
}

const fn spec<K: Project>() -> KindSpec {
    KindSpec {
        kind: K::KIND,
        watch: crate::watch::boxed::<K>,
        project_value: project_json::<K>,
    }
}

/// Every kind the producer watches. Owners come before what they own, so a full republish emits
/// a Deployment before its ReplicaSets and pods where batch order allows.
pub static KINDS: &[KindSpec] = &[
    spec::<Namespace>(),
    spec::<Deployment>(),
    spec::<ReplicaSet>(),
    spec::<Pod>(),
    spec::<Service>(),
];

/// The table entry of `kind`.
pub fn find(kind: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|s| s.kind == kind)
}

/// The names of every watched kind.
pub fn names() -> Vec<String> {
    KINDS.iter().map(|s| s.kind.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_the_issue_is_in_the_table() {
        assert_eq!(
            names(),
            ["Namespace", "Deployment", "ReplicaSet", "Pod", "Service"]
        );
        assert!(find("Pod").is_some());
        assert!(find("Node").is_none());
    }
}
