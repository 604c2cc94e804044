//! Helpers shared by the integration tests.

use kubecast_tests::client_state::ClientState;
use kubecast_tests::expected::compared_kinds;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The objects a client holds, limited to the watched kinds.
pub fn client_objects(state: &ClientState) -> BTreeMap<String, serde_json::Value> {
    state.objects_of(&compared_kinds())
}

/// Runs `n` churn steps with a short pause so watch events spread over debounce windows.
pub async fn churn(cluster: &kubecast_sim::SimCluster, n: usize) {
    for _ in 0..n {
        cluster.step();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

/// Steps the cluster every 10 ms until cancelled.
pub fn background_churn(
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

/// The head of the log as a replica reports it (`/events` answers `head`; a `410` answers `seq`).
pub async fn replica_head(addr: &str) -> u64 {
    let url = format!("http://{addr}/events?since=0&limit=1");
    let Ok(resp) = reqwest::get(url).await else {
        return 0;
    };
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    body["head"]
        .as_u64()
        .or_else(|| body["seq"].as_u64())
        .unwrap_or(0)
}

/// Waits until the replica answers `/readyz` with 200.
pub async fn wait_ready(addr: &str) {
    let url = format!("http://{addr}/readyz");
    kubecast_tests::eventually!(20, format!("{addr} ready"), async {
        matches!(reqwest::get(&url).await, Ok(r) if r.status().is_success())
    });
}

/// Asserts the client saw no broken promise.
pub fn assert_clean(state: &ClientState, who: &str) {
    assert_eq!(state.duplicates, 0, "{who}: duplicated events");
    assert_eq!(state.misordered, 0, "{who}: events out of order");
    assert_eq!(state.gaps, 0, "{who}: gaps in the event sequence");
}

/// Waits (40 s at most each) until the WebSocket and the polling client both hold exactly the
/// cluster's objects, stops the poller, and checks neither saw a gap or a duplicate; returns
/// both final states.
pub async fn converge_both(
    ws: &kubecast_tests::ws_client::WsClient,
    poll: kubecast_tests::poll_client::PollClient,
    cluster: &kubecast_sim::SimCluster,
) -> (ClientState, ClientState) {
    let expected = kubecast_tests::expected::cluster_state(cluster);
    kubecast_tests::eventually!(40, "the WebSocket client converges", async {
        client_objects(&ws.state()) == expected
    });
    kubecast_tests::eventually!(40, "the polling client converges", async {
        client_objects(&poll.state()) == expected
    });
    let ws_state = ws.state();
    let poll_state = poll.stop().await;
    assert_clean(&ws_state, "ws");
    assert_clean(&poll_state, "poll");
    (ws_state, poll_state)
}

/// The addresses of the stack's two replicas, once both answer `/readyz`.
pub async fn ready_pair(stack: &kubecast_tests::stack::Stack) -> (String, String) {
    let (a, b) = (stack.addr(0).to_string(), stack.addr(1).to_string());
    wait_ready(&a).await;
    wait_ready(&b).await;
    (a, b)
}
