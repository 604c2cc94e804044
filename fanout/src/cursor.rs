//! Resolving a client's cursor `(epoch, since)` into the events after it, shared by `/events` and
//! the WebSocket catch-up.
//!
//! Invariants:
//! - a page never skips an event: it is the matching events of `since+1 ..= next`, where `next` is
//!   the last seq examined (so a filtered reader still advances);
//! - the ring answers when it covers `since`; older cursors read the log (Redis); a cursor ahead of
//!   this replica waits (bounded) for the tail, then reads the log if the log has it;
//! - a cursor of another epoch, older than retention, or ahead of the log's head gets
//!   [`Page::Reset`], never a partial answer.

use crate::state::Shared;
use kubecast_shared::log::{EventLog, LogError};
use kubecast_shared::{Epoch, Filter, Seq, StoredEvent};
use std::sync::Arc;
use std::time::Duration;

/// Events examined at most per page, so a narrow filter cannot make one request scan the world.
const SCAN_BUDGET: usize = 10_000;
/// Events per log read at most.
const LOG_PAGE: usize = 1000;

/// What to read.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest<'a> {
    /// The cursor's epoch; `None` means "the current one".
    pub epoch: Option<&'a Epoch>,
    pub since: Seq,
    pub filter: &'a Filter,
    /// Matching events at most.
    pub limit: usize,
    /// How long to wait for this replica when the cursor is ahead of it.
    pub catchup_wait: Duration,
}

/// The answer for a cursor.
#[derive(Clone, Debug, PartialEq)]
pub enum Page {
    Events {
        epoch: Epoch,
        events: Vec<StoredEvent>,
        /// Last seq examined: the cursor for the next page.
        next: Seq,
        /// This replica's head.
        head: Seq,
        /// Where the events came from.
        source: PageSource,
    },
    /// The cursor cannot be resumed; `epoch`/`seq` are where this replica is.
    Reset {
        epoch: Epoch,
        seq: Seq,
        reason: &'static str,
    },
}

/// Where a page was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageSource {
    /// The replica's in-memory ring of recent events.
    Ring,
    /// The log in Redis (a cursor older than the ring, or ahead of this replica).
    Log,
}

impl PageSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PageSource::Ring => "ring",
            PageSource::Log => "redis",
        }
    }
}

/// Why no page could be produced.
#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    #[error("the replica has not loaded the log yet")]
    NotReady,
    #[error("reading the log failed")]
    Log(#[source] Arc<LogError>),
}

/// Reads the page after the request's cursor.
pub async fn read_page<L: EventLog>(
    shared: &Shared,
    log: &L,
    req: PageRequest<'_>,
) -> Result<Page, CursorError> {
    let (epoch, head) = position(shared)?;
    if let Some(reset) = other_epoch(&req, &epoch, head) {
        return Ok(reset);
    }
    if req.since > head {
        return ahead(shared, log, req).await;
    }
    if let Some(page) = from_ring(shared, &epoch, req) {
        return Ok(page);
    }
    from_log(shared, log, epoch, head, req).await
}

/// A reset when the request names an epoch other than the replica's.
fn other_epoch(req: &PageRequest<'_>, epoch: &Epoch, head: Seq) -> Option<Page> {
    req.epoch.filter(|e| *e != epoch).map(|_| Page::Reset {
        epoch: epoch.clone(),
        seq: head,
        reason: "epoch",
    })
}

fn position(shared: &Shared) -> Result<(Epoch, Seq), CursorError> {
    let view = shared.read();
    let epoch = view.epoch().cloned().ok_or(CursorError::NotReady)?;
    Ok((epoch, view.head()))
}

/// The cursor is ahead of this replica: wait for the tail, then fall back to the log.
async fn ahead<L: EventLog>(
    shared: &Shared,
    log: &L,
    req: PageRequest<'_>,
) -> Result<Page, CursorError> {
    let mut progress = shared.progress();
    let _ =
        tokio::time::timeout(req.catchup_wait, progress.wait_for(|p| p.head >= req.since)).await;
    let (epoch, head) = position(shared)?;
    if let Some(reset) = other_epoch(&req, &epoch, head) {
        return Ok(reset);
    }
    if head >= req.since
        && let Some(page) = from_ring(shared, &epoch, req)
    {
        return Ok(page);
    }
    match log
        .meta()
        .await
        .map_err(|e| CursorError::Log(Arc::new(e)))?
    {
        Some(meta) if meta.epoch == epoch && meta.seq >= req.since => {
            from_log(shared, log, epoch, head, req).await
        }
        _ => Ok(Page::Reset {
            epoch,
            seq: head,
            reason: "ahead",
        }),
    }
}

fn from_ring(shared: &Shared, epoch: &Epoch, req: PageRequest<'_>) -> Option<Page> {
    let view = shared.read();
    if view.epoch() != Some(epoch) {
        return None;
    }
    let ring = view.ring_after(req.since)?;
    let mut events = Vec::new();
    let mut next = req.since;
    for ev in ring.take(SCAN_BUDGET) {
        next = ev.seq();
        if req.filter.matches(&ev.head.ns, &ev.head.kind) {
            events.push(ev.clone());
            if events.len() >= req.limit {
                break;
            }
        }
    }
    Some(Page::Events {
        epoch: epoch.clone(),
        events,
        next,
        head: view.head(),
        source: PageSource::Ring,
    })
}

/// How many events to read per log call: without a filter every event read is returned, so no
/// more than the page needs; with one, matches may be sparse, so read the most.
fn log_page(req: &PageRequest<'_>) -> usize {
    if req.filter.is_all() {
        req.limit.clamp(1, LOG_PAGE)
    } else {
        LOG_PAGE
    }
}

async fn from_log<L: EventLog>(
    shared: &Shared,
    log: &L,
    epoch: Epoch,
    head: Seq,
    req: PageRequest<'_>,
) -> Result<Page, CursorError> {
    let mut events = Vec::new();
    let mut next = req.since;
    let mut scanned = 0;
    while scanned < SCAN_BUDGET && events.len() < req.limit {
        let read = shared.reads.read_range(log, next, log_page(&req)).await;
        let range = match read {
            Ok(range) => range,
            Err(e) if matches!(*e, LogError::Missing) => {
                return Ok(Page::Reset {
                    epoch,
                    seq: head,
                    reason: "epoch",
                });
            }
            Err(e) => return Err(CursorError::Log(e)),
        };
        if range.meta.epoch != epoch {
            return Ok(Page::Reset {
                epoch,
                seq: head,
                reason: "epoch",
            });
        }
        let Some(first) = range.events.first() else {
            if range.meta.seq > next {
                return Ok(Page::Reset {
                    epoch,
                    seq: head,
                    reason: "trimmed",
                });
            }
            break;
        };
        if first.seq() != next.next() {
            return Ok(Page::Reset {
                epoch,
                seq: head,
                reason: "trimmed",
            });
        }
        for ev in &range.events {
            scanned += 1;
            next = ev.seq();
            if req.filter.matches(&ev.head.ns, &ev.head.kind) {
                events.push(ev.clone());
                if events.len() >= req.limit {
                    break;
                }
            }
        }
        if next >= range.meta.seq {
            break;
        }
    }
    Ok(Page::Events {
        epoch,
        events,
        next,
        head,
        source: PageSource::Log,
    })
}
