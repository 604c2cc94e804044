//! How the Redis log reaches Redis, per topology ([`RedisTarget`]): the writer connection (appends,
//! page reads, snapshots; with a response timeout) and the reader connection for blocking
//! `XREAD`s (no response timeout, never shared with other commands).
//!
//! - one server: an auto-reconnecting `ConnectionManager` writes; a plain multiplexed connection
//!   reads (recreated after an error);
//! - Sentinel: a [`SentinelConnection`] each, which rediscovers the primary after an error;
//! - Cluster: a cluster connection each. Every key of one Kubecast cluster shares one hash tag,
//!   so every script and `XREAD` goes to the one node owning that slot, and `MOVED`/`ASK`
//!   redirections and slot-map refreshes are redis-rs's. Its retries after a dropped
//!   connection may run an append twice; the append script then refuses the second run
//!   (`head_mismatch`) and the producer settles it from meta, so nothing is duplicated.

use super::sentinel::SentinelConnection;
use super::url::{ClusterTarget, RedisTarget, SentinelTarget};
use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Client, Cmd, IntoConnectionInfo, Pipeline, RedisFuture, RedisResult,
    TlsMode, Value,
};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Cluster retries (redirections, reconnects): few, so a dead node surfaces as an error soon.
const CLUSTER_RETRIES: u32 = 3;

/// A connection of any topology.
#[derive(Clone)]
pub(super) enum LogConnection {
    Managed(ConnectionManager),
    Plain(MultiplexedConnection),
    Sentinel(SentinelConnection),
    Cluster(ClusterConnection),
}

/// Opens connections to one target.
pub(super) enum Connector {
    Single(Client),
    /// The target, not a client: each connection needs its own `SentinelClient` (not `Clone`).
    Sentinel(SentinelTarget),
    /// Boxed: a cluster client is several times the size of the other variants.
    Cluster {
        writer: Box<ClusterClient>,
        reader: Box<ClusterClient>,
    },
}

impl Connector {
    /// Builds the clients for `target` (no I/O yet).
    pub(super) fn new(target: &RedisTarget) -> RedisResult<Self> {
        match target {
            RedisTarget::Single(url) => Ok(Self::Single(Client::open(url.as_str())?)),
            RedisTarget::Sentinel(target) => {
                sentinel_client(target)?; // refuse bad settings now, not at the first command
                Ok(Self::Sentinel(target.clone()))
            }
            RedisTarget::Cluster(target) => Ok(Self::Cluster {
                writer: Box::new(
                    cluster_builder(target)
                        .response_timeout(RESPONSE_TIMEOUT)
                        .build()?,
                ),
                reader: Box::new(cluster_builder(target).build()?),
            }),
        }
    }

    /// The connection for every non-blocking command.
    pub(super) async fn writer(&self) -> RedisResult<LogConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        match self {
            Self::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_number_of_retries(1);
                let manager = ConnectionManager::new_with_config(client.clone(), config).await?;
                Ok(LogConnection::Managed(manager))
            }
            Self::Sentinel(target) => {
                let (client, db) = sentinel_client(target)?;
                Ok(LogConnection::Sentinel(
                    SentinelConnection::connect(client, config, db).await?,
                ))
            }
            Self::Cluster { writer, .. } => {
                Ok(LogConnection::Cluster(writer.get_async_connection().await?))
            }
        }
    }

    /// A connection for blocking reads, without a response timeout.
    pub(super) async fn reader(&self) -> RedisResult<LogConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(None);
        match self {
            Self::Single(client) => Ok(LogConnection::Plain(
                client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?,
            )),
            Self::Sentinel(target) => {
                let (client, db) = sentinel_client(target)?;
                Ok(LogConnection::Sentinel(
                    SentinelConnection::connect(client, config, db).await?,
                ))
            }
            Self::Cluster { reader, .. } => {
                Ok(LogConnection::Cluster(reader.get_async_connection().await?))
            }
        }
    }
}

fn tls_mode(insecure: bool) -> TlsMode {
    if insecure {
        TlsMode::Insecure
    } else {
        TlsMode::Secure
    }
}

/// A Sentinel client for the primary, and the primary's db.
fn sentinel_client(target: &SentinelTarget) -> RedisResult<(SentinelClient, i64)> {
    let settings = target.node_settings.as_str().into_connection_info()?;
    let db = settings.redis_settings().db();
    let mut node = SentinelNodeConnectionInfo::default()
        .set_redis_connection_info(settings.redis_settings().clone());
    if let Some(insecure) = target.tls {
        node = node.set_tls_mode(tls_mode(insecure));
    }
    let client = SentinelClient::build(
        target.sentinels.iter().map(String::as_str).collect(),
        target.master_name.as_str(),
        Some(node),
        SentinelServerType::Master,
    )?;
    Ok((client, db))
}

fn cluster_builder(target: &ClusterTarget) -> ClusterClientBuilder {
    let builder = ClusterClient::builder(target.nodes.iter().map(String::as_str))
        .connection_timeout(CONNECT_TIMEOUT)
        .retries(CLUSTER_RETRIES);
    match target.tls {
        Some(insecure) => builder.tls(tls_mode(insecure)),
        None => builder,
    }
}

macro_rules! dispatch {
    ($self:ident, $conn:ident => $call:expr) => {
        match $self {
            LogConnection::Managed($conn) => $call,
            LogConnection::Plain($conn) => $call,
            LogConnection::Sentinel($conn) => $call,
            LogConnection::Cluster($conn) => $call,
        }
    };
}

impl ConnectionLike for LogConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        dispatch!(self, conn => conn.req_packed_command(cmd))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        dispatch!(self, conn => conn.req_packed_commands(pipeline, offset, count))
    }

    fn get_db(&self) -> i64 {
        dispatch!(self, conn => conn.get_db())
    }
}
