//! A publisher that appends synthetic events to the log at a set rate, independent of how fast the
//! readers keep up. Each event carries its send time in microseconds for latency measurement.

use kubecast_shared::log::{AppendBatch, AppendEntry, EventLog, SnapshotChange};
use kubecast_shared::{Epoch, Event, Op, Seq};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn synthetic(epoch: &Epoch, seq: u64, pad: &str) -> AppendEntry {
    let ev = Event {
        seq: Seq(seq),
        epoch: epoch.clone(),
        ts: now_us() / 1000,
        op: Op::Updated,
        kind: "Pod".into(),
        ns: "bench".into(),
        name: format!("pod-{}", seq % 1000),
        uid: String::new(),
        obj: Some(serde_json::json!({"sent_us": now_us(), "phase": "Running", "pad": pad})),
    };
    let key = ev.key();
    AppendEntry {
        seq: Seq(seq),
        raw: ev.encode(),
        ns: ev.ns,
        kind: ev.kind,
        snapshot: SnapshotChange::Put(key),
    }
}

/// What the publisher did.
pub struct Published {
    pub events: u64,
    pub elapsed: Duration,
    /// Append round-trip times in microseconds.
    pub append_us: hdrhistogram::Histogram<u64>,
}

/// Appends events for `duration`: `rate` per second (0 = as fast as possible), `batch` per append.
pub async fn run(
    log: &impl EventLog,
    epoch: &Epoch,
    rate: u64,
    batch: usize,
    duration: Duration,
    pad_bytes: usize,
) -> anyhow::Result<Published> {
    let pad = "x".repeat(pad_bytes);
    let mut append_us = hdrhistogram::Histogram::new(3)?;
    let start = Instant::now();
    let mut head = 0u64;
    while start.elapsed() < duration {
        let due = if rate == 0 {
            head + batch as u64
        } else {
            (start.elapsed().as_secs_f64() * rate as f64) as u64
        };
        if due <= head {
            tokio::time::sleep(Duration::from_micros(500)).await;
            continue;
        }
        let n = (due - head).min(batch as u64);
        let t = Instant::now();
        append_synthetic(log, epoch, head, n, &pad).await?;
        append_us.record(t.elapsed().as_micros() as u64)?;
        head += n;
    }
    Ok(Published {
        events: head,
        elapsed: start.elapsed(),
        append_us,
    })
}

/// Appends `count` events as fast as the log accepts them (`batch` per append), after `head`;
/// returns the new head.
pub async fn fill(
    log: &impl EventLog,
    epoch: &Epoch,
    head: u64,
    count: u64,
    batch: usize,
    pad_bytes: usize,
) -> anyhow::Result<u64> {
    let pad = "x".repeat(pad_bytes);
    let mut head = head;
    let end = head + count;
    while head < end {
        let n = (end - head).min(batch.max(1) as u64);
        append_synthetic(log, epoch, head, n, &pad).await?;
        head += n;
    }
    Ok(head)
}

/// Appends the `n` synthetic events after `head` in one batch.
async fn append_synthetic(
    log: &impl EventLog,
    epoch: &Epoch,
    head: u64,
    n: u64,
    pad: &str,
) -> anyhow::Result<()> {
    let entries = (head + 1..=head + n)
        .map(|s| synthetic(epoch, s, pad))
        .collect();
    log.append(&AppendBatch {
        fence: 1,
        epoch: epoch.clone(),
        expected_head: Seq(head),
        entries,
    })
    .await?;
    Ok(())
}
