//! A client that disconnects, misses events and resumes with `since` on the other replica gets
//! every missed event exactly once, and no snapshot.

use crate::support::{assert_clean, churn, client_objects, replica_head, wait_ready};
use kubecast_tests::expected::cluster_state;
use kubecast_tests::stack::*;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{RedisServer, eventually, init_logging, unique_cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_on_the_other_replica_delivers_every_missed_event_exactly_once() {
    init_logging();
    let redis = RedisServer::spawn();
    let name = unique_cluster("resume");
    let (sim, sim_stop) = start_sim(quiet_sim_config(11)).await;
    let producer = spawn_producer(&sim.url, redis_log(&redis.url, &name, 100_000).await, fast_producer_config());
    let a = spawn_fanout(redis_log(&redis.url, &name, 100_000).await, fanout_config("a")).await;
    let b = spawn_fanout(redis_log(&redis.url, &name, 100_000).await, fanout_config("b")).await;
    wait_ready(&a.addr).await;
    wait_ready(&b.addr).await;

    let ws = WsClient::connect(&a.addr, "", true).await.expect("connect to a");
    churn(&sim.cluster, 20).await;
    eventually!(30, "first client converges", async { client_objects(&ws.state()) == cluster_state(&sim.cluster) });
    let before = ws.disconnect().await;
    let left_at = before.last_seq;

    churn(&sim.cluster, 40).await;
    eventually!(30, "replica b saw the missed events", async { replica_head(&b.addr).await > left_at + 10 });

    let resumed = WsClient::resume(&b.addr, before, "").await.expect("resume on b");
    eventually!(30, "resumed client converges", async { client_objects(&resumed.state()) == cluster_state(&sim.cluster) });
    let after = resumed.state();
    assert_clean(&after, "resumed client");
    assert!(!resumed.frame_types().iter().any(|t| t == "snapshot" || t == "reset"), "resume replays, no snapshot: {:?}", resumed.frame_types());
    let replayed: Vec<u64> = after.seqs.iter().copied().filter(|s| *s > left_at).collect();
    let expected: Vec<u64> = (left_at + 1..=after.last_seq).collect();
    assert_eq!(replayed, expected, "every missed event exactly once, in order");

    producer.stop().await.expect("producer stops");
    a.task.stop().await.expect("a stops");
    b.task.stop().await.expect("b stops");
    sim_stop.cancel();
}
