//! The polls of hybrid clients (`--mode hybrid`, Kubecast only): besides reading its WebSocket,
//! each client asks `GET /events?since=<last seq seen>&epoch=…` every `--poll-interval` with full
//! jitter (uniform in ½ … 1½ × the interval, so the clients do not poll in step) over its own
//! keep-alive HTTP/1.1 connection from its source address, opened at its first poll, and merges
//! every page into its view ([`Merge`]). Requests, their latency, errors and what the merges saw
//! are shared by the process.

use super::hybrid::{Merge, MergeCounts};
use super::{GenState, Latency};
use crate::http1::Http1;
use crate::verify::latency_histogram;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Events per page at most (the fanout caps `limit` at 5,000).
const PAGE_LIMIT: usize = 1000;

/// Poll options of the load generator.
#[derive(clap::Args, Debug, Clone)]
pub struct PollArgs {
    /// `--mode hybrid`: mean interval between two polls of one client (each wait is uniform in
    /// ½ … 1½ × this).
    #[arg(long, default_value = "1s", value_parser = interval)]
    pub poll_interval: Duration,
}

/// A poll interval: a humantime duration of at least 1 ms.
pub fn interval(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e}"))?;
    if d < Duration::from_millis(1) {
        return Err(format!("must be at least 1ms (got {s})"));
    }
    Ok(d)
}

/// What the polls of a process's clients saw.
pub struct PollTally {
    pub requests: u64,
    /// Non-200 answers by status, and I/O errors (`io`, `connect`).
    pub errors: BTreeMap<String, u64>,
    /// Request → whole answer read, per `200`, in µs.
    pub latency_us: hdrhistogram::Histogram<u64>,
    pub merge: MergeCounts,
}

impl Default for PollTally {
    fn default() -> Self {
        Self {
            requests: 0,
            errors: BTreeMap::new(),
            latency_us: latency_histogram(),
            merge: MergeCounts::default(),
        }
    }
}

/// The hybrid clients' figures in a generator's result.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PollFigures {
    /// `200` answers.
    pub requests: u64,
    pub errors: BTreeMap<String, u64>,
    pub latency_us: Latency,
    pub merge: MergeCounts,
}

impl PollFigures {
    pub fn of(t: &PollTally) -> Self {
        Self {
            requests: t.requests,
            errors: t.errors.clone(),
            latency_us: Latency::of(&t.latency_us),
            merge: t.merge.clone(),
        }
    }
}

/// A hybrid client's merged view and its poll task, which ends when this is dropped (when
/// the client's socket ends).
pub struct Poller {
    merge: Rc<RefCell<Merge>>,
    task: tokio::task::JoinHandle<()>,
}

impl Poller {
    /// Starts polling for client `i`; the first poll waits for the snapshot.
    pub(super) fn start(state: &Rc<GenState>, src: IpAddr, target: SocketAddr, i: usize) -> Self {
        let merge = Rc::new(RefCell::new(Merge::default()));
        let task = tokio::task::spawn_local(poll(state.clone(), merge.clone(), src, target, i));
        Self { merge, task }
    }

    /// Takes a text frame of the client's socket into its merged view.
    pub(super) fn on_socket_text(&self, text: &str, state: &GenState) {
        let counts = &mut state.poll.borrow_mut().merge;
        self.merge.borrow_mut().on_socket_text(text, counts);
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Polls for client `i` until its task is aborted.
async fn poll(
    state: Rc<GenState>,
    merge: Rc<RefCell<Merge>>,
    src: IpAddr,
    target: SocketAddr,
    i: usize,
) {
    let mut jitter = Jitter(i as u64);
    let mut conn = None;
    let mut body = Vec::new();
    loop {
        tokio::time::sleep(jitter.around(state.poll_interval)).await;
        let Some((epoch, since)) = merge.borrow().cursor().map(|(e, s)| (e.to_owned(), s)) else {
            continue;
        };
        let path = format!("/events?since={since}&epoch={epoch}&limit={PAGE_LIMIT}");
        let started = Instant::now();
        let answer = get(&mut conn, src, target, &path, &mut body).await;
        let mut t = state.poll.borrow_mut();
        match answer {
            Ok(200) => {
                t.requests += 1;
                let us = started.elapsed().as_micros() as u64;
                t.latency_us.saturating_record(us.max(1));
                merge.borrow_mut().on_page(since, &body, &mut t.merge);
            }
            Ok(code) => *t.errors.entry(code.to_string()).or_default() += 1,
            Err(cause) => {
                *t.errors.entry(cause.into()).or_default() += 1;
                conn = None;
            }
        }
    }
}

/// One GET on the client's connection, opened first when there is none.
async fn get(
    conn: &mut Option<Http1>,
    src: IpAddr,
    target: SocketAddr,
    path: &str,
    body: &mut Vec<u8>,
) -> Result<u16, &'static str> {
    let c = match conn {
        Some(c) => c,
        None => conn.insert(
            Http1::connect_from(src, target)
                .await
                .map_err(|_| "connect")?,
        ),
    };
    c.get(path, body).await.map_err(|_| "io")
}

/// A small deterministic generator (splitmix64) for the poll jitter, seeded per client.
struct Jitter(u64);

impl Jitter {
    /// Uniform in ½ … 1½ × `mean`.
    fn around(&mut self, mean: Duration) -> Duration {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
        mean.mul_f64(0.5 + unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jittered_waits_stay_within_half_to_one_and_a_half_intervals() {
        let mut j = Jitter(7);
        let waits: Vec<Duration> = (0..1000)
            .map(|_| j.around(Duration::from_secs(2)))
            .collect();
        assert!(waits.iter().all(|w| (1.0..3.0).contains(&w.as_secs_f64())));
        let mean = waits.iter().map(Duration::as_secs_f64).sum::<f64>() / 1000.0;
        assert!((1.9..2.1).contains(&mean), "mean {mean}");
    }

    #[test]
    fn a_poll_interval_below_a_millisecond_is_refused() {
        assert!(interval("0s").is_err());
        assert!(interval("soon").is_err());
        assert_eq!(interval("250ms"), Ok(Duration::from_millis(250)));
    }
}
