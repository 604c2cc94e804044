//! Route tests driven with `oneshot` against a router over a `MemoryLog` followed by a real tail.

use crate::testkit::{Fixture, test_config};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use kubecast_shared::Op;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

async fn get_raw(router: Router, uri: &str) -> (StatusCode, String, Vec<u8>) {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    let response = router.oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, content_type, body.to_vec())
}

async fn get(router: Router, uri: &str) -> (StatusCode, Value) {
    let (status, _, body) = get_raw(router, uri).await;
    (status, serde_json::from_slice(&body).expect("json body"))
}

fn seqs(page: &Value) -> Vec<u64> {
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect()
}

#[tokio::test]
async fn event_pages_follow_next_and_report_the_head() {
    let mut fx = Fixture::default().await;
    fx.append_pods("shop", 10).await;
    let (status, page) = get(fx.router(), "/events?since=0&epoch=e1&limit=4").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seqs(&page), vec![1, 2, 3, 4]);
    assert_eq!(
        (page["next"].as_u64(), page["head"].as_u64()),
        (Some(4), Some(10))
    );
    assert_eq!(page["epoch"], "e1");
    let (_, page) = get(fx.router(), "/events?since=8&epoch=e1&limit=4").await;
    assert_eq!(seqs(&page), vec![9, 10]);
    assert_eq!(page["next"], 10);
    let (_, page) = get(fx.router(), "/events?since=10").await;
    assert_eq!(seqs(&page), Vec::<u64>::new());
    assert_eq!(page["next"], 10);
    let (_, page) = get(fx.router(), "/events").await;
    assert_eq!(seqs(&page).len(), 10, "no since means from the start");
}

#[tokio::test]
async fn a_filtered_poll_still_advances_next() {
    let mut fx = Fixture::default().await;
    fx.append_pods("shop", 3).await;
    fx.append_pods("web", 3).await;
    let (_, page) = get(fx.router(), "/events?since=0&ns=web").await;
    assert_eq!(seqs(&page), vec![4, 5, 6]);
    let (_, page) = get(fx.router(), "/events?since=3&ns=shop").await;
    assert_eq!(seqs(&page), Vec::<u64>::new());
    assert_eq!(page["next"], 6);
    let (_, page) = get(fx.router(), "/events?since=0&kinds=Service").await;
    assert_eq!((seqs(&page).len(), page["next"].as_u64()), (0, Some(6)));
}

#[tokio::test]
async fn cursors_older_than_the_ring_are_read_from_the_log() {
    let config = crate::FanoutConfig {
        ring_capacity: 5,
        ..test_config()
    };
    let mut fx = Fixture::start(1000, config).await;
    fx.append_pods("shop", 20).await;
    let (status, page) = get(fx.router(), "/events?since=2&epoch=e1&limit=3").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seqs(&page), vec![3, 4, 5]);
    assert_eq!(
        (page["next"].as_u64(), page["head"].as_u64()),
        (Some(5), Some(20))
    );
}

#[tokio::test]
async fn unusable_cursors_get_a_410_reset() {
    let config = crate::FanoutConfig {
        ring_capacity: 5,
        ..test_config()
    };
    let mut fx = Fixture::start(5, config).await;
    fx.append_pods("shop", 20).await;
    let cases = [
        ("/events?since=18&epoch=other", "epoch"),
        ("/events?since=2&epoch=e1", "trimmed"),
        ("/events", "trimmed"),
        ("/events?since=50&epoch=e1", "ahead"),
    ];
    for (uri, reason) in cases {
        let (status, body) = get(fx.router(), uri).await;
        assert_eq!(status, StatusCode::GONE, "{uri}");
        assert_eq!(body["type"], "reset");
        assert_eq!(body["reason"], reason, "{uri}");
        assert_eq!(
            (body["epoch"].as_str(), body["seq"].as_u64()),
            (Some("e1"), Some(20))
        );
    }
}

