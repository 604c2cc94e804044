//! Prometheus metrics of the producer (prefix `kubecast_producer_`, base units, `_total`
//! counters, no per-object labels) and the tiny HTTP server that exposes them at `/metrics`, with
//! `/healthz` beside it.

use crate::stats::ProducerStats;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A registry holding every metric of `stats`.
pub fn registry(stats: &ProducerStats) -> Registry {
    let mut r = Registry::with_prefix("kubecast_producer");
    let c = |c: &crate::stats::Counter| c.0.clone();
    r.register(
        "watch_events",
        "Watch events received, by kind",
        stats.watch_events_by_kind.clone(),
    );
    r.register(
        "watch_errors",
        "Watch stream errors",
        c(&stats.watch_errors),
    );
    r.register(
        "events_published",
        "Events appended to the log",
        c(&stats.events_published),
    );
    r.register(
        "coalesced",
        "Changes coalesced into a pending one by the debouncer",
        c(&stats.coalesced),
    );
    r.register(
        "suppressed",
        "Flushed objects whose projection had not changed",
        c(&stats.suppressed),
    );
    r.register("batches", "Batches appended to the log", c(&stats.batches));
    r.register(
        "redis_errors",
        "Failed event-log operations (retried or resolved)",
        c(&stats.log_failures),
    );
    r.register(
        "epochs_started",
        "Log epochs created by this producer",
        c(&stats.epochs_started),
    );
    r.register(
        "lease_transitions",
        "Times this replica became leader",
        c(&stats.lease_transitions),
    );
    r.register(
        "leader",
        "1 while this replica is the leader that publishes",
        stats.leader.clone(),
    );
    r.register(
        "unlisted_scopes",
        "Watch scopes whose first list has not completed (nothing is published while above 0)",
        stats.unlisted.clone(),
    );
    r.register(
        "pending_objects",
        "Objects with a change not yet published",
        stats.pending.clone(),
    );
    r.register_with_unit(
        "append_duration",
        "Latency of event-log appends",
        prometheus_client::registry::Unit::Seconds,
        stats.append_seconds.clone(),
    );
    r
}

/// The routes: `/metrics` (text exposition) and `/healthz`.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(registry)
}

async fn metrics(State(registry): State<Arc<Registry>>) -> impl IntoResponse {
    kubecast_shared::metrics::exposition(&registry)
}

/// Serves the metrics on `listener` until `cancel` fires.
pub async fn serve(
    listener: TcpListener,
    stats: ProducerStats,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let app = router(Arc::new(registry(&stats)));
    axum::serve(listener, app)
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    #[tokio::test]
    async fn metrics_are_exposed_with_the_prefix_and_base_units() {
        let stats = ProducerStats::default();
        stats.watch_event("Pod");
        stats.events_published.add(3);
        stats.append_seconds.observe(0.002);
        stats.leader.set(1);
        let app = router(Arc::new(registry(&stats)));
        let request = Request::get("/metrics")
            .body(Body::empty())
            .expect("request");
        let response = app.oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        let body = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&body);
        for line in [
            "kubecast_producer_watch_events_total{kind=\"Pod\"} 1",
            "kubecast_producer_events_published_total 3",
            "kubecast_producer_leader 1",
            "kubecast_producer_append_duration_seconds_bucket{le=\"0.0025\"} 1",
            "kubecast_producer_redis_errors_total 0",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }
}
