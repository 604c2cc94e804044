//! Redis behind Sentinel: the primary is SIGKILLed during churn and Sentinel promotes the replica.
//! The producer and three fanout replicas follow the failover on the same `redis+sentinel://` URL
//! without restarting; every client converges on the cluster's state without a gap, a duplicate
//! or a misordered event (a reset onto a new epoch is allowed: asynchronous replication may lose
//! the last writes, which the producer detects and answers with a new epoch).

use crate::support::{background_churn, converge_both, ready_pair, wait_ready};
use kubecast_shared::testing::SentinelSet;
use kubecast_tests::expected::assert_whole_log;
use kubecast_tests::init_logging;
use kubecast_tests::poll_client::PollClient;
use kubecast_tests::redis::TestRedis;
use kubecast_tests::report::ScenarioRow;
use kubecast_tests::stack::Stack;
use kubecast_tests::ws_client::WsClient;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_during_churn_is_followed_and_no_client_diverges() {
    init_logging();
    let mut set = tokio::task::spawn_blocking(SentinelSet::start)
        .await
        .expect("start the sentinel set");
    let stack = Stack::start_on(TestRedis::External(set.url()), "sentinel", 23, 3).await;
    let (a, b) = ready_pair(&stack).await;
    wait_ready(stack.addr(2)).await;
    let ws = WsClient::connect(&a, "", true).await.expect("connect");
    let ws_third = WsClient::connect(stack.addr(2), "", true)
        .await
        .expect("connect");
    let poll = PollClient::start(&b, "", true);
    let (stop_churn, churn) = background_churn(stack.sim.cluster.clone());
    tokio::time::sleep(Duration::from_millis(800)).await;

    let fault = Instant::now();
    let (set_back, old, new) = tokio::task::spawn_blocking(move || {
        let old = set.kill_primary();
        let new = set.wait_for_failover(old, Duration::from_secs(30));
        (set, old, new)
    })
    .await
    .expect("fail over");
    set = set_back;
    let promoted_after = fault.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await; // churn on the new primary
    stop_churn.cancel();
    churn.await.expect("churn task");

    let (ws_state, poll_state) = converge_both(&ws, poll, &stack.sim.cluster).await;
    let expected = kubecast_tests::expected::cluster_state(&stack.sim.cluster);
    kubecast_tests::eventually!(40, "the third replica's client converges", async {
        crate::support::client_objects(&ws_third.state()) == expected
    });
    let converged_after = fault.elapsed();
    let third_state = ws_third.state();
    crate::support::assert_clean(&third_state, "ws on the third replica");
    println!(
        "sentinel failover: primary {old} killed, {new} promoted after {promoted_after:?}, \
         clients converged {converged_after:?} after the kill"
    );

    let page = assert_whole_log(&stack.log().await).await;
    let on_epoch = Some(page.meta.epoch.as_str());
    assert_eq!(
        ws_state.epoch.as_deref(),
        on_epoch,
        "clients on the log's epoch"
    );

    ScenarioRow::from_clients(
        "20-sentinel-failover",
        "Sentinel failover: producer + 3 replicas on redis+sentinel://, 2 WS + 1 polling client",
        "SIGKILL of the Redis primary during churn; Sentinel (quorum 2, down-after 1 s) promotes the replica",
        &[ws_state, poll_state, third_state],
        converged_after,
    )
    .record();
    stack.stop().await;
    drop(set);
}
