//! S6: what a few slow readers do to everyone else. The same S-deliver size runs twice per
//! system: once with every client reading at full speed (baseline), once with `--slow-share` of
//! them reading at `--slow-read-rate` on sockets with a small receive buffer. The normal clients'
//! latency in both runs and its change, their gaps and duplicates (must be 0), and what became of
//! the slow readers (Kubecast closes them with 4008 "too slow") are reported side by side.
//! Kubecast runs both with `--max-backlog` at `--slow-max-backlog` (256 KiB), so a slow reader
//! reaches the bound within a short run.

use super::extra_sum::{SlowSum, slow_sum};
use super::fleet::Load;
use super::scenarios::{DeliverRow, deliver_load};
use super::system::System;
use super::{Bench, DeliverSpec};
use serde::Serialize;

/// S6 figures of one system at one size.
#[derive(Debug, Serialize)]
pub struct SlowRow {
    pub system: System,
    pub clients: usize,
    pub rate: u64,
    pub slow_share: f64,
    pub slow_read_rate: u64,
    /// Kubecast's `--max-backlog` in both runs (none for Socket.IO, which has no bound).
    pub max_backlog: Option<u64>,
    /// Every client reading at full speed.
    pub baseline: DeliverRow,
    /// The normal clients of the run with slow readers (its figures exclude the slow ones).
    pub with_slow: DeliverRow,
    /// Change of the normal clients' latency (µs, with slow − baseline) at p50 / p99 / p99.9.
    pub p50_change_us: i64,
    pub p99_change_us: i64,
    pub p999_change_us: i64,
    /// What the slow readers observed.
    pub slow: SlowSum,
}

/// Runs one size for one system: baseline, then with slow readers.
pub async fn slow_readers(b: &Bench, system: System, spec: DeliverSpec) -> anyhow::Result<SlowRow> {
    let x = &b.args.extra;
    let (n, rate) = (spec.clients, spec.rate);
    let bound = Some(x.slow_max_backlog);
    let baseline_load = Load {
        server_max_backlog: bound,
        ..Load::mode("receive")
    };
    let (baseline, _) = deliver_load(b, system, n, rate, &baseline_load).await?;
    let load = Load {
        mode: "receive",
        extra: x.slow_flags(),
        server_max_backlog: bound,
    };
    let (with_slow, results) = deliver_load(b, system, n, rate, &load).await?;
    let change = |f: fn(&DeliverRow) -> u64| f(&with_slow) as i64 - f(&baseline) as i64;
    Ok(SlowRow {
        system,
        clients: n,
        rate,
        slow_share: x.slow_share,
        slow_read_rate: x.slow_read_rate,
        max_backlog: system.is_kubecast().then_some(x.slow_max_backlog),
        p50_change_us: change(|d| d.latency_us.p50),
        p99_change_us: change(|d| d.latency_us.p99),
        p999_change_us: change(|d| d.latency_us.p999),
        slow: slow_sum(&results),
        baseline,
        with_slow,
    })
}

/// Runs every S6 size for every system; failures are recorded.
pub async fn run_all(b: &Bench, report: &mut super::Report) {
    for spec in b.args.extra.slow_deliver.clone() {
        for &system in b.args.systems.iter().filter(|s| !s.deliver_only()) {
            let name = format!("{} slow {}x{}", system.label(), spec.clients, spec.rate);
            eprintln!("S6: {name}, without and with slow readers …");
            match slow_readers(b, system, spec).await {
                Ok(row) => report.slow.push(row),
                Err(e) => report.failed.push((name, format!("{e:#}"))),
            }
        }
    }
}
