//! S-events: `GET /events?since=<seq>&limit=<n>` throughput and latency over K concurrent
//! keep-alive HTTP/1.1 connections, once with a cursor inside the replica's ring and once with a
//! cursor older than the ring (served from Redis). The fanout runs with a small
//! `--ring-capacity` and the log is pre-filled well past it.

use super::scenarios::FreshLog;
use super::{Bench, Quantiles};
use crate::fanout_bench::procs::{FanoutOptions, ServerProc};
use crate::http1::Http1;
use crate::publisher;
use crate::verify::latency_histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// S-events figures for one cursor.
#[derive(Debug, Serialize)]
pub struct EventsRow {
    /// `ring` or `redis`.
    pub source: &'static str,
    pub since: u64,
    pub head: u64,
    pub ring_capacity: usize,
    pub limit: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub requests: u64,
    pub requests_per_s: f64,
    /// Events in the first page (checks the cursor really yields `limit` events).
    pub first_page_events: usize,
    /// Non-200 answers by status, and I/O errors.
    pub errors: BTreeMap<String, u64>,
    pub latency_us: Quantiles,
    pub fanout_cores: f64,
}

pub async fn events(b: &Bench) -> anyhow::Result<Vec<EventsRow>> {
    let ring = b.args.ring_capacity.max(1);
    let log = FreshLog::create(&b.redis_url).await?;
    let options = FanoutOptions {
        ring_capacity: Some(ring),
        ..FanoutOptions::default()
    };
    let fanout =
        ServerProc::start_fanout(&b.fanout_bin, &b.redis_url, &log.cluster, &options).await?;
    let prefill = b.args.events_prefill.max(ring as u64 * 2 + 1000);
    let head = publisher::fill(&log.writer, &log.epoch, 0, prefill, 100, b.args.pad).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while fanout.head().await? < head {
        anyhow::ensure!(Instant::now() < deadline, "fanout did not load the log");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ring_since = head - ring as u64 / 2;
    let redis_since = 100;
    let mut rows = Vec::new();
    for (source, since) in [("ring", ring_since), ("redis", redis_since)] {
        rows.push(phase(b, &fanout, source, since, head, ring).await?);
    }
    fanout.stop().await;
    Ok(rows)
}

async fn phase(
    b: &Bench,
    fanout: &ServerProc,
    source: &'static str,
    since: u64,
    head: u64,
    ring_capacity: usize,
) -> anyhow::Result<EventsRow> {
    let limit = b.args.events_limit;
    let path = format!("/events?since={since}&limit={limit}");
    let first = crate::http1::get_once(&fanout.addr, &path).await?;
    anyhow::ensure!(first.0 == 200, "/events answered {}", first.0);
    let page: serde_json::Value = serde_json::from_slice(&first.1)?;
    let first_page_events = page["events"].as_array().map_or(0, Vec::len);

    let cpu0 = fanout.cpu();
    let start = Instant::now();
    let stop_at = start + b.args.events_duration;
    let workers = (0..b.args.events_concurrency.max(1)).map(|_| {
        let (addr, path) = (fanout.addr.clone(), path.clone());
        tokio::spawn(async move { worker(&addr, &path, stop_at).await })
    });
    let mut latency = latency_histogram();
    let mut errors = BTreeMap::new();
    let mut requests = 0;
    for w in futures::future::join_all(workers).await {
        let w = w?;
        requests += w.requests;
        latency.add(&w.latency)?;
        for (k, v) in w.errors {
            *errors.entry(k).or_default() += v;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = fanout.cpu() - cpu0;
    Ok(EventsRow {
        source,
        since,
        head,
        ring_capacity,
        limit,
        concurrency: b.args.events_concurrency,
        seconds: secs,
        requests,
        requests_per_s: requests as f64 / secs,
        first_page_events,
        errors,
        latency_us: Quantiles::of(Some(&latency)),
        fanout_cores: cpu / secs,
    })
}

struct WorkerResult {
    requests: u64,
    latency: hdrhistogram::Histogram<u64>,
    errors: BTreeMap<String, u64>,
}

/// One keep-alive connection issuing requests back to back until `stop_at` (reconnecting after
/// an I/O error).
async fn worker(addr: &str, path: &str, stop_at: Instant) -> WorkerResult {
    let mut r = WorkerResult {
        requests: 0,
        latency: latency_histogram(),
        errors: BTreeMap::new(),
    };
    let mut body = Vec::new();
    let mut conn = None;
    while Instant::now() < stop_at {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Http1::connect(addr).await {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    *r.errors.entry("connect".into()).or_default() += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let t = Instant::now();
        match c.get(path, &mut body).await {
            Ok(200) => {
                r.requests += 1;
                r.latency
                    .saturating_record((t.elapsed().as_micros() as u64).max(1));
            }
            Ok(code) => *r.errors.entry(code.to_string()).or_default() += 1,
            Err(_) => {
                *r.errors.entry("io".into()).or_default() += 1;
                conn = None;
            }
        }
    }
    r
}
