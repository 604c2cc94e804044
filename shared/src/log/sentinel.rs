//! A connection to the primary that Redis Sentinel names, which follows a failover.
//!
//! redis-rs's `ConnectionManager` reconnects to one fixed address, so it cannot follow a
//! failover. This small wrapper keeps one multiplexed connection to the primary that
//! [`SentinelClient`] discovered (it asks the sentinels, connects, and checks `ROLE` says
//! master). Any failed command except `NOSCRIPT` drops that connection, and the next command
//! asks the sentinels again, so a dead primary, a `READONLY` from a demoted one, or the
//! `CLIENT KILL` Sentinel sends at reconfiguration all lead to the new primary without a
//! restart. Like `ConnectionManager`, it never retries a command itself: an append whose outcome
//! is unknown is returned as an error and settled by the producer (re-reading meta).

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::sentinel::SentinelClient;
use redis::{AsyncConnectionConfig, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A cloneable handle; clones share the discovered connection.
#[derive(Clone)]
pub(super) struct SentinelConnection {
    inner: Arc<Inner>,
    db: i64,
}

struct Inner {
    /// Held during discovery, so concurrent callers wait for one lookup instead of each asking.
    sentinel: tokio::sync::Mutex<SentinelClient>,
    config: AsyncConnectionConfig,
    /// The connection to the current primary and the generation it was made in.
    current: Mutex<Option<(u64, MultiplexedConnection)>>,
    generations: AtomicU64,
}

impl SentinelConnection {
    /// Discovers the primary once, so a wrong URL or an unknown master name fails here.
    pub(super) async fn connect(
        sentinel: SentinelClient,
        config: AsyncConnectionConfig,
        db: i64,
    ) -> redis::RedisResult<Self> {
        let connection = Self {
            inner: Arc::new(Inner {
                sentinel: tokio::sync::Mutex::new(sentinel),
                config,
                current: Mutex::new(None),
                generations: AtomicU64::new(0),
            }),
            db,
        };
        connection.current().await?;
        Ok(connection)
    }

    fn cached(&self) -> Option<(u64, MultiplexedConnection)> {
        self.inner
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The connection to the primary, discovering it through the sentinels when there is none.
    async fn current(&self) -> redis::RedisResult<(u64, MultiplexedConnection)> {
        if let Some(found) = self.cached() {
            return Ok(found);
        }
        let mut sentinel = self.inner.sentinel.lock().await;
        if let Some(found) = self.cached() {
            return Ok(found); // another caller discovered it while we waited
        }
        let connection = sentinel
            .get_async_connection_with_config(&self.inner.config)
            .await?;
        let generation = self.inner.generations.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::info!(
            generation,
            "connected to the primary named by Redis Sentinel"
        );
        let found = (generation, connection);
        *self.inner.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(found.clone());
        Ok(found)
    }

    /// Drops the connection of `generation` (not a newer one another caller already made).
    fn forget(&self, generation: u64, error: &RedisError) {
        let mut current = self.inner.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_some_and(|(g, _)| *g == generation) {
            tracing::warn!(%error, "Redis primary failed; asking the sentinels again");
            *current = None;
        }
    }

    fn settle<T>(&self, generation: u64, result: redis::RedisResult<T>) -> redis::RedisResult<T> {
        if let Err(error) = &result
            && !is_script_missing(error)
        {
            self.forget(generation, error);
        }
        result
    }
}

/// `NOSCRIPT` is answered by loading the script on the same primary; every other error may mean
/// the primary is gone, demoted or unreachable.
fn is_script_missing(error: &RedisError) -> bool {
    error.kind() == ErrorKind::Server(redis::ServerErrorKind::NoScript)
}

impl ConnectionLike for SentinelConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let (generation, mut connection) = self.current().await?;
            let result = connection.req_packed_command(cmd).await;
            self.settle(generation, result)
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let (generation, mut connection) = self.current().await?;
            let result = connection
                .req_packed_commands(pipeline, offset, count)
                .await;
            self.settle(generation, result)
        })
    }

    fn get_db(&self) -> i64 {
        self.db
    }
}
