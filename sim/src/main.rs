//! `kubecast-sim`: runs the simulated Kubernetes API server standalone and prints its URL.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use kubecast_shared::config::TelemetryArgs;
use kubecast_sim::{Scenario, SimConfig};

/// Simulated Kubernetes API server (list/watch over plain HTTP) with a seeded churn generator.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "KUBECAST_SIM_LISTEN", default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Seed of the churn generator.
    #[arg(long, env = "KUBECAST_SIM_SEED", default_value_t = 1)]
    seed: u64,
    /// Number of namespaces.
    #[arg(long, env = "KUBECAST_SIM_NAMESPACES", default_value_t = 3)]
    namespaces: usize,
    /// Deployments per namespace.
    #[arg(long, env = "KUBECAST_SIM_DEPLOYMENTS", default_value_t = 3)]
    deployments: usize,
    /// Interval between churn steps (e.g. 200ms); 0 disables churn.
    #[arg(long, env = "KUBECAST_SIM_CHURN_INTERVAL", default_value = "300ms", value_parser = humantime::parse_duration)]
    churn_interval: Duration,
    /// Nodes (`node-1..node-N`).
    #[arg(long, env = "KUBECAST_SIM_NODES", default_value_t = 3)]
    nodes: usize,
    /// Scenarios, comma-separated: random, rolling-update, hpa, crashloop, jobs, node-not-ready,
    /// namespace-deletion, mixed (all of them plus random churn).
    #[arg(
        long,
        env = "KUBECAST_SIM_SCENARIO",
        value_delimiter = ',',
        default_value = "mixed"
    )]
    scenario: Vec<Scenario>,
    #[command(flatten)]
    telemetry: TelemetryArgs,
}

/// jemalloc: markedly less fragmentation and faster small allocations than the system
/// allocator for this workload (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    kubecast_shared::telemetry::init(&args.telemetry);
    let config = SimConfig {
        seed: args.seed,
        namespaces: args.namespaces,
        deployments_per_namespace: args.deployments,
        nodes: args.nodes,
        scenarios: args.scenario,
        churn_interval: (!args.churn_interval.is_zero()).then_some(args.churn_interval),
        ..SimConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let cancel = kubecast_shared::shutdown::on_signals();
    let server = kubecast_sim::serve(listener, config, cancel).await?;
    println!("{}", server.url);
    server
        .handle
        .await
        .context("simulated API server task panicked")?;
    Ok(())
}
