//! The state a client must end with, computed from the simulated cluster's objects.

use kubecast_sim::SimCluster;
use std::collections::BTreeSet;

/// Kinds the producer watches in this issue.
pub const KINDS: &[&str] = &["Namespace", "Pod", "Deployment", "ReplicaSet", "Service"];

/// `Kind/ns/name` of every object the simulated cluster holds.
pub fn cluster_keys(cluster: &SimCluster) -> BTreeSet<String> {
    cluster
        .objects()
        .into_iter()
        .filter(|o| KINDS.contains(&o.kind.as_str()))
        .map(|o| format!("{}/{}/{}", o.kind, o.ns, o.name))
        .collect()
}
