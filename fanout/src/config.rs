//! Fanout configuration: the plain [`FanoutConfig`] the library runs with, and the clap group
//! [`FanoutArgs`] (every flag also an environment variable) that binaries flatten into their args.

use std::time::Duration;

/// How a fanout replica behaves.
#[derive(Clone, Debug)]
pub struct FanoutConfig {
    /// Name this replica announces in `hello` (helps tell replicas apart behind a load balancer).
    pub server_name: String,
    /// Interval of `position` heartbeats on every WebSocket.
    pub heartbeat: Duration,
    /// How many recent events the in-memory ring keeps for resuming clients.
    pub ring_capacity: usize,
    /// How long a cursor ahead of this replica waits for the tail to catch up.
    pub catchup_wait: Duration,
    /// How many bytes of live events a WebSocket client may be behind before it is closed with
    /// 4008 (it resumes with `since`).
    pub max_backlog: u64,
}

impl Default for FanoutConfig {
    fn default() -> Self {
        Self {
            server_name: default_server_name(),
            heartbeat: Duration::from_secs(2),
            ring_capacity: 100_000,
            catchup_wait: Duration::from_secs(2),
            max_backlog: DEFAULT_MAX_BACKLOG,
        }
    }
}

/// Default of [`FanoutConfig::max_backlog`]: 8 MiB of events (a few seconds at a high rate).
pub const DEFAULT_MAX_BACKLOG: u64 = 8 << 20;

fn default_server_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "kubecast-fanout".to_string())
}

/// Fanout flags.
#[derive(clap::Args, Clone, Debug)]
pub struct FanoutArgs {
    /// Name announced in `hello` (default: $HOSTNAME, else "kubecast-fanout").
    #[arg(long, env = "KUBECAST_SERVER_NAME")]
    pub server_name: Option<String>,

    /// Interval of `position` heartbeats on WebSockets (e.g. 2s, 500ms).
    #[arg(long, env = "KUBECAST_HEARTBEAT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub heartbeat: Duration,

    /// How many recent events each replica keeps in memory for resuming clients.
    #[arg(long, env = "KUBECAST_RING_CAPACITY", default_value_t = 100_000)]
    pub ring_capacity: usize,

    /// How long a cursor ahead of this replica waits for it to catch up before asking Redis.
    #[arg(long, env = "KUBECAST_CATCHUP_WAIT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub catchup_wait: Duration,

    /// Bytes of live events a WebSocket client may fall behind before it is closed with 4008
    /// (it resumes with `since`; the others never wait for it).
    #[arg(long, env = "KUBECAST_MAX_BACKLOG", default_value_t = DEFAULT_MAX_BACKLOG)]
    pub max_backlog: u64,
}

impl FanoutArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> FanoutConfig {
        FanoutConfig {
            server_name: self.server_name.clone().unwrap_or_else(default_server_name),
            heartbeat: self.heartbeat.max(Duration::from_millis(50)),
            ring_capacity: self.ring_capacity.max(1),
            catchup_wait: self.catchup_wait,
            max_backlog: self.max_backlog.max(1),
        }
    }
}
