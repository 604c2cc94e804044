//! `kubecast-bench`: benchmarks that print figures (no timed assertions). See BENCHMARKS.md for
//! recorded runs and bench/README.md for the commands.

mod clients;
mod fanout_bench;
mod http1;
mod loadgen;
mod loopback;
mod path;
mod procstat;
mod producer;
mod publisher;
mod report;
mod socketio;
mod timed_log;
mod verify;

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
    /// Load generator: many verifying WebSocket clients (Kubecast or Socket.IO) against a running
    /// server; prints one JSON line.
    Clients(loadgen::ClientsArgs),
    /// The fanout benchmark: redis + release kubecast-fanout + publisher + client processes.
    Fanout(fanout_bench::FanoutBenchArgs),
    /// The floor under any fanout here: plain loopback TCP writes, one per socket per round.
    Loopback(loopback::LoopbackArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        // One thread, many clients: see loadgen.rs.
        Command::Clients(args) => loadgen::main(args),
        Command::Loopback(args) => loopback::main(args),
        command => tokio::runtime::Runtime::new()?.block_on(run(command)),
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Path(args) => {
            let report = path::run(&args).await?;
            report::print(&args, &report);
        }
        Command::Producer(args) => {
            let memory = producer::memory_per_object(args.objects);
            let ingest = producer::ingest(&args).await?;
            report::print_producer(&args, memory, &ingest);
        }
        Command::Clients(args) => loadgen::main(args)?,
        Command::Fanout(args) => fanout_bench::main(args).await?,
        Command::Loopback(args) => loopback::main(args)?,
    }
    Ok(())
}
