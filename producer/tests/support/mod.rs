//! Shared helpers of the producer's HA integration tests: the simulated API server, producers on
//! a real Redis log, log checks and a TCP proxy that can cut Redis off.

#![allow(dead_code)]

use kubecast_producer::{LazyLog, ProducerConfig, ProducerStats, project_all};
use kubecast_shared::config::LogArgs;
use kubecast_shared::log::{EventLog, LogMeta};
use kubecast_shared::{Event, Op, Seq};
use kubecast_sim::{SimCluster, SimConfig, SimServer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A small quiet simulated cluster (2 namespaces × 2 deployments, no automatic churn).
pub async fn sim() -> (SimServer, CancellationToken) {
    sim_with(SimConfig {
        churn_interval: None,
        namespaces: 2,
        deployments_per_namespace: 2,
        ..SimConfig::default()
    })
    .await
}

/// A simulated cluster with `config`.
pub async fn sim_with(config: SimConfig) -> (SimServer, CancellationToken) {
    let cancel = CancellationToken::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sim");
    let sim = kubecast_sim::serve(listener, config, cancel.clone())
        .await
        .expect("sim");
    (sim, cancel)
}

pub fn log(url: &str, cluster: &str) -> LazyLog {
    LazyLog::new(LogArgs {
        redis_url: Some(url.into()),
        cluster: cluster.into(),
        retention_events: 100_000,
    })
}

/// Short debounce; every default kind plus the simulated cluster's Workflow CRD (dynamic API).
pub fn fast() -> ProducerConfig {
    ProducerConfig {
        debounce: Duration::from_millis(20),
        max_wait: Duration::from_millis(100),
        watch: kubecast_producer::config::WatchConfig {
            resources: vec!["argoproj.io/v1alpha1/Workflow".parse().expect("resource")],
            ..Default::default()
        },
        ..ProducerConfig::default()
    }
}

/// A running producer.
pub struct Producer {
    pub stats: ProducerStats,
    pub cancel: CancellationToken,
    pub task: JoinHandle<kubecast_producer::Result<()>>,
}

pub fn spawn(sim_url: &str, log: LazyLog, config: ProducerConfig) -> Producer {
    let client =
        kube::Client::try_from(kube::Config::new(sim_url.parse().expect("url"))).expect("client");
    let stats = ProducerStats::default();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(kubecast_producer::run_with_stats(
        client,
        log,
        config,
        stats.clone(),
        cancel.clone(),
    ));
    Producer {
        stats,
        cancel,
        task,
    }
}

/// The projected state of the simulated cluster (leases are not published).
pub fn expected(cluster: &SimCluster) -> BTreeMap<String, Value> {
    let objects = cluster.objects();
    project_all(
        objects
            .iter()
            .filter(|o| o.kind != "Lease")
            .map(|o| (o.kind.as_str(), &o.value)),
    )
    .expect("sim objects project")
}

pub async fn snapshot(log: &impl EventLog) -> BTreeMap<String, Value> {
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

/// Waits (up to 20 s) until the log's snapshot equals the cluster's projected state; on failure
/// says which keys are missing, extra or different.
pub async fn converge(log: &impl EventLog, cluster: &SimCluster) {
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

/// Waits (up to `secs`) for `cond`.
pub async fn eventually(secs: u64, what: &str, mut cond: impl AsyncFnMut() -> bool) {
    for _ in 0..secs * 20 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

pub async fn meta(log: &impl EventLog) -> LogMeta {
    log.meta().await.expect("meta").expect("log exists")
}

/// Checks the whole log: seqs 1..=head without gap or repeat, every event in the current epoch,
/// and no event that repeats the previous state of its object (no duplicate publication).
pub async fn assert_contiguous(log: &impl EventLog) -> Vec<Event> {
    let read = log.read_range(Seq::ZERO, 1_000_000).await.expect("read");
    let events: Vec<Event> = read
        .events
        .iter()
        .map(|e| serde_json::from_slice(&e.raw).expect("event"))
        .collect();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq.0).collect();
    let want: Vec<u64> = (1..=read.meta.seq.0).collect();
    assert_eq!(seqs, want, "seqs are contiguous from 1 to the head");
    let mut last: BTreeMap<String, Option<Value>> = BTreeMap::new();
    for e in &events {
        assert_eq!(
            e.epoch, read.meta.epoch,
            "every event is in the current epoch"
        );
        let prev = last.insert(e.key(), e.obj.clone());
        if e.op == Op::Updated {
            assert_ne!(
                prev,
                Some(e.obj.clone()),
                "seq {} repeats its object's state",
                e.seq
            );
        }
    }
    events
}

/// The TCP proxy used to cut Redis off.
#[allow(unused_imports)]
pub use kubecast_shared::testing::TcpProxy as Proxy;
