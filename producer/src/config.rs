//! Producer configuration: the plain [`ProducerConfig`] the library takes, and the clap group
//! [`ProducerArgs`] the binaries flatten into their arguments.

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
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            debounce: Duration::from_millis(250),
            max_wait: Duration::from_secs(1),
            batch_max: 500,
            fence: None,
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
}

impl ProducerArgs {
    pub fn config(&self) -> ProducerConfig {
        ProducerConfig {
            debounce: self.debounce,
            max_wait: self.max_wait,
            batch_max: usize::try_from(self.batch_max).unwrap_or(usize::MAX),
            fence: self.fence,
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
    fn a_zero_batch_size_is_refused() {
        assert!(Cli::try_parse_from(["p", "--batch-max", "0"]).is_err());
    }
}
