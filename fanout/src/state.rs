//! The replica's in-memory view of the log, shared by the tail (the only writer) and every route.
//!
//! Invariants:
//! - `objects` is the snapshot at `head`: the latest stored event of every live object;
//! - the ring holds exactly the events `ring_start+1 ..= head`, contiguous, of `epoch`;
//! - every change is published on the live channel while the write lock is held, so a subscriber
//!   that reads the view after subscribing sees every later change exactly once, in order;
//! - `generation` increases on every resync (start-up, epoch change, gap); events published under
//!   one generation never continue a view of another.

use crate::ws::socket::frame;
use bytes::Bytes;
use kubecast_shared::log::SnapshotRead;
use kubecast_shared::protocol::frames;
use kubecast_shared::{Epoch, Op, Seq, StoredEvent};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

/// Batches buffered per live subscriber before it counts as too slow.
const LIVE_CAPACITY: usize = 1024;

/// What the tail publishes to live sessions.
#[derive(Clone, Debug)]
pub enum Live {
    /// Events applied to the view, contiguous, in seq order.
    Events(Arc<Batch>),
    /// The view was rebuilt from a snapshot: sessions must reset.
    Resync { generation: u64 },
}

/// One batch of events as every live session receives it (shared, never copied).
#[derive(Debug)]
pub struct Batch {
    pub generation: u64,
    pub epoch: Epoch,
    pub events: Vec<StoredEvent>,
    /// [`Shared::published_bytes`] once this batch was published: a session that has handled
    /// this batch is `published_bytes() - bytes_end` bytes behind.
    pub bytes_end: u64,
    /// The unfiltered `events` frame, a whole WebSocket frame encoded once by the first session
    /// that needs it and written as is by every other.
    frame: OnceLock<Bytes>,
    /// The merged frame of this batch and the ones after it up to a seq: sessions that fell
    /// behind by the same run (most of them, under load) share one encoding.
    run_frame: Mutex<Option<(Seq, Bytes)>>,
}

impl Batch {
    /// The `events` frame of the whole batch, shared by every unfiltered session.
    pub fn frame(&self) -> &Bytes {
        self.frame.get_or_init(|| {
            frame::text(&frames::events(
                &self.epoch,
                self.events.iter().map(|e| &e.raw),
            ))
        })
    }

    /// The `events` frame of `run` (contiguous batches starting with this one), encoded once per
    /// distinct run and shared by every session that needs the same one.
    pub fn run_frame(&self, run: &[&Batch]) -> Bytes {
        let last = run
            .last()
            .and_then(|b| b.events.last())
            .map_or(Seq::ZERO, StoredEvent::seq);
        let mut cached = self
            .run_frame
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((seq, frame)) = &*cached
            && *seq == last
        {
            return frame.clone();
        }
        let raws = run.iter().flat_map(|b| b.events.iter().map(|e| &e.raw));
        let frame = frame::text(&frames::events(&self.epoch, raws));
        *cached = Some((last, frame.clone()));
        frame
    }

    /// Encoded size of the batch's events.
    fn size(events: &[StoredEvent]) -> u64 {
        events.iter().map(|e| e.raw.len() as u64 + 1).sum()
    }
}

/// Where the view is; watched by requests waiting for the tail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub generation: u64,
    pub head: Seq,
}

/// The replica's state at `head`.
#[derive(Debug)]
pub struct View {
    epoch: Option<Epoch>,
    head: Seq,
    objects: BTreeMap<String, StoredEvent>,
    ring: VecDeque<StoredEvent>,
    ring_start: Seq,
    ring_capacity: usize,
    generation: u64,
    last_ok: Option<Instant>,
}

impl View {
    /// The epoch of the view, `None` until the first snapshot was loaded.
    pub fn epoch(&self) -> Option<&Epoch> {
        self.epoch.as_ref()
    }

