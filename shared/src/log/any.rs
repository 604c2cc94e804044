//! Configuration-time choice between the Redis log and the in-memory log.

use super::{AppendBatch, EventLog, LogMeta, MemoryLog, RangeRead, RedisLog, Result, SnapshotRead};
use crate::protocol::{Epoch, Seq, StoredEvent};
use std::time::Duration;

/// Either log implementation, chosen at start-up.
#[derive(Clone)]
pub enum AnyLog {
    Memory(MemoryLog),
    Redis(RedisLog),
}

macro_rules! dispatch {
    ($self:ident, $log:ident => $call:expr) => {
        match $self {
            AnyLog::Memory($log) => $call.await,
            AnyLog::Redis($log) => $call.await,
        }
    };
}

impl EventLog for AnyLog {
    async fn meta(&self) -> Result<Option<LogMeta>> {
        dispatch!(self, log => log.meta())
    }

    async fn retire_epoch(&self, epoch: &Epoch, retired: &Epoch) -> Result<bool> {
        dispatch!(self, log => log.retire_epoch(epoch, retired))
    }

    async fn create_epoch(&self, epoch: &Epoch, fence: u64) -> Result<LogMeta> {
        dispatch!(self, log => log.create_epoch(epoch, fence))
    }

    async fn append(&self, batch: &AppendBatch) -> Result<Seq> {
        dispatch!(self, log => log.append(batch))
    }

    async fn read_range(&self, after: Seq, limit: usize) -> Result<RangeRead> {
        dispatch!(self, log => log.read_range(after, limit))
    }

    async fn wait_after(
        &self,
        after: Seq,
        limit: usize,
        block: Duration,
    ) -> Result<Vec<StoredEvent>> {
        dispatch!(self, log => log.wait_after(after, limit, block))
    }

    async fn snapshot(&self) -> Result<SnapshotRead> {
        dispatch!(self, log => log.snapshot())
    }
}
