//! The producer killed, duplicated, or paused past its lease: the fence keeps one writer, no seq
//! regresses, and the log keeps its epoch.

use crate::support::{log_epoch, scenario_epoch};
use kubecast_tests::procs::deployment::Options;
use kubecast_tests::procs::scenario::Scenario;
use std::time::Duration;

const WS_CLIENTS: usize = 10;
const POLL_CLIENTS: usize = 3;

/// A scenario on the default deployment with this file's clients.
async fn start(id: &str) -> Scenario {
    Scenario::start(id, Options::default(), WS_CLIENTS, POLL_CLIENTS).await
}

async fn assert_same_epoch(s: &Scenario, epoch: &str) {
    let d = &s.deployment;
    assert_eq!(
        log_epoch(&d.redis.url, &d.cluster).await,
        epoch,
        "no new epoch"
    );
    for state in s.fleet.states() {
        assert_eq!(state.resets, 0, "no client reset");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_killed_and_restarted_continues_the_log() {
    let mut s = start("09-producer-killed").await;
    let epoch = scenario_epoch(&s).await;
    s.churn_for(Duration::from_secs(1)).await;
    s.deployment.producer.as_mut().expect("producer").kill();
    s.churn_for(Duration::from_secs(1)).await;
    s.deployment.producer = Some(s.deployment.spawn_producer("producer-2", &[]));
    s.churn_for(Duration::from_secs(1)).await;
    s.end_fault().await;
    assert_same_epoch(&s, &epoch).await;
    s.finish(
        "Producer killed and restarted",
        "SIGKILL to the producer during churn; a new one starts 1 s later",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_producer_fences_the_first_which_stops() {
    let mut s = start("10-producer-duplicated").await;
    let epoch = scenario_epoch(&s).await;
    s.churn_for(Duration::from_secs(1)).await;
    let mut old = s.deployment.producer.take().expect("producer");
    s.deployment.producer = Some(s.deployment.spawn_producer("producer-2", &[]));
    let exit = old.wait_exit(Duration::from_secs(20)).await;
    let status = exit.unwrap_or_else(|| panic!("the fenced producer stops:\n{}", old.log_tail(20)));
    assert!(!status.success(), "the fenced producer exits with an error");
    let said = std::fs::read_to_string(&old.log_path).unwrap_or_default();
    assert!(
        said.contains("another producer took over the log"),
        "it says it was fenced:\n{}",
        old.log_tail(20)
    );
    s.churn_for(Duration::from_secs(1)).await;
    s.end_fault().await;
    s.deployment.assert_producer_running();
    assert_same_epoch(&s, &epoch).await;
    s.finish(
        "Producer duplicated",
        "a second producer starts beside the first during churn (newer fence)",
    )
    .await;
}

fn leader_flags() -> Vec<String> {
    [
        "--leader-elect",
        "--lease-duration",
        "2s",
        "--renew-every",
        "500ms",
    ]
    .map(String::from)
    .to_vec()
}

/// The Lease's holder, as the simulated API server stores it.
async fn lease_holder(sim_url: &str) -> String {
    let url = format!(
        "{sim_url}/apis/coordination.k8s.io/v1/namespaces/default/leases/kubecast-producer"
    );
    let lease: serde_json::Value = reqwest::get(url)
        .await
        .expect("get the lease")
        .json()
        .await
        .expect("lease json");
    lease["spec"]["holderIdentity"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_paused_past_its_lease_is_fenced_when_it_resumes() {
    let options = Options {
        producer_flags: leader_flags(),
        ..Options::default()
    };
    let mut s = Scenario::start("11-producer-paused", options, WS_CLIENTS, POLL_CLIENTS).await;
    let sim_url = s.deployment.sim.url.clone();
    assert_eq!(lease_holder(&sim_url).await, "producer");
    let epoch = scenario_epoch(&s).await;
    let follower = s.deployment.spawn_producer("producer-b", &leader_flags());
    s.churn_for(Duration::from_secs(1)).await;
    let leader = s.deployment.producer.take().expect("producer");
    leader.pause();
    s.churn_for(Duration::from_secs(5)).await;
    // Due after one lease (2 s); a starved machine may need longer, never forever.
    kubecast_tests::eventually!(15, "the follower took over", async {
        lease_holder(&sim_url).await == "producer-b"
    });
    leader.resume();
    s.churn_for(Duration::from_secs(2)).await;
    s.deployment.producer = Some(follower);
    s.end_fault().await;
    assert_eq!(
        lease_holder(&sim_url).await,
        "producer-b",
        "the old leader did not take back"
    );
    assert_same_epoch(&s, &epoch).await;
    drop(leader);
    s.finish(
        "Leader paused past its lease",
        "SIGSTOP to the leading producer for 5 s (lease 2 s), a follower takes over, SIGCONT",
    )
    .await;
}
