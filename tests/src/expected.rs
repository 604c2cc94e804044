//! The state a client must end with, computed from the simulated cluster's objects by the
//! producer's own projection and owner resolution (`project_all`).

use kubecast_sim::SimCluster;
use serde_json::Value;
use std::collections::BTreeMap;

/// Kinds whose objects clients compare with the cluster (the published object kinds the
/// simulated cluster serves; aggregates such as `Summary` are compared separately).
pub fn compared_kinds() -> Vec<String> {
    let mut kinds = crate::stack::simulated_kinds();
    kinds.push("Workflow".into());
    kinds
}

/// `Kind/ns/name` → projection of every watched object the simulated cluster holds.
pub fn cluster_state(cluster: &SimCluster) -> BTreeMap<String, Value> {
    let kinds = compared_kinds();
    let objects: Vec<_> = cluster
        .objects()
        .into_iter()
        .filter(|o| kinds.contains(&o.kind))
        .collect();
    kubecast_producer::project_all(objects.iter().map(|o| (o.kind.as_str(), &o.value)))
        .expect("the simulated cluster's objects project")
}
