//! Route tests driven with `tower::ServiceExt::oneshot`.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::SimConfig;

fn app() -> (Router, SimCluster) {
    let config = SimConfig {
        churn_interval: None,
        scenarios: vec![crate::Scenario::Random],
        ..SimConfig::default()
    };
    let cluster = SimCluster::new(&config);
    (
        router(AppState {
            cluster: cluster.clone(),
            shutdown: CancellationToken::new(),
        }),
        cluster,
    )
}

async fn call(router: &Router, uri: &str) -> (StatusCode, Value) {
    use tower::ServiceExt;
    let request = Request::get(uri).body(Body::empty()).expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn lists_carry_list_kind_resource_version_and_typed_items() {
    let (router, cluster) = app();
    let (status, body) = call(&router, "/apis/apps/v1/deployments").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["kind"].as_str(), body["apiVersion"].as_str()),
        (Some("DeploymentList"), Some("apps/v1"))
    );
    assert_eq!(
        body["metadata"]["resourceVersion"],
        cluster.resource_version().to_string()
    );
    assert_eq!(body["items"].as_array().map(Vec::len), Some(9));
    assert_eq!(body["items"][0]["kind"], "Deployment");
}

#[tokio::test]
async fn paging_stays_consistent_while_the_cluster_changes() {
    let (router, cluster) = app();
    let (_, first) = call(&router, "/api/v1/pods?limit=4").await;
    let rv = first["metadata"]["resourceVersion"].clone();
    let mut names: Vec<Value> = first["items"].as_array().cloned().unwrap_or_default();
    let expected = cluster
        .objects()
        .into_iter()
        .filter(|o| o.kind == "Pod")
        .count();
    let mut token = first["metadata"]["continue"].as_str().map(str::to_owned);
    for _ in 0..20 {
        cluster.step();
    }
    while let Some(t) = token {
        let (status, page) = call(&router, &format!("/api/v1/pods?limit=4&continue={t}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["metadata"]["resourceVersion"], rv);
        names.extend(page["items"].as_array().cloned().unwrap_or_default());
        token = page["metadata"]["continue"].as_str().map(str::to_owned);
    }
    assert_eq!(names.len(), expected);
}

#[tokio::test]
async fn an_unknown_continue_token_is_410_expired() {
    let (router, _) = app();
    let (status, body) = call(&router, "/api/v1/pods?limit=2&continue=sim-99-2").await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(
        (
            body["kind"].as_str(),
            body["reason"].as_str(),
            body["code"].as_u64()
        ),
        (Some("Status"), Some("Expired"), Some(410))
    );
}

#[tokio::test]
async fn namespaced_paths_filter_and_get_finds_one_object() {
    let (router, _) = app();
    let (_, body) = call(&router, "/api/v1/namespaces/shop/services").await;
    let items = body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|s| s["metadata"]["namespace"] == "shop"));
    let name = items[0]["metadata"]["name"].as_str().unwrap_or_default();
    let (status, svc) = call(&router, &format!("/api/v1/namespaces/shop/services/{name}")).await;
    assert_eq!(
        (status, svc["kind"].as_str()),
        (StatusCode::OK, Some("Service"))
    );
    let (status, ns) = call(&router, "/api/v1/namespaces/shop").await;
    assert_eq!(
        (status, ns["kind"].as_str()),
        (StatusCode::OK, Some("Namespace"))
    );
    let (status, missing) = call(&router, "/api/v1/namespaces/shop/pods/nope").await;
    assert_eq!(
        (status, missing["reason"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
}

#[tokio::test]
async fn a_watch_from_a_compacted_version_streams_one_410_error_event() {
    let (router, cluster) = app();
    cluster.compact_history();
    let (status, body) = call(&router, "/api/v1/pods?watch=1&resourceVersion=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["type"], "ERROR");
    assert_eq!(body["object"]["code"], json!(410));
    assert_eq!(body["object"]["reason"], "Expired");
    let message = body["object"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("too old resource version: 1 ("),
        "{message}"
    );
}

#[tokio::test]
async fn version_and_discovery_answer() {
    let (router, _) = app();
    assert_eq!(call(&router, "/version").await.1["major"], "1");
    assert_eq!(call(&router, "/apis").await.1["groups"][0]["name"], "apps");
    assert_eq!(
        call(&router, "/api/v1/widgets").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_forbidden_kind_answers_403_to_list_watch_and_get_and_other_kinds_still_work() {
    let (router, cluster) = app();
    cluster.forbid("Pod");
    for uri in [
        "/api/v1/pods",
        "/api/v1/pods?watch=1",
        "/api/v1/namespaces/shop/pods/web-1",
    ] {
        let (status, body) = call(&router, uri).await;
        assert_eq!(
            (status, body["reason"].as_str(), body["code"].as_u64()),
            (StatusCode::FORBIDDEN, Some("Forbidden"), Some(403)),
            "{uri}"
        );
    }
    let (status, _) = call(&router, "/api/v1/services").await;
    assert_eq!(status, StatusCode::OK);
}
