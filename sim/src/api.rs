//! HTTP routes: `/version`, discovery (see `discovery`), and get / list / watch for every kind in the table
//! (all-namespaces and namespaced paths). Only GET is served; other verbs answer 405 `Status`.
//!
//! List honours `limit` and `continue` (consistent snapshots, see `paging`); `resourceVersion` and
//! `resourceVersionMatch` are accepted but a list always answers with the current state and its RV.
//! `labelSelector` filters lists and watches (see `selector`); `fieldSelector` is ignored.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::cluster::SimCluster;
use crate::discovery;
use crate::error::{Error, Result};
use crate::kinds::{Target, parse_path};
use crate::lease;
use crate::selector::Selector;
use crate::watch;

/// Router state.
#[derive(Clone)]
pub(crate) struct AppState {
    pub cluster: SimCluster,
    /// Server shutdown: open watches end when it is cancelled.
    pub shutdown: CancellationToken,
}

/// The API server's routes.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/version", get(version))
        .merge(discovery::routes())
        .fallback(resource)
        .with_state(state)
}

async fn version() -> Json<Value> {
    Json(json!({
        "major": "1", "minor": "33", "gitVersion": "v1.33.0-kubecast-sim", "gitCommit": "",
        "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24",
        "compiler": "gc", "platform": "linux/amd64",
    }))
}

async fn resource(
    State(app): State<AppState>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    if method != Method::GET
        && let Some(target) = parse_path(uri.path()).filter(|t| t.spec.kind == lease::KIND)
    {
        return lease::write(&app.cluster, &target, &method, &body);
    }
    handle(&app, &method, &uri, &query).unwrap_or_else(IntoResponse::into_response)
}

fn handle(
    app: &AppState,
    method: &Method,
    uri: &Uri,
    query: &HashMap<String, String>,
) -> Result<Response> {
    let target = parse_path(uri.path()).ok_or(Error::UnknownPath)?;
    if method != Method::GET {
        return Err(Error::MethodNotAllowed);
    }
    if app.cluster.is_forbidden(target.spec.kind) {
        return Err(Error::Forbidden {
            plural: target.spec.plural,
        });
    }
    if let Some(name) = &target.name {
        return get_one(&app.cluster, &target, name);
    }
    if query.get("watch").is_some_and(|w| w == "true" || w == "1") {
        if app.cluster.watches_refused() {
            return Err(Error::Unavailable);
        }
        return watch::respond(app, &target, query);
    }
    list(&app.cluster, &target, query)
}

fn get_one(cluster: &SimCluster, target: &Target, name: &str) -> Result<Response> {
    let ns = target.ns.as_deref().unwrap_or("");
    let obj = cluster.with_state(|s| s.store.get(target.spec.kind, ns, name));
    let obj = obj.ok_or_else(|| Error::NotFound {
        plural: target.spec.plural,
        name: name.to_owned(),
    })?;
    Ok(Json(obj).into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    resource_version: String,
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    continue_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining_item_count: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody {
    api_version: &'static str,
    kind: &'static str,
    metadata: ListMeta,
    items: Vec<Arc<Value>>,
}

fn list(
    cluster: &SimCluster,
    target: &Target,
    query: &HashMap<String, String>,
) -> Result<Response> {
    let limit = match query.get("limit").map(String::as_str) {
        None | Some("") => 0,
        Some(l) => l.parse().map_err(|_| Error::BadParameter {
            param: "limit",
            value: l.to_owned(),
        })?,
    };
    let selector = Selector::parse(query.get("labelSelector").map_or("", String::as_str))?;
    let page = cluster.with_state(|s| match query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => s.pager.next(token, limit),
        None => {
            let mut items = s.store.items(target.spec.kind, target.ns.as_deref());
            items.retain(|o| selector.matches(o));
            Ok(s.pager.first(items, s.store.rv(), limit))
        }
    })?;
    let body = ListBody {
        api_version: target.spec.api_version,
        kind: target.spec.list_kind,
        metadata: ListMeta {
            resource_version: page.rv.to_string(),
            remaining_item_count: page.continue_token.is_some().then_some(page.remaining),
            continue_token: page.continue_token,
        },
        items: page.items,
    };
    Ok(Json(body).into_response())
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
