//! Churn rates and warnings. Every pod add or delete of a workload (and of a namespace) is
//! recorded; the rate is the number of such events in the last minute (a sliding window), so it
//! reads directly as pods/min.
//!
//! A workload whose rate is above the threshold yields an active signal on every
//! [`signals`](ChurnTracker::signals) call (the driver calls it once per summary interval, so at
//! most once per interval); when its rate falls back to the threshold or below, one clearing
//! signal follows and it is quiet again.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The sliding window of the rates.
pub const WINDOW_MS: u64 = 60_000;

/// A churn warning (or its clearing) of one workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChurnSignal {
    pub ns: String,
    /// `Kind/name`.
    pub workload: String,
    pub rate: u32,
    pub threshold: u32,
    /// `true` while above the threshold, `false` for the one clearing signal.
    pub active: bool,
}

impl ChurnSignal {
    /// The `obj` of the `churn` event.
    pub fn obj(&self) -> Value {
        json!({
            "workloads": [self.workload],
            "rate": self.rate,
            "threshold": self.threshold,
            "active": self.active,
        })
    }
}

/// Pod adds/deletes per `(ns, workload)` and per `(ns, "_namespace")` over the last minute.
pub struct ChurnTracker {
    threshold: u32,
    events: BTreeMap<(String, String), VecDeque<u64>>,
    warned: BTreeSet<(String, String)>,
}

impl ChurnTracker {
    pub fn new(threshold: u32) -> Self {
        Self {
            threshold,
            events: BTreeMap::new(),
            warned: BTreeSet::new(),
        }
    }

    /// Records one pod add or delete at `at_ms` in namespace `ns` (and `workload`, if any).
    pub fn record(&mut self, ns: &str, workload: Option<&str>, at_ms: u64) {
        let ns_key = (ns.to_string(), super::NAMESPACE_SUMMARY.to_string());
        self.events.entry(ns_key).or_default().push_back(at_ms);
        if let Some(w) = workload {
            self.events
                .entry((ns.to_string(), w.to_string()))
                .or_default()
                .push_back(at_ms);
        }
    }

    fn prune(&mut self, now_ms: u64) {
        for times in self.events.values_mut() {
            while times.front().is_some_and(|t| t + WINDOW_MS <= now_ms) {
                times.pop_front();
            }
        }
        self.events.retain(|_, times| !times.is_empty());
    }

    /// Rates (events in the last minute) at `now_ms`, by `(ns, name)`; zero rates are absent.
    pub fn rates(&mut self, now_ms: u64) -> BTreeMap<(String, String), u32> {
        self.prune(now_ms);
        self.events
            .iter()
            .map(|(k, times)| (k.clone(), u32::try_from(times.len()).unwrap_or(u32::MAX)))
            .collect()
    }

    /// The signals at `now_ms`: one active signal per workload above the threshold, one clearing
    /// signal per workload that was above and no longer is.
    pub fn signals(&mut self, now_ms: u64) -> Vec<ChurnSignal> {
        let rates = self.rates(now_ms);
        let mut out = Vec::new();
        let above: BTreeSet<(String, String)> = rates
            .iter()
            .filter(|((_, name), rate)| name != super::NAMESPACE_SUMMARY && **rate > self.threshold)
            .map(|(k, _)| k.clone())
            .collect();
        for key in self.warned.iter().filter(|k| !above.contains(*k)) {
            out.push(self.signal(key, rates.get(key).copied().unwrap_or(0), false));
        }
        for key in &above {
            out.push(self.signal(key, rates[key], true));
        }
        self.warned = above;
        out
    }

    fn signal(&self, (ns, workload): &(String, String), rate: u32, active: bool) -> ChurnSignal {
        ChurnSignal {
            ns: ns.clone(),
            workload: workload.clone(),
            rate,
            threshold: self.threshold,
            active,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;

    #[test]
    fn the_rate_counts_adds_and_deletes_of_the_last_minute() {
        let mut t = ChurnTracker::new(30);
        for i in 0..10 {
            t.record("shop", Some("Deployment/web"), i * S);
        }
        t.record("shop", None, 5 * S);
        let rates = t.rates(30 * S);
        assert_eq!(rates[&("shop".into(), "Deployment/web".into())], 10);
        assert_eq!(rates[&("shop".into(), "_namespace".into())], 11);
        let rates = t.rates(65 * S);
        assert_eq!(
            rates[&("shop".into(), "Deployment/web".into())],
            4,
            "events at 6..9 s remain"
        );
        assert!(t.rates(200 * S).is_empty());
    }

    #[test]
    fn a_workload_above_the_threshold_warns_each_tick_then_clears_once() {
        let mut t = ChurnTracker::new(3);
        for i in 0..5 {
            t.record("shop", Some("Deployment/web"), i * S);
        }
        t.record("shop", Some("Deployment/calm"), 0);
        let first = t.signals(10 * S);
        assert_eq!(
            first,
            [ChurnSignal {
                ns: "shop".into(),
                workload: "Deployment/web".into(),
                rate: 5,
                threshold: 3,
                active: true
            }]
        );
        assert_eq!(first[0].obj()["workloads"], json!(["Deployment/web"]));
        assert_eq!(
            t.signals(12 * S).len(),
            1,
            "still above: warned again next interval"
        );
        let cleared = t.signals(62 * S);
        assert_eq!(cleared.len(), 1);
        assert!(!cleared[0].active);
        assert_eq!(cleared[0].rate, 2);
        assert!(t.signals(64 * S).is_empty(), "cleared once, then quiet");
    }
}
