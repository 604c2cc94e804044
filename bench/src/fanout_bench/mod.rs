//! `kubecast-bench fanout`: the fanout benchmark of issue 4, one command, Kubecast side by side
//! with its Socket.IO peer.
//!
//! Starts a private redis-server and, per scenario and system, a fresh log or stream, a fresh
//! server process (the release `kubecast-fanout` next to this executable, or `node server.js` of
//! `bench/socketio`), its fixed-rate publisher (in process, or `node publisher.js`) and as many
//! `kubecast-bench clients` processes as needed (≤ `--per-process` clients each, one source IP
//! each). Scenarios: S-idle (memory per held connection), S-deliver (live delivery: throughput,
//! CPU, latency, gap/duplicate checks) and S-events (`/events` from the ring and from Redis;
//! Kubecast only: Socket.IO has no such endpoint). Prints markdown tables, the systems' figures
//! side by side with their ratios, and optionally writes every figure as JSON.

mod compare;
mod extra_args;
mod extra_sum;
mod extra_table;
mod failover;
mod fleet;
mod http_events;
mod hybrid;
mod nginx;
mod peer;
mod procs;
mod recovery;
mod recovery_table;
mod scenarios;
mod slow_readers;
mod soak;
mod storm;
mod system;
mod table;

use kubecast_shared::testing::RedisServer;
use peer::Peer;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;
use system::System;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    Idle,
    Deliver,
    Events,
    /// S6: S-deliver without and with slow readers (both systems).
    Slow,
    /// S-deliver with hybrid clients that also poll `/events` (Kubecast).
    Hybrid,
    /// S7: the soak (Kubecast; on demand, minutes to hours).
    Soak,
    /// Every connection cut at once (replica killed and restarted); Kubecast only.
    Storm,
    /// S5: the busiest of several replicas behind nginx killed; Kubecast only.
    Failover,
}

/// `<clients>x<events per second>`, e.g. `1000x100`.
#[derive(Clone, Copy, Debug)]
pub struct DeliverSpec {
    pub clients: usize,
    pub rate: u64,
}

fn deliver_spec(s: &str) -> Result<DeliverSpec, String> {
    let (n, r) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected <clients>x<rate>, got {s:?}"))?;
    Ok(DeliverSpec {
        clients: n.trim().parse().map_err(|e| format!("{s:?}: {e}"))?,
        rate: r.trim().parse().map_err(|e| format!("{s:?}: {e}"))?,
    })
}

/// A batch interval between 1 ms and the fanout's maximum (1 s).
fn batch_interval(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e}"))?;
    if d < Duration::from_millis(1) || d > Duration::from_secs(1) {
        return Err(format!("{s:?}: between 1ms and 1s"));
    }
    Ok(d)
}

/// Fanout benchmark options.
#[derive(clap::Args, Debug)]
pub struct FanoutBenchArgs {
    /// Systems to measure; each S-idle and S-deliver run is done for each, in this order
    /// (`kubecast-batched`: S-deliver only, its idle connections are Kubecast's).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "kubecast,socketio"
    )]
    pub systems: Vec<System>,
    /// Scenarios to run, in this order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "idle,deliver,events"
    )]
    pub scenarios: Vec<Scenario>,
    /// S-idle: numbers of idle connections to hold (one run each).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,19000")]
    pub idle: Vec<usize>,
    /// S-deliver: `<clients>x<events/s>` runs.
    #[arg(long, value_delimiter = ',', value_parser = deliver_spec, default_value = "1000x100,10000x20")]
    pub deliver: Vec<DeliverSpec>,
    /// The `kubecast-batched` system's `--batch-interval`: live events go out at most once per
    /// interval (more events per frame and per write, up to this much more latency).
    #[arg(long, default_value = "100ms", value_parser = batch_interval)]
    pub batch_interval: Duration,
    /// S-deliver: how long each run publishes.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub deliver_duration: Duration,
    /// S-deliver: how long generators wait, after publishing stopped, for every client to
    /// receive the last event.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub drain_timeout: Duration,
    /// Events per append at most (publisher).
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Padding per event (bytes), to set the event size.
    #[arg(long, default_value_t = 200)]
    pub pad: usize,
    /// S-events: concurrent keep-alive HTTP/1.1 connections.
    #[arg(long, default_value_t = 16)]
    pub events_concurrency: usize,
    /// S-events: how long each cursor is measured.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub events_duration: Duration,
    /// S-events: `limit` per request.
    #[arg(long, default_value_t = 100)]
    pub events_limit: usize,
    /// S-events: the fanout's `--ring-capacity` (cursors older than this come from Redis).
    #[arg(long, default_value_t = 1000)]
    pub ring_capacity: usize,
    /// S-events: events in the log before measuring (at least 2 × ring + 1000).
    #[arg(long, default_value_t = 20_000)]
    pub events_prefill: u64,
    /// New WebSocket connections per second, over all generators.
    #[arg(long, default_value_t = 2000.0)]
    pub connect_rate: f64,
    /// Clients per load-generator process (each process ~ one fd per client).
    #[arg(long, default_value_t = 9500)]
    pub per_process: usize,
    /// Pause before reading RSS (before and after connecting).
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    pub settle: Duration,
    /// The fanout binary (default: `kubecast-fanout` next to this executable).
    #[arg(long)]
    pub fanout_bin: Option<PathBuf>,
    /// The Socket.IO peer's Node project (`npm ci` runs there when `node_modules` is missing).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/socketio"))]
    pub socketio_dir: PathBuf,
    /// The Node executable for the Socket.IO peer.
    #[arg(long, default_value = "node")]
    pub node: PathBuf,
    #[command(flatten)]
    pub recovery: Box<recovery::RecoveryArgs>,
    /// Write every figure to this JSON file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub extra: Box<extra_args::ExtraScenarioArgs>,
}