    pub fn head(&self) -> Seq {
        self.head
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The oldest seq the ring can serve (`head + 1` when it is empty).
    pub fn oldest_in_ring(&self) -> Seq {
        self.ring_start.next()
    }

    /// The ring's events after `after`, or `None` when `after` is outside `ring_start ..= head`.
    pub fn ring_after(&self, after: Seq) -> Option<impl Iterator<Item = &StoredEvent>> {
        if after < self.ring_start || after > self.head {
            return None;
        }
        let skip = usize::try_from(after.0 - self.ring_start.0).ok()?;
        Some(self.ring.iter().skip(skip))
    }

    /// Every live object (including summaries), ordered by key.
    pub fn objects(&self) -> impl Iterator<Item = &StoredEvent> {
        self.objects.values()
    }

    fn apply(&mut self, events: &[StoredEvent]) {
        for ev in events {
            match ev.head.op {
                Op::Churn => {}
                op if op.keeps_object() => {
                    self.objects.insert(ev.head.key(), ev.clone());
                }
                _ => {
                    self.objects.remove(&ev.head.key());
                }
            }
            self.head = ev.seq();
            self.ring.push_back(ev.clone());
            while self.ring.len() > self.ring_capacity {
                if let Some(old) = self.ring.pop_front() {
                    self.ring_start = old.seq();
                }
            }
        }
    }

    fn reset(&mut self, snap: SnapshotRead) {
        self.epoch = Some(snap.meta.epoch);
        self.head = snap.meta.seq;
        self.objects = snap
            .objects
            .into_iter()
            .map(|o| (o.head.key(), o))
            .collect();
        self.ring.clear();
        self.ring_start = snap.meta.seq;
        self.generation += 1;
    }
}

/// The view plus the channels that announce its changes.
#[derive(Debug)]
pub struct Shared {
    view: RwLock<View>,
    live: broadcast::Sender<Live>,
    progress: watch::Sender<Progress>,
    /// Encoded bytes of every event published live so far (see [`Batch::bytes_end`]).
    published_bytes: AtomicU64,
    /// Log reads in flight for cursors older than the ring, shared by identical requests.
    pub reads: crate::coalesce::ReadCoalescer,
}

impl Shared {
    pub fn new(ring_capacity: usize) -> Arc<Self> {
        let view = View {
            epoch: None,
            head: Seq::ZERO,
            objects: BTreeMap::new(),
            ring: VecDeque::new(),
            ring_start: Seq::ZERO,
            ring_capacity: ring_capacity.max(1),
            generation: 0,
            last_ok: None,
        };
        Arc::new(Self {
            view: RwLock::new(view),
            live: broadcast::channel(LIVE_CAPACITY).0,
            progress: watch::channel(Progress::default()).0,
            published_bytes: AtomicU64::new(0),
            reads: Default::default(),
        })
    }

