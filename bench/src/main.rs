//! `kubecast-bench`: benchmarks that print figures (no timed assertions). See BENCHMARKS.md for
//! recorded runs.

mod clients;
mod path;
mod procstat;
mod producer;
mod publisher;
mod report;
mod timed_log;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "kubecast-bench", about = "Kubecast benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Log append → fanout → WebSocket clients: throughput, latency, gaps.
    Path(path::PathArgs),
    /// Producer core under a pod-churn storm: ingest, publish, CPU, memory, append latency.
    Producer(producer::ProducerArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Path(args) => {
            let report = path::run(&args).await?;
            report::print(&args, &report);
        }
        Command::Producer(args) => {
            let memory = producer::memory_per_object(args.objects);
            let ingest = producer::ingest(&args).await?;
            report::print_producer(&args, memory, &ingest);
        }
    }
    Ok(())
}
