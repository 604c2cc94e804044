//! The slow readers' and the hybrid polls' figures summed over a fleet's generators.

use super::Quantiles;
use crate::loadgen::LoadgenResult;
use crate::loadgen::hybrid::MergeCounts;
use crate::verify::{Counters, latency_histogram};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a fleet's slow readers observed.
#[derive(Debug, Default, Serialize)]
pub struct SlowSum {
    pub clients: u64,
    pub connected: u64,
    /// Server closes by code (4008 = too slow).
    pub closes: BTreeMap<String, u64>,
    pub deliveries: u64,
    /// Gaps + duplicates + … of the slow readers' own streams.
    pub violations: u64,
    pub latency_us: Quantiles,
    /// Slow readers still open and short of the last seq when their generator stopped.
    pub short_of_head: u64,
}

pub fn slow_sum(results: &[LoadgenResult]) -> SlowSum {
    let mut s = SlowSum::default();
    let (mut counts, mut latency) = (Counters::default(), latency_histogram());
    for r in results.iter().map(|r| &r.slow) {
        s.clients += r.clients;
        s.connected += r.connected;
        add_map(&mut s.closes, &r.closes);
        counts.add(&r.counts);
        r.latency_us.merge_into(&mut latency);
        s.short_of_head += r.short_of_until;
    }
    s.deliveries = counts.events;
    s.violations = counts.violations();
    s.latency_us = Quantiles::of(Some(&latency));
    s
}

/// What a fleet's hybrid polls did and found.
#[derive(Debug, Default, Serialize)]
pub struct PollSum {
    /// `200` answers.
    pub requests: u64,
    /// Other answers by status, and I/O errors.
    pub errors: BTreeMap<String, u64>,
    pub latency_us: Quantiles,
    pub merge: MergeCounts,
}

pub fn poll_sum(results: &[LoadgenResult]) -> PollSum {
    let mut s = PollSum::default();
    let mut latency = latency_histogram();
    for r in results.iter().map(|r| &r.poll) {
        s.requests += r.requests;
        add_map(&mut s.errors, &r.errors);
        r.latency_us.merge_into(&mut latency);
        s.merge.add(&r.merge);
    }
    s.latency_us = Quantiles::of(Some(&latency));
    s
}

fn add_map(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}
