//! The endpoints controller: keeps one `Endpoints` and one `EndpointSlice` per Service, listing the
//! pods its selector picks (ready ones as ready addresses, running-but-unready ones as not ready),
//! with `targetRef`s to the pods. It works on the store, after every batch of writes, for the
//! namespaces whose Services changed or whose pods changed readiness, IP, labels or existence — so
//! it also follows direct `SimCluster::upsert` / `delete` writes. Unchanged objects are not
//! rewritten.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Service,
};
use k8s_openapi::api::discovery::v1::{
    Endpoint, EndpointConditions, EndpointPort as SlicePort, EndpointSlice,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::Value;

use crate::store::{Store, StoredEvent};

/// Kubernetes' "safe" alphabet for generated name suffixes.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// What of a pod the endpoints depend on; a change in it dirties the pod's namespace.
fn signature(pod: Option<&Value>) -> Option<(&Value, &Value, &Value, bool)> {
    let pod = pod?;
    Some((
        &pod["metadata"]["labels"],
        &pod["status"]["podIP"],
        &pod["metadata"]["deletionTimestamp"],
        ready(pod),
    ))
}

fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// The namespace to resync after `ev` of `kind`, if the change can affect endpoints.
pub(crate) fn dirty(kind: &str, ev: &StoredEvent) -> Option<String> {
    let now = (ev.ty != crate::store::EventType::Deleted).then_some(&*ev.object);
    let relevant = match kind {
        "Service" => true,
        "Pod" => signature(ev.prev.as_deref()) != signature(now),
        _ => false,
    };
    relevant.then(|| ev.ns.clone())
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A deterministic 5-character suffix, like the generated name of a real slice.
fn suffix(s: &str) -> String {
    let mut h = fnv(s);
    (0..5)
        .map(|_| {
            let c = ALPHABET[usize::try_from(h % 27).unwrap_or(0)];
            h /= 27;
            char::from(c)
        })
        .collect()
}

fn selects(svc: &Service, pod: &Value) -> bool {
    let Some(sel) = svc.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return false;
    };
    !sel.is_empty()
        && sel
            .iter()
            .all(|(k, v)| pod["metadata"]["labels"][k] == v.as_str())
}

fn pod_ref(pod: &Value) -> ObjectReference {
    let s = |v: &Value| v.as_str().map(str::to_owned);
    ObjectReference {
        kind: Some("Pod".into()),
        namespace: s(&pod["metadata"]["namespace"]),
        name: s(&pod["metadata"]["name"]),
        uid: s(&pod["metadata"]["uid"]),
        ..ObjectReference::default()
    }
}

fn build(svc: &Service, pods: &[Arc<Value>]) -> (Endpoints, EndpointSlice) {
    let name = svc.metadata.name.clone().unwrap_or_default();
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let uid = |what: &str| format!("{:016x}-{what}", fnv(&format!("{ns}/{name}/{what}")));
    let base = |name: String, what: &str| ObjectMeta {
        name: Some(name),
        namespace: Some(ns.clone()),
        uid: Some(uid(what)),
        creation_timestamp: svc.metadata.creation_timestamp.clone(),
        labels: svc.metadata.labels.clone(),
        ..ObjectMeta::default()
    };
    let (mut ready_addrs, mut unready_addrs, mut slice_eps) = (Vec::new(), Vec::new(), Vec::new());
    for pod in pods.iter().filter(|p| selects(svc, p)) {
        let Some(ip) = pod["status"]["podIP"].as_str() else {
            continue;
        };
        let terminating = !pod["metadata"]["deletionTimestamp"].is_null();
        let is_ready = ready(pod) && !terminating;
        let node = pod["spec"]["nodeName"].as_str().map(str::to_owned);
        let addr = EndpointAddress {
            ip: ip.to_owned(),
            node_name: node.clone(),
            target_ref: Some(pod_ref(pod)),
            hostname: None,
        };
        if is_ready {
            &mut ready_addrs
        } else {
            &mut unready_addrs
        }
        .push(addr);
        slice_eps.push(Endpoint {
            addresses: vec![ip.to_owned()],
            conditions: Some(EndpointConditions {
                ready: Some(is_ready),
                serving: Some(ready(pod)),
                terminating: Some(terminating),
            }),
            node_name: node,
            target_ref: Some(pod_ref(pod)),
            ..Endpoint::default()
        });
    }
    let ports = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    let target = |p: &k8s_openapi::api::core::v1::ServicePort| match &p.target_port {
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) => *n,
        _ => p.port,
    };
    let subset = EndpointSubset {
        addresses: (!ready_addrs.is_empty()).then_some(ready_addrs),
        not_ready_addresses: (!unready_addrs.is_empty()).then_some(unready_addrs),
        ports: Some(
            ports
                .iter()
                .map(|p| EndpointPort {
                    name: p.name.clone(),
                    port: target(p),
                    protocol: p.protocol.clone(),
                    ..EndpointPort::default()
                })
                .collect(),
        ),
    };
    let has_addresses = subset.addresses.is_some() || subset.not_ready_addresses.is_some();
    let endpoints = Endpoints {
        metadata: base(name.clone(), "endpoints"),
        subsets: has_addresses.then(|| vec![subset]),
    };
    let mut slice_meta = base(
        format!("{name}-{}", suffix(&format!("{ns}/{name}"))),
        "slice",
    );
    let labels = slice_meta.labels.get_or_insert_with(BTreeMap::new);
    labels.insert("kubernetes.io/service-name".into(), name.clone());
    labels.insert(
        "endpointslice.kubernetes.io/managed-by".into(),
        "endpointslice-controller.k8s.io".into(),
    );
    slice_meta.owner_references = Some(vec![OwnerReference {
        api_version: "v1".into(),
        kind: "Service".into(),
        name: name.clone(),
        uid: svc.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }]);
    let slice = EndpointSlice {
        metadata: slice_meta,
        address_type: "IPv4".into(),
        endpoints: slice_eps,
        ports: Some(
            ports
                .iter()
                .map(|p| SlicePort {
                    name: p.name.clone(),
                    port: Some(target(p)),
                    protocol: p.protocol.clone(),
                    app_protocol: None,
                })
                .collect(),
        ),
    };
    (endpoints, slice)
}

