//! The path benchmark: fixed-rate (or unbounded) publisher → Redis log → one fanout replica →
//! N verifying WebSocket clients.

use crate::clients::{self, ClientResult};
use crate::publisher::{self, Published};
use kubecast_fanout::FanoutConfig;
use kubecast_shared::Epoch;
use kubecast_shared::log::{AnyLog, EventLog, RedisLog};
use kubecast_shared::testing::{RedisServer, unique_cluster};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Measures the log → fanout → WebSocket path.
#[derive(clap::Args, Debug)]
pub struct PathArgs {
    /// WebSocket clients.
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// Events per second to publish (0 = as fast as the log accepts).
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// Events per append (upper bound).
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// How long to publish.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Padding per event (bytes), to set the event size.
    #[arg(long, default_value_t = 200)]
    pub pad: usize,
    /// Print the report as JSON too.
    #[arg(long)]
    pub json: bool,
}

/// Figures of one run.
pub struct PathReport {
    pub published: Published,
    pub delivered: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub incomplete_clients: usize,
    pub delivery_window: Duration,
    pub latency_us: hdrhistogram::Histogram<u64>,
}

pub async fn run(args: &PathArgs) -> anyhow::Result<PathReport> {
    let redis = RedisServer::start();
    let cluster = unique_cluster("bench");
    let writer = RedisLog::connect(&redis.url, &cluster, 2_000_000).await?;
    let epoch = Epoch::generate();
    writer.create_epoch(&epoch, 1).await?;
    let cancel = CancellationToken::new();
    let addr = start_fanout(&redis.url, &cluster, cancel.clone()).await?;

    let until = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        handles.push(clients::spawn(&addr, until.clone()).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await; // let every client get its snapshot
    let start = Instant::now();
    let published = publisher::run(
        &writer,
        &epoch,
        args.rate,
        args.batch,
        args.duration,
        args.pad,
    )
    .await?;
    until.store(published.events, Ordering::Release);
    let results = collect(handles, Duration::from_secs(60)).await;
    let delivery_window = start.elapsed();
    cancel.cancel();
    Ok(summarize(published, results, args.clients, delivery_window))
}

async fn start_fanout(
    url: &str,
    cluster: &str,
    cancel: CancellationToken,
) -> anyhow::Result<String> {
    let log = AnyLog::Redis(RedisLog::connect(url, cluster, 2_000_000).await?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let config = FanoutConfig {
        server_name: "bench".into(),
        ..FanoutConfig::default()
    };
    tokio::spawn(kubecast_fanout::serve(listener, log, config, cancel));
    let ready = format!("http://{addr}/readyz");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&addr).await.is_ok() && http_ok(&ready).await {
            return Ok(addr);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("fanout did not become ready")
}

async fn http_ok(url: &str) -> bool {
    // Minimal HTTP/1.1 GET without another client dependency.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut s) = tokio::net::TcpStream::connect(host).await else {
        return false;
    };
    let req = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).await.is_ok() && &buf[9..12] == b"200"
}

async fn collect(
    handles: Vec<tokio::task::JoinHandle<ClientResult>>,
    patience: Duration,
) -> Vec<Option<ClientResult>> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(
            tokio::time::timeout_at(deadline, h)
                .await
                .ok()
                .and_then(Result::ok),
        );
    }
    out
}

fn summarize(
    published: Published,
    results: Vec<Option<ClientResult>>,
    clients: usize,
    window: Duration,
) -> PathReport {
    let mut latency_us = hdrhistogram::Histogram::new(3).expect("histogram");
    let (mut delivered, mut gaps, mut duplicates, mut incomplete) = (0, 0, 0, 0);
    for r in &results {
        match r {
            Some(r) => {
                delivered += r.received;
                gaps += r.gaps;
                duplicates += r.duplicates;
                if r.received < published.events {
                    incomplete += 1;
                }
                let _ = latency_us.add(&r.latency_us);
            }
            None => incomplete += 1,
        }
    }
    let _ = clients;
    PathReport {
        published,
        delivered,
        gaps,
        duplicates,
        incomplete_clients: incomplete,
        delivery_window: window,
        latency_us,
    }
}
