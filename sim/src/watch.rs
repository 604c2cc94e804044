//! Watch: a chunked stream of newline-delimited JSON watch events. History after the requested
//! resourceVersion is replayed first, then live events follow; an RV older than the retained
//! history yields one `ERROR` event carrying a 410 `Expired` Status and the stream ends, as on a
//! real API server. RV "0" or absent starts from now (a real server would first send synthetic
//! ADDED events; this one only does that when `sendInitialEvents=true`, ending them with the
//! `k8s.io/initial-events-end` bookmark). The stream ends at `timeoutSeconds`, on
//! `SimCluster::cut_watches`, on server shutdown, or if the watcher lags the live channel.
//!
//! A `labelSelector` filters events like the real server: an object that stops matching arrives as
//! DELETED, one that starts matching as ADDED (decided from the event's previous object). Unfiltered
//! events are serialized once and shared by every watcher (`StoredEvent::wire`).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::{Instant, Interval};
use tokio_util::sync::CancellationToken;

use crate::api::AppState;
use crate::cluster::SimCluster;
use crate::error::{Error, Result};
use crate::kinds::{KindSpec, Target};
use crate::selector::Selector;
use crate::store::{EventType, StoredEvent};

/// Watch length when the client sends no `timeoutSeconds`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

#[derive(Serialize)]
struct WireEvent<'a> {
    #[serde(rename = "type")]
    ty: &'a str,
    object: &'a Value,
}

fn line(ty: &str, object: &Value) -> Bytes {
    let mut buf = serde_json::to_vec(&WireEvent { ty, object }).unwrap_or_default();
    buf.push(b'\n');
    Bytes::from(buf)
}

fn bookmark(spec: &KindSpec, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        meta["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    line(
        "BOOKMARK",
        &json!({ "kind": spec.kind, "apiVersion": spec.api_version, "metadata": meta }),
    )
}

fn param<'a>(query: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

fn number(query: &HashMap<String, String>, name: &'static str) -> Result<Option<u64>> {
    param(query, name)
        .map(|v| {
            v.parse().map_err(|_| Error::BadParameter {
                param: name,
                value: v.to_owned(),
            })
        })
        .transpose()
}

/// The line a watcher with `selector` receives for `ev`, if any.
fn event_line(selector: &Selector, ev: &StoredEvent) -> Option<Bytes> {
    let shared = || {
        ev.wire
            .get_or_init(|| line(ev.ty.as_str(), &ev.object))
            .clone()
    };
    if selector.is_empty() {
        return Some(shared());
    }
    let now = ev.ty != EventType::Deleted && selector.matches(&ev.object);
    let was = ev.prev.as_ref().is_some_and(|p| selector.matches(p));
    match (was, now) {
        (false, false) => None,
        (false, true) if ev.ty == EventType::Added => Some(shared()),
        (false, true) => Some(line("ADDED", &ev.object)),
        (true, true) => Some(shared()),
        (true, false) if ev.ty == EventType::Deleted => Some(shared()),
        (true, false) => Some(line("DELETED", &ev.object)),
    }
}

/// Answers a watch request with a streaming body.
pub(crate) fn respond(
    app: &AppState,
    target: &Target,
    query: &HashMap<String, String>,
) -> Result<Response> {
    let from = number(query, "resourceVersion")?.filter(|rv| *rv != 0);
    let timeout = number(query, "timeoutSeconds")?.map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let initial_events = param(query, "sendInitialEvents") == Some("true");
    let selector = Selector::parse(param(query, "labelSelector").unwrap_or(""))?;
    let spec = target.spec;
    let ns = target.ns.as_deref();
    let started = app.cluster.with_state(|s| {
        let initial = if initial_events {
            s.store.items(spec.kind, ns)
        } else {
            Vec::new()
        };
        s.store
            .watch(spec.kind, ns, if initial_events { None } else { from })
            .map(|w| (w, initial))
    });
    let (start, initial) = match started {
        Ok(started) => started,
        Err(err @ Error::TooOldResourceVersion { .. }) => {
            return Ok(ndjson(Body::from(line("ERROR", &err.status()))));
        }
        Err(err) => return Err(err),
    };
    let mut pending: VecDeque<Bytes> = initial
        .iter()
        .filter(|o| selector.matches(o))
        .map(|o| line("ADDED", o))
        .collect();
    if initial_events {
        pending.push_back(bookmark(spec, start.rv, true));
    }
    pending.extend(
        start
            .replay
            .iter()
            .filter_map(|ev| event_line(&selector, ev)),
    );
    let every = app.cluster.bookmark_interval();
    let bookmarks = (param(query, "allowWatchBookmarks") == Some("true") && !every.is_zero())
        .then(|| tokio::time::interval_at(Instant::now() + every, every));
    let stream = WatchStream {
        cluster: app.cluster.clone(),
        spec,
        ns: target.ns.clone(),
        selector,
        pending,
        rx: start.rx,
        bookmarks,
        deadline: Instant::now() + timeout,
        cut: app.cluster.cut_token(),
        shutdown: app.shutdown.clone(),
    };
    let body = futures::stream::unfold(stream, |mut s| async move {
        s.next_chunk()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), s))
    });
    Ok(ndjson(Body::from_stream(body)))
}

fn ndjson(body: Body) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

struct WatchStream {
    cluster: SimCluster,
    spec: &'static KindSpec,
    ns: Option<String>,
    selector: Selector,
    pending: VecDeque<Bytes>,
    rx: broadcast::Receiver<Arc<StoredEvent>>,
    bookmarks: Option<Interval>,
    deadline: Instant,
    cut: CancellationToken,
    shutdown: CancellationToken,
}

async fn tick(bookmarks: &mut Option<Interval>) {
    match bookmarks {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl WatchStream {
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if let Some(chunk) = self.pending.pop_front() {
            return Some(chunk);
        }
        loop {
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return None,
                () = self.cut.cancelled() => return None,
                () = tokio::time::sleep_until(self.deadline) => return None,
                received = self.rx.recv() => match received {
                    Ok(ev) if self.ns.as_ref().is_none_or(|ns| *ns == ev.ns) => {
                        if let Some(chunk) = event_line(&self.selector, &ev) {
                            return Some(chunk);
                        }
                    }
                    Ok(_) => {}
                    // Lagged: end the stream; the client resumes from its last RV out of history.
                    Err(_) => return None,
                },
                () = tick(&mut self.bookmarks) => {
                    if let Some(chunk) = self.bookmark() {
                        return Some(chunk);
                    }
                }
            }
        }
    }

    /// A bookmark at the store's current RV, only if every event up to it has been received (the
    /// store broadcasts under its lock, so an empty receiver under the lock proves that).
    fn bookmark(&self) -> Option<Bytes> {
        let rv = self
            .cluster
            .with_state(|s| self.rx.is_empty().then(|| s.store.rv()))?;
        Some(bookmark(self.spec, rv, false))
    }
}
