//! Command-line/environment groups shared by the binaries (flattened into each binary's args).

use crate::keys::validate_cluster_name;
use crate::log::{AnyLog, MemoryLog, RedisLog, Result, validate_redis_url};
use clap::{Args, ValueEnum};

/// Where the event log lives.
#[derive(Args, Clone, Debug)]
pub struct LogArgs {
    /// Redis URL of the event log: redis://host:port/db (rediss:// for TLS),
    /// redis+sentinel://host:port[,host:port…]/<master-name>[/<db>] (Sentinel; rediss+sentinel://
    /// for TLS) or redis+cluster://host:port[,host:port…] (Redis Cluster; rediss+cluster://).
    /// Without it the log is kept in memory, which only works when producer and fanout run in
    /// one process (the embedded default).
    #[arg(long, env = "REDIS_URL", value_parser = redis_url)]
    pub redis_url: Option<String>,

    /// Name of the cluster whose log this is (the Redis hash tag).
    #[arg(long, env = "KUBECAST_CLUSTER", default_value = "default", value_parser = cluster_name)]
    pub cluster: String,

    /// How many events the log retains (Redis trims approximately, in 100-entry blocks).
    #[arg(long, env = "KUBECAST_RETENTION_EVENTS", default_value_t = 100_000)]
    pub retention_events: usize,
}

fn redis_url(s: &str) -> Result<String, String> {
    validate_redis_url(s)
}

fn cluster_name(s: &str) -> Result<String, String> {
    validate_cluster_name(s).map(|()| s.to_string())
}

impl LogArgs {
    /// Opens the configured log.
    pub async fn open(&self) -> Result<AnyLog> {
        match &self.redis_url {
            Some(url) => Ok(AnyLog::Redis(
                RedisLog::connect(url, &self.cluster, self.retention_events).await?,
            )),
            None => Ok(AnyLog::Memory(MemoryLog::new(self.retention_events))),
        }
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The async runtime of a binary.
#[derive(Args, Clone, Debug)]
pub struct RuntimeArgs {
    /// Worker threads of the runtime (default: one per CPU core). Under a CPU limit, or on a
    /// node whose other cores are busy, match it to the cores the process really gets: fewer
    /// threads then means fewer cross-thread wake-ups (see BENCHMARKS.md).
    #[arg(long, env = "KUBECAST_WORKER_THREADS")]
    pub worker_threads: Option<std::num::NonZeroUsize>,
}

impl RuntimeArgs {
    /// A multi-threaded runtime with I/O and timers.
    pub fn build(&self) -> std::io::Result<tokio::runtime::Runtime> {
        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        runtime.enable_all();
        if let Some(threads) = self.worker_threads {
            runtime.worker_threads(threads.get());
        }
        runtime.build()
    }
}

/// Logging configuration.
#[derive(Args, Clone, Debug)]
pub struct TelemetryArgs {
    /// Log format.
    #[arg(long, env = "KUBECAST_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter (tracing-subscriber EnvFilter syntax).
    #[arg(long, env = "KUBECAST_LOG", default_value = "info")]
    pub log: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Binary {
        #[command(flatten)]
        log: LogArgs,
    }

    #[test]
    fn every_binary_refuses_a_malformed_redis_url_with_a_usage_error() {
        let error = Binary::try_parse_from(["kubecast", "--redis-url", "redis+sentinel://s1"])
            .expect_err("refused");
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("master name"), "{error}");
        let ok = Binary::try_parse_from(["kubecast", "--redis-url", "redis+cluster://n1:7000"]);
        assert_eq!(
            ok.expect("a cluster URL parses").log.redis_url.as_deref(),
            Some("redis+cluster://n1:7000")
        );
    }
}
