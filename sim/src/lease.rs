//! Writes for `coordination.k8s.io/v1` Leases, enough for leader election: `POST` to the
//! collection creates (409 `AlreadyExists` when the name is taken), `PUT` to a named lease replaces
//! it with optimistic concurrency (409 `Conflict` when `metadata.resourceVersion` is not the stored
//! one; 404 `NotFound` when absent). Get, list and watch come from the generic routes through the
//! `Lease` row of the kind table. Every write bumps the global resourceVersion like any other
//! change, so lease watches work too.
//!
//! Errors are real Kubernetes `Status` bodies, so kube-rs reports them as `kube::Error::Api` with
//! the code and reason a real API server would send.

use axum::Json;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::cluster::SimCluster;
use crate::kinds::Target;

/// The kind this module serves writes for.
pub(crate) const KIND: &str = "Lease";

/// Handles a write (`POST` / `PUT`) to a lease path; other verbs get 405.
pub(crate) fn write(
    cluster: &SimCluster,
    target: &Target,
    method: &Method,
    body: &[u8],
) -> Response {
    let ns = target.ns.clone().unwrap_or_default();
    let Ok(mut obj) = serde_json::from_slice::<Value>(body) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body is not a JSON object",
        );
    };
    if !obj.is_object() {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body is not a JSON object",
        );
    }
    let meta = obj
        .as_object_mut()
        .map(|o| o.entry("metadata").or_insert_with(|| json!({})));
    let Some(meta) = meta.and_then(Value::as_object_mut) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "metadata is not an object",
        );
    };
    meta.insert("namespace".into(), ns.clone().into());
    let body_name = meta.get("name").and_then(Value::as_str).map(str::to_owned);
    match (method, &target.name) {
        (&Method::POST, None) => {
            let Some(name) = body_name else {
                return status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid",
                    "metadata.name: Required value",
                );
            };
            create(cluster, &ns, &name, obj)
        }
        (&Method::PUT, Some(name)) => {
            if body_name.as_deref().is_some_and(|b| b != name) {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "the name in the body does not match the URL",
                );
            }
            if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("name".into(), name.clone().into());
            }
            update(cluster, &ns, name, obj)
        }
        _ => status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "leases accept POST to the collection and PUT to a named lease",
        ),
    }
}

fn create(cluster: &SimCluster, ns: &str, name: &str, mut obj: Value) -> Response {
    cluster.with_state(|s| {
        if s.store.get(KIND, ns, name).is_some() {
            let message = format!("leases.coordination.k8s.io \"{name}\" already exists");
            return status(StatusCode::CONFLICT, "AlreadyExists", &message);
        }
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert(
                "uid".into(),
                format!("lease-{ns}-{name}-{}", s.store.rv() + 1).into(),
            );
            meta.insert("creationTimestamp".into(), "2025-01-01T00:00:00Z".into());
        }
        stored(s.store.upsert(KIND, obj), StatusCode::CREATED)
    })
}

fn update(cluster: &SimCluster, ns: &str, name: &str, mut obj: Value) -> Response {
    cluster.with_state(|s| {
        let Some(current) = s.store.get(KIND, ns, name) else {
            let message = format!("leases.coordination.k8s.io \"{name}\" not found");
            return status(StatusCode::NOT_FOUND, "NotFound", &message);
        };
        let rv_of = |v: &Value| {
            v.pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let ours = rv_of(&obj).filter(|rv| !rv.is_empty());
        if ours.is_some() && ours != rv_of(&current) {
            let message = format!(
                "Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\": \
                 the object has been modified; please apply your changes to the latest version and try again"
            );
            return status(StatusCode::CONFLICT, "Conflict", &message);
        }
        if let (Some(meta), Some(old)) = (
            obj.get_mut("metadata").and_then(Value::as_object_mut),
            current.get("metadata"),
        ) {
            for field in ["uid", "creationTimestamp"] {
                if let Some(v) = old.get(field) {
                    meta.insert(field.into(), v.clone());
                }
            }
        }
        stored(s.store.upsert(KIND, obj), StatusCode::OK)
    })
}

fn stored(event: Option<std::sync::Arc<crate::store::StoredEvent>>, code: StatusCode) -> Response {
    match event {
        Some(event) => (code, Json(event.object.as_ref().clone())).into_response(),
        None => status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            "the lease could not be stored",
        ),
    }
}

/// A Kubernetes `Status` failure response.
fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
        "details": { "group": "coordination.k8s.io", "kind": "leases" },
    });
    (code, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimConfig;
    use crate::kinds::parse_path;

    fn cluster() -> SimCluster {
        SimCluster::new(&SimConfig {
            churn_interval: None,
            ..SimConfig::default()
        })
    }

    fn lease(name: &str, holder: &str, rv: Option<&str>) -> Vec<u8> {
        let mut meta = json!({ "name": name });
        if let Some(rv) = rv {
            meta["resourceVersion"] = rv.into();
        }
        serde_json::to_vec(&json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
            "spec": { "holderIdentity": holder },
        }))
        .expect("json")
    }

    fn target(path: &str) -> Target {
        parse_path(path).expect("lease path")
    }

    #[test]
    fn a_lease_is_created_once_and_updated_only_from_its_current_version() {
        let c = cluster();
        let coll = target("/apis/coordination.k8s.io/v1/namespaces/default/leases");
        let one = target("/apis/coordination.k8s.io/v1/namespaces/default/leases/p");
        let r = write(&c, &coll, &Method::POST, &lease("p", "a", None));
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = write(&c, &coll, &Method::POST, &lease("p", "b", None));
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let rv = c
            .with_state(|s| s.store.get(KIND, "default", "p"))
            .and_then(|v| v.pointer("/metadata/resourceVersion").cloned())
            .and_then(|v| v.as_str().map(str::to_owned))
            .expect("stored rv");
        let r = write(&c, &one, &Method::PUT, &lease("p", "b", Some("1")));
        assert_eq!(r.status(), StatusCode::CONFLICT, "stale resourceVersion");
        let r = write(&c, &one, &Method::PUT, &lease("p", "b", Some(&rv)));
        assert_eq!(r.status(), StatusCode::OK);
        let holder = c
            .with_state(|s| s.store.get(KIND, "default", "p"))
            .and_then(|v| v.pointer("/spec/holderIdentity").cloned());
        assert_eq!(holder, Some(json!("b")));
        let missing = target("/apis/coordination.k8s.io/v1/namespaces/default/leases/q");
        let r = write(&c, &missing, &Method::PUT, &lease("q", "b", None));
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}
