//! S-idle (memory per held connection) and S-deliver (live delivery to N verifying clients), for
//! either system. Each scenario gets a fresh log or stream and a fresh server process
//! ([`Target`]), so RSS and CPU figures belong to that scenario alone. The `fanout_*` figures are
//! the server under test: `kubecast-fanout`, or the Socket.IO peer's `node server.js`.

use super::fleet::{Fleet, Load};
use super::procs::metric_if_any;
use super::system::{System, Target};
use super::{Bench, Quantiles};
use crate::loadgen::LoadgenResult;
use kubecast_shared::Epoch;
use kubecast_shared::log::{EventLog, RedisLog};
use kubecast_shared::testing::unique_cluster;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A new, empty log on the benchmark's Redis.
pub struct FreshLog {
    pub cluster: String,
    pub writer: RedisLog,
    pub epoch: Epoch,
}

impl FreshLog {
    pub async fn create(redis_url: &str) -> anyhow::Result<Self> {
        let cluster = unique_cluster("bench");
        let writer = RedisLog::connect(redis_url, &cluster, 2_000_000).await?;
        let epoch = Epoch::generate();
        writer.create_epoch(&epoch, 1).await?;
        Ok(Self {
            cluster,
            writer,
            epoch,
        })
    }
}

/// S-idle figures for one N.
#[derive(Debug, Default, Serialize)]
pub struct IdleRow {
    pub system: System,
    pub clients: usize,
    pub connected: u64,
    pub failed: u64,
    pub failures: BTreeMap<String, u64>,
    /// Connections the server ended while they were held (by close code).
    pub closes: BTreeMap<String, u64>,
    pub connect_seconds: f64,
    pub rss_before_bytes: u64,
    pub rss_connected_bytes: u64,
    /// (RSS with N connected − RSS before) / connected.
    pub bytes_per_connection: f64,
    pub fanout_open_fds: usize,
    pub fanout_cpu_seconds_connecting: f64,
    pub fanout_alive: bool,
    pub loadgen_processes: usize,
    pub loadgen_rss_bytes: u64,
}

pub async fn idle(b: &Bench, system: System, n: usize) -> anyhow::Result<IdleRow> {
    let mut target = Target::start(b, system).await?;
    tokio::time::sleep(b.args.settle).await;
    let rss_before = target.server.rss();
    let cpu0 = target.server.cpu();
    let fleet = Fleet::start(
        b.source_ips(n),
        &target.dial(),
        n,
        "idle",
        b.args.connect_rate,
        b.args.per_process,
        Duration::from_secs(5),
    )
    .await?;
    let cpu_connecting = target.server.cpu() - cpu0;
    tokio::time::sleep(b.args.settle).await;
    let rss_connected = target.server.rss();
    let fds = target.server.fds();
    let alive = target.server.alive();
    let sum = fleet.finish().await?;
    target.server.stop().await;
    Ok(IdleRow {
        system,
        clients: n,
        connected: sum.connected,
        failed: sum.failed,
        failures: sum.failures,
        closes: sum.closes,
        connect_seconds: sum.connect_seconds,
        rss_before_bytes: rss_before,
        rss_connected_bytes: rss_connected,
        bytes_per_connection: rss_connected.saturating_sub(rss_before) as f64
            / sum.connected.max(1) as f64,
        fanout_open_fds: fds,
        fanout_cpu_seconds_connecting: cpu_connecting,
        fanout_alive: alive,
        loadgen_processes: sum.processes,
        loadgen_rss_bytes: sum.loadgen_rss_bytes,
    })
}

/// Kubecast's count of sessions it closed as too slow.
const TOO_SLOW: &str = r#"kubecast_fanout_closes_total{reason="too_slow"}"#;

