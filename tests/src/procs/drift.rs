//! Resource drift of long-running processes: RSS and open files sampled over a run, and the
//! RSS slope (least squares over the samples after warm-up) in MiB per hour.

use super::child::{fds_of, rss_of};
use serde::Serialize;
use std::time::Duration;

/// One process's samples.
#[derive(Clone, Debug, Serialize)]
pub struct Track {
    pub name: String,
    #[serde(skip)]
    pid: u32,
    /// Seconds since the start, RSS in bytes, open files.
    pub samples: Vec<(f64, u64, usize)>,
}

impl Track {
    pub fn new(name: &str, pid: u32) -> Self {
        Self {
            name: name.to_string(),
            pid,
            samples: Vec::new(),
        }
    }

    pub fn sample(&mut self, at: Duration) {
        let rss = rss_of(self.pid);
        self.samples.push((at.as_secs_f64(), rss, fds_of(self.pid)));
    }

    /// What the samples say.
    pub fn summary(&self) -> DriftSummary {
        let first = self.samples.first().copied().unwrap_or_default();
        let last = self.samples.last().copied().unwrap_or_default();
        let warm = &self.samples[self.samples.len() / 4..];
        DriftSummary {
            name: self.name.clone(),
            rss_start_mib: mib(first.1),
            rss_end_mib: mib(last.1),
            rss_slope_mib_per_hour: slope(warm) * 3600.0,
            fds_start: first.2,
            fds_end: last.2,
            fds_max: self.samples.iter().map(|s| s.2).max().unwrap_or_default(),
        }
    }
}

/// One process's figures for the soak table.
#[derive(Clone, Debug, Serialize)]
pub struct DriftSummary {
    pub name: String,
    pub rss_start_mib: f64,
    pub rss_end_mib: f64,
    pub rss_slope_mib_per_hour: f64,
    pub fds_start: usize,
    pub fds_end: usize,
    pub fds_max: usize,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// Least-squares slope of RSS (MiB) over time (s).
fn slope(samples: &[(f64, u64, usize)]) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean_t = samples.iter().map(|s| s.0).sum::<f64>() / n;
    let mean_m = samples.iter().map(|s| mib(s.1)).sum::<f64>() / n;
    let num: f64 = samples
        .iter()
        .map(|s| (s.0 - mean_t) * (mib(s.1) - mean_m))
        .sum();
    let den: f64 = samples.iter().map(|s| (s.0 - mean_t).powi(2)).sum();
    if den == 0.0 { 0.0 } else { num / den }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slope_of_a_steady_climb_is_its_rate_and_a_flat_line_has_none() {
        let climb: Vec<_> = (0..10)
            .map(|i| (f64::from(i), (i as u64) << 20, 3))
            .collect();
        assert!((slope(&climb) - 1.0).abs() < 1e-9, "1 MiB per second");
        let flat: Vec<_> = (0..10).map(|i| (f64::from(i), 5 << 20, 3)).collect();
        assert_eq!(slope(&flat), 0.0);
        assert_eq!(slope(&climb[..1]), 0.0, "one sample has no slope");
    }
}
