//! A producer killed mid-churn and restarted: no seq regression, no duplicate, no epoch change
//! (Redis is intact), and every client converges on the cluster's state.

use crate::support::converge_both;
use crate::support::ready_pair;
use kubecast_shared::Seq;
use kubecast_shared::log::EventLog;
use kubecast_tests::init_logging;
use kubecast_tests::poll_client::PollClient;
use kubecast_tests::stack::Stack;
use kubecast_tests::ws_client::WsClient;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Steps the cluster every 10 ms until cancelled.
fn background_churn(
    cluster: kubecast_sim::SimCluster,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let stop = CancellationToken::new();
    let token = stop.clone();
    let task = tokio::spawn(async move {
        while !token.is_cancelled() {
            cluster.step();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    (stop, task)
}

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

    let log = stack.log().await;
    let page = log
        .read_range(Seq::ZERO, 1_000_000)
        .await
        .expect("read the log");
    assert!(
        page.meta.seq > head_before,
        "the restarted producer published"
    );
    let seqs: Vec<u64> = page.events.iter().map(|e| e.seq().0).collect();
    let contiguous: Vec<u64> = (1..=page.meta.seq.0).collect();
    assert_eq!(
        seqs, contiguous,
        "the log holds every seq once, in order, no regression"
    );
    stack.stop().await;
}
