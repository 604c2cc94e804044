//! `--reconnect`: what a client does when its connection ends, as DESIGN §5 asks of a real client.
//! It waits a full-jitter exponential backoff (`--backoff-min` doubling up to `--backoff-max`),
//! reconnects with `?since=<last seq>&epoch=<epoch>` and keeps its [`Cursor`](crate::verify::Cursor),
//! so continuity is verified ACROSS connections: a gap or duplicate around a reconnect is a
//! violation, a `reset` (+ snapshot) is counted as a reset, not a gap.
//!
//! A recovery starts when a connection ends and ends when the client is caught up: it has every
//! event up to the head the new connection announced in its `hello`. Its duration (loss → caught
//! up) goes into a histogram; the wall-clock instants of the first loss and the last catch-up let
//! the orchestrator tell when the last client was back. Pure parts only here; the client task is
//! in `resume.rs`.

use super::Latency;
use crate::verify::latency_histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Reconnect options of the load generator.
#[derive(clap::Args, Debug, Clone)]
pub struct ReconnectArgs {
    /// Reconnect after any close (close frame of any code, EOF, I/O error) with `since` and
    /// `epoch` (Socket.IO: with the session's pid and last offset), verifying continuity across
    /// connections.
    #[arg(long)]
    pub reconnect: bool,
    /// First reconnect backoff ceiling; it doubles per failed attempt (full jitter: the wait is
    /// uniform between 0 and the ceiling).
    #[arg(long, default_value = "50ms", value_parser = positive_duration)]
    pub backoff_min: Duration,
    /// Largest reconnect backoff ceiling.
    #[arg(long, default_value = "2s", value_parser = positive_duration)]
    pub backoff_max: Duration,
}

impl ReconnectArgs {
    /// Cross-flag checks clap cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if self.backoff_max < self.backoff_min {
            return Err(format!(
                "--backoff-max ({:?}) is below --backoff-min ({:?})",
                self.backoff_max, self.backoff_min
            ));
        }
        Ok(())
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            min: self.backoff_min,
            max: self.backoff_max,
        }
    }
}

/// A humantime duration above zero.
pub fn positive_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("must be above 0".into());
    }
    Ok(d)
}

/// Full-jitter exponential backoff.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub min: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The ceiling before attempt `attempt` (0-based): `min · 2^attempt`, at most `max`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        self.min
            .checked_mul(1 << attempt.min(20))
            .map_or(self.max, |d| d.min(self.max))
    }

    /// The load-generator flags for this backoff.
    pub fn args(&self) -> Vec<String> {
        let us = |d: Duration| format!("{}us", d.as_micros());
        vec![
            "--reconnect".into(),
            "--backoff-min".into(),
            us(self.min),
            "--backoff-max".into(),
            us(self.max),
        ]
    }

    /// The wait before attempt `attempt`: uniform in `[0, ceiling]`.
    pub fn delay(&self, attempt: u32, rng: &mut Jitter) -> Duration {
        self.ceiling(attempt).mul_f64(rng.unit())
    }
}

/// A small per-client random source (splitmix64): the jitter needs spread, not quality.
pub struct Jitter(u64);

