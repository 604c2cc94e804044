//! Fanout configuration: the plain [`FanoutConfig`] the library runs with, and the clap group
//! [`FanoutArgs`] (every flag also an environment variable) that binaries flatten into their args.

use crate::auth::{Auth, AuthConfig, KeySource};
use crate::limits::{Cidr, LimitsConfig};
use std::sync::Arc;
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
    /// Who may connect and what they may see.
    pub auth: Arc<Auth>,
    /// After a shutdown signal, each WebSocket keeps being served for a random part of this
    /// window, then is closed with 1001 (so clients reconnect elsewhere spread out).
    pub drain_window: Duration,
    /// How often each WebSocket is pinged, and how much longer a silent one is kept.
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// Connection, message-rate and catch-up limits.
    pub limits: LimitsConfig,
    /// While events keep coming, the tail publishes at most once per interval, so each client
    /// gets what arrived meanwhile in one frame (zero: publish every read at once).
    pub batch_interval: Duration,
    /// The kernel send buffer of every WebSocket (bytes; 0: the kernel's automatic sizing).
    pub send_buffer: usize,
}

impl Default for FanoutConfig {
    fn default() -> Self {
        Self {
            server_name: default_server_name(),
            heartbeat: Duration::from_secs(2),
            ring_capacity: 100_000,
            catchup_wait: Duration::from_secs(2),
            max_backlog: DEFAULT_MAX_BACKLOG,
            auth: Arc::new(Auth::open()),
            drain_window: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            ping_timeout: Duration::from_secs(10),
            limits: LimitsConfig::default(),
            batch_interval: Duration::ZERO,
            send_buffer: DEFAULT_SEND_BUFFER,
        }
    }
}

/// Default of [`FanoutConfig::max_backlog`]: 8 MiB of events (a few seconds at a high rate).
pub const DEFAULT_MAX_BACKLOG: u64 = 8 << 20;

/// Default of [`FanoutConfig::send_buffer`]: 128 KiB (Linux keeps 256 KiB). Without a cap the
/// kernel lets a client that stops reading take up to `tcp_wmem`'s maximum (often 4 MiB)
/// before the backlog bound sees anything.
pub const DEFAULT_SEND_BUFFER: usize = 128 << 10;

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

    /// On SIGTERM, WebSockets are closed with 1001 at random instants over this window (keep
    /// terminationGracePeriodSeconds above it plus a few seconds).
    #[arg(long, env = "KUBECAST_DRAIN_WINDOW", default_value = "10s", value_parser = humantime::parse_duration)]
    pub drain_window: Duration,

    /// Interval of WebSocket pings (half-open connection detection).
    #[arg(long, env = "KUBECAST_PING_INTERVAL", default_value = "20s", value_parser = humantime::parse_duration)]
    pub ping_interval: Duration,

    /// How long after a ping interval a silent client is kept before it is closed.
    #[arg(long, env = "KUBECAST_PING_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub ping_timeout: Duration,

    /// While events keep coming, publish to clients at most once per interval (e.g. 50ms): one
    /// frame and one write per client for everything that arrived meanwhile, at the cost of up
    /// to this much latency. 0 publishes every read at once.
    #[arg(long, env = "KUBECAST_BATCH_INTERVAL", default_value = "0s", value_parser = parse_batch_interval)]
    pub batch_interval: Duration,

    /// Kernel send buffer of each WebSocket in bytes (0: the kernel's automatic sizing, up to
    /// net.ipv4.tcp_wmem's maximum for a client that stops reading).
    #[arg(long, env = "KUBECAST_SOCKET_SEND_BUFFER", default_value_t = DEFAULT_SEND_BUFFER)]
    pub socket_send_buffer: usize,

    #[command(flatten)]
    pub auth: AuthArgs,

    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Limit flags (see [`LimitsConfig`]).
#[derive(clap::Args, Clone, Debug)]
pub struct LimitArgs {
    /// WebSocket connections per replica (0: no limit); beyond it clients get 1013.
    #[arg(long, env = "KUBECAST_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,

    /// WebSocket connections per client IP (0: no limit); beyond it clients get 1008. Behind a
    /// load balancer, set --trusted-proxies or every client shares its address.
    #[arg(long, env = "KUBECAST_MAX_CONNECTIONS_PER_IP", default_value_t = 0)]
    pub max_connections_per_ip: usize,

    /// Client messages per second per connection (bursts of twice as many); beyond, 1008.
    #[arg(long, env = "KUBECAST_MAX_CLIENT_MESSAGE_RATE", default_value_t = 20.0)]
    pub max_client_message_rate: f64,

    /// Proxies (IPs or CIDR blocks, comma list) whose X-Forwarded-For names the client.
    #[arg(long, env = "KUBECAST_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<Cidr>,

    /// Sessions catching up (snapshot or replay) at once; the others queue.
    #[arg(long, env = "KUBECAST_MAX_CONCURRENT_JOINS", default_value_t = 256)]
    pub max_concurrent_joins: usize,

    /// How long a session queues for a catch-up slot before it gets 1013.
    #[arg(long, env = "KUBECAST_JOIN_WAIT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub join_wait: Duration,
}

