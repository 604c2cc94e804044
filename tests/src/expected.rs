//! The state a client must end with, computed from the simulated cluster's objects by the
//! producer's own projection and owner resolution (`project_all`).

use kubecast_sim::SimCluster;
use serde_json::Value;
use std::collections::BTreeMap;

/// Kinds the producer watches in this release.
pub const KINDS: &[&str] = &["Namespace", "Pod", "Deployment", "ReplicaSet", "Service"];

/// `Kind/ns/name` → projection of every watched object the simulated cluster holds.
pub fn cluster_state(cluster: &SimCluster) -> BTreeMap<String, Value> {
    let objects: Vec<_> = cluster.objects().into_iter().filter(|o| KINDS.contains(&o.kind.as_str())).collect();
    kubecast_producer::project_all(objects.iter().map(|o| (o.kind.as_str(), &o.value))).expect("the simulated cluster's objects project")
}
