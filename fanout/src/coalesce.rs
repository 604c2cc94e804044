//! Coalescing of identical log reads: when many clients fall back to Redis for the same cursor
//! at once (a replica died and its clients resume elsewhere, all from about the same seq), one
//! `read_range` serves them all. Only reads in flight are shared; nothing is cached after.

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use kubecast_shared::Seq;
use kubecast_shared::log::{EventLog, LogError, RangeRead};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Read = Shared<BoxFuture<'static, Result<Arc<RangeRead>, Arc<LogError>>>>;

/// The reads in flight, by `(after, limit)`.
#[derive(Default)]
pub struct ReadCoalescer {
    inflight: Mutex<HashMap<(Seq, usize), Read>>,
}

impl std::fmt::Debug for ReadCoalescer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCoalescer").finish_non_exhaustive()
    }
}

impl ReadCoalescer {
    /// `log.read_range(after, limit)`, joined with an identical read already in flight.
    pub async fn read_range<L: EventLog>(
        &self,
        log: &L,
        after: Seq,
        limit: usize,
    ) -> Result<Arc<RangeRead>, Arc<LogError>> {
        let key = (after, limit);
        let read = {
            let mut inflight = self.lock();
            inflight
                .entry(key)
                .or_insert_with(|| {
                    let log = log.clone();
                    async move {
                        log.read_range(after, limit)
                            .await
                            .map(Arc::new)
                            .map_err(Arc::new)
                    }
                    .boxed()
                    .shared()
                })
                .clone()
        };
        let result = read.clone().await;
        let mut inflight = self.lock();
        if inflight.get(&key).is_some_and(|r| r.ptr_eq(&read)) {
            inflight.remove(&key);
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Seq, usize), Read>> {
        self.inflight.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Fixture;
    use kubecast_shared::StoredEvent;
    use kubecast_shared::log::{AppendBatch, LogMeta, MemoryLog, SnapshotRead};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A log whose range reads are slow and counted.
    #[derive(Clone)]
    struct SlowLog {
        inner: MemoryLog,
        reads: Arc<AtomicUsize>,
    }

    impl EventLog for SlowLog {
        async fn meta(&self) -> Result<Option<LogMeta>, LogError> {
            self.inner.meta().await
        }
        async fn retire_epoch(
            &self,
            epoch: &kubecast_shared::Epoch,
            retired: &kubecast_shared::Epoch,
        ) -> Result<bool, LogError> {
            self.inner.retire_epoch(epoch, retired).await
        }
        async fn create_epoch(
            &self,
            epoch: &kubecast_shared::Epoch,
            fence: u64,
        ) -> Result<LogMeta, LogError> {
            self.inner.create_epoch(epoch, fence).await
        }
        async fn append(&self, batch: &AppendBatch) -> Result<Seq, LogError> {
            self.inner.append(batch).await
        }
        async fn read_range(&self, after: Seq, limit: usize) -> Result<RangeRead, LogError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.inner.read_range(after, limit).await
        }
        async fn snapshot(&self) -> Result<SnapshotRead, LogError> {
            self.inner.snapshot().await
        }
        async fn wait_after(
            &self,
            after: Seq,
            limit: usize,
            block: Duration,
        ) -> Result<Vec<StoredEvent>, LogError> {
            self.inner.wait_after(after, limit, block).await
        }
    }

    #[tokio::test]
    async fn concurrent_identical_reads_share_one_log_call() {
        let mut fx = Fixture::default().await;
        fx.append_pods("shop", 10).await;
        let log = SlowLog {
            inner: fx.log.clone(),
            reads: Arc::default(),
        };
        let coalescer = Arc::new(ReadCoalescer::default());
        let reads: Vec<_> = (0..50)
            .map(|_| {
                let (c, log) = (coalescer.clone(), log.clone());
                tokio::spawn(async move { c.read_range(&log, Seq(2), 100).await })
            })
            .collect();
        let mut pages = Vec::new();
        for read in reads {
            pages.push(read.await.expect("task").expect("read"));
        }
        assert_eq!(
            log.reads.load(Ordering::SeqCst),
            1,
            "one log call for 50 readers"
        );
        assert!(
            pages
                .iter()
                .all(|p| p.events.len() == 8 && p.events == pages[0].events)
        );
        coalescer.read_range(&log, Seq(2), 100).await.expect("read");
        assert_eq!(
            log.reads.load(Ordering::SeqCst),
            2,
            "nothing is cached after"
        );
        coalescer.read_range(&log, Seq(3), 100).await.expect("read");
        assert_eq!(
            log.reads.load(Ordering::SeqCst),
            3,
            "another cursor is another read"
        );
    }
}
