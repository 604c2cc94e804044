//! The producer benchmark (issue 3): how fast the producer's core ingests watch events under a
//! pod-churn storm, how many events it publishes, its CPU per 10k watch events, its memory per
//! tracked object, and the latency of its appends to Redis.
//!
//! Watch events are pre-projected (as kube's watcher task would hand them over) and pushed into
//! the same channel the watchers use, so the figures cover index + debounce + publish.

use crate::procstat::{cpu_seconds, rss_bytes};
use crate::timed_log::TimedLog;
use kubecast_producer::driver::run_inputs;
use kubecast_producer::index::Index;
use kubecast_producer::{Input, ProducerConfig, ProducerStats, Projection, project_value};
use kubecast_shared::log::RedisLog;
use kubecast_shared::testing::{RedisServer, unique_cluster};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Producer benchmark options.
#[derive(clap::Args, Debug)]
pub struct ProducerArgs {
    /// Pods tracked.
    #[arg(long, default_value_t = 100_000)]
    pub objects: usize,
    /// Watch events in the churn storm (status changes spread over the pods).
    #[arg(long, default_value_t = 500_000)]
    pub storm: usize,
    /// Most events per append (the producer's default is 100).
    #[arg(long, default_value_t = 100)]
    pub batch_max: usize,
    /// Per-object coalescing window.
    #[arg(long, default_value = "250ms", value_parser = humantime::parse_duration)]
    pub debounce: Duration,
}

fn pod_json(i: usize, restarts: usize) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": format!("app-{}-7d9f-{i:06}", i % 1000), "namespace": format!("ns-{:03}", i % 100),
            "uid": format!("uid-{i}"), "resourceVersion": restarts.to_string(),
            "labels": {"app": format!("app-{}", i % 1000), "pod-template-hash": "7d9f"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("app-{}-7d9f", i % 1000), "uid": "rs", "controller": true}]
        },
        "spec": {"nodeName": format!("node-{}", i % 50), "containers": [{"name": "app", "image": "registry/app:1"}]},
        "status": {
            "phase": "Running", "podIP": "10.0.0.1",
            "conditions": [{"type": "Ready", "status": if restarts.is_multiple_of(2) { "True" } else { "False" }}],
            "containerStatuses": [{"name": "app", "ready": restarts.is_multiple_of(2), "restartCount": restarts, "image": "registry/app:1", "imageID": "sha", "state": {"running": {}}}]
        }
    })
}

fn pod(i: usize, restarts: usize) -> Projection {
    project_value("Pod", &pod_json(i, restarts)).expect("benchmark pods project")
}

/// Producer memory per tracked object: RSS growth of an index holding `n` pods, published.
pub fn memory_per_object(n: usize) -> f64 {
    let before = rss_bytes();
    let mut index = Index::new();
    index.apply(Input::Init("Pod".into()), 0);
    for i in 0..n {
        index.apply(Input::InitApply(pod(i, 0)), 0);
    }
    index.apply(Input::InitDone("Pod".into()), 0);
    let keys = index.keys();
    let deltas = index.flush(keys.iter(), 0);
    index.commit(&deltas);
    drop(deltas);
    drop(keys);
    let per_object = rss_bytes().saturating_sub(before) as f64 / n as f64;
    drop(index);
    per_object
}

/// Figures of one ingest run.
pub struct IngestReport {
    pub initial_publish: Duration,
    pub storm_events: usize,
    pub storm_ingest: Duration,
    pub storm_published: u64,
    /// From the storm's first event until its last event was published.
    pub storm_published_in: Duration,
    pub cpu_per_10k: f64,
    pub append_us: hdrhistogram::Histogram<u64>,
}

pub async fn ingest(args: &ProducerArgs) -> anyhow::Result<IngestReport> {
    let redis = RedisServer::start();
    let log = TimedLog::new(
        RedisLog::connect(&redis.url, &unique_cluster("bench-producer"), 1_000_000).await?,
    );
    let stats = ProducerStats::default();
    let config = ProducerConfig {
        debounce: args.debounce,
        max_wait: args.debounce * 4,
        batch_max: args.batch_max,
        ..ProducerConfig::default()
    };
    let (tx, rx) = mpsc::channel(1024);
    let cancel = CancellationToken::new();
    let driver = tokio::spawn(run_inputs(
        log.clone(),
        config,
        stats.clone(),
        vec!["Pod".into()],
        rx,
        cancel.clone(),
    ));

    let start = Instant::now();
    tx.send(Input::Init("Pod".into())).await?;
    for i in 0..args.objects {
        tx.send(Input::InitApply(pod(i, 0))).await?;
    }
    tx.send(Input::InitDone("Pod".into())).await?;
    wait_for(|| stats.events_published.get() >= args.objects as u64).await;
    let initial_publish = start.elapsed();

    // Pre-project the storm so the timing covers the producer, not the benchmark's JSON work.
    let storm: Vec<Input> = (0..args.storm)
        .map(|k| Input::Apply(pod(k % args.objects, 1 + k / args.objects)))
        .collect();
    let published_before = stats.events_published.get();
    let cpu_before = cpu_seconds();
    let storm_start = Instant::now();
    for input in storm {
        tx.send(input).await?;
    }
    let storm_ingest = storm_start.elapsed();
    let settled_at = wait_settled(&stats).await;
    let storm_published_in = settled_at - storm_start;
    let cpu = cpu_seconds() - cpu_before;
    let storm_published = stats.events_published.get() - published_before;
    cancel.cancel();
    let _ = driver.await;
    Ok(IngestReport {
        initial_publish,
        storm_events: args.storm,
        storm_ingest,
        storm_published,
        storm_published_in,
        cpu_per_10k: cpu / (args.storm as f64 / 10_000.0),
        append_us: log.histogram(),
    })
}

async fn wait_for(done: impl Fn() -> bool) {
    while !done() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until no event has been published for a second (the debounce has drained); returns
/// when the last event was published.
async fn wait_settled(stats: &ProducerStats) -> Instant {
    let mut last = stats.events_published.get();
    let mut last_change = Instant::now();
    while last_change.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let now = stats.events_published.get();
        if now != last {
            last = now;
            last_change = Instant::now();
        }
    }
    last_change
}