impl Jitter {
    pub fn seeded(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The URL a client resumes with: `url` plus `since` and `epoch` (an epoch is opaque: it is
/// percent-encoded).
pub fn resume_url(url: &str, since: u64, epoch: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut out = format!("{url}{sep}since={since}&epoch=");
    for b in epoch.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reconnect figures of one generator (summed over a fleet with [`ReconnectStats::add`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReconnectStats {
    /// Connections that ended while the generator ran.
    pub lost: u64,
    /// Recoveries started: a loss while the client was not already recovering.
    pub recoveries: u64,
    /// Connection attempts after a loss, and those that failed before the WebSocket was open.
    pub attempts: u64,
    pub attempt_failures: u64,
    /// Failed attempts by cause (`connect: ConnectionRefused`, `timeout`, …).
    #[serde(default)]
    pub attempt_failure_causes: BTreeMap<String, u64>,
    /// Recoveries that ended caught up by a replay from `since`, without a reset.
    pub resumes: u64,
    /// Recoveries whose new connection got a `reset` (+ snapshot) instead.
    pub resets: u64,
    /// Recoveries not finished (client not caught up) when the generator stopped.
    pub recovering_at_end: u64,
    /// Wall clock, µs since the Unix epoch, of the first loss and of the last catch-up (0: none).
    pub first_lost_us: u64,
    pub last_caught_up_us: u64,
    /// Loss → caught up, µs, per recovery.
    pub recovery_us: Latency,
}

impl ReconnectStats {
    pub fn add(&mut self, o: &ReconnectStats) {
        self.lost += o.lost;
        self.recoveries += o.recoveries;
        self.attempts += o.attempts;
        self.attempt_failures += o.attempt_failures;
        for (cause, n) in &o.attempt_failure_causes {
            *self
                .attempt_failure_causes
                .entry(cause.clone())
                .or_default() += n;
        }
        self.resumes += o.resumes;
        self.resets += o.resets;
        self.recovering_at_end += o.recovering_at_end;
        self.first_lost_us = match (self.first_lost_us, o.first_lost_us) {
            (0, x) | (x, 0) => x,
            (a, b) => a.min(b),
        };
        self.last_caught_up_us = self.last_caught_up_us.max(o.last_caught_up_us);
        self.recovery_us.count += o.recovery_us.count;
        self.recovery_us
            .buckets
            .extend_from_slice(&o.recovery_us.buckets);
    }

    /// The recovery histogram rebuilt from the (merged) buckets.
    pub fn recovery_histogram(&self) -> hdrhistogram::Histogram<u64> {
        let mut h = latency_histogram();
        self.recovery_us.merge_into(&mut h);
        h
    }
}

/// What the clients of one process record about their recoveries.
pub struct ReconnectTally {
    pub stats: ReconnectStats,
    pub recovery_us: hdrhistogram::Histogram<u64>,
}

impl Default for ReconnectTally {
    fn default() -> Self {
        Self {
            stats: ReconnectStats::default(),
            recovery_us: latency_histogram(),
        }
    }
}

impl ReconnectTally {
    /// A connection ended; `new_recovery` when the client was caught up until then.
    pub fn lost(&mut self, new_recovery: bool, now_us: u64) {
        self.stats.lost += 1;
        if new_recovery {
            self.stats.recoveries += 1;
            if self.stats.first_lost_us == 0 {
                self.stats.first_lost_us = now_us;
            }
        }
    }

    /// A reconnect attempt failed before the WebSocket was open.
    pub fn attempt_failed(&mut self, cause: String) {
        self.stats.attempt_failures += 1;
        *self.stats.attempt_failure_causes.entry(cause).or_default() += 1;
    }

    /// A recovery finished after `took`; `reset` when the new connection was reset.
    pub fn caught_up(&mut self, took: Duration, reset: bool, now_us: u64) {
        if reset {
            self.stats.resets += 1;
        } else {
            self.stats.resumes += 1;
        }
        self.stats.last_caught_up_us = self.stats.last_caught_up_us.max(now_us);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.recovery_us.saturating_record(us.max(1));
    }

    pub fn result(&self) -> ReconnectStats {
        let s = &self.stats;
        ReconnectStats {
            recovering_at_end: s.recoveries - s.resumes - s.resets,
            recovery_us: Latency::of(&self.recovery_us),
            ..s.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            min: Duration::from_millis(50),
            max: Duration::from_secs(2),
        }
    }

    #[test]
    fn the_backoff_ceiling_doubles_up_to_the_maximum() {
        let b = backoff();
        let ms: Vec<u128> = (0..8).map(|a| b.ceiling(a).as_millis()).collect();
        assert_eq!(ms, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn jittered_delays_stay_under_the_ceiling_and_spread() {
        let (b, mut rng) = (backoff(), Jitter::seeded(7));
        let delays: Vec<Duration> = (0..1000).map(|_| b.delay(3, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= b.ceiling(3)));
        let below_half = delays.iter().filter(|d| **d < b.ceiling(3) / 2).count();
        assert!((300..700).contains(&below_half), "{below_half}");
    }

    #[test]
    fn the_resume_url_carries_since_and_an_encoded_epoch() {
        assert_eq!(
            resume_url("ws://h:1/ws", 42, "3f9c2a"),
            "ws://h:1/ws?since=42&epoch=3f9c2a"
        );
        assert_eq!(
            resume_url("ws://h:1/ws?ns=a", 7, "e 1&x"),
            "ws://h:1/ws?ns=a&since=7&epoch=e%201%26x"
        );
    }

    fn args(min_ms: u64, max_ms: u64) -> ReconnectArgs {
        ReconnectArgs {
            reconnect: true,
            backoff_min: Duration::from_millis(min_ms),
            backoff_max: Duration::from_millis(max_ms),
        }
    }

    #[test]
    fn a_maximum_below_the_minimum_is_refused() {
        assert!(args(50, 2000).validate().is_ok());
        let err = args(500, 100).validate().expect_err("refused");
        assert!(err.contains("--backoff-max"), "{err}");
    }

    #[test]
    fn a_zero_backoff_is_refused() {
        assert!(positive_duration("0s").is_err());
        assert_eq!(positive_duration("50ms"), Ok(Duration::from_millis(50)));
    }

    #[test]
    fn stats_sum_counts_and_keep_the_first_loss_and_last_catch_up() {
        let mut a = ReconnectTally::default();
        a.lost(true, 1_000);
        a.caught_up(Duration::from_millis(3), false, 5_000);
        a.lost(true, 9_000);
        let mut b = ReconnectTally::default();
        b.lost(true, 800);
        b.lost(false, 900); // lost again while recovering: the same recovery
        b.caught_up(Duration::from_millis(7), true, 4_000);
        let mut sum = a.result();
        sum.add(&b.result());
        assert_eq!((sum.lost, sum.recoveries), (4, 3));
        assert_eq!((sum.resumes, sum.resets, sum.recovering_at_end), (1, 1, 1));
        assert_eq!((sum.first_lost_us, sum.last_caught_up_us), (800, 5_000));
        let h = sum.recovery_histogram();
        assert_eq!(h.len(), 2);
        assert!(h.max() >= 7_000);
    }
}
