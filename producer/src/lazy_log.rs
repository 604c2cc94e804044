//! An event log opened on first use: a standalone producer must start, list and keep watching
//! while Redis is unreachable, so opening the log is just another operation that fails
//! transiently (and is retried with backoff by the driver) instead of a start-up error.

use kubecast_shared::config::LogArgs;
use kubecast_shared::log::{
    AnyLog, AppendBatch, EventLog, LogMeta, RangeRead, Result, SnapshotRead,
};
use kubecast_shared::{Epoch, Seq, StoredEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// The configured log, connected when first needed (and again after a failed attempt).
#[derive(Clone)]
pub struct LazyLog {
    args: Arc<LogArgs>,
    log: Arc<OnceCell<AnyLog>>,
}

impl LazyLog {
    pub fn new(args: LogArgs) -> Self {
        Self {
            args: Arc::new(args),
            log: Arc::new(OnceCell::new()),
        }
    }

    async fn get(&self) -> Result<&AnyLog> {
        // Boxed: opening nests the Redis clients' connect futures (the Cluster client's are
        // deep), which would otherwise sit inline in every caller's future.
        self.log
            .get_or_try_init(|| Box::pin(self.args.open()))
            .await
    }
}

impl EventLog for LazyLog {
    async fn meta(&self) -> Result<Option<LogMeta>> {
        self.get().await?.meta().await
    }

    async fn retire_epoch(&self, epoch: &Epoch, retired: &Epoch) -> Result<bool> {
        self.get().await?.retire_epoch(epoch, retired).await
    }

    async fn create_epoch(&self, epoch: &Epoch, fence: u64) -> Result<LogMeta> {
        self.get().await?.create_epoch(epoch, fence).await
    }

    async fn append(&self, batch: &AppendBatch) -> Result<Seq> {
        self.get().await?.append(batch).await
    }

    async fn read_range(&self, after: Seq, limit: usize) -> Result<RangeRead> {
        self.get().await?.read_range(after, limit).await
    }

    async fn wait_after(
        &self,
        after: Seq,
        limit: usize,
        block: Duration,
    ) -> Result<Vec<StoredEvent>> {
        self.get().await?.wait_after(after, limit, block).await
    }

    async fn snapshot(&self) -> Result<SnapshotRead> {
        self.get().await?.snapshot().await
    }
}
