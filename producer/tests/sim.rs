//! End to end against the simulated API server: the producer's snapshot converges to the
//! projection of the simulated cluster's objects (every kind, and a CRD through the dynamic API),
//! through churn.

mod support;

use kubecast_producer::ProducerStats;
use kubecast_shared::log::{EventLog, MemoryLog};
use kubecast_sim::SimConfig;
use support::{converge, fast, sim_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_converges_to_the_simulated_cluster_through_churn() {
    // The default world: every kind the simulated cluster serves (StatefulSet, DaemonSet, CronJob,
    // Workflow, scenario namespaces), without automatic churn.
    let (sim, stop_sim) = sim_with(SimConfig {
        churn_interval: None,
        ..SimConfig::default()
    })
    .await;
    let url = sim.url.parse().expect("url");
    let client = kube::Client::try_from(kube::Config::new(url)).expect("client");
    let log = MemoryLog::new(100_000);
    let stats = ProducerStats::default();
    let cancel = stop_sim.child_token();
    let producer = tokio::spawn(kubecast_producer::run_with_stats(
        client,
        log.clone(),
        fast(),
        stats.clone(),
        cancel.clone(),
    ));

    converge(&log, &sim.cluster).await;
    for _ in 0..30 {
        sim.cluster.step();
    }
    converge(&log, &sim.cluster).await;

    let head = log.meta().await.expect("meta").expect("exists").seq;
    assert_eq!(head.0, stats.events_published.get());
    assert!(stats.watch_events.get() > 0);
    cancel.cancel();
    producer
        .await
        .expect("joins")
        .expect("producer stops cleanly");
    stop_sim.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_the_api_server_refuses_to_list_stops_start_up_with_an_error_naming_it() {
    let (sim, stop_sim) = sim_with(SimConfig {
        churn_interval: None,
        ..SimConfig::default()
    })
    .await;
    sim.cluster.forbid("Pod");
    sim.cluster.forbid("Workflow");
    let url = sim.url.parse().expect("url");
    let client = kube::Client::try_from(kube::Config::new(url)).expect("client");
    let log = MemoryLog::new(1000);
    let run = kubecast_producer::run(client, log.clone(), fast(), stop_sim.child_token());
    let result = tokio::time::timeout(std::time::Duration::from_secs(20), run)
        .await
        .expect("start-up fails fast instead of waiting for the list forever");
    let message = result.expect_err("refused").to_string();
    for expected in ["Pod: 403", "Workflow: 403", "--kinds"] {
        assert!(message.contains(expected), "{message}");
    }
    assert!(!message.contains("Service"), "{message}");
    assert!(log.meta().await.expect("meta").is_none(), "nothing written");
    stop_sim.cancel();
}
