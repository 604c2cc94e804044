//! Legacy (non-aggregated) discovery derived from the kind table: `/api`, `/api/v1`, `/apis` and
//! `/apis/{group}/{version}`, enough for `kube::discovery::Discovery::run` and `oneshot` lookups
//! to find every served kind, including the `argoproj.io` Workflow custom resource.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::Error;
use crate::kinds::{KINDS, KindSpec};

/// Discovery routes; they need no state.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/api", get(api_versions))
        .route("/api/{version}", get(core_resources))
        .route("/apis", get(api_groups))
        .route("/apis/{group}/{version}", get(group_resources))
}

async fn api_versions() -> Json<Value> {
    Json(json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}))
}

/// Group versions (`apps/v1`, …) in kind-table order, each once.
fn group_versions() -> Vec<&'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    for spec in KINDS.iter().filter(|k| k.api_version.contains('/')) {
        if !seen.contains(&spec.api_version) {
            seen.push(spec.api_version);
        }
    }
    seen
}

async fn api_groups() -> Json<Value> {
    let groups: Vec<Value> = group_versions()
        .iter()
        .filter_map(|gv| gv.split_once('/'))
        .map(|(group, version)| {
            let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
            json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
}

fn resource(spec: &KindSpec) -> Value {
    json!({
        "name": spec.plural,
        "singularName": spec.kind.to_lowercase(),
        "namespaced": spec.namespaced,
        "kind": spec.kind,
        "verbs": ["get", "list", "watch"],
    })
}

fn resource_list(group_version: &str) -> Response {
    let resources: Vec<Value> = KINDS
        .iter()
        .filter(|k| k.api_version == group_version)
        .map(resource)
        .collect();
    if resources.is_empty() {
        return Error::UnknownPath.into_response();
    }
    let body = json!({
        "kind": "APIResourceList", "apiVersion": "v1",
        "groupVersion": group_version, "resources": resources,
    });
    (StatusCode::OK, Json(body)).into_response()
}

async fn core_resources(Path(version): Path<String>) -> Response {
    resource_list(&version)
}

async fn group_resources(Path((group, version)): Path<(String, String)>) -> Response {
    resource_list(&format!("{group}/{version}"))
}
