//! Redis killed and restarted with its data (AOF, fsync always) during churn: the producer buffers
//! and retries, replicas reconnect, sockets stay open, and no client sees a gap, a duplicate, a
//! reset or an epoch change.

use crate::support::{assert_clean, client_objects, wait_ready};
use kubecast_shared::Seq;
use kubecast_shared::log::EventLog;
use kubecast_tests::expected::cluster_state;
use kubecast_tests::poll_client::PollClient;
use kubecast_tests::redis::TestRedis;
use kubecast_tests::stack::Stack;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{eventually, init_logging};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_with_its_data_during_churn_leaves_no_gap() {
    init_logging();
    let mut stack = Stack::start_on(TestRedis::persistent(), "redis-restart", 17, 2).await;
    let (a, b) = (stack.addr(0).to_string(), stack.addr(1).to_string());
    wait_ready(&a).await;
    wait_ready(&b).await;
    let ws = WsClient::connect(&a, "", true).await.expect("connect");
    let poll = PollClient::start(&b, "", true);
    let cluster = stack.sim.cluster.clone();
    let churn = tokio::spawn(async move {
        for _ in 0..300 {
            cluster.step();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    tokio::time::sleep(Duration::from_millis(600)).await;
    let epoch = ws.state().epoch.expect("epoch");
    stack.redis.process().kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stack.redis.process().start_again();
    churn.await.expect("churn");

    let expected = cluster_state(&stack.sim.cluster);
    eventually!(40, "the WebSocket client converges", async {
        client_objects(&ws.state()) == expected
    });
    eventually!(40, "the polling client converges", async {
        client_objects(&poll.state()) == expected
    });
    let ws_state = ws.state();
    let poll_state = poll.stop().await;
    assert_clean(&ws_state, "ws");
    assert_clean(&poll_state, "poll");
    assert_eq!(ws_state.resets, 0, "no reset: the log survived the restart");
    assert_eq!(ws_state.epoch.as_deref(), Some(epoch.as_str()));
    assert!(!ws.is_closed(), "the socket stayed open through the outage");

    let page = stack
        .log()
        .await
        .read_range(Seq::ZERO, 1_000_000)
        .await
        .expect("read the log");
    let seqs: Vec<u64> = page.events.iter().map(|e| e.seq().0).collect();
    assert_eq!(
        seqs,
        (1..=page.meta.seq.0).collect::<Vec<_>>(),
        "every seq once, in order"
    );
    stack.stop().await;
}
