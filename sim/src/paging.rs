//! Consistent list pagination. The first page of a paged list snapshots the full sorted item list at
//! the current RV; later pages are sliced from that snapshot, so a client paging through a churning
//! cluster still sees one consistent list. Snapshots live in a small FIFO cache keyed by id; an
//! unknown or evicted continue token is 410 Expired, as on a real API server.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, Result};

/// How many paged-list snapshots are kept at once.
const MAX_SNAPSHOTS: usize = 64;

/// One page of a list.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Arc<Value>>,
    /// RV the list is consistent at.
    pub rv: u64,
    /// Token for the next page, if any.
    pub continue_token: Option<String>,
    /// Items after this page.
    pub remaining: usize,
}

struct Snapshot {
    id: u64,
    rv: u64,
    items: Arc<[Arc<Value>]>,
}

/// The snapshot cache.
#[derive(Default)]
pub struct Pager {
    next_id: u64,
    snapshots: VecDeque<Snapshot>,
}

impl Pager {
    /// First page: `items` is the full current list at `rv`; `limit` 0 means unlimited.
    pub fn first(&mut self, items: Vec<Arc<Value>>, rv: u64, limit: usize) -> Page {
        if limit == 0 || items.len() <= limit {
            return Page {
                items,
                rv,
                continue_token: None,
                remaining: 0,
            };
        }
        self.next_id += 1;
        let snapshot = Snapshot {
            id: self.next_id,
            rv,
            items: items.into(),
        };
        let page = slice(&snapshot, 0, limit);
        self.snapshots.push_back(snapshot);
        if self.snapshots.len() > MAX_SNAPSHOTS {
            self.snapshots.pop_front();
        }
        page
    }

    /// A later page from a continue token.
    pub fn next(&mut self, token: &str, limit: usize) -> Result<Page> {
        let (id, offset) = parse_token(token).ok_or(Error::ContinueExpired)?;
        let pos = self
            .snapshots
            .iter()
            .position(|s| s.id == id)
            .ok_or(Error::ContinueExpired)?;
        let snapshot = &self.snapshots[pos];
        if offset > snapshot.items.len() {
            return Err(Error::ContinueExpired);
        }
        let limit = if limit == 0 {
            snapshot.items.len()
        } else {
            limit
        };
        let page = slice(snapshot, offset, limit);
        if page.continue_token.is_none() {
            self.snapshots.remove(pos);
        }
        Ok(page)
    }
}

fn slice(snapshot: &Snapshot, offset: usize, limit: usize) -> Page {
    let end = offset.saturating_add(limit).min(snapshot.items.len());
    let remaining = snapshot.items.len() - end;
    Page {
        items: snapshot.items[offset..end].to_vec(),
        rv: snapshot.rv,
        continue_token: (remaining > 0).then(|| format!("sim-{}-{end}", snapshot.id)),
        remaining,
    }
}

fn parse_token(token: &str) -> Option<(u64, usize)> {
    let (id, offset) = token.strip_prefix("sim-")?.split_once('-')?;
    Some((id.parse().ok()?, offset.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn items(n: usize) -> Vec<Arc<Value>> {
        (0..n).map(|i| Arc::new(json!({ "i": i }))).collect()
    }

    #[test]
    fn small_lists_come_back_in_one_page() {
        let page = Pager::default().first(items(3), 7, 5);
        assert_eq!(
            (page.items.len(), page.rv, page.continue_token),
            (3, 7, None)
        );
    }

    #[test]
    fn later_pages_come_from_the_first_pages_snapshot() {
        let mut pager = Pager::default();
        let first = pager.first(items(5), 9, 2);
        assert_eq!((first.items.len(), first.remaining), (2, 3));
        let token = first.continue_token.expect("more pages");
        let second = pager.next(&token, 2).expect("page 2");
        assert_eq!((second.items[0]["i"].as_u64(), second.rv), (Some(2), 9));
        let third = pager
            .next(&second.continue_token.expect("page 3"), 2)
            .expect("page 3");
        assert_eq!((third.items.len(), third.continue_token), (1, None));
        assert_eq!(
            pager.next(&token, 2).err(),
            Some(Error::ContinueExpired),
            "finished snapshot is dropped"
        );
    }

    #[test]
    fn unknown_or_evicted_tokens_are_expired() {
        let mut pager = Pager::default();
        assert_eq!(pager.next("garbage", 2).err(), Some(Error::ContinueExpired));
        let token = pager.first(items(3), 1, 1).continue_token.expect("token");
        for _ in 0..MAX_SNAPSHOTS {
            pager.first(items(3), 1, 1);
        }
        assert_eq!(pager.next(&token, 1).err(), Some(Error::ContinueExpired));
    }
}
