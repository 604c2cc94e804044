//! The reconnect scenarios (issue 7): S-storm (the one replica holding every
//! client is killed and restarted on the same port, so every connection is cut at once) and S5
//! failover (the busiest of several replicas behind nginx is killed). In both, N `--reconnect`
//! clients receive a fixed-rate stream, the cut comes after `--warmup`, publishing goes on for
//! `--recover-window`, then every generator waits for the last seq. A row is complete when every
//! client is connected at the end, every recovery ended caught up and every client has the last
//! event; gaps and duplicates, checked across connections, must be 0.
//!
//! S-storm runs for both systems; the Socket.IO clients recover with connection state recovery
//! (`pid` + offset). S5 failover is Kubecast only: it measures Kubecast's replicas behind nginx,
//! and a killed Socket.IO process stores no session for its clients (they all reset, as in
//! S-storm), so a Socket.IO failover would show nothing S-storm does not.

use super::fleet::FleetSum;
use super::scenarios::FreshLog;
use super::system::System;
use super::{Bench, DeliverSpec, Quantiles, Report, Scenario, deliver_spec};
use crate::loadgen::reconnect::{Backoff, ReconnectArgs, positive_duration};
use crate::publisher::{self, Published};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Options of the reconnect scenarios.
#[derive(clap::Args, Debug, Clone)]
pub struct RecoveryArgs {
    /// S-storm: `<clients>x<events/s>` runs; the one replica is killed (SIGKILL) and restarted
    /// on the same port.
    #[arg(long, value_delimiter = ',', value_parser = recovery_spec, default_value = "2000x20")]
    pub storm: Vec<DeliverSpec>,
    /// S5 failover: `<clients>x<events/s>` runs through nginx; the replica holding the most
    /// clients is killed (SIGKILL).
    #[arg(long, value_delimiter = ',', value_parser = recovery_spec, default_value = "19000x20")]
    pub failover: Vec<DeliverSpec>,
    /// S5 failover: fanout replicas behind nginx (2 to 16).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(2..=16))]
    pub replicas: u16,
    /// Storm and failover: how long the clients receive before the cut.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// Storm and failover: how long publishing goes on after the cut.
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    pub recover_window: Duration,
    /// Clients' first reconnect backoff ceiling (doubling, full jitter).
    #[arg(long, default_value = "50ms", value_parser = positive_duration)]
    pub backoff_min: Duration,
    /// Clients' largest reconnect backoff ceiling.
    #[arg(long, default_value = "2s", value_parser = positive_duration)]
    pub backoff_max: Duration,
    /// The nginx executable for S5 (run as a child with `-p <temp dir>`, `daemon off`).
    #[arg(long, default_value = "/usr/sbin/nginx")]
    pub nginx: PathBuf,
}

impl RecoveryArgs {
    /// The checks the load generators would make, before anything starts.
    pub fn validate(&self) -> Result<(), String> {
        ReconnectArgs {
            reconnect: true,
            backoff_min: self.backoff_min,
            backoff_max: self.backoff_max,
        }
        .validate()
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            min: self.backoff_min,
            max: self.backoff_max,
        }
    }
}

/// `<clients>x<rate>` with both above zero: a cut with no client or no event measures nothing.
fn recovery_spec(s: &str) -> Result<DeliverSpec, String> {
    let spec = deliver_spec(s)?;
    if spec.clients == 0 || spec.rate == 0 {
        return Err(format!("{s:?}: clients and events/s must be above 0"));
    }
    Ok(spec)
}

/// What a storm or failover run measured.
#[derive(Debug, Default, Serialize)]
pub struct RecoveryRow {
    pub system: System,
    pub clients: usize,
    pub rate: u64,
    pub replicas: usize,
    pub connected: u64,
    pub failed: u64,
    pub failures: BTreeMap<String, u64>,
    /// Clients the killed replica held (its `kubecast_fanout_connections`; storm: connected).
    pub on_killed_replica: u64,
    /// Storm: seconds from the kill until the restarted replica was ready.
    pub restart_seconds: f64,
    pub published: u64,
    pub deliveries: u64,
    pub lost: u64,
    pub recoveries: u64,
    pub attempts: u64,
    pub attempt_failures: u64,
    /// Failed reconnect attempts by cause.
    pub attempt_failure_causes: BTreeMap<String, u64>,
    pub resumes: u64,
    pub resets: u64,
    pub recovering_at_end: u64,
    /// From the kill until the last recovering client was caught up.
    pub all_back_seconds: f64,
    /// Loss → caught up, per recovery (µs).
    pub recovery_us: Quantiles,
    pub latency_us: Quantiles,
    pub violations: u64,
    pub gaps: u64,
    pub missing: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub position_jumps: u64,
    pub epoch_mismatches: u64,
    pub unbased: u64,
    pub open_at_end: u64,
    pub short_of_head: u64,
    pub closes: BTreeMap<String, u64>,
    /// Every client connected at the end, every recovery finished, every client at the head.
    pub complete: bool,
}

/// Where the cut happened and what it hit.
pub struct Cut {
    pub kill_us: u64,
    pub on_killed_replica: u64,
    pub restart_seconds: f64,
}

