//! An event-log wrapper that records how long each append takes.

use kubecast_shared::log::{AppendBatch, EventLog, LogMeta, RangeRead, Result, SnapshotRead};
use kubecast_shared::{Epoch, Seq, StoredEvent};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Delegates to `inner`, timing appends (µs).
#[derive(Clone)]
pub struct TimedLog<L> {
    inner: L,
    pub append_us: Arc<Mutex<hdrhistogram::Histogram<u64>>>,
}

impl<L: EventLog> TimedLog<L> {
    pub fn new(inner: L) -> Self {
        let hist = hdrhistogram::Histogram::new(3).expect("histogram");
        Self {
            inner,
            append_us: Arc::new(Mutex::new(hist)),
        }
    }

    pub fn histogram(&self) -> hdrhistogram::Histogram<u64> {
        self.append_us
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl<L: EventLog> EventLog for TimedLog<L> {
    async fn meta(&self) -> Result<Option<LogMeta>> {
        self.inner.meta().await
    }

    async fn retire_epoch(&self, epoch: &Epoch, retired: &Epoch) -> Result<bool> {
        self.inner.retire_epoch(epoch, retired).await
    }

    async fn create_epoch(&self, epoch: &Epoch, fence: u64) -> Result<LogMeta> {
        self.inner.create_epoch(epoch, fence).await
    }

    async fn append(&self, batch: &AppendBatch) -> Result<Seq> {
        let start = Instant::now();
        let result = self.inner.append(batch).await;
        let us = start.elapsed().as_micros() as u64;
        let _ = self
            .append_us
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(us);
        result
    }

    async fn read_range(&self, after: Seq, limit: usize) -> Result<RangeRead> {
        self.inner.read_range(after, limit).await
    }

    async fn wait_after(
        &self,
        after: Seq,
        limit: usize,
        block: Duration,
    ) -> Result<Vec<StoredEvent>> {
        self.inner.wait_after(after, limit, block).await
    }

    async fn snapshot(&self) -> Result<SnapshotRead> {
        self.inner.snapshot().await
    }
}