/// What every scenario needs.
pub struct Bench {
    pub args: FanoutBenchArgs,
    pub redis_url: String,
    pub fanout_bin: PathBuf,
    /// The Socket.IO peer, when it is among the systems.
    pub peer: Option<Peer>,
    /// Next unused source address 127.0.0.x for load generators.
    next_ip: std::cell::Cell<u8>,
}

impl Bench {
    /// The first of `n` fresh source addresses for a fleet (wrapping back to 127.0.0.2 after
    /// .254, when the oldest TIME_WAIT ports have long expired).
    pub fn source_ips(&self, clients: usize) -> u8 {
        let n = clients.div_ceil(self.args.per_process.max(1)).max(1);
        let first = self.next_ip.get();
        let first = if first as usize + n > 255 { 2 } else { first };
        self.next_ip.set(first.saturating_add(n as u8));
        first
    }
}

/// The percentiles kept for the latency CDF plot.
pub const CDF_PERCENTILES: [f64; 13] = [
    1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.99, 100.0,
];

/// Latency quantiles in µs, and the CDF as `(percentile, µs)` at [`CDF_PERCENTILES`].
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Quantiles {
    pub count: u64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub cdf: [(f64, u64); CDF_PERCENTILES.len()],
}

impl Quantiles {
    pub fn of(h: Option<&hdrhistogram::Histogram<u64>>) -> Self {
        h.filter(|h| !h.is_empty())
            .map_or_else(Self::default, |h| Self {
                count: h.len(),
                p50: h.value_at_quantile(0.5),
                p99: h.value_at_quantile(0.99),
                p999: h.value_at_quantile(0.999),
                max: h.max(),
                cdf: CDF_PERCENTILES.map(|p| (p, h.value_at_quantile(p / 100.0))),
            })
    }
}

/// Every figure of one run.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub idle: Vec<scenarios::IdleRow>,
    pub deliver: Vec<scenarios::DeliverRow>,
    pub events: Vec<http_events::EventsRow>,
    pub slow: Vec<slow_readers::SlowRow>,
    pub hybrid: Vec<hybrid::HybridRow>,
    pub soak: Vec<soak::SoakRow>,
    /// S-storm and S5 failover (Kubecast only).
    pub storm: Vec<recovery::RecoveryRow>,
    pub failover: Vec<recovery::RecoveryRow>,
    /// The systems' figures side by side, with the ratios the targets are about.
    pub comparison: Vec<compare::Comparison>,
    /// `node --version` of the Socket.IO peer.
    pub node_version: Option<String>,
    /// The `kubecast-batched` system's `--batch-interval`, when it ran.
    pub batch_interval_ms: Option<u64>,
    /// Scenarios that could not complete, with the reason.
    pub failed: Vec<(String, String)>,
}

