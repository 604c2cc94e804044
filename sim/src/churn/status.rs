//! Keeps ReplicaSet and Deployment status (and old ReplicaSets' spec.replicas) consistent with the
//! pods, emitting only the objects whose spec or status actually changed.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DeploymentStatus, ReplicaSetStatus};

use super::{Churn, Key, emit};

/// Non-terminating and ready pod counts.
#[derive(Default, Clone, Copy)]
struct Counts {
    active: i32,
    ready: i32,
}

fn nonzero(n: i32) -> Option<i32> {
    (n > 0).then_some(n)
}

impl Churn {
    pub(super) fn sync_statuses(&mut self) {
        let mut per_rs: BTreeMap<Key, Counts> = BTreeMap::new();
        for ((ns, _), p) in &self.pods {
            let c = per_rs.entry((ns.clone(), p.rs.clone())).or_default();
            if p.active() {
                c.active += 1;
                c.ready += i32::from(p.ready);
            }
        }
        let mut per_dep: BTreeMap<Key, (Counts, Counts)> = BTreeMap::new();
        for (key, r) in &mut self.replica_sets {
            let counts = per_rs.get(key).copied().unwrap_or_default();
            let dep_key = (key.0.clone(), r.deploy.clone());
            let Some(d) = self.deployments.get(&dep_key) else {
                continue;
            };
            let current = d.current_rs == key.1;
            let desired = if current {
                d.dep.spec.as_ref().and_then(|s| s.replicas)
            } else {
                Some(counts.active)
            };
            let status = ReplicaSetStatus {
                replicas: counts.active,
                ready_replicas: nonzero(counts.ready),
                available_replicas: nonzero(counts.ready),
                fully_labeled_replicas: nonzero(counts.active),
                observed_generation: r.rs.metadata.generation,
                ..ReplicaSetStatus::default()
            };
            let spec = r.rs.spec.get_or_insert_with(Default::default);
            if spec.replicas != desired || r.rs.status.as_ref() != Some(&status) {
                spec.replicas = desired;
                r.rs.status = Some(status);
                emit(&mut self.out, "ReplicaSet", &r.rs);
            }
            let (all, updated) = per_dep.entry(dep_key).or_default();
            all.active += counts.active;
            all.ready += counts.ready;
            if current {
                *updated = counts;
            }
        }
        for (key, d) in &mut self.deployments {
            let (all, updated) = per_dep.get(key).copied().unwrap_or_default();
            let desired = d.dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
            let status = DeploymentStatus {
                replicas: nonzero(all.active),
                updated_replicas: nonzero(updated.active),
                ready_replicas: nonzero(all.ready),
                available_replicas: nonzero(all.ready),
                unavailable_replicas: nonzero(desired - all.ready),
                observed_generation: d.dep.metadata.generation,
                ..DeploymentStatus::default()
            };
            if d.dep.status.as_ref() != Some(&status) {
                d.dep.status = Some(status);
                emit(&mut self.out, "Deployment", &d.dep);
            }
        }
    }
}