impl LimitArgs {
    pub fn config(&self) -> LimitsConfig {
        let rate = self.max_client_message_rate.max(0.1);
        LimitsConfig {
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            messages_per_sec: rate,
            message_burst: (2.0 * rate).max(1.0),
            trusted_proxies: self.trusted_proxies.clone(),
            max_concurrent_joins: self.max_concurrent_joins.max(1),
            join_wait: self.join_wait,
        }
    }
}

/// Authentication flags (DESIGN §6). Without a key every client sees everything, which the
/// binaries only allow on loopback unless `--allow-unauthenticated` is given.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct AuthArgs {
    /// HS256 shared secret (at least 32 bytes). Prefer --jwt-secret-file or the environment.
    #[arg(long, env = "KUBECAST_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// File holding the HS256 shared secret (surrounding whitespace is ignored).
    #[arg(long, env = "KUBECAST_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<std::path::PathBuf>,

    /// PEM file with the RS256 public key.
    #[arg(long, env = "KUBECAST_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<std::path::PathBuf>,

    /// Required `aud` claim (comma list: any of them).
    #[arg(long, env = "KUBECAST_JWT_AUDIENCE", value_delimiter = ',')]
    pub jwt_audience: Vec<String>,

    /// Required `iss` claim (comma list: any of them).
    #[arg(long, env = "KUBECAST_JWT_ISSUER", value_delimiter = ',')]
    pub jwt_issuer: Vec<String>,

    /// The claim listing the namespaces a token grants (`"*"` or a list).
    #[arg(
        long,
        env = "KUBECAST_JWT_NAMESPACES_CLAIM",
        default_value = "namespaces"
    )]
    pub jwt_namespaces_claim: String,

    /// Clock skew tolerated on `exp` and `nbf`.
    #[arg(long, env = "KUBECAST_JWT_LEEWAY", default_value = "30s", value_parser = humantime::parse_duration)]
    pub jwt_leeway: Duration,

    /// Allowed `Origin`s of WebSocket upgrades (comma list; default: any).
    #[arg(long, env = "KUBECAST_ALLOW_ORIGINS", value_delimiter = ',')]
    pub allow_origins: Vec<String>,

    /// Serve without tokens on a non-loopback address (everyone sees every namespace).
    #[arg(long, env = "KUBECAST_ALLOW_UNAUTHENTICATED")]
    pub allow_unauthenticated: bool,
}

impl AuthArgs {
    /// The policy these flags describe; an unreadable or malformed key is an error.
    pub fn auth(&self) -> Result<Auth, String> {
        Auth::new(&self.auth_config()?)
    }

    fn auth_config(&self) -> Result<AuthConfig, String> {
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
        };
        let key = match (
            &self.jwt_secret,
            &self.jwt_secret_file,
            &self.jwt_public_key_file,
        ) {
            (None, None, None) => None,
            (Some(secret), None, None) => Some(KeySource::Hs256(secret.trim().as_bytes().to_vec())),
            (None, Some(path), None) => {
                let secret = read(path)?;
                Some(KeySource::Hs256(secret.trim_ascii().to_vec()))
            }
            (None, None, Some(path)) => Some(KeySource::Rs256Pem(read(path)?)),
            _ => {
                return Err(
                    "give one of --jwt-secret, --jwt-secret-file, --jwt-public-key-file".into(),
                );
            }
        };
        Ok(AuthConfig {
            key,
            audience: self.jwt_audience.clone(),
            issuer: self.jwt_issuer.clone(),
            namespaces_claim: self.jwt_namespaces_claim.clone(),
            leeway: self.jwt_leeway,
            origins: self.allow_origins.clone(),
        })
    }

    /// Refuses to serve everyone everything on a non-loopback address unless told to.
    pub fn check_exposure(&self, auth: &Auth, listen: std::net::SocketAddr) -> Result<(), String> {
        if auth.requires_tokens() || listen.ip().is_loopback() || self.allow_unauthenticated {
            return Ok(());
        }
        Err(format!(
            "refusing to serve {listen} without authentication: configure --jwt-secret-file or \
             --jwt-public-key-file, listen on loopback, or pass --allow-unauthenticated"
        ))
    }
}

impl FanoutArgs {
    /// The configuration these flags describe (reads the key files).
    pub fn config(&self) -> Result<FanoutConfig, String> {
        Ok(FanoutConfig {
            server_name: self.server_name.clone().unwrap_or_else(default_server_name),
            heartbeat: self.heartbeat.max(Duration::from_millis(50)),
            ring_capacity: self.ring_capacity.max(1),
            catchup_wait: self.catchup_wait,
            max_backlog: self.max_backlog.max(1),
            auth: Arc::new(self.auth.auth()?),
            drain_window: self.drain_window,
            ping_interval: self.ping_interval.max(Duration::from_millis(100)),
            ping_timeout: self.ping_timeout,
            limits: self.limits.config(),
            batch_interval: self.batch_interval,
            send_buffer: self.socket_send_buffer,
        })
    }
}

/// The longest batch interval accepted: beyond it, live updates would stop looking live.
pub const MAX_BATCH_INTERVAL: Duration = Duration::from_secs(1);

fn parse_batch_interval(s: &str) -> Result<Duration, String> {
    let interval = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if interval > MAX_BATCH_INTERVAL {
        return Err(format!(
            "{s} is longer than the {}ms allowed",
            MAX_BATCH_INTERVAL.as_millis()
        ));
    }
    Ok(interval)
}
