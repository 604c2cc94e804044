//! Kubecast's simulated Kubernetes API server. It serves Nodes, Namespaces, Pods, Services,
//! Endpoints, EndpointSlices, Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs
//! and an argoproj.io `Workflow` custom resource over plain HTTP with the real list / watch protocol (paged lists with consistent
//! continue tokens, resourceVersion-based watch resume, bookmarks, 410 Expired), so
//! `kube::runtime::watcher` runs against it unchanged. A seeded churn generator mutates the cluster
//! (scaling, rolling updates, restarts, heartbeats) plus named scenarios, either on a ticker or
//! step by step from tests.
//!
//! Module map: `kinds` (the kind table), `store` (objects, RV, history, broadcast), `paging`
//! (continue snapshots), `api` (routes, get, list), `discovery`, `selector` (labelSelector),
//! `watch` (streams), `churn` + `builders` + `builders_world` (generator and typed objects),
//! `endpoints` (Service → pods), `scenario` (scripts), `cluster` (the shared handle and test
//! controls, `storm`).

mod api;
mod builders;
mod builders_world;
mod churn;
mod cluster;
mod discovery;
mod endpoints;
mod error;
pub mod kinds;
mod lease;
mod paging;
pub mod scenario;
pub mod selector;
mod store;
mod watch;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

pub use cluster::{SimCluster, SimObject};
pub use error::Error;
pub use scenario::{Scenario, UnknownScenario};

/// How the simulated cluster is built and driven.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the churn generator: the same seed yields the same objects and changes.
    pub seed: u64,
    /// Number of namespaces (`shop`, `web`, `data`, then `ns-4`, …).
    pub namespaces: usize,
    /// Deployments (each with a ReplicaSet, pods and a Service) per namespace.
    pub deployments_per_namespace: usize,
    /// Nodes `node-1..=node-N`; every pod runs on one of them.
    pub nodes: usize,
    /// Upper bound of a deployment's initial replicas (drawn from `1..=max_replicas`); random
    /// scale-ups go up to `max(6, max_replicas)`.
    pub max_replicas: i32,
    /// Whether namespaces also get a DaemonSet, a StatefulSet or a CronJob + Workflow (by index).
    pub extra_workloads: bool,
    /// Scenarios to run each step (see [`Scenario`]); empty means no churn at all.
    pub scenarios: Vec<Scenario>,
    /// Interval of the background churn ticker; `None` = churn only via `SimCluster::step`.
    pub churn_interval: Option<Duration>,
    /// Watch events retained per kind for resuming watches.
    pub history: usize,
    /// Interval of BOOKMARK events on watches that allow them (zero disables them).
    pub bookmark_interval: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            namespaces: 3,
            deployments_per_namespace: 3,
            nodes: 3,
            max_replicas: 3,
            extra_workloads: true,
            scenarios: vec![Scenario::Mixed],
            churn_interval: Some(Duration::from_millis(300)),
            history: 20_000,
            bookmark_interval: Duration::from_secs(1),
        }
    }
}

/// A running simulated API server.
pub struct SimServer {
    /// Base URL, e.g. `http://127.0.0.1:6443`.
    pub url: String,
    pub addr: SocketAddr,
    pub cluster: SimCluster,
    /// Completes once the HTTP server and the churn ticker have stopped (after cancellation).
    pub handle: JoinHandle<()>,
}

/// Builds the cluster, spawns the HTTP server and the churn ticker on `listener`, and returns at
/// once. Everything stops when `cancel` is cancelled (open watches included).
pub async fn serve(
    listener: TcpListener,
    config: SimConfig,
    cancel: CancellationToken,
) -> anyhow::Result<SimServer> {
    let addr = listener
        .local_addr()
        .context("simulated API server listener has no address")?;
    let cluster = SimCluster::new(&config);
    let app = api::router(api::AppState {
        cluster: cluster.clone(),
        shutdown: cancel.clone(),
    });
    let http_cancel = cancel.clone();
    let http = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(http_cancel.cancelled_owned())
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "simulated API server failed");
        }
    });
    let ticker = config
        .churn_interval
        .map(|every| tokio::spawn(churn_ticker(cluster.clone(), every, cancel)));
    let handle = tokio::spawn(async move {
        let _ = http.await;
        if let Some(ticker) = ticker {
            let _ = ticker.await;
        }
    });
    tracing::info!(%addr, seed = config.seed, "simulated API server listening");
    Ok(SimServer {
        url: format!("http://{addr}"),
        addr,
        cluster,
        handle,
    })
}

async fn churn_ticker(cluster: SimCluster, every: Duration, cancel: CancellationToken) {
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = interval.tick() => cluster.step(),
        }
    }
}
