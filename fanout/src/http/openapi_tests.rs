//! `docs/openapi.yaml` and the router cannot drift: the spec's paths are exactly the routes
//! registered in `http/mod.rs`, and every documented path is answered by a route (not the
//! router's fallback).

use crate::testkit::Fixture;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::collections::BTreeSet;
use tower::ServiceExt;

const SPEC: &str = include_str!("../../../docs/openapi.yaml");
const ROUTER_SOURCE: &str = include_str!("mod.rs");

/// The keys directly under `paths:` (two-space indent).
fn spec_paths() -> BTreeSet<String> {
    SPEC.lines()
        .skip_while(|l| *l != "paths:")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter_map(|l| l.strip_prefix("  /"))
        .filter_map(|l| l.strip_suffix(':'))
        .map(|p| format!("/{p}"))
        .collect()
}

/// The path literals of the `.route(…)` calls in `http/mod.rs`.
fn router_paths() -> BTreeSet<String> {
    ROUTER_SOURCE
        .split(".route(")
        .skip(1)
        .filter_map(|call| call.trim_start().strip_prefix('"'))
        .filter_map(|rest| rest.split('"').next())
        .map(String::from)
        .collect()
}

#[test]
fn the_spec_documents_exactly_the_routers_routes() {
    let (spec, router) = (spec_paths(), router_paths());
    assert!(router.len() >= 10, "routes found: {router:?}");
    assert_eq!(
        spec, router,
        "docs/openapi.yaml paths vs http/mod.rs routes"
    );
}

#[tokio::test]
async fn every_documented_path_is_answered_by_a_route() {
    let fx = Fixture::default().await;
    for path in spec_paths() {
        let concrete = path
            .replace("/client/{file}", "/client/kubecast.js")
            .replace("/dashboard/{file}", "/dashboard/app.js");
        let request = Request::get(concrete.as_str())
            .body(Body::empty())
            .expect("request");
        let response = fx.router().oneshot(request).await.expect("infallible");
        assert_ne!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_ne!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
    }
}
