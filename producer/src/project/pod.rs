//! Pod projection: phase, readiness, restarts, node, container states, deletion flag, direct
//! controller and labels. Status fields that change on every kubelet heartbeat (timestamps,
//! probe times, IPs) are deliberately left out so heartbeats do not become events.

use super::{Project, Projection, from_meta};
use k8s_openapi::api::core::v1::{ContainerState, ContainerStatus, Pod};
use serde_json::{Value, json};

impl Project for Pod {
    const KIND: &'static str = "Pod";

    fn project(&self) -> Option<Projection> {
        project_pod(self)
    }
}

/// Projects a pod (`owner` is its direct controller; the index resolves the top-level workload).
pub fn project_pod(pod: &Pod) -> Option<Projection> {
    let status = pod.status.as_ref();
    let phase = status
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Pending".into());
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True");
    let statuses: &[ContainerStatus] = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let restarts: i64 = statuses.iter().map(|c| i64::from(c.restart_count)).sum();
    let containers: Vec<Value> = statuses.iter().map(container).collect();
    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    let obj = json!({
        "phase": phase,
        "ready": ready,
        "restarts": restarts,
        "node": node,
        "containers": containers,
        "deleting": pod.metadata.deletion_timestamp.is_some(),
        "labels": pod.metadata.labels.clone().unwrap_or_default(),
    });
    from_meta(Pod::KIND, &pod.metadata, obj)
}

/// `{"name","ready","state"}` plus `reason` for waiting/terminated containers.
fn container(c: &ContainerStatus) -> Value {
    let (state, reason) = state_of(c.state.as_ref());
    let mut v = json!({ "name": c.name, "ready": c.ready, "state": state });
    if let (Some(reason), Value::Object(map)) = (reason, &mut v) {
        map.insert("reason".into(), Value::String(reason));
    }
    v
}

fn state_of(state: Option<&ContainerState>) -> (&'static str, Option<String>) {
    match state {
        Some(s) if s.running.is_some() => ("running", None),
        Some(ContainerState {
            terminated: Some(t),
            ..
        }) => ("terminated", t.reason.clone()),
        Some(ContainerState {
            waiting: Some(w), ..
        }) => ("waiting", w.reason.clone()),
        _ => ("waiting", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn running_pods_project_phase_readiness_node_and_containers() {
        let pod = fixtures::pod("shop", "web-1")
            .owned_by_rs("web-7d9f")
            .running()
            .build();
        let p = project_pod(&pod).expect("projects");
        assert_eq!(p.key(), "Pod/shop/web-1");
        assert_eq!(p.obj["phase"], "Running");
        assert_eq!(p.obj["ready"], true);
        assert_eq!(p.obj["node"], "node-1");
        assert_eq!(p.obj["deleting"], false);
        assert_eq!(
            p.obj["containers"][0],
            json!({"name": "app", "ready": true, "state": "running"})
        );
        assert_eq!(p.obj["labels"]["app"], "web");
    }

    #[test]
    fn the_direct_controller_is_the_owner() {
        let pod = fixtures::pod("shop", "web-1")
            .owned_by_rs("web-7d9f")
            .build();
        let p = project_pod(&pod).expect("projects");
        assert_eq!(
            p.obj["owner"],
            json!({"kind": "ReplicaSet", "name": "web-7d9f"})
        );
        assert_eq!(p.controller.map(|c| c.name).as_deref(), Some("web-7d9f"));
    }

    #[test]
    fn waiting_containers_carry_their_reason_and_restarts_are_summed() {
        let pod = fixtures::pod("shop", "web-1")
            .container_waiting("app", "CrashLoopBackOff", 3)
            .container_terminated("sidecar", "Error", 2)
            .build();
        let p = project_pod(&pod).expect("projects");
        assert_eq!(p.obj["restarts"], 5);
        assert_eq!(p.obj["ready"], false);
        assert_eq!(p.obj["containers"][0]["state"], "waiting");
        assert_eq!(p.obj["containers"][0]["reason"], "CrashLoopBackOff");
        assert_eq!(p.obj["containers"][1]["state"], "terminated");
        assert_eq!(p.obj["containers"][1]["reason"], "Error");
    }

    #[test]
    fn pods_being_deleted_are_flagged() {
        let pod = fixtures::pod("shop", "web-1").deleting().build();
        assert_eq!(project_pod(&pod).expect("projects").obj["deleting"], true);
    }

    #[test]
    fn heartbeat_only_changes_project_to_the_same_value() {
        let a = fixtures::pod("shop", "web-1").running().build();
        let mut b = a.clone();
        b.metadata.resource_version = Some("999".into());
        b.metadata.managed_fields = Some(vec![Default::default()]);
        if let Some(s) = b.status.as_mut() {
            s.pod_ip = Some("10.0.0.9".into());
        }
        assert_eq!(project_pod(&a), project_pod(&b));
    }

    #[test]
    fn pods_without_status_are_pending() {
        let pod = fixtures::pod("shop", "web-1").build();
        let p = project_pod(&pod).expect("projects");
        assert_eq!(p.obj["phase"], "Pending");
        assert_eq!(p.obj["containers"], json!([]));
    }
}
