//! The whole path: simulated cluster → producer → Redis → two fanout replicas → WS and poll clients.

use crate::support::ready_pair;
use crate::support::{assert_clean, churn, client_objects};
use kubecast_tests::expected::cluster_state;
use kubecast_tests::poll_client::PollClient;
use kubecast_tests::stack::*;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{eventually, init_logging};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_and_polling_clients_on_two_replicas_end_with_the_clusters_objects() {
    init_logging();
    let stack = Stack::start("path", 7, 2).await;
    let sim = &stack.sim;
    let (a, b) = ready_pair(&stack).await;

    let ws = WsClient::connect(&a, "", true).await.expect("ws connect");
    let poll = PollClient::start(&b, "", true);
    churn(&sim.cluster, 60).await;
    let expected = cluster_state(&sim.cluster);
    assert!(expected.len() > 20, "the simulated cluster has objects");

    eventually!(
        30,
        "the WebSocket client holds the cluster's objects",
        async { client_objects(&ws.state()) == expected }
    );
    eventually!(
        30,
        "the polling client holds the cluster's objects",
        async { client_objects(&poll.state()) == expected }
    );
    let ws_state = ws.state();
    let poll_state = poll.stop().await;
    assert_clean(&ws_state, "ws");
    assert_clean(&poll_state, "poll");
    assert_eq!(
        ws_state.snapshots, 1,
        "one snapshot at connect, then only events"
    );
    assert!(
        ws_state.applied > 0,
        "the WebSocket client received live events"
    );
    assert_eq!(
        client_objects(&ws_state),
        client_objects(&poll_state),
        "both clients hold the same projections"
    );

    stack.stop().await;
}
