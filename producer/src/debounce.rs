//! Per-key debounce (DESIGN §2): changes to one key coalesce inside a window that restarts on
//! every change, bounded by a max wait from the key's first pending change, so a key that keeps
//! changing is still flushed at least every `max_wait`.
//!
//! Pure: time is passed in. Invariant: every pending key has exactly one deadline in `order`, and
//! its deadline is `min(last + window, first + max_wait)`.

use crate::deadlines::Deadlines;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// Pending keys and when each is due.
pub struct Debouncer {
    window: Duration,
    max_wait: Duration,
    /// When each pending key's first pending change happened.
    first: HashMap<String, Instant>,
    due: Deadlines<String, Instant>,
}

impl Debouncer {
    pub fn new(window: Duration, max_wait: Duration) -> Self {
        Self {
            window,
            max_wait: max_wait.max(window),
            first: HashMap::new(),
            due: Deadlines::default(),
        }
    }

    /// Records a change of `key` at `now`.
    pub fn touch(&mut self, key: String, now: Instant) {
        let first = *self.first.entry(key.clone()).or_insert(now);
        let deadline = (now + self.window).min(first + self.max_wait);
        self.due.set(key, deadline);
    }

    /// Removes and returns the keys due at `now`, earliest first.
    pub fn due(&mut self, now: Instant) -> Vec<String> {
        let due = self.due.take_due(now);
        for key in &due {
            self.first.remove(key);
        }
        due
    }

    /// When the earliest pending key is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.due.next()
    }

    /// Forgets every pending key (a full flush covers them).
    pub fn clear(&mut self) {
        self.first.clear();
        self.due.clear();
    }

    pub fn len(&self) -> usize {
        self.due.len()
    }

    pub fn is_empty(&self) -> bool {
        self.due.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn debouncer() -> (Debouncer, Instant) {
        (Debouncer::new(250 * MS, 1000 * MS), Instant::now())
    }

    #[test]
    fn a_single_change_is_due_after_the_window() {
        let (mut d, t0) = debouncer();
        d.touch("a".into(), t0);
        assert_eq!(d.next_deadline(), Some(t0 + 250 * MS));
        assert!(d.due(t0 + 249 * MS).is_empty());
        assert_eq!(d.due(t0 + 250 * MS), ["a"]);
        assert!(d.is_empty());
        assert_eq!(d.next_deadline(), None);
    }

    #[test]
    fn each_change_restarts_the_window() {
        let (mut d, t0) = debouncer();
        d.touch("a".into(), t0);
        d.touch("a".into(), t0 + 200 * MS);
        assert!(d.due(t0 + 300 * MS).is_empty());
        assert_eq!(d.due(t0 + 450 * MS), ["a"]);
    }

    #[test]
    fn a_key_that_keeps_changing_is_flushed_after_the_max_wait() {
        let (mut d, t0) = debouncer();
        for i in 0..20 {
            d.touch("a".into(), t0 + i * 100 * MS);
            if i * 100 >= 1000 {
                break;
            }
        }
        assert_eq!(d.next_deadline(), Some(t0 + 1000 * MS));
        assert_eq!(d.due(t0 + 1000 * MS), ["a"]);
    }

    #[test]
    fn keys_are_due_independently_and_in_deadline_order() {
        let (mut d, t0) = debouncer();
        d.touch("b".into(), t0 + 10 * MS);
        d.touch("a".into(), t0);
        d.touch("c".into(), t0 + 500 * MS);
        assert_eq!(d.due(t0 + 300 * MS), ["a", "b"]);
        assert_eq!(d.len(), 1);
        assert_eq!(d.next_deadline(), Some(t0 + 750 * MS));
    }

    #[test]
    fn after_a_flush_the_max_wait_starts_again() {
        let (mut d, t0) = debouncer();
        d.touch("a".into(), t0);
        d.due(t0 + 250 * MS);
        d.touch("a".into(), t0 + 900 * MS);
        assert_eq!(d.next_deadline(), Some(t0 + 1150 * MS));
    }

    #[tokio::test(start_paused = true)]
    async fn debounce_works_with_tokio_paused_time() {
        let mut d = Debouncer::new(250 * MS, 1000 * MS);
        d.touch("a".into(), Instant::now());
        tokio::time::advance(100 * MS).await;
        d.touch("a".into(), Instant::now());
        let deadline = d.next_deadline().expect("pending");
        tokio::time::sleep_until(deadline).await;
        assert_eq!(d.due(Instant::now()), ["a"]);
    }
}
