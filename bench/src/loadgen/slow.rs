//! Slow readers: a share of a generator's clients that read at most `--slow-read-rate` bytes a
//! second (after each frame they pause for as long as its bytes take at that rate), on sockets
//! with a small kernel receive buffer, so their receive window really closes and the server's
//! writes to them block. Their figures (deliveries, closes, latency) are kept apart from the
//! normal clients', so the others' latency can be compared with and without them (S6).

use super::Latency;
use crate::verify::{Counters, Tally};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;

/// The receive buffer asked for on a slow client's socket (Linux doubles it and applies its
/// minimum); small enough that a few frames fill it.
pub const SLOW_RCVBUF: u32 = 4096;

/// Slow-reader options of the load generator.
#[derive(clap::Args, Debug, Clone)]
pub struct SlowArgs {
    /// Share of the clients (0 to 1) that read slowly, spread evenly over the clients; their
    /// figures are reported apart (`slow`), every other figure is of the normal clients.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub slow_share: f64,
    /// Bytes per second a slow client reads at most.
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..))]
    pub slow_read_rate: u64,
}

/// A share between 0 and 1.
pub fn share(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|e| format!("{s:?}: {e}"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be between 0 and 1 (got {s})"))
    }
}

/// Which of a generator's clients are slow, and how slow.
#[derive(Clone, Copy, Debug)]
pub struct SlowPlan {
    /// Slow clients among `clients`.
    pub count: usize,
    clients: usize,
    read_rate: u64,
}

impl SlowPlan {
    pub fn new(args: &SlowArgs, clients: usize) -> Self {
        Self {
            count: (args.slow_share * clients as f64).round() as usize,
            clients,
            read_rate: args.slow_read_rate.max(1),
        }
    }

    /// Client `i` is slow when ⌊(i+1)·count/clients⌋ > ⌊i·count/clients⌋: exactly `count`
    /// clients, spread evenly over the connect order.
    pub fn is_slow(&self, i: usize) -> bool {
        self.count > 0 && (i + 1) * self.count / self.clients > i * self.count / self.clients
    }

    /// How long a slow client waits after reading `bytes`.
    pub fn pause(&self, bytes: usize) -> Duration {
        Duration::from_secs_f64(bytes as f64 / self.read_rate as f64)
    }
}

/// What the slow clients of a process observed, apart from the others.
#[derive(Default)]
pub struct SlowTally {
    pub tally: RefCell<Tally>,
    pub closes: RefCell<BTreeMap<String, u64>>,
    pub connected: Cell<u64>,
}

/// The slow clients' figures in a generator's result (summed over generators by `fanout`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SlowFigures {
    /// Slow clients asked for.
    pub clients: u64,
    pub connected: u64,
    /// Connections the server ended, by close code (Kubecast: 4008 "too slow").
    pub closes: BTreeMap<String, u64>,
    pub counts: Counters,
    pub latency_us: Latency,
    /// Slow clients still open and short of the `until` seq when the generator stopped (they
    /// do not hold it up).
    pub short_of_until: u64,
}

impl SlowFigures {
    pub fn of(plan: &SlowPlan, t: &SlowTally, short_of_until: u64) -> Self {
        Self {
            clients: plan.count as u64,
            connected: t.connected.get(),
            closes: t.closes.borrow().clone(),
            counts: t.tally.borrow().counts.clone(),
            latency_us: Latency::of(&t.tally.borrow().latency_us),
            short_of_until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(share: f64, clients: usize) -> SlowPlan {
        let args = SlowArgs {
            slow_share: share,
            slow_read_rate: 1000,
        };
        SlowPlan::new(&args, clients)
    }

    #[test]
    fn the_share_of_slow_clients_is_exact_and_spread() {
        let p = plan(0.01, 1000);
        let slow: Vec<usize> = (0..1000).filter(|&i| p.is_slow(i)).collect();
        assert_eq!(slow.len(), 10);
        assert_eq!(slow[0], 99);
        assert!(slow.windows(2).all(|w| w[1] - w[0] == 100));
        assert!((0..50).all(|i| !plan(0.0, 50).is_slow(i)));
        assert!((0..50).all(|i| plan(1.0, 50).is_slow(i)));
    }

    #[test]
    fn a_pause_takes_as_long_as_the_bytes_at_the_rate() {
        assert_eq!(plan(0.5, 2).pause(500), Duration::from_millis(500));
    }

    #[test]
    fn a_share_outside_zero_to_one_is_refused() {
        assert!(share("1.5").is_err());
        assert!(share("-0.1").is_err());
        assert!(share("NaN").is_err());
        assert_eq!(share("0.01"), Ok(0.01));
    }
}
