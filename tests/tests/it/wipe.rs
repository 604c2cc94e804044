//! Redis wiped (restarted without persistence) → the producer starts a new epoch and republishes;
//! replicas resync; connected clients get a reset and converge on the cluster's state.

use crate::support::{assert_clean, churn, client_objects, wait_ready};
use kubecast_tests::expected::cluster_state;
use kubecast_tests::stack::*;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{RedisServer, eventually, init_logging, unique_cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiping_redis_starts_a_new_epoch_and_clients_reset_and_converge() {
    init_logging();
    let mut redis = RedisServer::spawn();
    let name = unique_cluster("wipe");
    let (sim, sim_stop) = start_sim(quiet_sim_config(5)).await;
    let producer = spawn_producer(&sim.url, redis_log(&redis.url, &name, 100_000).await, fast_producer_config());
    let a = spawn_fanout(redis_log(&redis.url, &name, 100_000).await, fanout_config("a")).await;
    wait_ready(&a.addr).await;
    let ws = WsClient::connect(&a.addr, "", true).await.expect("connect");
    churn(&sim.cluster, 10).await;
    eventually!(30, "client converges", async { client_objects(&ws.state()) == cluster_state(&sim.cluster) });
    let first_epoch = ws.state().epoch.expect("epoch");

    redis.restart_empty();
    churn(&sim.cluster, 10).await;
    eventually!(60, "client is reset onto a new epoch", async {
        let st = ws.state();
        st.resets >= 1 && st.epoch.as_deref() != Some(first_epoch.as_str())
    });
    churn(&sim.cluster, 10).await;
    eventually!(30, "client converges after the wipe", async { client_objects(&ws.state()) == cluster_state(&sim.cluster) });
    assert_clean(&ws.state(), "ws after wipe");
    assert!(!ws.is_closed(), "the socket stayed open through the Redis outage");

    producer.stop().await.expect("producer stops");
    a.task.stop().await.expect("a stops");
    sim_stop.cancel();
}
