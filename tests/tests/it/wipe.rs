//! Redis wiped (restarted without persistence) → the producer starts a new epoch and republishes;
//! replicas resync; connected clients get a reset and converge on the cluster's state.

use crate::support::{assert_clean, churn, client_objects, wait_ready};
use kubecast_tests::expected::cluster_state;
use kubecast_tests::poll_client::PollClient;
use kubecast_tests::stack::*;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{eventually, init_logging};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiping_redis_starts_a_new_epoch_and_clients_reset_and_converge() {
    init_logging();
    let mut stack = Stack::start("wipe", 5, 1).await;
    let a = stack.addr(0).to_string();
    wait_ready(&a).await;
    let ws = WsClient::connect(&a, "", true).await.expect("connect");
    let poll = PollClient::start(&a, "", true);
    churn(&stack.sim.cluster, 10).await;
    eventually!(30, "client converges", async {
        client_objects(&ws.state()) == cluster_state(&stack.sim.cluster)
    });
    eventually!(30, "polling client converges", async {
        client_objects(&poll.state()) == cluster_state(&stack.sim.cluster)
    });
    let first_epoch = ws.state().epoch.expect("epoch");

    let cluster = stack.cluster_name.clone();
    stack.redis.wipe(&cluster).await;
    churn(&stack.sim.cluster, 10).await;
    eventually!(60, "client is reset onto a new epoch", async {
        let st = ws.state();
        st.resets >= 1 && st.epoch.as_deref() != Some(first_epoch.as_str())
    });
    churn(&stack.sim.cluster, 10).await;
    eventually!(30, "client converges after the wipe", async {
        client_objects(&ws.state()) == cluster_state(&stack.sim.cluster)
    });
    eventually!(30, "polling client converges after the wipe", async {
        client_objects(&poll.state()) == cluster_state(&stack.sim.cluster)
    });
    let polled = poll.stop().await;
    assert!(
        polled.resets >= 1,
        "the polling client got a 410 and reloaded the snapshot"
    );
    assert_eq!(
        polled.epoch,
        ws.state().epoch,
        "both clients are on the new epoch"
    );
    assert_clean(&ws.state(), "ws after wipe");
    assert_clean(&polled, "poll after wipe");
    assert!(
        !ws.is_closed(),
        "the socket stayed open through the Redis outage"
    );

    stack.stop().await;
}
