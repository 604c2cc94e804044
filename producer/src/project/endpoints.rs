//! EndpointSlice and (legacy) Endpoints projections. These are *internal*: they are never
//! published as objects of their own (they change with every pod readiness flip); the index uses
//! them to render the `pods` of the service they belong to (see `index::render`).
//!
//! Both project to `{"service": name, "ready": [pod…], "notReady": [pod…]}` (sorted pod names
//! from endpoints whose `targetRef` is a Pod); they carry no controller, so they never take part
//! in owner resolution.

use super::{Project, Projection, from_meta};
use k8s_openapi::api::core::v1::{EndpointAddress, Endpoints};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;
use std::collections::BTreeSet;

/// The label naming the service an EndpointSlice belongs to.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

impl Project for EndpointSlice {
    const KIND: &'static str = "EndpointSlice";

    fn project(&self) -> Option<Projection> {
        project_endpoint_slice(self)
    }
}

impl Project for Endpoints {
    const KIND: &'static str = "Endpoints";

    fn project(&self) -> Option<Projection> {
        project_endpoints(self)
    }
}

/// Projects an endpoint slice; an endpoint without a `ready` condition counts as ready (the API's
/// own reading of an absent condition).
pub fn project_endpoint_slice(slice: &EndpointSlice) -> Option<Projection> {
    let service = slice
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(SERVICE_NAME_LABEL).cloned());
    let (mut ready, mut not_ready) = (BTreeSet::new(), BTreeSet::new());
    for e in &slice.endpoints {
        let Some(pod) = e
            .target_ref
            .as_ref()
            .filter(|r| r.kind.as_deref() == Some("Pod"))
        else {
            continue;
        };
        let Some(name) = pod.name.clone() else {
            continue;
        };
        let is_ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
        if is_ready { &mut ready } else { &mut not_ready }.insert(name);
    }
    internal(
        EndpointSlice::KIND,
        &slice.metadata,
        service,
        ready,
        not_ready,
    )
}

/// Projects an Endpoints object (named after its service).
pub fn project_endpoints(ep: &Endpoints) -> Option<Projection> {
    let pods = |addrs: Option<&Vec<EndpointAddress>>| -> BTreeSet<String> {
        addrs
            .into_iter()
            .flatten()
            .filter_map(|a| a.target_ref.as_ref())
            .filter(|r| r.kind.as_deref() == Some("Pod"))
            .filter_map(|r| r.name.clone())
            .collect()
    };
    let (mut ready, mut not_ready) = (BTreeSet::new(), BTreeSet::new());
    for subset in ep.subsets.iter().flatten() {
        ready.extend(pods(subset.addresses.as_ref()));
        not_ready.extend(pods(subset.not_ready_addresses.as_ref()));
    }
    internal(
        Endpoints::KIND,
        &ep.metadata,
        ep.metadata.name.clone(),
        ready,
        not_ready,
    )
}

fn internal(
    kind: &str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    service: Option<String>,
    ready: BTreeSet<String>,
    not_ready: BTreeSet<String>,
) -> Option<Projection> {
    let obj = json!({ "service": service, "ready": ready, "notReady": not_ready });
    let mut p = from_meta(kind, meta, obj)?;
    p.controller = None;
    if let Some(map) = p.obj.as_object_mut() {
        map.remove("owner");
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn slices_list_ready_and_not_ready_pods_of_their_service() {
        let slice = fixtures::endpoint_slice(
            "shop",
            "web-abc",
            "web",
            &[("web-2", true), ("web-1", false), ("web-3", true)],
        );
        let p = project_endpoint_slice(&slice).expect("projects");
        assert_eq!(
            p.obj,
            json!({"service": "web", "ready": ["web-2", "web-3"], "notReady": ["web-1"]})
        );
        assert_eq!(p.controller, None);
    }

    #[test]
    fn endpoints_list_ready_and_not_ready_addresses() {
        let ep = fixtures::endpoints("shop", "web", &[("web-1", true), ("web-2", false)]);
        let p = project_endpoints(&ep).expect("projects");
        assert_eq!(
            p.obj,
            json!({"service": "web", "ready": ["web-1"], "notReady": ["web-2"]})
        );
    }
}