impl RecoveryRow {
    pub fn new(
        system: System,
        spec: DeliverSpec,
        replicas: usize,
        published: u64,
        cut: &Cut,
        sum: FleetSum,
    ) -> Self {
        let c = &sum.counts;
        let r = &sum.reconnect;
        let all_back = if r.last_caught_up_us > cut.kill_us {
            (r.last_caught_up_us - cut.kill_us) as f64 / 1e6
        } else {
            f64::NAN
        };
        let complete = sum.connected == spec.clients as u64
            && sum.open_at_end == sum.connected
            && r.lost > 0
            && r.recovering_at_end == 0
            && sum.short_of_until == 0;
        Self {
            system,
            clients: spec.clients,
            rate: spec.rate,
            replicas,
            connected: sum.connected,
            failed: sum.failed,
            on_killed_replica: cut.on_killed_replica,
            restart_seconds: cut.restart_seconds,
            published,
            deliveries: c.events,
            lost: r.lost,
            recoveries: r.recoveries,
            attempts: r.attempts,
            attempt_failures: r.attempt_failures,
            attempt_failure_causes: r.attempt_failure_causes.clone(),
            resumes: r.resumes,
            resets: r.resets,
            recovering_at_end: r.recovering_at_end,
            all_back_seconds: all_back,
            recovery_us: Quantiles::of(Some(&r.recovery_histogram())),
            latency_us: Quantiles::of(sum.latency_us.as_ref()),
            violations: c.violations(),
            gaps: c.gaps,
            missing: c.missing,
            duplicates: c.duplicates,
            out_of_order: c.out_of_order,
            position_jumps: c.position_jumps,
            epoch_mismatches: c.epoch_mismatches,
            unbased: c.unbased,
            open_at_end: sum.open_at_end,
            short_of_head: sum.short_of_until,
            complete,
            failures: sum.failures,
            closes: sum.closes,
        }
    }
}

/// Publishes at `rate` for warm-up + recovery window on a fresh log, while `cut` runs.
pub async fn publish_during<F, T>(
    b: &Bench,
    log: &FreshLog,
    rate: u64,
    cut: F,
) -> anyhow::Result<(Published, T)>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    let a = &b.args;
    let duration = a.recovery.warmup + a.recovery.recover_window;
    let publish = publisher::run(&log.writer, &log.epoch, rate, a.batch, duration, a.pad);
    let (published, cut) = tokio::join!(publish, cut);
    Ok((published?, cut?))
}

/// Runs every size of S-storm (for each system) or S5 failover (Kubecast only); failures are
/// recorded.
pub async fn run(b: &Bench, scenario: Scenario, report: &mut Report) {
    let a = &b.args.recovery;
    let runs: Vec<(System, DeliverSpec)> = match scenario {
        Scenario::Storm => a
            .storm
            .iter()
            .flat_map(|&spec| {
                let systems = b.args.systems.iter().filter(|s| !s.deliver_only());
                systems.map(move |&system| (system, spec))
            })
            .collect(),
        _ if b.args.systems.contains(&System::Kubecast) => a
            .failover
            .iter()
            .map(|&spec| (System::Kubecast, spec))
            .collect(),
        _ => Vec::new(),
    };
    for (system, spec) in runs {
        let name = format!(
            "{} {} {}x{}",
            system.label(),
            if scenario == Scenario::Storm {
                "storm"
            } else {
                "failover"
            },
            spec.clients,
            spec.rate
        );
        let result = match scenario {
            Scenario::Storm => {
                eprintln!("S-storm: {name}: kill the server and restart it on its port …");
                super::storm::storm(b, system, spec).await
            }
            _ => {
                eprintln!(
                    "S5 failover: {name}, {} replicas behind nginx …",
                    a.replicas
                );
                super::failover::failover(b, spec).await
            }
        };
        match result {
            Ok(row) if scenario == Scenario::Storm => report.storm.push(row),
            Ok(row) => report.failover.push(row),
            Err(e) => report.failed.push((name, format!("{e:#}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        recovery: RecoveryArgs,
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
    }

    #[test]
    fn the_defaults_parse() {
        let cli = parse(&[]).expect("defaults");
        assert_eq!(cli.recovery.replicas, 3);
        assert_eq!(cli.recovery.failover[0].clients, 19_000);
    }

    #[test]
    fn a_backoff_maximum_below_the_minimum_is_refused() {
        let cli = parse(&["--backoff-min", "3s", "--backoff-max", "1s"]).expect("parses");
        let err = cli.recovery.validate().expect_err("refused");
        assert!(err.contains("--backoff-max"), "{err}");
        assert!(parse(&["--backoff-min", "0s"]).is_err());
    }

    #[test]
    fn fewer_than_two_replicas_are_refused() {
        let err = parse(&["--replicas", "1"]).err().expect("refused");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn runs_without_clients_or_events_are_refused() {
        for bad in ["0x20", "100x0", "100"] {
            let err = parse(&["--failover", bad]).err().expect("refused");
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(parse(&["--storm", bad]).is_err(), "{bad}");
        }
    }
}
