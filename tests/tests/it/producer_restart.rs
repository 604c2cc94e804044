//! A producer killed mid-churn and restarted: no seq regression, no duplicate, no epoch change
//! (Redis is intact), and every client converges on the cluster's state.

use crate::support::ready_pair;
use crate::support::{background_churn, converge_both};
use kubecast_shared::log::EventLog;
use kubecast_tests::expected::assert_whole_log;
use kubecast_tests::init_logging;
use kubecast_tests::poll_client::PollClient;
use kubecast_tests::stack::Stack;
use kubecast_tests::ws_client::WsClient;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_killed_mid_churn_and_restarted_loses_nothing_and_keeps_the_epoch() {
    init_logging();
    let mut stack = Stack::start("restart", 13, 2).await;
    let (a, b) = ready_pair(&stack).await;
    let ws = WsClient::connect(&a, "", true).await.expect("connect");
    let poll = PollClient::start(&b, "", true);
    let (stop_churn, churn) = background_churn(stack.sim.cluster.clone());

    tokio::time::sleep(Duration::from_millis(800)).await;
    let epoch_before = ws.state().epoch.expect("epoch");
    let head_before = stack
        .log()
        .await
        .meta()
        .await
        .expect("meta")
        .expect("log exists")
        .seq;
    stack.kill_producer();
    tokio::time::sleep(Duration::from_millis(500)).await; // churn goes on with nobody publishing
    stack.start_producer().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop_churn.cancel();
    churn.await.expect("churn task");

    let (ws_state, _) = converge_both(&ws, poll, &stack.sim.cluster).await;
    assert_eq!(
        ws_state.resets, 0,
        "no reset: the restarted producer continued the same log"
    );
    assert_eq!(
        ws_state.epoch.as_deref(),
        Some(epoch_before.as_str()),
        "no epoch change while Redis is intact"
    );

    let page = assert_whole_log(&stack.log().await).await;
    assert!(
        page.meta.seq > head_before,
        "the restarted producer published"
    );
    stack.stop().await;
}
