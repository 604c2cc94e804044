//! A fleet of load-generator processes sharing N clients (≤ `per_process` each, one source IP
//! each: 127.0.0.2, 127.0.0.3, …), and the sum of their results.

use super::procs::{Loadgen, LoadgenSpec};
use crate::loadgen::reconnect::{Backoff, ReconnectStats};
use crate::loadgen::{LoadgenResult, Protocol};
use crate::verify::{Counters, latency_histogram};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// What a fleet's clients connect to and speak.
pub struct Dial<'a> {
    pub url: &'a str,
    pub protocol: Protocol,
    /// Socket.IO: the publisher's epoch (clients start at its seq 0); empty for Kubecast.
    pub epoch: &'a str,
    /// Clients reconnect with `since` after any close, with this backoff (`--reconnect`).
    pub reconnect: Option<Backoff>,
}

/// What a fleet's clients do: the generators' `--mode`, and further `clients` flags.
#[derive(Clone, Debug, Default)]
pub struct Load {
    pub mode: &'static str,
    pub extra: Vec<String>,
    /// The Kubecast server's `--max-backlog` for this run (default: the fanout's own).
    pub server_max_backlog: Option<u64>,
}

impl Load {
    pub fn mode(mode: &'static str) -> Self {
        Self {
            mode,
            extra: Vec::new(),
            server_max_backlog: None,
        }
    }
}

pub struct Fleet {
    procs: Vec<Loadgen>,
    pub drain_timeout: Duration,
}

/// Results summed over a fleet.
#[derive(Debug, Default, serde::Serialize)]
pub struct FleetSum {
    pub processes: usize,
    pub connected: u64,
    pub failed: u64,
    pub failures: BTreeMap<String, u64>,
    pub closes: BTreeMap<String, u64>,
    pub open_at_end: u64,
    pub short_of_until: u64,
    pub counts: Counters,
    #[serde(skip)]
    pub latency_us: Option<hdrhistogram::Histogram<u64>>,
    /// Slowest generator's connect phase.
    pub connect_seconds: f64,
    pub loadgen_rss_bytes: u64,
    pub loadgen_cpu_seconds: f64,
    pub reconnect: ReconnectStats,
}

/// The second octet of this run's source addresses, from the process id: a run started right
/// after another does not meet the ports that one left in TIME_WAIT (which made connects time
/// out when the same addresses were reused within a minute).
fn run_subnet() -> u8 {
    (std::process::id() % 250 + 1) as u8
}

impl Fleet {
    /// Starts the generators and waits until every client has connected or failed. Generator k
    /// binds to 127.S.0.(first_ip + k): the orchestrator gives every fleet fresh addresses, so
    /// the TIME_WAIT ports a previous scenario left behind do not limit this one, and S (see
    /// [`run_subnet`]) does the same across runs.
    pub async fn start(
        first_ip: u8,
        dial: &Dial<'_>,
        n: usize,
        mode: &'static str,
        connect_rate: f64,
        per_process: usize,
        drain_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let load = Load::mode(mode);
        Self::start_load(
            first_ip,
            dial,
            n,
            &load,
            connect_rate,
            per_process,
            drain_timeout,
        )
        .await
    }

    /// [`start`](Self::start) with further `clients` flags.
    pub async fn start_load(
        first_ip: u8,
        dial: &Dial<'_>,
        n: usize,
        load: &Load,
        connect_rate: f64,
        per_process: usize,
        drain_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let count = n.div_ceil(per_process.max(1)).max(1);
        anyhow::ensure!(
            count <= 250,
            "{n} clients need more than 250 source addresses"
        );
        let rate = connect_rate / count as f64;
        let mut procs = Vec::with_capacity(count);
        for k in 0..count {
            let share = n / count + usize::from(k < n % count);
            let spec = LoadgenSpec {
                dial,
                count: share,
                source_ip: IpAddr::V4(Ipv4Addr::new(127, run_subnet(), 0, first_ip + k as u8)),
                mode: load.mode,
                connect_rate: rate,
                drain_timeout,
                extra: &load.extra,
            };
            procs.push(Loadgen::spawn(k, &spec)?);
        }
        let patience = Duration::from_secs_f64(n as f64 / connect_rate) + Duration::from_secs(60);
        let (mut connected, mut failed) = (0, 0);
        for p in &mut procs {
            let ready = p.wait_ready(patience).await?;
            connected += ready.connected;
            failed += ready.failed;
        }
        eprintln!("  {connected} clients connected, {failed} failed ({count} generators)");
        Ok(Self {
            procs,
            drain_timeout,
        })
    }

    /// Asks every generator to stop once its clients have received `seq`.
    pub async fn until(&mut self, seq: u64) -> anyhow::Result<()> {
        for p in &mut self.procs {
            p.until(seq).await?;
        }
        Ok(())
    }

    /// Stops every generator (or lets `until` finish) and sums the results.
    pub async fn finish(self) -> anyhow::Result<FleetSum> {
        Ok(self.finish_all().await?.0)
    }

    /// [`finish`](Self::finish), also returning every generator's result.
    pub async fn finish_all(self) -> anyhow::Result<(FleetSum, Vec<LoadgenResult>)> {
        let timeout = self.drain_timeout + Duration::from_secs(30);
        let waits = self.procs.into_iter().map(|p| p.finish(timeout));
        let results = futures::future::try_join_all(waits).await?;
        Ok((sum(&results), results))
    }
}

fn sum(results: &[LoadgenResult]) -> FleetSum {
    let mut s = FleetSum {
        processes: results.len(),
        ..FleetSum::default()
    };
    let mut latency = latency_histogram();
    for r in results {
        s.connected += r.connected;
        s.failed += r.failed;
        for (k, v) in &r.failures {
            *s.failures.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &r.closes {
            *s.closes.entry(k.clone()).or_default() += v;
        }
        s.open_at_end += r.open_at_end;
        s.short_of_until += r.short_of_until;
        s.counts.add(&r.counts);
        r.latency_us.merge_into(&mut latency);
        s.connect_seconds = s.connect_seconds.max(r.connect_seconds);
        s.loadgen_rss_bytes += r.rss_bytes;
        s.loadgen_cpu_seconds += r.cpu_seconds;
        s.reconnect.add(&r.reconnect);
    }
    s.latency_us = Some(latency);
    s
}
