//! Service and Namespace projections: a service's type, selector, ports and cluster IP; a
//! namespace's phase.

use super::{Project, Projection, from_meta};
use k8s_openapi::api::core::v1::{Namespace, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

impl Project for Service {
    const KIND: &'static str = "Service";

    fn project(&self) -> Option<Projection> {
        project_service(self)
    }
}

impl Project for Namespace {
    const KIND: &'static str = "Namespace";

    fn project(&self) -> Option<Projection> {
        project_namespace(self)
    }
}

/// Projects a service; `type` defaults to `ClusterIP`, `selector` is `null` for selector-less
/// services (endpoints managed by hand).
pub fn project_service(svc: &Service) -> Option<Projection> {
    let spec = svc.spec.as_ref();
    let ports: Vec<Value> = spec
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default()
        .iter()
        .map(port)
        .collect();
    let obj = json!({
        "type": spec.and_then(|s| s.type_.clone()).unwrap_or_else(|| "ClusterIP".into()),
        "selector": spec.and_then(|s| s.selector.clone()),
        "ports": ports,
        "clusterIP": spec.and_then(|s| s.cluster_ip.clone()),
    });
    from_meta(Service::KIND, &svc.metadata, obj)
}

fn port(p: &ServicePort) -> Value {
    let target = match &p.target_port {
        Some(IntOrString::Int(n)) => json!(n),
        Some(IntOrString::String(s)) => json!(s),
        None => json!(p.port),
    };
    json!({
        "port": p.port,
        "targetPort": target,
        "protocol": p.protocol.clone().unwrap_or_else(|| "TCP".into()),
        "name": p.name,
    })
}

/// Projects a namespace (`Active` or `Terminating`).
pub fn project_namespace(ns: &Namespace) -> Option<Projection> {
    let phase = ns
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Active".into());
    from_meta(Namespace::KIND, &ns.metadata, json!({ "phase": phase }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn services_project_type_selector_ports_and_cluster_ip() {
        let svc = fixtures::service("shop", "web");
        let p = project_service(&svc).expect("projects");
        assert_eq!(p.key(), "Service/shop/web");
        assert_eq!(
            p.obj,
            json!({
                "type": "ClusterIP",
                "selector": {"app": "web"},
                "ports": [
                    {"port": 80, "targetPort": 8080, "protocol": "TCP", "name": "http"},
                    {"port": 9090, "targetPort": "metrics", "protocol": "TCP", "name": null},
                ],
                "clusterIP": "10.96.0.10",
            })
        );
    }

    #[test]
    fn namespaces_project_their_phase() {
        let mut ns = fixtures::namespace("shop");
        assert_eq!(
            project_namespace(&ns).expect("projects").obj,
            json!({"phase": "Active"})
        );
        ns.status = Some(k8s_openapi::api::core::v1::NamespaceStatus {
            phase: Some("Terminating".into()),
            ..Default::default()
        });
        assert_eq!(
            project_namespace(&ns).expect("projects").obj["phase"],
            "Terminating"
        );
    }
}
