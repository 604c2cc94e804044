//! The embedded default: one process runs a cluster source (a real cluster from kubeconfig, or the
//! simulated cluster), the producer and a fanout replica on one event log (in memory unless
//! `REDIS_URL` is set), and serves the live page, `/ws`, `/events` and `/snapshot`.

use anyhow::Context;
use clap::{Parser, ValueEnum};
use kubecast_fanout::FanoutArgs;
use kubecast_producer::ProducerArgs;
use kubecast_shared::config::{LogArgs, RuntimeArgs, TelemetryArgs};
use kubecast_sim::SimConfig;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where the cluster state comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Source {
    /// A kubeconfig or in-cluster config when one is found, otherwise the simulated cluster.
    Auto,
    /// The built-in simulated cluster.
    Sim,
    /// A real cluster (kubeconfig or in-cluster config).
    Kube,
}

/// Kubecast in one process: cluster source + producer + fanout.
#[derive(Parser, Debug)]
#[command(name = "kubecast", version, about)]
pub struct Args {
    /// Address serving the dashboard, /ws, /events and /snapshot.
    #[arg(long, env = "KUBECAST_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Cluster source.
    #[arg(long, env = "KUBECAST_SOURCE", value_enum, default_value_t = Source::Auto)]
    pub source: Source,

    /// Seed of the simulated cluster's churn generator.
    #[arg(long, env = "KUBECAST_SIM_SEED", default_value_t = 1)]
    pub sim_seed: u64,

    /// Namespaces in the simulated cluster.
    #[arg(long, env = "KUBECAST_SIM_NAMESPACES", default_value_t = 3)]
    pub sim_namespaces: usize,

    /// Deployments per namespace in the simulated cluster (each with a ReplicaSet, pods and a
    /// Service).
    #[arg(long, env = "KUBECAST_SIM_DEPLOYMENTS", default_value_t = 3)]
    pub sim_deployments: usize,

    /// Upper bound of a simulated deployment's initial replicas (drawn from 1..=N): with the two
    /// options above it sizes the cluster (e.g. 20 namespaces × 10 deployments × 100 ≈ 10,000
    /// pods).
    #[arg(long, env = "KUBECAST_SIM_MAX_REPLICAS", default_value_t = 3,
          value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub sim_max_replicas: i32,

    /// Scenarios the simulated cluster plays (comma-separated): random, rolling-update, hpa,
    /// crashloop, jobs, node-not-ready, namespace-deletion, mixed.
    #[arg(
        long,
        env = "KUBECAST_SIM_SCENARIO",
        value_delimiter = ',',
        default_value = "mixed"
    )]
    pub sim_scenario: Vec<kubecast_sim::Scenario>,

    /// Interval between churn steps of the simulated cluster ("0s" disables churn).
    #[arg(long, env = "KUBECAST_SIM_CHURN", default_value = "300ms", value_parser = humantime::parse_duration)]
    pub sim_churn: Duration,

    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub producer: ProducerArgs,
    #[command(flatten)]
    pub fanout: FanoutArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

/// Runs everything until `cancel` fires.
pub async fn run(
    args: Args,
    listener: TcpListener,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let fanout_config = args
        .fanout
        .config()
        .map_err(|e| anyhow::anyhow!("invalid authentication settings: {e}"))?;
    args.fanout
        .auth
        .check_exposure(&fanout_config.auth, listener.local_addr()?)
        .map_err(anyhow::Error::msg)?;
    let client = kube_client(&args, &cancel).await?;
    let log = args.log.open().await.context("opening the event log")?;
    let stats = kubecast_producer::ProducerStats::default();
    serve_producer_metrics(&args, &stats, &cancel).await;
    let producer = tokio::spawn(kubecast_producer::run_with_stats(
        client,
        log.clone(),
        args.producer.config(),
        stats,
        cancel.child_token(),
    ));
    let fanout = kubecast_fanout::serve(listener, log, fanout_config, cancel.child_token());
    let served = fanout.await;
    cancel.cancel();
    match producer.await {
        Ok(Err(e)) => tracing::warn!(error = %e, "producer stopped with an error"),
        Err(e) => tracing::warn!(error = %e, "producer task failed"),
        Ok(Ok(())) => {}
    }
    served
}

/// Serves the producer's Prometheus metrics on `--metrics-listen`; a taken port only warns (the
/// embedded default must start anyway).
async fn serve_producer_metrics(
    args: &Args,
    stats: &kubecast_producer::ProducerStats,
    cancel: &CancellationToken,
) {
    let Some(addr) = args.producer.metrics_addr() else {
        return;
    };
    match TcpListener::bind(addr).await {
        Ok(listener) => {
            tracing::info!(%addr, "producer metrics at /metrics");
            let serve =
                kubecast_producer::metrics::serve(listener, stats.clone(), cancel.child_token());
            tokio::spawn(async move {
                if let Err(error) = serve.await {
                    tracing::warn!(%error, "producer metrics server stopped");
                }
            });
        }
        Err(error) => tracing::warn!(%addr, %error, "producer metrics not served"),
    }
}

async fn kube_client(args: &Args, cancel: &CancellationToken) -> anyhow::Result<kube::Client> {
    let use_kube = match args.source {
        Source::Kube => true,
        Source::Sim => false,
        Source::Auto => kubeconfig_available(),
    };
    if use_kube {
        tracing::info!("using the cluster from kubeconfig / in-cluster config");
        return kube::Client::try_default()
            .await
            .context("connecting to the cluster");
    }
    let sim = start_sim(args, cancel).await?;
    tracing::info!(url = %sim.url, "using the simulated cluster");
    let config = kube::Config::new(sim.url.parse().context("simulated cluster URL")?);
    kube::Client::try_from(config).context("kube client for the simulated cluster")
}

async fn start_sim(
    args: &Args,
    cancel: &CancellationToken,
) -> anyhow::Result<kubecast_sim::SimServer> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the simulated cluster")?;
    let config = SimConfig {
        seed: args.sim_seed,
        namespaces: args.sim_namespaces,
        deployments_per_namespace: args.sim_deployments,
        max_replicas: args.sim_max_replicas,
        churn_interval: (!args.sim_churn.is_zero()).then_some(args.sim_churn),
        scenarios: args.sim_scenario.clone(),
        ..SimConfig::default()
    };
    kubecast_sim::serve(listener, config, cancel.child_token()).await
}

fn kubeconfig_available() -> bool {
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return true;
    }
    if let Some(path) = std::env::var_os("KUBECONFIG") {
        return std::env::split_paths(&path).any(|p| p.exists());
    }
    std::env::var_os("HOME")
        .map(|home| std::path::Path::new(&home).join(".kube/config").exists())
        .unwrap_or(false)
}
