//! Keys with a deadline each, ordered by deadline: O(log n) to set, clear and take what is due.
//! Used for debounced keys and for held pods.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

/// At most one deadline per key.
pub struct Deadlines<K, T> {
    by_key: HashMap<K, T>,
    order: BTreeSet<(T, K)>,
}

impl<K, T> Default for Deadlines<K, T> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
            order: BTreeSet::new(),
        }
    }
}

impl<K: Clone + Eq + Hash + Ord, T: Copy + Ord> Deadlines<K, T> {
    /// Sets (or moves) the deadline of `key`.
    pub fn set(&mut self, key: K, at: T) {
        if let Some(old) = self.by_key.insert(key.clone(), at) {
            self.order.remove(&(old, key.clone()));
        }
        self.order.insert((at, key));
    }

    /// Clears the deadline of `key`; returns it.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<T>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized + ToOwned<Owned = K>,
    {
        let at = self.by_key.remove(key)?;
        self.order.remove(&(at, key.to_owned()));
        Some(at)
    }

    pub fn get<Q>(&self, key: &Q) -> Option<T>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.by_key.get(key).copied()
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<T> {
        self.order.first().map(|(at, _)| *at)
    }

    /// Removes and returns the keys due at `now` (deadline ≤ `now`), earliest first.
    pub fn take_due(&mut self, now: T) -> Vec<K> {
        let mut out = Vec::new();
        while self.order.first().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, key)) = self.order.pop_first() {
                self.by_key.remove(&key);
                out.push(key);
            }
        }
        out
    }

    pub fn clear(&mut self) {
        self.by_key.clear();
        self.order.clear();
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_due_in_deadline_order_and_a_moved_deadline_counts_once() {
        let mut d = Deadlines::default();
        d.set("b".to_string(), 20);
        d.set("a".to_string(), 10);
        d.set("c".to_string(), 5);
        d.set("c".to_string(), 30);
        assert_eq!(d.len(), 3);
        assert_eq!(d.next(), Some(10));
        assert_eq!(d.take_due(25), ["a", "b"]);
        assert_eq!(d.get("c"), Some(30));
        assert_eq!(d.remove("c"), Some(30));
        assert!(d.is_empty());
        assert_eq!(d.next(), None);
        assert!(d.take_due(100).is_empty());
    }
}
