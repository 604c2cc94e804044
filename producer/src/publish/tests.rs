use super::*;
use crate::fixtures;
use crate::input::Input;
use crate::project::{Project, Projection};
use kubecast_shared::log::{LogMeta, MemoryLog, RangeRead, SnapshotRead};
use kubecast_shared::{Op, StoredEvent};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

fn pod(name: &str, running: bool) -> Projection {
    let b = fixtures::pod("shop", name).owned_by_rs("web-7d9f");
    let b = if running { b.running() } else { b };
    b.build().project().expect("pod")
}

fn index_with(pods: &[(&str, bool)]) -> Index {
    let mut index = Index::new();
    for (name, running) in pods {
        index.apply(Input::Apply(pod(name, *running)), 1);
    }
    index
}

async fn start<L: EventLog>(log: &L, fence: Fence, index: &mut Index) -> Publisher<L> {
    let (publisher, published) = Publisher::start(log.clone(), fence, 2, ProducerStats::default())
        .await
        .expect("starts");
    index.load_published(published);
    publisher
}

async fn publish_all<L: EventLog>(
    p: &mut Publisher<L>,
    index: &mut Index,
) -> Result<(), PublishError> {
    let mut pending = index.keys();
    p.publish(index, &mut pending, 42).await
}

async fn events(log: &MemoryLog) -> Vec<Event> {
    let read = log.read_range(Seq::ZERO, 1000).await.expect("reads");
    read.events
        .iter()
        .map(|e| serde_json::from_slice(&e.raw).expect("event"))
        .collect()
}

async fn snapshot_keys(log: &MemoryLog) -> Vec<String> {
    let snap = log.snapshot().await.expect("snapshot");
    snap.objects.iter().map(|o| o.head.key()).collect()
}

fn summary(events: &[Event]) -> Vec<(u64, Op, String)> {
    events
        .iter()
        .map(|e| (e.seq.0, e.op, e.name.clone()))
        .collect()
}

#[tokio::test]
async fn seqs_are_contiguous_across_batches() {
    let log = MemoryLog::new(1000);
    let mut index = index_with(&[("a", true), ("b", true), ("c", false)]);
    let mut p = start(&log, 1, &mut index).await;
    publish_all(&mut p, &mut index).await.expect("publishes");
    let evs = events(&log).await;
    assert_eq!(
        summary(&evs),
        [
            (1, Op::Added, "a".into()),
            (2, Op::Added, "b".into()),
            (3, Op::Added, "c".into())
        ]
    );
    assert!(evs.iter().all(|e| &e.epoch == p.epoch() && e.ts == 1));
    assert_eq!(p.head(), Seq(3));
    assert_eq!(
        snapshot_keys(&log).await,
        ["Pod/shop/a", "Pod/shop/b", "Pod/shop/c"]
    );
    assert!(publish_all(&mut p, &mut index).await.is_ok());
    assert_eq!(
        events(&log).await.len(),
        3,
        "nothing changed, nothing appended"
    );
}

#[tokio::test]
async fn a_restarted_producer_publishes_only_differences_in_the_same_epoch() {
    let log = MemoryLog::new(1000);
    let mut first = index_with(&[("a", true), ("b", true), ("c", true)]);
    let mut p = start(&log, 1, &mut first).await;
    publish_all(&mut p, &mut first).await.expect("publishes");
    let epoch = p.epoch().clone();

    let mut second = index_with(&[("a", true), ("b", false), ("d", true)]);
    let mut p2 = start(&log, 2, &mut second).await;
    assert_eq!(p2.epoch(), &epoch);
    publish_all(&mut p2, &mut second).await.expect("publishes");
    let evs = events(&log).await;
    assert_eq!(
        summary(&evs[3..]),
        [
            (4, Op::Updated, "b".into()),
            (5, Op::Deleted, "c".into()),
            (6, Op::Added, "d".into())
        ]
    );
    assert!(evs.iter().all(|e| e.epoch == epoch));
    assert_eq!(
        snapshot_keys(&log).await,
        ["Pod/shop/a", "Pod/shop/b", "Pod/shop/d"]
    );
}

#[tokio::test]
async fn a_wiped_log_gets_a_new_epoch_and_a_full_republish() {
    let log = MemoryLog::new(1000);
    let mut index = index_with(&[("a", true), ("b", true), ("c", true)]);
    let mut p = start(&log, 1, &mut index).await;
    publish_all(&mut p, &mut index).await.expect("publishes");
    let old = p.epoch().clone();
    log.wipe();
    index.apply(Input::Apply(pod("a", false)), 2);
    let mut pending = BTreeSet::from(["Pod/shop/a".to_string()]);
    p.publish(&mut index, &mut pending, 3)
        .await
        .expect("republishes");
    assert_ne!(p.epoch(), &old);
    let evs = events(&log).await;
    assert_eq!(
        summary(&evs),
        [
            (1, Op::Added, "a".into()),
            (2, Op::Added, "b".into()),
            (3, Op::Added, "c".into())
        ]
    );
    assert!(evs.iter().all(|e| e.epoch == *p.epoch()));
    assert_eq!(
        evs[0].obj.as_ref().map(|o| o["ready"].clone()),
        Some(serde_json::json!(false))
    );
    assert!(pending.is_empty());
}

