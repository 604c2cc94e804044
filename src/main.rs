use anyhow::Context;
use clap::Parser;

/// jemalloc: markedly less fragmentation and faster small allocations than the system
/// allocator for this workload (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> anyhow::Result<()> {
    let args = kubecast::Args::parse();
    args.runtime.build()?.block_on(run(args))
}

async fn run(args: kubecast::Args) -> anyhow::Result<()> {
    kubecast_shared::telemetry::init(&args.telemetry);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(url = %format!("http://{}", listener.local_addr()?), "kubecast is serving");
    let cancel = kubecast_shared::shutdown::on_signals();
    kubecast::run(args, listener, cancel).await
}
