//! A replica killed mid-stream, and one drained: their clients move to the others through nginx
//! and resume from their position.

use kubecast_tests::procs::deployment::Options;
use kubecast_tests::procs::scenario::Scenario;
use std::time::Duration;

const WS_CLIENTS: usize = 15;
const POLL_CLIENTS: usize = 3;

/// A scenario on the default deployment with this file's clients.
async fn start(id: &str) -> Scenario {
    Scenario::start(id, Options::default(), WS_CLIENTS, POLL_CLIENTS).await
}

/// Every client resumed (no reset), and some had to reconnect.
fn assert_resumed_without_reset(s: &Scenario) {
    for state in s.fleet.states() {
        assert_eq!(state.resets, 0, "clients resume from their position");
    }
    let reconnected = s.fleet.ws.iter().filter(|c| c.connections() > 1).count();
    assert!(reconnected > 0, "some clients were on the stopped replica");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_stream_moves_its_clients_without_loss() {
    let mut s = start("07-replica-killed").await;
    s.churn_for(Duration::from_secs(1)).await;
    s.deployment.kill_replica(0);
    s.churn_for(Duration::from_secs(2)).await;
    s.deployment.restart_replica(0).await;
    s.end_fault().await;
    assert_resumed_without_reset(&s);
    s.finish(
        "Replica killed mid-stream",
        "SIGKILL to 1 of 3 replicas during churn, restarted 2 s later",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_replica_hands_its_clients_over_without_loss() {
    let mut s = start("08-replica-drained").await;
    s.churn_for(Duration::from_secs(1)).await;
    let status = s.deployment.fanouts[1]
        .proc
        .terminate(Duration::from_secs(15))
        .await
        .expect("the replica drains and exits");
    assert!(
        status.success(),
        "a drain ends with exit status 0: {status}"
    );
    s.deployment.restart_replica(1).await;
    s.end_fault().await;
    assert_resumed_without_reset(&s);
    s.finish(
        "Replica drained (rolling update)",
        "SIGTERM to 1 of 3 replicas during churn: 1001 to its clients, exit, restart",
    )
    .await;
}
