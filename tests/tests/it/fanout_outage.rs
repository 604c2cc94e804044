//! A replica cut off from Redis (TCP proxy) while the producer keeps publishing: live sockets
//! stay open, `/events` answers 503 with `Retry-After` when it would need Redis, and after the
//! link is restored the replica resumes from its last seq — no client sees a gap, a duplicate or
//! a reset.

use crate::support::converge_both;
use crate::support::{churn, wait_ready};
use kubecast_shared::testing::TcpProxy;
use kubecast_tests::init_logging;
use kubecast_tests::poll_client::PollClient;
use kubecast_tests::redis::TestRedis;
use kubecast_tests::stack::{Stack, fanout_config, redis_log, spawn_fanout};
use kubecast_tests::ws_client::WsClient;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_cut_off_from_redis_keeps_its_sockets_and_resumes_without_a_gap() {
    init_logging();
    let mut stack = Stack::start_on(TestRedis::persistent(), "fanout-outage", 23, 0).await;
    let port = stack.redis.process().port;
    let proxy = TcpProxy::start(port).await;
    let log = redis_log(&proxy.url, &stack.cluster_name, 100_000).await;
    let config = kubecast_fanout::FanoutConfig {
        ring_capacity: 20,
        ..fanout_config("behind-proxy")
    };
    let replica = spawn_fanout(log, config).await;
    let addr = replica.addr.clone();
    wait_ready(&addr).await;
    let ws = WsClient::connect(&addr, "", true).await.expect("connect");
    let poll = PollClient::start(&addr, "", true);
    churn(&stack.sim.cluster, 40).await;

    proxy.cut();
    churn(&stack.sim.cluster, 60).await;
    let old_cursor = reqwest::get(format!("http://{addr}/events?since=1"))
        .await
        .expect("the replica answers");
    assert_eq!(
        old_cursor.status(),
        503,
        "a cursor older than the ring needs Redis"
    );
    assert_eq!(
        old_cursor
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!ws.is_closed(), "live sockets stay open through the outage");

    proxy.restore();
    churn(&stack.sim.cluster, 40).await;
    let (ws_state, _) = converge_both(&ws, poll, &stack.sim.cluster).await;
    assert_eq!(ws_state.resets, 0, "the replica resumed from its last seq");
    assert!(!ws.is_closed());
    replica
        .task
        .stop()
        .await
        .expect("the replica stops cleanly");
    stack.stop().await;
}
