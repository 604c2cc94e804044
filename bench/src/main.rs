//! `kubecast-bench`: measures the log → fanout → WebSocket path and prints figures (no timed
//! assertions). See BENCHMARKS.md for recorded runs.

mod clients;
mod path;
mod publisher;
mod report;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = path::PathArgs::parse();
    let report = path::run(&args).await?;
    report::print(&args, &report);
    Ok(())
}
