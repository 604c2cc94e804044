//! Producer configuration: the plain [`ProducerConfig`] the library takes, and the clap group
//! [`ProducerArgs`] the binaries flatten into their arguments.

use crate::lease::{LeaseConfig, Pause};
use clap::Args;
use std::time::Duration;

/// How the producer debounces and publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerConfig {
    /// Per-object coalescing window, restarted by each change.
    pub debounce: Duration,
    /// Upper bound on how long a changing object waits from its first pending change.
    pub max_wait: Duration,
    /// Most events appended in one batch.
    pub batch_max: usize,
    /// Fencing token; `None` = milliseconds since the Unix epoch at start, so a newer producer
    /// takes over from an older one.
    pub fence: Option<u64>,
    /// Leader election; `None` = always publish with `fence` (the embedded/dev mode).
    pub lease: Option<LeaseConfig>,
    /// Test hook: freezes the renew loop and the publish path while paused.
    pub pause: Option<Pause>,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            debounce: Duration::from_millis(250),
            max_wait: Duration::from_secs(1),
            batch_max: 500,
            fence: None,
            lease: None,
            pause: None,
        }
    }
}

/// Producer options.
#[derive(Args, Clone, Debug)]
pub struct ProducerArgs {
    /// Per-object debounce window (changes inside it coalesce into one event).
    #[arg(long, env = "KUBECAST_DEBOUNCE", default_value = "250ms", value_parser = humantime::parse_duration)]
    pub debounce: Duration,

    /// Longest an object that keeps changing waits before its event is published.
    #[arg(long, env = "KUBECAST_MAX_WAIT", default_value = "1s", value_parser = humantime::parse_duration)]
    pub max_wait: Duration,

    /// Most events appended to the log in one batch.
    #[arg(long, env = "KUBECAST_BATCH_MAX", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_max: u64,

    /// Fencing token of this producer (default: the start time in ms, so the newest producer wins).
    #[arg(long, env = "KUBECAST_FENCE")]
    pub fence: Option<u64>,

    /// Elect a leader on a Kubernetes Lease so several replicas can run; only the leader
    /// publishes, with the lease generation as its fence (overrides --fence).
    #[arg(long, env = "KUBECAST_LEADER_ELECT")]
    pub leader_elect: bool,

    /// Namespace of the leader-election Lease.
    #[arg(long, env = "KUBECAST_LEASE_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,

    /// Name of the leader-election Lease.
    #[arg(long, env = "KUBECAST_LEASE_NAME", default_value = "kubecast-producer")]
    pub lease_name: String,

    /// How long the lease stays valid after a renewal.
    #[arg(long, env = "KUBECAST_LEASE_DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    pub lease_duration: Duration,

    /// How often the leader renews the lease (must be well below --lease-duration).
    #[arg(long, env = "KUBECAST_RENEW_EVERY", default_value = "5s", value_parser = humantime::parse_duration)]
    pub renew_every: Duration,

    /// Holder identity in the lease (default: hostname-pid).
    #[arg(long, env = "KUBECAST_IDENTITY")]
    pub identity: Option<String>,

    /// Address of the /metrics and /healthz server (empty: off).
    #[arg(
        long,
        env = "KUBECAST_METRICS_LISTEN",
        default_value = "127.0.0.1:9090"
    )]
    pub metrics_listen: String,
}

impl ProducerArgs {
    pub fn config(&self) -> ProducerConfig {
        ProducerConfig {
            debounce: self.debounce,
            max_wait: self.max_wait,
            batch_max: usize::try_from(self.batch_max).unwrap_or(usize::MAX),
            fence: self.fence,
            lease: self.leader_elect.then(|| LeaseConfig {
                namespace: self.lease_namespace.clone(),
                name: self.lease_name.clone(),
                identity: self
                    .identity
                    .clone()
                    .unwrap_or_else(LeaseConfig::default_identity),
                duration: self.lease_duration,
                renew_every: self.renew_every,
            }),
            pause: None,
        }
    }

    /// Where to serve metrics, if anywhere.
    pub fn metrics_addr(&self) -> Option<&str> {
        Some(self.metrics_listen.trim()).filter(|a| !a.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        producer: ProducerArgs,
    }

    #[test]
    fn defaults_match_the_default_config() {
        let cli = Cli::try_parse_from(["p"]).expect("parses");
        assert_eq!(cli.producer.config(), ProducerConfig::default());
    }

    #[test]
    fn durations_are_humantime() {
        let cli = Cli::try_parse_from([
            "p",
            "--debounce",
            "100ms",
            "--max-wait",
            "2s",
            "--fence",
            "7",
        ])
        .expect("parses");
        let config = cli.producer.config();
        assert_eq!(config.debounce, Duration::from_millis(100));
        assert_eq!(config.max_wait, Duration::from_secs(2));
        assert_eq!(config.fence, Some(7));
    }

    #[test]
    fn leader_election_is_off_by_default_and_configurable() {
        let cli = Cli::try_parse_from(["p"]).expect("parses");
        assert!(cli.producer.config().lease.is_none());
        assert_eq!(cli.producer.metrics_addr(), Some("127.0.0.1:9090"));
        let cli = Cli::try_parse_from([
            "p",
            "--leader-elect",
            "--lease-namespace",
            "ops",
            "--lease-duration",
            "3s",
            "--renew-every",
            "1s",
            "--identity",
            "p-1",
            "--metrics-listen",
            "",
        ])
        .expect("parses");
        let lease = cli.producer.config().lease.expect("elected");
        assert_eq!(
            (
                lease.namespace.as_str(),
                lease.name.as_str(),
                lease.identity.as_str()
            ),
            ("ops", "kubecast-producer", "p-1")
        );
        assert_eq!(
            (lease.duration, lease.renew_every),
            (Duration::from_secs(3), Duration::from_secs(1))
        );
        assert_eq!(cli.producer.metrics_addr(), None);
    }

    #[test]
    fn a_zero_batch_size_is_refused() {
        assert!(Cli::try_parse_from(["p", "--batch-max", "0"]).is_err());
    }
}