    /// Read access. Never hold it across an await.
    pub fn read(&self) -> RwLockReadGuard<'_, View> {
        // Every mutation completes before it could panic, so a poisoned lock holds consistent data.
        self.view.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, View> {
        self.view.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Subscribes to live changes; every change after this call will be received.
    pub fn subscribe(&self) -> broadcast::Receiver<Live> {
        let _view = self.read();
        self.live.subscribe()
    }

    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// Encoded bytes of every event published live so far.
    pub fn published_bytes(&self) -> u64 {
        self.published_bytes.load(Ordering::Acquire)
    }

    /// Applies contiguous events of the view's epoch and publishes them.
    pub(crate) fn apply(&self, events: Vec<StoredEvent>) {
        if events.is_empty() {
            return;
        }
        let mut view = self.write();
        view.apply(&events);
        view.last_ok = Some(Instant::now());
        let Some(epoch) = view.epoch.clone() else {
            return;
        };
        let generation = view.generation;
        let size = Batch::size(&events);
        let bytes_end = self.published_bytes.fetch_add(size, Ordering::AcqRel) + size;
        let _ = self.live.send(Live::Events(Arc::new(Batch {
            generation,
            epoch,
            events,
            bytes_end,
            frame: OnceLock::new(),
            run_frame: Mutex::new(None),
        })));
        self.progress.send_replace(Progress {
            generation,
            head: view.head,
        });
    }

    /// Rebuilds the view from a snapshot and tells every session to reset.
    pub(crate) fn reset(&self, snap: SnapshotRead) {
        let mut view = self.write();
        view.reset(snap);
        view.last_ok = Some(Instant::now());
        let generation = view.generation;
        let _ = self.live.send(Live::Resync { generation });
        self.progress.send_replace(Progress {
            generation,
            head: view.head,
        });
    }

    /// Records a successful read of the log.
    pub(crate) fn mark_ok(&self) {
        self.write().last_ok = Some(Instant::now());
    }

    /// Whether the view has an epoch and the tail read the log successfully within `max_age`.
    pub fn is_fresh(&self, max_age: Duration) -> bool {
        let view = self.read();
        view.epoch.is_some() && view.last_ok.is_some_and(|t| t.elapsed() <= max_age)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{meta, stored};

    #[test]
    fn applied_events_update_objects_and_the_ring() {
        let shared = Shared::new(3);
        shared.reset(SnapshotRead {
            meta: meta("e", 0),
            objects: vec![],
        });
        shared.apply(vec![
            stored("e", 1, "a", Op::Added),
            stored("e", 2, "b", Op::Added),
            stored("e", 3, "a", Op::Deleted),
            stored("e", 4, "c", Op::Churn),
        ]);
        let view = shared.read();
        assert_eq!(view.head(), Seq(4));
        let names: Vec<_> = view.objects().map(|o| o.head.name.clone()).collect();
        assert_eq!(names, vec!["b".to_string()]);
        assert_eq!(view.oldest_in_ring(), Seq(2));
        assert!(view.ring_after(Seq(0)).is_none());
        let after: Vec<u64> = view
            .ring_after(Seq(2))
            .into_iter()
            .flatten()
            .map(|e| e.seq().0)
            .collect();
        assert_eq!(after, vec![3, 4]);
        assert!(view.ring_after(Seq(5)).is_none());
    }

    /// A view of epoch `e` loaded empty, and a live subscription to it.
    fn subscribed_to_empty_view() -> (Arc<Shared>, broadcast::Receiver<Live>) {
        let shared = Shared::new(10);
        shared.reset(SnapshotRead {
            meta: meta("e", 0),
            objects: vec![],
        });
        let rx = shared.subscribe();
        (shared, rx)
    }

    #[test]
    fn a_batch_frame_is_encoded_once_and_counts_its_bytes() {
        let (shared, mut rx) = subscribed_to_empty_view();
        let events = vec![
            stored("e", 1, "a", Op::Added),
            stored("e", 2, "b", Op::Added),
        ];
        let size: u64 = events.iter().map(|e| e.raw.len() as u64 + 1).sum();
        shared.apply(events.clone());
        let Ok(Live::Events(batch)) = rx.try_recv() else {
            panic!("a live batch");
        };
        let expected = frames::events(&Epoch("e".into()), events.iter().map(|e| &e.raw));
        assert_eq!(batch.frame(), &frame::text(&expected));
        assert_eq!(batch.frame().as_ptr(), batch.frame().as_ptr(), "built once");
        assert_eq!((batch.bytes_end, shared.published_bytes()), (size, size));
    }

    #[test]
    fn a_run_of_batches_is_encoded_once_per_distinct_end() {
        let (shared, mut rx) = subscribed_to_empty_view();
        let events: Vec<_> = (1..=3)
            .map(|seq| stored("e", seq, "a", Op::Added))
            .collect();
        for event in &events {
            shared.apply(vec![event.clone()]);
        }
        let batches: Vec<Arc<Batch>> = (0..3)
            .map(|_| match rx.try_recv() {
                Ok(Live::Events(batch)) => batch,
                other => panic!("a live batch, got {other:?}"),
            })
            .collect();
        let run: Vec<&Batch> = batches.iter().map(|b| &**b).collect();
        let whole = batches[0].run_frame(&run);
        let expected = frames::events(&Epoch("e".into()), events.iter().map(|e| &e.raw));
        assert_eq!(whole, frame::text(&expected));
        assert_eq!(
            batches[0].run_frame(&run).as_ptr(),
            whole.as_ptr(),
            "shared"
        );
        let shorter = batches[0].run_frame(&run[..2]);
        let expected = frames::events(&Epoch("e".into()), events[..2].iter().map(|e| &e.raw));
        assert_eq!(
            shorter,
            frame::text(&expected),
            "another end is encoded anew"
        );
    }

    #[test]
    fn a_reset_empties_the_ring_and_bumps_the_generation() {
        let shared = Shared::new(10);
        shared.reset(SnapshotRead {
            meta: meta("e", 0),
            objects: vec![],
        });
        shared.apply(vec![stored("e", 1, "a", Op::Added)]);
        let mut rx = shared.subscribe();
        shared.reset(SnapshotRead {
            meta: meta("f", 7),
            objects: vec![stored("f", 7, "x", Op::Added)],
        });
        let view = shared.read();
        assert_eq!(view.generation(), 2);
        assert_eq!(view.oldest_in_ring(), Seq(8));
        assert_eq!(view.objects().count(), 1);
        assert!(matches!(rx.try_recv(), Ok(Live::Resync { generation: 2 })));
    }
}