/// Writes `value` as `kind` unless the stored object already equals it (resourceVersion aside).
fn write_if_changed(store: &mut Store, kind: &str, ns: &str, mut value: Value) {
    let name = value["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if let Some(old) = store.get(kind, ns, &name) {
        let mut old = (*old).clone();
        if let Some(meta) = old.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        if let Some(map) = value.as_object_mut() {
            map.insert("kind".into(), old["kind"].clone());
            map.insert("apiVersion".into(), old["apiVersion"].clone());
        }
        if old == value {
            return;
        }
    }
    store.upsert(kind, value);
}

/// Brings the Endpoints and EndpointSlices of namespace `ns` in line with its Services and pods.
pub(crate) fn sync(store: &mut Store, ns: &str) {
    let services: Vec<Service> = store
        .items("Service", Some(ns))
        .iter()
        .filter_map(|v| serde_json::from_value((**v).clone()).ok())
        .collect();
    let pods = store.items("Pod", Some(ns));
    let mut keep = (Vec::new(), Vec::new());
    for svc in &services {
        let (endpoints, slice) = build(svc, &pods);
        keep.0
            .push(endpoints.metadata.name.clone().unwrap_or_default());
        keep.1.push(slice.metadata.name.clone().unwrap_or_default());
        for (kind, value) in [
            ("Endpoints", serde_json::to_value(&endpoints)),
            ("EndpointSlice", serde_json::to_value(&slice)),
        ] {
            match value {
                Ok(value) => write_if_changed(store, kind, ns, value),
                Err(error) => tracing::warn!(kind, %error, "could not serialize endpoints"),
            }
        }
    }
    for (kind, keep) in [("Endpoints", &keep.0), ("EndpointSlice", &keep.1)] {
        let stale: Vec<String> = store
            .items(kind, Some(ns))
            .iter()
            .filter_map(|v| v["metadata"]["name"].as_str().map(str::to_owned))
            .filter(|name| !keep.contains(name))
            .collect();
        for name in stale {
            store.delete(kind, ns, &name);
        }
    }
}
