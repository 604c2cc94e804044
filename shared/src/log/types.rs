//! Data types and errors of the event-log port.

use crate::protocol::{Epoch, Seq, StoredEvent};
use bytes::Bytes;

pub type Result<T, E = LogError> = std::result::Result<T, E>;

/// The writer's fencing token (the leader lease generation). Higher wins.
pub type Fence = u64;

/// What the log's meta says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogMeta {
    pub epoch: Epoch,
    /// Head: the last appended seq (0 for an empty epoch).
    pub seq: Seq,
    pub fence: Fence,
    /// Milliseconds since the Unix epoch when this epoch was created.
    pub created: u64,
}

/// How an appended event changes the snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotChange {
    /// Store the event bytes under the key (added/updated/summary).
    Put(String),
    /// Remove the key (deleted).
    Delete(String),
    /// Leave the snapshot alone (churn warnings).
    None,
}

/// One event to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendEntry {
    pub seq: Seq,
    /// The encoded event (it already contains `seq` and `epoch`).
    pub raw: Bytes,
    pub ns: String,
    pub kind: String,
    pub snapshot: SnapshotChange,
}

/// A batch of events appended atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendBatch {
    pub fence: Fence,
    pub epoch: Epoch,
    /// The head the writer believes the log has; the append is refused otherwise.
    pub expected_head: Seq,
    pub entries: Vec<AppendEntry>,
}

/// A page of the log.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeRead {
    pub meta: LogMeta,
    /// Oldest retained seq, or `None` when the stream is empty.
    pub oldest: Option<Seq>,
    pub events: Vec<StoredEvent>,
}

/// The snapshot and the meta it is consistent with.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotRead {
    pub meta: LogMeta,
    /// The stored event of every live object.
    pub objects: Vec<StoredEvent>,
}

/// What went wrong with a log operation.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("append refused: fence {ours} is older than the log's fence {current}")]
    StaleFence { ours: Fence, current: Fence },
    #[error("append refused: expected head {expected}, log head is {actual}")]
    HeadMismatch { expected: Seq, actual: Seq },
    #[error("append refused: writer epoch {ours} but the log is at epoch {current:?}")]
    EpochMismatch { ours: Epoch, current: Option<Epoch> },
    #[error("append refused: entry seqs must continue the head contiguously")]
    NonContiguous,
    #[error("the log does not exist (never created or wiped)")]
    Missing,
    #[error("redis command failed")]
    Redis(#[from] redis::RedisError),
    #[error("invalid Redis URL")]
    InvalidUrl(#[from] super::UrlError),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
}

impl LogError {
    /// Transient errors are worth retrying; the others need the caller to resync or step down.
    pub fn is_transient(&self) -> bool {
        matches!(self, LogError::Redis(_))
    }
}
