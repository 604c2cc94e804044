//! Workload projections (Deployment, ReplicaSet, StatefulSet, DaemonSet): desired/ready/updated/
//! available replica counts and the selector. A ReplicaSet also carries its direct controller (its Deployment), which the
//! index uses to resolve pods' top-level owners.

use super::{Project, Projection, from_meta};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::{Value, json};

impl Project for Deployment {
    const KIND: &'static str = "Deployment";

    fn project(&self) -> Option<Projection> {
        project_deployment(self)
    }
}

impl Project for ReplicaSet {
    const KIND: &'static str = "ReplicaSet";

    fn project(&self) -> Option<Projection> {
        project_replica_set(self)
    }
}

impl Project for StatefulSet {
    const KIND: &'static str = "StatefulSet";

    fn project(&self) -> Option<Projection> {
        project_stateful_set(self)
    }
}

impl Project for DaemonSet {
    const KIND: &'static str = "DaemonSet";

    fn project(&self) -> Option<Projection> {
        project_daemon_set(self)
    }
}

/// Projects a stateful set; `desired` defaults to 1 like the API server does.
pub fn project_stateful_set(s: &StatefulSet) -> Option<Projection> {
    let spec = s.spec.as_ref();
    let status = s.status.as_ref();
    let obj = counts(
        spec.and_then(|s| s.replicas).unwrap_or(1),
        status.and_then(|s| s.ready_replicas),
        status.and_then(|s| s.updated_replicas),
        status.and_then(|s| s.available_replicas),
        spec.map(|s| &s.selector),
    );
    from_meta(StatefulSet::KIND, &s.metadata, obj)
}

/// Projects a daemon set: `desired` is the number of nodes that should run its pod.
pub fn project_daemon_set(d: &DaemonSet) -> Option<Projection> {
    let status = d.status.as_ref();
    let obj = counts(
        status.map_or(0, |s| s.desired_number_scheduled),
        status.map(|s| s.number_ready),
        status.and_then(|s| s.updated_number_scheduled),
        status.and_then(|s| s.number_available),
        d.spec.as_ref().map(|s| &s.selector),
    );
    from_meta(DaemonSet::KIND, &d.metadata, obj)
}

/// Projects a deployment; `desired` defaults to 1 like the API server does.
pub fn project_deployment(d: &Deployment) -> Option<Projection> {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    let obj = counts(
        spec.and_then(|s| s.replicas).unwrap_or(1),
        status.and_then(|s| s.ready_replicas),
        status.and_then(|s| s.updated_replicas),
        status.and_then(|s| s.available_replicas),
        spec.map(|s| &s.selector),
    );
    from_meta(Deployment::KIND, &d.metadata, obj)
}

/// Projects a replica set. A ReplicaSet has no `updated` count of its own: its pods are all of
/// one template, so `updated` equals `replicas`.
pub fn project_replica_set(rs: &ReplicaSet) -> Option<Projection> {
    let spec = rs.spec.as_ref();
    let status = rs.status.as_ref();
    let obj = counts(
        spec.and_then(|s| s.replicas).unwrap_or(1),
        status.and_then(|s| s.ready_replicas),
        status.map(|s| s.replicas),
        status.and_then(|s| s.available_replicas),
        spec.map(|s| &s.selector),
    );
    from_meta(ReplicaSet::KIND, &rs.metadata, obj)
}

fn counts(
    desired: i32,
    ready: Option<i32>,
    updated: Option<i32>,
    available: Option<i32>,
    selector: Option<&LabelSelector>,
) -> Value {
    json!({
        "desired": desired,
        "ready": ready.unwrap_or(0),
        "updated": updated.unwrap_or(0),
        "available": available.unwrap_or(0),
        "selector": selector.and_then(|s| s.match_labels.clone()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn deployments_project_replica_counts_and_selector() {
        let d = fixtures::deployment("shop", "web", 3, 2);
        let p = project_deployment(&d).expect("projects");
        assert_eq!(p.key(), "Deployment/shop/web");
        assert_eq!(
            p.obj,
            json!({"desired": 3, "ready": 2, "updated": 2, "available": 2, "selector": {"app": "web"}})
        );
        assert_eq!(p.controller, None);
    }

    #[test]
    fn replica_sets_carry_their_deployment_as_owner() {
        let rs = fixtures::replica_set("shop", "web-7d9f", Some("web"), 3, 1);
        let p = project_replica_set(&rs).expect("projects");
        assert_eq!(p.obj["owner"], json!({"kind": "Deployment", "name": "web"}));
        assert_eq!(p.obj["desired"], 3);
        assert_eq!(p.obj["ready"], 1);
    }

    #[test]
    fn stateful_and_daemon_sets_project_replica_counts() {
        let p =
            project_stateful_set(&fixtures::stateful_set("shop", "db", 3, 2)).expect("projects");
        assert_eq!(
            p.obj,
            json!({"desired": 3, "ready": 2, "updated": 2, "available": 2, "selector": {"app": "web"}})
        );
        let p = project_daemon_set(&fixtures::daemon_set("shop", "agent", 2, 1)).expect("projects");
        assert_eq!(
            p.obj,
            json!({"desired": 2, "ready": 1, "updated": 1, "available": 1, "selector": {"app": "web"}})
        );
    }

    #[test]
    fn replica_sets_without_status_report_zero() {
        let mut rs = fixtures::replica_set("shop", "lone", None, 2, 0);
        rs.status = None;
        let p = project_replica_set(&rs).expect("projects");
        assert_eq!(p.obj["ready"], 0);
        assert_eq!(p.obj["updated"], 0);
        assert!(p.obj.get("owner").is_none());
    }
}
