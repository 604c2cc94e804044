//! Node projection: readiness, schedulability and a few capacity figures. Heartbeat fields
//! (condition timestamps, images, addresses) are left out so kubelet status updates are not events.

use super::{Project, Projection, from_meta};
use k8s_openapi::api::core::v1::Node;
use serde_json::{Map, Value, json};

impl Project for Node {
    const KIND: &'static str = "Node";

    fn project(&self) -> Option<Projection> {
        project_node(self)
    }
}

/// Capacity figures published (as the API's quantity strings).
const CAPACITY: &[&str] = &["cpu", "memory", "pods"];

/// Projects a node; nodes are cluster-scoped, so `ns` is empty (key `Node//name`).
pub fn project_node(node: &Node) -> Option<Projection> {
    let status = node.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True");
    let capacity: Map<String, Value> = status
        .and_then(|s| s.capacity.as_ref())
        .map(|cap| {
            CAPACITY
                .iter()
                .filter_map(|k| cap.get(*k).map(|q| ((*k).to_string(), json!(q.0))))
                .collect()
        })
        .unwrap_or_default();
    let obj = json!({
        "ready": ready,
        "unschedulable": node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false),
        "capacity": capacity,
        "labels": node.metadata.labels.clone().unwrap_or_default(),
    });
    from_meta(Node::KIND, &node.metadata, obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn nodes_project_readiness_schedulability_and_capacity() {
        let p = project_node(&fixtures::node("node-1", true)).expect("projects");
        assert_eq!(p.key(), "Node//node-1");
        assert_eq!(p.obj["ready"], true);
        assert_eq!(p.obj["unschedulable"], false);
        assert_eq!(
            p.obj["capacity"],
            json!({"cpu": "4", "memory": "16Gi", "pods": "110"})
        );
        let p = project_node(&fixtures::node("node-2", false)).expect("projects");
        assert_eq!(p.obj["ready"], false);
    }
}
