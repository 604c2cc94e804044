//! Redis killed and restarted with its data (AOF, fsync always) during churn: the producer buffers
//! and retries, replicas reconnect, sockets stay open, and no client sees a gap, a duplicate, a
//! reset or an epoch change.

use crate::support::converge_both;
use crate::support::ready_pair;
use kubecast_tests::expected::assert_whole_log;
use kubecast_tests::init_logging;
use kubecast_tests::poll_client::PollClient;
use kubecast_tests::redis::TestRedis;
use kubecast_tests::stack::Stack;
use kubecast_tests::ws_client::WsClient;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_with_its_data_during_churn_leaves_no_gap() {
    init_logging();
    let mut stack = Stack::start_on(TestRedis::persistent(), "redis-restart", 17, 2).await;
    let (a, b) = ready_pair(&stack).await;
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

    let (ws_state, _) = converge_both(&ws, poll, &stack.sim.cluster).await;
    assert_eq!(ws_state.resets, 0, "no reset: the log survived the restart");
    assert_eq!(ws_state.epoch.as_deref(), Some(epoch.as_str()));
    assert!(!ws.is_closed(), "the socket stayed open through the outage");

    assert_whole_log(&stack.log().await).await;
    stack.stop().await;
}
