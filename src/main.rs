use anyhow::Context;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = kubecast::Args::parse();
    kubecast_shared::telemetry::init(&args.telemetry);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(url = %format!("http://{}", listener.local_addr()?), "kubecast is serving");
    let cancel = kubecast_shared::shutdown::on_signals();
    kubecast::run(args, listener, cancel).await
}
