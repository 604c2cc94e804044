//! In-memory event log for the embedded default: same contract as Redis, one process, no
//! persistence. A `watch` channel wakes tailing readers on every append.

use super::{
    AppendBatch, AppendEntry, EventLog, Fence, LogError, LogMeta, RangeRead, Result,
    SnapshotChange, SnapshotRead,
};
use crate::protocol::{Epoch, Seq, StoredEvent};
use crate::time::now_ms;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// An event log held in this process.
#[derive(Clone)]
pub struct MemoryLog {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Bumped on every append or epoch change.
    changed: watch::Sender<u64>,
}

struct State {
    meta: Option<LogMeta>,
    events: VecDeque<StoredEvent>,
    objects: BTreeMap<String, StoredEvent>,
    max_len: usize,
}

impl MemoryLog {
    /// A log that retains at most `max_len` events.
    pub fn new(max_len: usize) -> Self {
        let state = State {
            meta: None,
            events: VecDeque::new(),
            objects: BTreeMap::new(),
            max_len: max_len.max(1),
        };
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                changed: watch::channel(0).0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves consistent data (every mutation completes
        // before it can panic), so a poisoned lock is still safe to use.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self) {
        self.inner.changed.send_modify(|n| *n += 1);
    }

    /// Forgets everything, as if Redis had been wiped (used by tests).
    pub fn wipe(&self) {
        let mut st = self.lock();
        st.meta = None;
        st.events.clear();
        st.objects.clear();
        drop(st);
        self.notify();
    }

    fn events_after(st: &State, after: Seq, limit: usize) -> Vec<StoredEvent> {
        let Some(first) = st.events.front().map(StoredEvent::seq) else {
            return Vec::new();
        };
        let skip = after.0.saturating_add(1).saturating_sub(first.0) as usize;
        st.events.iter().skip(skip).take(limit).cloned().collect()
    }
}

fn check_batch(meta: Option<&LogMeta>, batch: &AppendBatch) -> Result<()> {
    let meta = meta.ok_or(LogError::EpochMismatch {
        ours: batch.epoch.clone(),
        current: None,
    })?;
    if batch.fence < meta.fence {
        return Err(LogError::StaleFence {
            ours: batch.fence,
            current: meta.fence,
        });
    }
    if batch.epoch != meta.epoch {
        return Err(LogError::EpochMismatch {
            ours: batch.epoch.clone(),
            current: Some(meta.epoch.clone()),
        });
    }
    if batch.expected_head != meta.seq {
        return Err(LogError::HeadMismatch {
            expected: batch.expected_head,
            actual: meta.seq,
        });
    }
    let contiguous = batch
        .entries
        .iter()
        .enumerate()
        .all(|(i, e)| e.seq.0 == meta.seq.0 + 1 + i as u64);
    if !contiguous {
        return Err(LogError::NonContiguous);
    }
    Ok(())
}

fn parse_entry(entry: &AppendEntry) -> Result<StoredEvent> {
    StoredEvent::from_raw(entry.raw.clone()).map_err(|e| LogError::Corrupt(e.to_string()))
}

impl EventLog for MemoryLog {
    async fn meta(&self) -> Result<Option<LogMeta>> {
        Ok(self.lock().meta.clone())
    }

    async fn retire_epoch(&self, epoch: &Epoch, retired: &Epoch) -> Result<bool> {
        let mut st = self.lock();
        let Some(meta) = st.meta.as_mut().filter(|m| m.epoch == *epoch) else {
            return Ok(false);
        };
        meta.epoch = retired.clone();
        drop(st);
        self.notify();
        Ok(true)
    }

    async fn create_epoch(&self, epoch: &Epoch, fence: Fence) -> Result<LogMeta> {
        let mut st = self.lock();
        if let Some(current) = st.meta.as_ref().map(|m| m.fence).filter(|f| *f > fence) {
            return Err(LogError::StaleFence {
                ours: fence,
                current,
            });
        }
        let meta = LogMeta {
            epoch: epoch.clone(),
            seq: Seq::ZERO,
            fence,
            created: now_ms(),
        };
        st.meta = Some(meta.clone());
        st.events.clear();
        st.objects.clear();
        drop(st);
        self.notify();
        Ok(meta)
    }

    async fn append(&self, batch: &AppendBatch) -> Result<Seq> {
        let parsed = batch
            .entries
            .iter()
            .map(parse_entry)
            .collect::<Result<Vec<_>>>()?;
        let mut st = self.lock();
        check_batch(st.meta.as_ref(), batch)?;
        for (entry, stored) in batch.entries.iter().zip(parsed) {
            match &entry.snapshot {
                SnapshotChange::Put(key) => {
                    st.objects.insert(key.clone(), stored.clone());
                }
                SnapshotChange::Delete(key) => {
                    st.objects.remove(key);
                }
                SnapshotChange::None => {}
            }
            st.events.push_back(stored);
        }
        while st.events.len() > st.max_len {
            st.events.pop_front();
        }
        let head = batch.entries.last().map_or(batch.expected_head, |e| e.seq);
        if let Some(meta) = st.meta.as_mut() {
            meta.seq = head;
            meta.fence = batch.fence;
        }
        drop(st);
        self.notify();
        Ok(head)
    }

    async fn read_range(&self, after: Seq, limit: usize) -> Result<RangeRead> {
        let st = self.lock();
        let meta = st.meta.clone().ok_or(LogError::Missing)?;
        Ok(RangeRead {
            meta,
            oldest: st.events.front().map(StoredEvent::seq),
            events: Self::events_after(&st, after, limit),
        })
    }

    async fn wait_after(
        &self,
        after: Seq,
        limit: usize,
        block: Duration,
    ) -> Result<Vec<StoredEvent>> {
        let mut changed = self.inner.changed.subscribe();
        let deadline = tokio::time::Instant::now() + block;
        loop {
            let found = Self::events_after(&self.lock(), after, limit);
            if !found.is_empty() {
                return Ok(found);
            }
            let wait = tokio::time::timeout_at(deadline, changed.changed()).await;
            if !matches!(wait, Ok(Ok(()))) {
                return Ok(Vec::new());
            }
        }
    }

    async fn snapshot(&self) -> Result<SnapshotRead> {
        let st = self.lock();
        let meta = st.meta.clone().ok_or(LogError::Missing)?;
        Ok(SnapshotRead {
            meta,
            objects: st.objects.values().cloned().collect(),
        })
    }
}
