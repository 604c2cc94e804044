//! End to end against the simulated API server: the producer's snapshot converges to the
//! projection of the simulated cluster's objects, through churn.

use kubecast_producer::{ProducerConfig, ProducerStats, project_all};
use kubecast_shared::Event;
use kubecast_shared::log::{EventLog, MemoryLog};
use kubecast_sim::{SimConfig, serve};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

async fn snapshot(log: &MemoryLog) -> BTreeMap<String, Value> {
    let Ok(snap) = log.snapshot().await else {
        return BTreeMap::new();
    };
    snap.objects
        .iter()
        .map(|o| {
            let e: Event = serde_json::from_slice(&o.raw).expect("event");
            (e.key(), e.obj.unwrap_or_default())
        })
        .filter(|(key, _)| !key.starts_with("Summary/"))
        .collect()
}

fn expected(cluster: &kubecast_sim::SimCluster) -> BTreeMap<String, Value> {
    let objects = cluster.objects();
    project_all(objects.iter().map(|o| (o.kind.as_str(), &o.value))).expect("sim objects project")
}

/// Waits until the snapshot equals the cluster's projected state (or gives up after 20 s).
async fn converge(log: &MemoryLog, cluster: &kubecast_sim::SimCluster) {
    let mut last = (BTreeMap::new(), BTreeMap::new());
    for _ in 0..200 {
        let (want, got) = (expected(cluster), snapshot(log).await);
        if !want.is_empty() && want == got {
            return;
        }
        last = (want, got);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (want, got) = last;
    let missing: Vec<_> = want
        .keys()
        .filter(|k| !got.contains_key(*k))
        .take(5)
        .collect();
    let extra: Vec<_> = got
        .keys()
        .filter(|k| !want.contains_key(*k))
        .take(5)
        .collect();
    let differ: Vec<_> = want
        .iter()
        .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
        .take(2)
        .collect();
    panic!("snapshot did not converge: missing {missing:?}, extra {extra:?}, differing {differ:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_converges_to_the_simulated_cluster_through_churn() {
    let cancel = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let config = SimConfig {
        churn_interval: None,
        ..SimConfig::default()
    };
    let sim = serve(listener, config, cancel.child_token())
        .await
        .expect("sim serves");
    let url = sim.url.parse().expect("url");
    let client = kube::Client::try_from(kube::Config::new(url)).expect("client");
    let log = MemoryLog::new(100_000);
    let config = ProducerConfig {
        debounce: Duration::from_millis(20),
        max_wait: Duration::from_millis(100),
        // Every default kind, plus the simulated cluster's Workflow CRD through the dynamic API.
        watch: kubecast_producer::config::WatchConfig {
            resources: vec!["argoproj.io/v1alpha1/Workflow".parse().expect("resource")],
            ..Default::default()
        },
        ..ProducerConfig::default()
    };
    let stats = ProducerStats::default();
    let producer = tokio::spawn(kubecast_producer::run_with_stats(
        client,
        log.clone(),
        config,
        stats.clone(),
        cancel.child_token(),
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
}