#[tokio::test]
async fn a_rolled_back_log_gets_a_new_epoch() {
    let log = MemoryLog::new(1000);
    let mut index = index_with(&[("a", true), ("b", true)]);
    let mut p = start(&log, 1, &mut index).await;
    publish_all(&mut p, &mut index).await.expect("publishes");
    let old = p.epoch().clone();
    // Same epoch, head back to 0: a failover that lost the suffix.
    log.create_epoch(&old, 1).await.expect("rollback");
    index.apply(Input::Apply(pod("c", true)), 2);
    publish_all(&mut p, &mut index).await.expect("republishes");
    assert_ne!(p.epoch(), &old);
    assert_eq!(events(&log).await.len(), 3);
    assert!(
        events(&log)
            .await
            .iter()
            .all(|e| e.op == Op::Added && e.epoch == *p.epoch())
    );
}

#[tokio::test]
async fn a_producer_with_a_stale_fence_stops() {
    let log = MemoryLog::new(1000);
    let mut old_index = index_with(&[("a", true)]);
    let mut old = start(&log, 1, &mut old_index).await;
    publish_all(&mut old, &mut old_index)
        .await
        .expect("publishes");
    let mut new_index = index_with(&[("a", true), ("b", true)]);
    let mut new = start(&log, 2, &mut new_index).await;
    publish_all(&mut new, &mut new_index)
        .await
        .expect("publishes");
    old_index.apply(Input::Apply(pod("z", true)), 3);
    let err = publish_all(&mut old, &mut old_index)
        .await
        .expect_err("superseded");
    assert!(
        matches!(
            err,
            PublishError::Superseded {
                ours: 1,
                current: 2
            }
        ),
        "{err:?}"
    );
    assert_eq!(events(&log).await.len(), 2);
}

#[tokio::test]
async fn starting_behind_a_newer_fence_is_refused() {
    let log = MemoryLog::new(1000);
    log.create_epoch(&Epoch::generate(), 5)
        .await
        .expect("creates");
    let result = Publisher::start(log.clone(), 4, 10, ProducerStats::default()).await;
    assert!(matches!(
        result,
        Err(PublishError::Superseded {
            ours: 4,
            current: 5
        })
    ));
}

/// How the next append of a [`FlakyLog`] fails.
const OK: u8 = 0;
const FAIL_BEFORE: u8 = 1;
const FAIL_AFTER: u8 = 2;

/// A MemoryLog whose next append can fail with a connection error, before or after landing.
#[derive(Clone)]
struct FlakyLog {
    inner: MemoryLog,
    mode: Arc<AtomicU8>,
}

fn io_error() -> LogError {
    LogError::Redis(redis::RedisError::from(std::io::Error::other(
        "connection reset",
    )))
}

impl EventLog for FlakyLog {
    async fn meta(&self) -> kubecast_shared::log::Result<Option<LogMeta>> {
        self.inner.meta().await
    }
    async fn retire_epoch(
        &self,
        epoch: &Epoch,
        retired: &Epoch,
    ) -> kubecast_shared::log::Result<bool> {
        self.inner.retire_epoch(epoch, retired).await
    }
    async fn create_epoch(
        &self,
        epoch: &Epoch,
        fence: Fence,
    ) -> kubecast_shared::log::Result<LogMeta> {
        self.inner.create_epoch(epoch, fence).await
    }
    async fn append(&self, batch: &AppendBatch) -> kubecast_shared::log::Result<Seq> {
        match self.mode.swap(OK, Ordering::SeqCst) {
            FAIL_BEFORE => Err(io_error()),
            FAIL_AFTER => self.inner.append(batch).await.and(Err(io_error())),
            _ => self.inner.append(batch).await,
        }
    }
    async fn read_range(
        &self,
        after: Seq,
        limit: usize,
    ) -> kubecast_shared::log::Result<RangeRead> {
        self.inner.read_range(after, limit).await
    }
    async fn wait_after(
        &self,
        after: Seq,
        limit: usize,
        block: Duration,
    ) -> kubecast_shared::log::Result<Vec<StoredEvent>> {
        self.inner.wait_after(after, limit, block).await
    }
    async fn snapshot(&self) -> kubecast_shared::log::Result<SnapshotRead> {
        self.inner.snapshot().await
    }
}

async fn flaky_scenario(mode: u8) -> (MemoryLog, Vec<Event>) {
    let log = FlakyLog {
        inner: MemoryLog::new(1000),
        mode: Arc::new(AtomicU8::new(OK)),
    };
    let mut index = index_with(&[("a", true)]);
    let mut p = start(&log, 1, &mut index).await;
    publish_all(&mut p, &mut index).await.expect("publishes");
    index.apply(Input::Apply(pod("b", true)), 2);
    log.mode.store(mode, Ordering::SeqCst);
    let err = publish_all(&mut p, &mut index)
        .await
        .expect_err("connection fails");
    assert!(matches!(err, PublishError::Transient(_)));
    index.apply(Input::Apply(pod("c", true)), 3);
    publish_all(&mut p, &mut index)
        .await
        .expect("retry publishes");
    let evs = events(&log.inner).await;
    (log.inner, evs)
}

#[tokio::test]
async fn an_append_that_landed_despite_an_error_is_not_repeated() {
    let (log, evs) = flaky_scenario(FAIL_AFTER).await;
    assert_eq!(
        summary(&evs),
        [
            (1, Op::Added, "a".into()),
            (2, Op::Added, "b".into()),
            (3, Op::Added, "c".into())
        ]
    );
    assert_eq!(snapshot_keys(&log).await.len(), 3);
}

#[tokio::test]
async fn an_append_that_did_not_land_is_retried_with_the_latest_state() {
    let (log, evs) = flaky_scenario(FAIL_BEFORE).await;
    assert_eq!(
        summary(&evs),
        [
            (1, Op::Added, "a".into()),
            (2, Op::Added, "b".into()),
            (3, Op::Added, "c".into())
        ]
    );
    assert_eq!(snapshot_keys(&log).await.len(), 3);
}
