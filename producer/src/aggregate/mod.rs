//! Aggregates (DESIGN §2, churn handling): per-namespace and per-workload pod counts published as
//! `summary` events, and high-churn warnings published as `churn` events. Pure and synchronous:
//! the driver calls [`Aggregator::tick`] once per summary interval with the index and the time.
//!
//! - summaries are snapshot objects (`Summary/<ns>/_namespace`, `Summary/<ns>/<Kind>/<name>`),
//!   published only when changed (the index compares them with what is published) and deleted
//!   when their namespace/workload is gone;
//! - churn warnings are one-shot events (not in the snapshot), see [`churn`].

pub mod churn;
pub mod summary;

use crate::index::Index;
use crate::project::OwnerRef;
use serde_json::Value;
use std::collections::BTreeMap;

pub use churn::{ChurnSignal, ChurnTracker};
pub use summary::{NAMESPACE_SUMMARY, summaries_of, summarize};

/// One live object as the aggregates see it.
#[derive(Clone, Debug)]
pub struct Fact<'a> {
    pub kind: &'a str,
    pub ns: &'a str,
    pub name: &'a str,
    /// The top-level controller, if the object has a controller.
    pub top: Option<OwnerRef>,
    /// The (unrendered) projection.
    pub obj: &'a Value,
}

impl<'a> Fact<'a> {
    pub fn new(
        kind: &'a str,
        ns: &'a str,
        name: &'a str,
        top: Option<OwnerRef>,
        obj: &'a Value,
    ) -> Self {
        Self {
            kind,
            ns,
            name,
            top,
            obj,
        }
    }
}

/// Summaries and churn warnings over time.
pub struct Aggregator {
    churn: ChurnTracker,
}

impl Aggregator {
    /// `threshold`: pod adds+deletes per minute of one workload above which it is warned about.
    pub fn new(threshold: u32) -> Self {
        Self {
            churn: ChurnTracker::new(threshold),
        }
    }

    /// Folds the pod lifecycle the index recorded into the churn rates, recomputes the summaries
    /// and the churn signals at `now_ms`, hands them to the index, and returns the keys to flush.
    pub fn tick(&mut self, index: &mut Index, now_ms: u64) -> Vec<String> {
        for life in index.take_pod_lifecycle() {
            self.churn
                .record(&life.ns, life.workload.as_deref(), life.at_ms);
        }
        let rates = self.churn.rates(now_ms);
        let summaries: BTreeMap<(String, String), Value> =
            index.with_facts(|facts| summarize(facts, &rates));
        let mut keys = index.set_summaries(summaries);
        for signal in self.churn.signals(now_ms) {
            keys.push(index.push_churn(&signal.ns, &signal.workload, signal.obj(), now_ms));
        }
        keys
    }
}
