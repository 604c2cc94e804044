//! `kubecast-producer`: watches a cluster and appends its events to Redis.

use anyhow::{Context, bail};
use clap::Parser;
use kubecast_producer::ProducerArgs;
use kubecast_shared::config::{LogArgs, RuntimeArgs, TelemetryArgs};

// jemalloc: the index churns many small allocations; glibc malloc fragments under it.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Watch a Kubernetes cluster and publish its live state to the Kubecast event log in Redis.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    log: LogArgs,
    #[command(flatten)]
    telemetry: TelemetryArgs,
    #[command(flatten)]
    runtime: RuntimeArgs,
    #[command(flatten)]
    producer: ProducerArgs,
    /// Plain-HTTP API server URL (e.g. the simulated cluster); default: kubeconfig or in-cluster.
    #[arg(long, env = "KUBECAST_KUBE_URL")]
    kube_url: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    args.runtime.build()?.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    kubecast_shared::telemetry::init(&args.telemetry);
    if args.log.redis_url.is_none() {
        bail!(
            "--redis-url (or REDIS_URL) is required: a standalone producer must share its log with fanout"
        );
    }
    let client = match &args.kube_url {
        Some(url) => {
            let url = url
                .parse()
                .with_context(|| format!("invalid --kube-url {url}"))?;
            kube::Client::try_from(kube::Config::new(url))
                .context("building the Kubernetes client")?
        }
        None => kube::Client::try_default()
            .await
            .context("loading kubeconfig / in-cluster config")?,
    };
    // Opened on first use and retried by the producer: it starts and keeps watching while
    // Redis is unreachable.
    let log = kubecast_producer::LazyLog::new(args.log.clone());
    let cancel = kubecast_shared::shutdown::on_signals();
    let stats = kubecast_producer::ProducerStats::default();
    if let Some(addr) = args.producer.metrics_addr() {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding --metrics-listen {addr}"))?;
        tracing::info!(%addr, "serving /metrics and /healthz");
        tokio::spawn(kubecast_producer::metrics::serve(
            listener,
            stats.clone(),
            cancel.child_token(),
        ));
    }
    kubecast_producer::run_with_stats(client, log, args.producer.config(), stats, cancel)
        .await
        .context("producer stopped")
}
