//! `kubecast-fanout`: one standalone fanout replica reading the event log from Redis.

use anyhow::Context;
use clap::Parser;
use kubecast_shared::config::{LogArgs, RuntimeArgs, TelemetryArgs};
use std::net::SocketAddr;

/// Serve a cluster's Kubecast event log to browsers over WebSocket and HTTP.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "KUBECAST_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    #[command(flatten)]
    log: LogArgs,
    #[command(flatten)]
    telemetry: TelemetryArgs,
    #[command(flatten)]
    runtime: RuntimeArgs,
    #[command(flatten)]
    fanout: kubecast_fanout::FanoutArgs,
}

/// jemalloc: markedly less fragmentation and faster small allocations than the system
/// allocator for this workload (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    args.runtime.build()?.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    kubecast_shared::telemetry::init(&args.telemetry);
    let config = args
        .fanout
        .config()
        .map_err(|e| anyhow::anyhow!("invalid authentication settings: {e}"))?;
    args.fanout
        .auth
        .check_exposure(&config.auth, args.listen)
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        args.log.redis_url.is_some(),
        "the standalone fanout reads the log from Redis: set --redis-url or REDIS_URL \
         (the in-memory log only works inside the embedded `kubecast` binary)"
    );
    let log = args
        .log
        .open()
        .await
        .context("connecting to the event log")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(addr = %listener.local_addr()?, "kubecast-fanout is serving");
    let cancel = kubecast_shared::shutdown::on_signals();
    kubecast_fanout::serve(listener, log, config, cancel).await
}
