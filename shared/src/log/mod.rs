//! The event-log port (DESIGN §1): one writer appends sequenced events and updates the snapshot
//! atomically; readers tail, page and snapshot. Two implementations share the contract and the
//! conformance tests in `conformance.rs`: [`RedisLog`] for production and [`MemoryLog`] for the
//! embedded default. [`AnyLog`] picks one by configuration.
//!
//! Invariants every implementation keeps:
//! - an append succeeds only if the caller's fence is not older than the stored one, the epoch
//!   matches and `expected_head` equals the head; its seqs must be `head+1, head+2, …`;
//! - appends, snapshot updates and the head move together (no reader sees one without the others);
//! - `create_epoch` drops the previous log and snapshot, so `(epoch, seq)` is never reused.

mod any;
mod connection;
mod memory;
mod redis;
mod sentinel;
mod types;
mod url;

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod ha_tests;
#[cfg(test)]
mod tls_redis;

pub use any::AnyLog;
pub use memory::MemoryLog;
pub use redis::RedisLog;
pub use types::{
    AppendBatch, AppendEntry, Fence, LogError, LogMeta, RangeRead, Result, SnapshotChange,
    SnapshotRead,
};
pub use url::{ClusterTarget, RedisTarget, SentinelTarget, UrlError, validate_redis_url};

use crate::protocol::{Epoch, Seq, StoredEvent};
use std::future::Future;
use std::time::Duration;

/// A cluster's event log.
pub trait EventLog: Clone + Send + Sync + 'static {
    /// The log's meta, or `None` when it does not exist (never created, or wiped).
    fn meta(&self) -> impl Future<Output = Result<Option<LogMeta>>> + Send;

    /// Starts a new epoch: removes any previous log and snapshot and sets the head to 0.
    /// Refused with [`LogError::StaleFence`] if a newer writer holds the log.
    fn create_epoch(
        &self,
        epoch: &Epoch,
        fence: Fence,
    ) -> impl Future<Output = Result<LogMeta>> + Send;

    /// Retires `epoch` if the log is still at it: its meta's epoch becomes `retired`. A reader
    /// calls it when it finds the history rewritten under the epoch (its head went backwards, or
    /// the event at its head changed); the writer's next append is then refused and it starts a
    /// new epoch. Returns whether this call retired it.
    fn retire_epoch(
        &self,
        epoch: &Epoch,
        retired: &Epoch,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Appends a batch atomically and returns the new head.
    fn append(&self, batch: &AppendBatch) -> impl Future<Output = Result<Seq>> + Send;

    /// Up to `limit` events after `after`, with the meta and oldest retained seq read atomically.
    fn read_range(
        &self,
        after: Seq,
        limit: usize,
    ) -> impl Future<Output = Result<RangeRead>> + Send;

    /// Waits up to `block` for events after `after` and returns up to `limit` of them (possibly
    /// none). Events of another epoch may appear if the log was recreated; callers check.
    fn wait_after(
        &self,
        after: Seq,
        limit: usize,
        block: Duration,
    ) -> impl Future<Output = Result<Vec<StoredEvent>>> + Send;

    /// The whole snapshot with the meta it corresponds to, read atomically.
    fn snapshot(&self) -> impl Future<Output = Result<SnapshotRead>> + Send;
}
