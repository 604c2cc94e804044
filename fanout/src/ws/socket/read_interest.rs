//! Whether a socket's read side can have news. A session polls its socket's read on every turn
//! of its loop, but almost every turn is caused by a live batch, not by the client; polling the
//! stream each time costs a lock in tokio's I/O driver (it re-registers the waker). This gate
//! lets the read be polled only when its own readiness fired since it last returned `Pending`.

use futures::task::{ArcWake, AtomicWaker};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

/// Wakes the task and remembers that the read side was the cause.
#[derive(Default)]
struct Flag {
    fired: AtomicBool,
    task: AtomicWaker,
}

impl ArcWake for Flag {
    fn wake_by_ref(flag: &Arc<Self>) {
        flag.fired.store(true, Ordering::Release);
        flag.task.wake();
    }
}

/// The gate in front of one stream's reads.
pub(super) struct ReadInterest {
    flag: Arc<Flag>,
    /// The waker handed to the stream (it wakes the task through `flag`).
    waker: Waker,
    /// The last read returned `Pending`, so the stream holds `waker` and will call it.
    waiting: bool,
}

impl ReadInterest {
    pub(super) fn new() -> Self {
        let flag = Arc::new(Flag::default());
        let waker = futures::task::waker(flag.clone());
        Self {
            flag,
            waker,
            waiting: false,
        }
    }

    /// Polls `read` with the gate's waker, unless the stream is known to have nothing yet (it
    /// returned `Pending` and has not woken us since): then `Pending` without touching it.
    pub(super) fn poll<R>(
        &mut self,
        cx: &mut Context<'_>,
        read: impl FnOnce(&mut Context<'_>) -> Poll<R>,
    ) -> Poll<R> {
        self.flag.task.register(cx.waker());
        if self.waiting && !self.flag.fired.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let polled = read(&mut Context::from_waker(&self.waker));
        self.waiting = polled.is_pending();
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_pending_read_is_not_polled_again_until_it_wakes() {
        let mut gate = ReadInterest::new();
        let task = futures::task::noop_waker();
        let mut cx = Context::from_waker(&task);
        let polls = Cell::new(0);
        let stored = std::cell::RefCell::new(None::<Waker>);
        let read = |cx: &mut Context<'_>| {
            polls.set(polls.get() + 1);
            *stored.borrow_mut() = Some(cx.waker().clone());
            Poll::<()>::Pending
        };
        assert!(gate.poll(&mut cx, read).is_pending());
        assert!(gate.poll(&mut cx, read).is_pending());
        assert_eq!(polls.get(), 1, "skipped while nothing fired");
        stored.borrow().as_ref().expect("registered").wake_by_ref();
        assert!(gate.poll(&mut cx, read).is_pending());
        assert_eq!(polls.get(), 2, "polled again once the stream woke us");
        assert!(gate.poll(&mut cx, |_| Poll::Ready(7)).is_pending());
        stored.borrow().as_ref().expect("registered").wake_by_ref();
        assert_eq!(gate.poll(&mut cx, |_| Poll::Ready(7)), Poll::Ready(7));
        assert_eq!(
            gate.poll(&mut cx, |_| Poll::Ready(8)),
            Poll::Ready(8),
            "ready: poll freely"
        );
    }
}