/// S-deliver figures for one N × R.
#[derive(Debug, Default, Serialize)]
pub struct DeliverRow {
    pub system: System,
    pub clients: usize,
    pub rate: u64,
    pub connected: u64,
    pub failed: u64,
    pub failures: BTreeMap<String, u64>,
    pub published: u64,
    pub publish_seconds: f64,
    /// From the first publish until every generator had reported (all clients reached the head,
    /// or the drain timeout passed).
    pub window_seconds: f64,
    pub deliveries: u64,
    /// published × connected: what every client staying connected would have received.
    pub expected_deliveries: u64,
    pub deliveries_per_s: f64,
    /// Deliveries per CPU second of the server process: the efficiency the systems are compared
    /// on.
    pub deliveries_per_cpu_second: f64,
    pub fanout_cpu_seconds: f64,
    pub fanout_cpu_s_per_million: f64,
    pub fanout_cores: f64,
    pub fanout_rss_end_bytes: u64,
    pub latency_us: Quantiles,
    /// Gaps + duplicates + out-of-order + position jumps + epoch mismatches + unbased: must be 0.
    pub violations: u64,
    pub gaps: u64,
    pub missing: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub position_jumps: u64,
    pub epoch_mismatches: u64,
    pub unbased: u64,
    /// Socket.IO events without a recovery offset (must be 0 with connection state recovery on).
    pub without_offset: u64,
    pub resets: u64,
    pub snapshots: u64,
    /// Server frames received over all clients (hello, snapshots, positions included): fewer
    /// than deliveries when a backlog went out merged.
    pub frames: u64,
    pub closes: BTreeMap<String, u64>,
    /// Open clients that had not received the last published seq when their generator stopped.
    pub short_of_head: u64,
    pub fanout_alive: bool,
    /// Kubecast: sessions the server closed with 4008 "too slow" (its own count; a slow
    /// reader sees the close only once it has read what was queued before it).
    pub fanout_too_slow_closes: Option<u64>,
    pub loadgen_cpu_seconds: f64,
    pub loadgen_rss_bytes: u64,
}

pub async fn deliver(b: &Bench, system: System, n: usize, rate: u64) -> anyhow::Result<DeliverRow> {
    let load = Load::mode("receive");
    Ok(deliver_load(b, system, n, rate, &load).await?.0)
}

/// An S-deliver run whose clients do `load` (slow readers, hybrid polls); the row's figures are
/// those of the normal clients, the generators' results carry the rest.
pub async fn deliver_load(
    b: &Bench,
    system: System,
    n: usize,
    rate: u64,
    load: &Load,
) -> anyhow::Result<(DeliverRow, Vec<LoadgenResult>)> {
    let mut target = Target::start_bounded(b, system, load.server_max_backlog).await?;
    let mut fleet = Fleet::start_load(
        b.source_ips(n),
        &target.dial(),
        n,
        load,
        b.args.connect_rate,
        b.args.per_process,
        b.args.drain_timeout,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await; // every snapshot / connect ack is delivered
    let publisher = target.publisher(b, rate).await?;
    let cpu0 = target.server.cpu();
    let t0 = Instant::now();
    let published = publisher.run(b).await?;
    fleet.until(published.last_seq).await?;
    let (sum, results) = fleet.finish_all().await?;
    let window = t0.elapsed().as_secs_f64();
    let cpu = target.server.cpu() - cpu0;
    let rss_end = target.server.rss();
    let alive = target.server.alive();
    let too_slow = match system.is_kubecast() && alive {
        true => metric_if_any(&target.server.addr, TOO_SLOW)
            .await
            .ok()
            .map(|n| n.unwrap_or(0)),
        false => None,
    };
    target.server.stop().await;
    let c = &sum.counts;
    let row = DeliverRow {
        system,
        clients: n,
        rate,
        connected: sum.connected,
        failed: sum.failed,
        failures: sum.failures,
        published: published.events,
        publish_seconds: published.elapsed.as_secs_f64(),
        window_seconds: window,
        deliveries: c.events,
        expected_deliveries: published.events * sum.connected,
        deliveries_per_s: c.events as f64 / window,
        deliveries_per_cpu_second: c.events as f64 / cpu.max(f64::EPSILON),
        fanout_cpu_seconds: cpu,
        fanout_cpu_s_per_million: cpu / (c.events.max(1) as f64) * 1e6,
        fanout_cores: cpu / window,
        fanout_rss_end_bytes: rss_end,
        latency_us: Quantiles::of(sum.latency_us.as_ref()),
        violations: c.violations(),
        gaps: c.gaps,
        missing: c.missing,
        duplicates: c.duplicates,
        out_of_order: c.out_of_order,
        position_jumps: c.position_jumps,
        epoch_mismatches: c.epoch_mismatches,
        unbased: c.unbased,
        without_offset: c.without_offset,
        resets: c.resets,
        snapshots: c.snapshots,
        frames: c.frames,
        closes: sum.closes,
        short_of_head: sum.short_of_until,
        fanout_alive: alive,
        fanout_too_slow_closes: too_slow,
        loadgen_cpu_seconds: sum.loadgen_cpu_seconds,
        loadgen_rss_bytes: sum.loadgen_rss_bytes,
    };
    Ok((row, results))
}