/// Runs the selected scenarios; SIGINT/SIGTERM end the run and kill every child process.
pub async fn main(args: FanoutBenchArgs) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    if let Err(why) = args.extra.check(&args.scenarios) {
        eprintln!("kubecast-bench fanout: {why}");
        std::process::exit(2);
    }
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = run(args) => r,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted"),
        _ = term.recv() => anyhow::bail!("terminated"),
    }
}

async fn run(args: FanoutBenchArgs) -> anyhow::Result<()> {
    args.recovery.validate().map_err(anyhow::Error::msg)?;
    let fanout_bin = match &args.fanout_bin {
        Some(p) => p.clone(),
        None => procs::sibling("kubecast-fanout")?,
    };
    anyhow::ensure!(
        fanout_bin.exists(),
        "{} not found: build it with `cargo build --release -p kubecast-fanout`",
        fanout_bin.display()
    );
    let peer = if args.systems.contains(&System::SocketIo) {
        Some(Peer::prepare(&args.socketio_dir, &args.node).await?)
    } else {
        None
    };
    let redis = RedisServer::start();
    let b = Bench {
        redis_url: redis.url.clone(),
        fanout_bin,
        peer,
        args,
        next_ip: std::cell::Cell::new(2),
    };
    let mut report = Report {
        node_version: b.peer.as_ref().map(|p| p.node_version.clone()),
        batch_interval_ms: b
            .args
            .systems
            .contains(&System::KubecastBatched)
            .then_some(b.args.batch_interval.as_millis() as u64),
        ..Report::default()
    };
    for scenario in b.args.scenarios.clone() {
        run_scenario(&b, scenario, &mut report).await;
    }
    report.comparison = compare::compare(&report);
    table::print(&b, &report);
    if let Some(path) = &b.args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        eprintln!("wrote {}", path.display());
    }
    drop(redis);
    Ok(())
}

/// Runs every size of one scenario, each for every system in turn; failures are recorded.
async fn run_scenario(b: &Bench, scenario: Scenario, report: &mut Report) {
    let systems = &b.args.systems;
    match scenario {
        Scenario::Idle => {
            for &n in &b.args.idle {
                for &system in systems.iter().filter(|s| !s.deliver_only()) {
                    let name = format!("{} idle {n}", system.label());
                    eprintln!("S-idle: {name} connections …");
                    match scenarios::idle(b, system, n).await {
                        Ok(row) => report.idle.push(row),
                        Err(e) => report.failed.push((name, format!("{e:#}"))),
                    }
                }
            }
        }
        Scenario::Deliver => {
            for spec in b.args.deliver.clone() {
                for &system in systems {
                    let name = format!("{} deliver {}x{}", system.label(), spec.clients, spec.rate);
                    eprintln!("S-deliver: {name} for {:?} …", b.args.deliver_duration);
                    match scenarios::deliver(b, system, spec.clients, spec.rate).await {
                        Ok(row) => report.deliver.push(row),
                        Err(e) => report.failed.push((name, format!("{e:#}"))),
                    }
                }
            }
        }
        Scenario::Storm | Scenario::Failover => recovery::run(b, scenario, report).await,
        Scenario::Events if !systems.iter().any(|s| s.is_kubecast()) => {}
        Scenario::Events => {
            eprintln!(
                "S-events: ring and Redis cursors (Kubecast only: Socket.IO has no /events) …"
            );
            match http_events::events(b).await {
                Ok(rows) => report.events.extend(rows),
                Err(e) => report.failed.push(("events".into(), format!("{e:#}"))),
            }
        }
        Scenario::Slow => slow_readers::run_all(b, report).await,
        Scenario::Hybrid => hybrid::run_all(b, report).await,
        Scenario::Soak => soak::run(b, report).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_interval_outside_1ms_to_1s_or_malformed_is_refused() {
        assert_eq!(batch_interval("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(batch_interval("1s"), Ok(Duration::from_secs(1)));
        for bad in ["0s", "2s", "soon"] {
            let err = batch_interval(bad).expect_err(bad);
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn a_deliver_spec_needs_clients_x_rate() {
        let spec = deliver_spec("1000x100").expect("valid");
        assert_eq!((spec.clients, spec.rate), (1000, 100));
        for bad in ["1000", "x100", "1000xfast"] {
            assert!(deliver_spec(bad).is_err(), "{bad}");
        }
    }
}