#[tokio::test]
async fn malformed_queries_get_a_400_json_error() {
    let fx = Fixture::default().await;
    let cases = [
        "since=-1",
        "since=abc",
        "since=",
        "since=1.5",
        "since=99999999999999999999999",
        "limit=0",
        "limit=-5",
        "limit=ten",
        "limit=99999999999999999999999",
        "wait=-1",
        "wait=2.5",
        "wait=soon",
        "ns=a%20b",
        "kinds=Pod%22",
        "since=1&since=2",
    ];
    for q in cases {
        for path in ["/events", "/snapshot", "/ws"] {
            let uri = format!("{path}?{q}");
            let (status, body) = get(fx.router(), &uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
            assert_eq!(body["error"]["code"], "bad_request", "{uri}");
        }
    }
}

#[tokio::test]
async fn a_long_poll_returns_as_soon_as_a_matching_event_arrives() {
    let mut fx = Fixture::default().await;
    fx.append_pods("shop", 2).await;
    let router = fx.router();
    let poll = tokio::spawn(async move { get(router, "/events?since=2&ns=web&wait=10").await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    fx.append_pods("shop", 1).await;
    fx.append_pods("web", 1).await;
    let (status, page) = tokio::time::timeout(std::time::Duration::from_secs(5), poll)
        .await
        .expect("answered before the wait expired")
        .expect("task");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seqs(&page), vec![4]);
}

#[tokio::test]
async fn the_snapshot_is_filtered_and_carries_summaries_separately() {
    let mut fx = Fixture::default().await;
    fx.append(&[
        ("shop", "Pod", "a", Op::Added),
        ("web", "Pod", "b", Op::Added),
        ("shop", "Service", "c", Op::Added),
        ("shop", "Summary", "shop", Op::Summary),
        ("shop", "Pod", "d", Op::Added),
        ("shop", "Pod", "d", Op::Deleted),
    ])
    .await;
    let (status, snap) = get(fx.router(), "/snapshot?ns=shop&kinds=Pod").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = snap["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, vec!["a"]);
    assert_eq!(
        (snap["epoch"].as_str(), snap["seq"].as_u64()),
        (Some("e1"), Some(6))
    );
    let (_, snap) = get(fx.router(), "/snapshot?ns=shop").await;
    assert_eq!(snap["objects"].as_array().map(Vec::len), Some(2));
    assert_eq!(snap["summaries"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn probes_and_the_live_page_are_served() {
    let fx = Fixture::default().await;
    assert_eq!(get(fx.router(), "/healthz").await.0, StatusCode::OK);
    assert_eq!(get(fx.router(), "/readyz").await.0, StatusCode::OK);
    let (status, content_type, _) = get_raw(fx.router(), "/kubecast.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("text/javascript"),
        "{content_type}"
    );
    let (status, content_type, _) = get_raw(fx.router(), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"));
    let (status, _, _) = get_raw(fx.router(), "/client/kubecast.js").await;
    assert_eq!(status, StatusCode::OK);
    fx.cancel.cancel();
    let (status, body) = get(fx.router(), "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"]["code"], "unavailable");
}

#[tokio::test]
async fn readiness_waits_for_the_tail_to_load_the_log() {
    let app = crate::AppState::new(
        kubecast_shared::log::MemoryLog::new(10),
        test_config(),
        Default::default(),
    );
    let (status, _) = get(crate::router(app), "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

fn query_string() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("since"),
        Just("epoch"),
        Just("ns"),
        Just("kinds"),
        Just("limit"),
        Just("wait"),
        Just("x")
    ];
    let value = prop_oneof![
        "[0-9]{0,25}",
        "-?[0-9a-zA-Z.,%+_~-]{0,20}",
        Just("%FF%FE".to_string()),
        Just("18446744073709551615".to_string()),
    ];
    prop::collection::vec((key, value), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn no_query_string_gives_a_500(q in prop_oneof![query_string(), "[ -~]{0,40}"]) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let mut fx = Fixture::start(5, crate::FanoutConfig {
                ring_capacity: 3,
                catchup_wait: std::time::Duration::from_millis(5),
                ..test_config()
            }).await;
            fx.append_pods("shop", 8).await;
            for path in ["/events", "/snapshot", "/ws"] {
                let Ok(request) = Request::get(format!("{path}?{q}").as_str()).body(Body::empty()) else { continue };
                let response = fx.router().oneshot(request).await.expect("infallible");
                prop_assert!(!response.status().is_server_error(), "{path}?{q} gave {}", response.status());
            }
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn metrics_count_answers_by_status_and_catch_ups_by_source() {
    let config = crate::FanoutConfig {
        ring_capacity: 5,
        ..test_config()
    };
    let mut fx = Fixture::start(1000, config).await;
    fx.append_pods("shop", 20).await;
    assert_eq!(get(fx.router(), "/events?since=18").await.0, StatusCode::OK);
    assert_eq!(get(fx.router(), "/events?since=2").await.0, StatusCode::OK);
    assert_eq!(
        get(fx.router(), "/events?since=x").await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, content_type, body) = get_raw(fx.router(), "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("application/openmetrics-text"));
    let text = String::from_utf8_lossy(&body);
    for line in [
        r#"kubecast_fanout_catchups_total{source="ring"} 1"#,
        r#"kubecast_fanout_catchups_total{source="redis"} 1"#,
        r#"kubecast_fanout_events_requests_total{code="200"} 2"#,
        r#"kubecast_fanout_events_requests_total{code="400"} 1"#,
        "kubecast_fanout_connections 0",
        "kubecast_fanout_reader_lag_seqs 0",
        "# TYPE kubecast_fanout_event_freshness_seconds histogram",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn an_unknown_file_is_a_json_404_naming_it() {
    let fx = Fixture::default().await;
    let (status, body) = get(fx.router(), "/dashboard/nope.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(message.contains("/dashboard/nope.js"), "{message}");
}

/// The answer to `GET uri` with `If-None-Match: etag` (none when empty).
async fn get_if_none_match(router: Router, uri: &str, etag: &str) -> axum::response::Response {
    let mut request = Request::get(uri);
    if !etag.is_empty() {
        request = request.header("if-none-match", etag);
    }
    let request = request.body(Body::empty()).expect("request");
    router.oneshot(request).await.expect("infallible")
}

#[tokio::test]
async fn a_file_is_revalidated_by_its_etag() {
    let fx = Fixture::default().await;
    let path = "/client/kubecast.js";
    let first = get_if_none_match(fx.router(), path, "").await;
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let etag = first.headers()["etag"]
        .to_str()
        .expect("ascii etag")
        .to_string();
    let again = get_if_none_match(fx.router(), path, &etag).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let stale = get_if_none_match(fx.router(), path, "\"0\"").await;
    assert_eq!(stale.status(), StatusCode::OK);
}
