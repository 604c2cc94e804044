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
