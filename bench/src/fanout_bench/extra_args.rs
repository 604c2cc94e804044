//! Options of the scenarios of issue 7: S6 (slow readers among normal clients), hybrid clients
//! (S-deliver with `/events` polls) and S7 (the soak, on demand).

use super::{DeliverSpec, Scenario, deliver_spec};
use crate::loadgen::{poll, slow};
use std::time::Duration;

/// S6, hybrid and S7 options (flattened into `kubecast-bench fanout`).
#[derive(clap::Args, Debug, Clone)]
pub struct ExtraScenarioArgs {
    /// S6: `<clients>x<events/s>` runs, each done without and then with slow readers.
    #[arg(long, value_delimiter = ',', value_parser = deliver_spec, default_value = "1000x100")]
    pub slow_deliver: Vec<DeliverSpec>,
    /// S6: share of the clients (0 to 1) that read slowly.
    #[arg(long, default_value_t = 0.01, value_parser = slow::share)]
    pub slow_share: f64,
    /// S6: bytes per second a slow client reads at most (its socket's receive buffer is small,
    /// so the server's writes to it block).
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..))]
    pub slow_read_rate: u64,
    /// S6: Kubecast's `--max-backlog` in both of S6's runs (bytes; the fanout's default is
    /// 8 MiB, which a 2 KiB/s reader of a short run never reaches).
    #[arg(long, default_value_t = 256 << 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub slow_max_backlog: u64,
    /// Hybrid clients (Kubecast): `<clients>x<events/s>` runs of S-deliver whose clients also
    /// poll `GET /events?since=`.
    #[arg(long, value_delimiter = ',', value_parser = deliver_spec, default_value = "1000x20")]
    pub hybrid: Vec<DeliverSpec>,
    /// Hybrid clients: mean interval between two polls of one client (jittered ½ … 1½ ×).
    #[arg(long, default_value = "1s", value_parser = poll::interval)]
    pub poll_interval: Duration,
    /// S7 soak (Kubecast): `<clients>x<events/s>`; the default is half the S2 knee.
    #[arg(long, value_parser = deliver_spec, default_value = "10000x10")]
    pub soak: DeliverSpec,
    /// S7: how long the soak publishes.
    #[arg(long, default_value = "30m", value_parser = humantime::parse_duration)]
    pub soak_duration: Duration,
    /// S7: interval between two samples of the fanout's RSS and open fds.
    #[arg(long, default_value = "10s", value_parser = poll::interval)]
    pub soak_sample: Duration,
}

impl ExtraScenarioArgs {
    /// Combinations clap cannot check: a soak needs at least two samples, and S6 needs at least
    /// one slow reader among its clients.
    pub fn check(&self, scenarios: &[Scenario]) -> Result<(), String> {
        if scenarios.contains(&Scenario::Soak) && self.soak_duration < self.soak_sample * 2 {
            return Err(format!(
                "--soak-duration ({:?}) must be at least two --soak-sample intervals ({:?})",
                self.soak_duration, self.soak_sample
            ));
        }
        let slow = scenarios.contains(&Scenario::Slow);
        for spec in self.slow_deliver.iter().filter(|_| slow) {
            if (self.slow_share * spec.clients as f64).round() < 1.0 {
                return Err(format!(
                    "--slow-share {} of {} clients is no slow reader: raise one of them",
                    self.slow_share, spec.clients
                ));
            }
        }
        Ok(())
    }

    /// The `clients` flags of S6's slow run.
    pub fn slow_flags(&self) -> Vec<String> {
        vec![
            "--slow-share".into(),
            self.slow_share.to_string(),
            "--slow-read-rate".into(),
            self.slow_read_rate.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::FanoutBenchArgs;
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: FanoutBenchArgs,
    }

    fn parse(extra: &[&str]) -> Result<FanoutBenchArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("fanout").chain(extra.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn the_defaults_are_a_valid_run_of_every_scenario() {
        let a = parse(&["--scenarios", "slow,hybrid,soak"]).expect("valid");
        assert_eq!((a.extra.soak.clients, a.extra.soak.rate), (10_000, 10));
        assert_eq!(a.extra.soak_duration, Duration::from_secs(1800));
        assert_eq!(a.extra.check(&a.scenarios), Ok(()));
    }

    #[test]
    fn out_of_range_values_are_usage_errors() {
        for bad in [
            &["--slow-share", "1.01"][..],
            &["--slow-read-rate", "0"],
            &["--slow-max-backlog", "0"],
            &["--slow-deliver", "100"],
            &["--poll-interval", "0ms"],
            &["--soak", "10000by10"],
            &["--soak-sample", "0s"],
        ] {
            let err = parse(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} was accepted"));
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn a_soak_shorter_than_two_samples_is_refused() {
        let a = parse(&[
            "--scenarios",
            "soak",
            "--soak-duration",
            "15s",
            "--soak-sample",
            "10s",
        ])
        .expect("parses");
        assert!(
            a.extra
                .check(&a.scenarios)
                .is_err_and(|e| e.contains("--soak-duration"))
        );
        // Not refused when the soak is not run.
        assert_eq!(a.extra.check(&[Scenario::Deliver]), Ok(()));
    }

    #[test]
    fn an_s6_run_without_a_single_slow_reader_is_refused() {
        let a = parse(&[
            "--scenarios",
            "slow",
            "--slow-deliver",
            "40x10",
            "--slow-share",
            "0.01",
        ])
        .expect("parses");
        assert!(
            a.extra
                .check(&a.scenarios)
                .is_err_and(|e| e.contains("no slow reader"))
        );
    }
}
