//! The whole path: simulated cluster → producer → Redis → two fanout replicas → WS and poll clients.

use crate::support::{assert_clean, churn, client_objects, wait_ready};
use kubecast_tests::expected::cluster_state;
use kubecast_tests::poll_client::PollClient;
use kubecast_tests::stack::*;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{RedisServer, eventually, init_logging, unique_cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_and_polling_clients_on_two_replicas_end_with_the_clusters_objects() {
    init_logging();
    let redis = RedisServer::spawn();
    let name = unique_cluster("path");
    let (sim, sim_stop) = start_sim(quiet_sim_config(7)).await;
    let producer = spawn_producer(&sim.url, redis_log(&redis.url, &name, 100_000).await, fast_producer_config());
    let a = spawn_fanout(redis_log(&redis.url, &name, 100_000).await, fanout_config("a")).await;
    let b = spawn_fanout(redis_log(&redis.url, &name, 100_000).await, fanout_config("b")).await;
    wait_ready(&a.addr).await;
    wait_ready(&b.addr).await;

    let ws = WsClient::connect(&a.addr, "", true).await.expect("ws connect");
    let poll = PollClient::start(&b.addr, "", true);
    churn(&sim.cluster, 60).await;
    let expected = cluster_state(&sim.cluster);
    assert!(expected.len() > 20, "the simulated cluster has objects");

    eventually!(30, "the WebSocket client holds the cluster's objects", async { client_objects(&ws.state()) == expected });
    eventually!(30, "the polling client holds the cluster's objects", async { client_objects(&poll.state()) == expected });
    let ws_state = ws.state();
    let poll_state = poll.stop().await;
    assert_clean(&ws_state, "ws");
    assert_clean(&poll_state, "poll");
    assert_eq!(ws_state.snapshots, 1, "one snapshot at connect, then only events");
    assert!(ws_state.applied > 0, "the WebSocket client received live events");
    assert_eq!(ws_state.objects, poll_state.objects, "both clients hold the same projections");

    producer.stop().await.expect("producer stops cleanly");
    a.task.stop().await.expect("fanout a stops");
    b.task.stop().await.expect("fanout b stops");
    sim_stop.cancel();
}
