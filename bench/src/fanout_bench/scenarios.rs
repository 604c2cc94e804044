//! S-idle (memory per held connection) and S-deliver (live delivery to N verifying clients).
//! Each scenario gets a fresh log (cluster) and a fresh `kubecast-fanout` process, so RSS and
//! CPU figures belong to that scenario alone.

use super::fleet::Fleet;
use super::procs::FanoutProc;
use super::{Bench, Quantiles};
use crate::publisher;
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

fn ws_url(fanout: &FanoutProc) -> String {
    format!("ws://{}/ws", fanout.addr)
}

/// S-idle figures for one N.
#[derive(Debug, Serialize)]
pub struct IdleRow {
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

pub async fn idle(b: &Bench, n: usize) -> anyhow::Result<IdleRow> {
    let log = FreshLog::create(&b.redis_url).await?;
    let mut fanout = FanoutProc::start(&b.fanout_bin, &b.redis_url, &log.cluster, None).await?;
    tokio::time::sleep(b.args.settle).await;
    let rss_before = fanout.rss();
    let cpu0 = fanout.cpu();
    let fleet = Fleet::start(
        b.source_ips(n),
        &ws_url(&fanout),
        n,
        "idle",
        b.args.connect_rate,
        b.args.per_process,
        Duration::from_secs(5),
    )
    .await?;
    let cpu_connecting = fanout.cpu() - cpu0;
    tokio::time::sleep(b.args.settle).await;
    let rss_connected = fanout.rss();
    let fds = fanout.fds();
    let alive = fanout.alive();
    let sum = fleet.finish().await?;
    fanout.stop().await;
    Ok(IdleRow {
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

/// S-deliver figures for one N × R.
#[derive(Debug, Serialize)]
pub struct DeliverRow {
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
    pub resets: u64,
    pub snapshots: u64,
    /// Server frames received over all clients (hello, snapshots, positions included): fewer
    /// than deliveries when a backlog went out merged.
    pub frames: u64,
    pub closes: BTreeMap<String, u64>,
    /// Open clients that had not received the last published seq when their generator stopped.
    pub short_of_head: u64,
    pub fanout_alive: bool,
    pub loadgen_cpu_seconds: f64,
    pub loadgen_rss_bytes: u64,
}

pub async fn deliver(b: &Bench, n: usize, rate: u64) -> anyhow::Result<DeliverRow> {
    let log = FreshLog::create(&b.redis_url).await?;
    let mut fanout = FanoutProc::start(&b.fanout_bin, &b.redis_url, &log.cluster, None).await?;
    let mut fleet = Fleet::start(
        b.source_ips(n),
        &ws_url(&fanout),
        n,
        "receive",
        b.args.connect_rate,
        b.args.per_process,
        b.args.drain_timeout,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await; // every snapshot is delivered
    let cpu0 = fanout.cpu();
    let t0 = Instant::now();
    let published = publisher::run(
        &log.writer,
        &log.epoch,
        rate,
        b.args.batch,
        b.args.deliver_duration,
        b.args.pad,
    )
    .await?;
    fleet.until(published.events).await?;
    let sum = fleet.finish().await?;
    let window = t0.elapsed().as_secs_f64();
    let cpu = fanout.cpu() - cpu0;
    let rss_end = fanout.rss();
    let alive = fanout.alive();
    fanout.stop().await;
    let c = &sum.counts;
    Ok(DeliverRow {
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
        resets: c.resets,
        snapshots: c.snapshots,
        frames: c.frames,
        closes: sum.closes,
        short_of_head: sum.short_of_until,
        fanout_alive: alive,
        loadgen_cpu_seconds: sum.loadgen_cpu_seconds,
        loadgen_rss_bytes: sum.loadgen_rss_bytes,
    })
}
