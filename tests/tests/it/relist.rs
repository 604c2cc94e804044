//! A watch that cannot resume (its resourceVersion expired: `410 Gone`) relists, and the objects
//! deleted while the producer could not watch are published as `deleted` events.

use crate::support::{assert_clean, churn, client_objects, wait_ready};
use kubecast_tests::expected::cluster_state;
use kubecast_tests::stack::Stack;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{eventually, init_logging};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_watch_relists_and_publishes_the_deletes_it_missed() {
    init_logging();
    let stack = Stack::start("relist", 19, 1).await;
    let a = stack.addr(0).to_string();
    wait_ready(&a).await;
    let ws = WsClient::connect(&a, "", true).await.expect("connect");
    let cluster = &stack.sim.cluster;
    churn(cluster, 10).await;
    eventually!(30, "the client converges", async {
        client_objects(&ws.state()) == cluster_state(cluster)
    });

    // The producer cannot watch while objects disappear and the history that recorded it is lost.
    cluster.refuse_watches(true);
    cluster.cut_watches();
    let victims: Vec<(String, String, String)> = cluster
        .objects()
        .into_iter()
        .filter(|o| o.kind == "Pod" || o.kind == "Service")
        .take(4)
        .map(|o| (o.kind, o.ns, o.name))
        .collect();
    assert_eq!(victims.len(), 4, "the cluster has pods and services");
    for (kind, ns, name) in &victims {
        cluster.delete(kind, ns, name);
    }
    cluster.compact_history();
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.refuse_watches(false);

    eventually!(40, "the client converges after the relist", async {
        client_objects(&ws.state()) == cluster_state(cluster)
    });
    let state = ws.state();
    for (kind, ns, name) in &victims {
        assert!(
            !state.objects.contains_key(&format!("{kind}/{ns}/{name}")),
            "{kind}/{ns}/{name} was deleted"
        );
    }
    assert_clean(&state, "ws");
    assert_eq!(state.resets, 0, "a relist is not an epoch change");
    stack.stop().await;
}
