//! The systems side by side: for every S-idle and S-deliver size that both systems completed,
//! the figures the targets are about and their ratio, oriented so that a larger ratio
//! is better for Kubecast.

use super::Report;
use super::scenarios::{DeliverRow, IdleRow};
use super::system::System;
use serde::Serialize;

/// Kubecast ≥ 5× Socket.IO in deliveries per CPU-second.
pub const DELIVERIES_PER_CPU_TARGET: f64 = 5.0;
/// Kubecast ≤ 1/3 of Socket.IO in memory per connection.
pub const BYTES_PER_CONNECTION_TARGET: f64 = 3.0;

/// One figure of both systems in the same scenario.
#[derive(Debug, Serialize)]
pub struct Comparison {
    /// `idle 10000` or `deliver 1000x100`.
    pub scenario: String,
    /// Which Kubecast: plain, or batched.
    pub system: System,
    pub figure: &'static str,
    pub kubecast: f64,
    pub socketio: f64,
    /// `Kubecast ÷ Socket.IO` for throughput figures, `Socket.IO ÷ Kubecast` for costs.
    pub ratio_is: &'static str,
    pub ratio: f64,
    /// The ratio the issue asks for, when it asks for one.
    pub target: Option<f64>,
}

impl Comparison {
    pub fn met(&self) -> Option<bool> {
        self.target.map(|t| self.ratio >= t)
    }
}

const KUBECAST_OVER_SIO: &str = "Kubecast ÷ Socket.IO";
const SIO_OVER_KUBECAST: &str = "Socket.IO ÷ Kubecast";

pub fn compare(report: &Report) -> Vec<Comparison> {
    let mut out = Vec::new();
    for k in report.idle.iter().filter(|r| r.system == System::Kubecast) {
        let same = |s: &&IdleRow| s.system == System::SocketIo && s.clients == k.clients;
        if let Some(s) = report.idle.iter().find(same) {
            out.push(idle(k, s));
        }
    }
    for k in report.deliver.iter().filter(|r| r.system.is_kubecast()) {
        let same = |s: &&DeliverRow| {
            s.system == System::SocketIo && s.clients == k.clients && s.rate == k.rate
        };
        if let Some(s) = report.deliver.iter().find(same) {
            out.extend(deliver(k, s));
        }
    }
    out
}

fn idle(k: &IdleRow, s: &IdleRow) -> Comparison {
    Comparison {
        scenario: format!("idle {}", k.clients),
        system: k.system,
        figure: "bytes / connection",
        kubecast: k.bytes_per_connection,
        socketio: s.bytes_per_connection,
        ratio_is: SIO_OVER_KUBECAST,
        ratio: ratio(s.bytes_per_connection, k.bytes_per_connection),
        target: Some(BYTES_PER_CONNECTION_TARGET),
    }
}

fn deliver(k: &DeliverRow, s: &DeliverRow) -> [Comparison; 4] {
    let scenario = format!("deliver {}x{}", k.clients, k.rate);
    let row = |figure, kubecast: f64, socketio: f64, higher_is_better: bool, target| Comparison {
        scenario: scenario.clone(),
        system: k.system,
        figure,
        kubecast,
        socketio,
        ratio_is: if higher_is_better {
            KUBECAST_OVER_SIO
        } else {
            SIO_OVER_KUBECAST
        },
        ratio: if higher_is_better {
            ratio(kubecast, socketio)
        } else {
            ratio(socketio, kubecast)
        },
        target,
    };
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    [
        row(
            "deliveries / CPU-second",
            k.deliveries_per_cpu_second,
            s.deliveries_per_cpu_second,
            true,
            Some(DELIVERIES_PER_CPU_TARGET),
        ),
        row(
            "deliveries / s",
            k.deliveries_per_s,
            s.deliveries_per_s,
            true,
            None,
        ),
        row(
            "latency p99 (ms)",
            k.latency_us.p99 as f64 / 1000.0,
            s.latency_us.p99 as f64 / 1000.0,
            false,
            None,
        ),
        row(
            "server RSS at the end (MiB)",
            mib(k.fanout_rss_end_bytes),
            mib(s.fanout_rss_end_bytes),
            false,
            None,
        ),
    ]
}

/// `a / b`, or NaN when `b` is not positive (a figure that could not be measured).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle_row(system: System, clients: usize, bytes_per_connection: f64) -> IdleRow {
        IdleRow {
            system,
            clients,
            bytes_per_connection,
            ..IdleRow::default()
        }
    }

    fn deliver_row(system: System, clients: usize, deliveries: f64, cpu: f64) -> DeliverRow {
        DeliverRow {
            system,
            clients,
            rate: 100,
            deliveries_per_cpu_second: deliveries / cpu,
            ..DeliverRow::default()
        }
    }

    #[test]
    fn sizes_are_paired_across_systems_and_ratios_favour_kubecast_when_larger() {
        let report = Report {
            idle: vec![
                idle_row(System::Kubecast, 1000, 2_000.0),
                idle_row(System::SocketIo, 1000, 9_000.0),
                idle_row(System::Kubecast, 5000, 2_000.0), // no Socket.IO row: not compared
            ],
            deliver: vec![
                deliver_row(System::SocketIo, 1000, 1e6, 20.0),
                deliver_row(System::Kubecast, 1000, 1e6, 5.0),
            ],
            ..Report::default()
        };
        let rows = compare(&report);
        assert_eq!(rows.len(), 1 + 4);
        let idle = &rows[0];
        assert_eq!((idle.scenario.as_str(), idle.ratio), ("idle 1000", 4.5));
        assert_eq!(idle.met(), Some(true));
        let cpu = &rows[1];
        assert_eq!(cpu.scenario, "deliver 1000x100");
        assert_eq!(
            (cpu.kubecast, cpu.socketio, cpu.ratio),
            (200_000.0, 50_000.0, 4.0)
        );
        assert_eq!(cpu.met(), Some(false));
        assert!(rows[2].target.is_none() && rows[2].ratio.is_nan());
    }

    #[test]
    fn the_batched_kubecast_is_compared_with_socketio_on_its_own_rows() {
        let report = Report {
            deliver: vec![
                deliver_row(System::Kubecast, 1000, 1e6, 5.0),
                deliver_row(System::KubecastBatched, 1000, 1e6, 1.0),
                deliver_row(System::SocketIo, 1000, 1e6, 10.0),
            ],
            ..Report::default()
        };
        let rows = compare(&report);
        let cpu: Vec<_> = rows
            .iter()
            .filter(|c| c.figure == "deliveries / CPU-second")
            .map(|c| (c.system, c.ratio))
            .collect();
        assert_eq!(
            cpu,
            [(System::Kubecast, 2.0), (System::KubecastBatched, 10.0)]
        );
    }
}
