//! Pod-count summaries: for each namespace (name [`NAMESPACE_SUMMARY`]) and each top-level
//! workload (name `Kind/name`) `{total, ready, pending, terminating, failed, churn_per_min}`.
//!
//! - a pod counts in its namespace and, if it has a controller, in its top-level workload;
//! - `terminating`: being deleted; otherwise `ready` (Ready condition), `pending` (phase
//!   Pending), `failed` (phase Failed). `total` counts every pod, including pods still held by
//!   the minimum lifetime;
//! - a namespace summary exists while the Namespace object or any pod in it exists; a workload
//!   summary while the workload object (Deployment, StatefulSet, DaemonSet, CronJob, or a
//!   Job/ReplicaSet without a controller) or any pod it controls exists;
//! - `churn_per_min` is the pod adds+deletes of the last minute ([`super::churn`]).

use super::Fact;
use crate::project::OwnerRef;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The summary name of a namespace's own summary.
pub const NAMESPACE_SUMMARY: &str = "_namespace";

/// Kinds whose objects without a controller are workloads with a summary of their own.
const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "CronJob",
    "Job",
    "ReplicaSet",
];

#[derive(Default, Clone, Copy)]
struct Counts {
    total: u64,
    ready: u64,
    pending: u64,
    terminating: u64,
    failed: u64,
}

impl Counts {
    fn add(&mut self, pod: &Value) {
        self.total += 1;
        if pod["deleting"].as_bool().unwrap_or(false) {
            self.terminating += 1;
            return;
        }
        if pod["ready"].as_bool().unwrap_or(false) {
            self.ready += 1;
        }
        match pod["phase"].as_str() {
            Some("Pending") => self.pending += 1,
            Some("Failed") => self.failed += 1,
            _ => {}
        }
    }

    fn value(self, churn_per_min: u32) -> Value {
        json!({
            "total": self.total,
            "ready": self.ready,
            "pending": self.pending,
            "terminating": self.terminating,
            "failed": self.failed,
            "churn_per_min": churn_per_min,
        })
    }
}

/// The summaries of `facts`: `(ns, name) → obj`. `rates` holds the churn per minute by the same
/// `(ns, name)` (missing = 0).
pub fn summarize(
    facts: &[Fact<'_>],
    rates: &BTreeMap<(String, String), u32>,
) -> BTreeMap<(String, String), Value> {
    let mut counts: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for f in facts {
        match f.kind {
            "Namespace" => {
                counts
                    .entry((f.name.into(), NAMESPACE_SUMMARY.into()))
                    .or_default();
            }
            "Pod" => {
                let ns = counts
                    .entry((f.ns.into(), NAMESPACE_SUMMARY.into()))
                    .or_default();
                ns.add(f.obj);
                if let Some(top) = &f.top {
                    counts
                        .entry((f.ns.into(), workload_name(top)))
                        .or_default()
                        .add(f.obj);
                }
            }
            kind if WORKLOAD_KINDS.contains(&kind) && f.top.is_none() => {
                counts
                    .entry((f.ns.into(), format!("{kind}/{}", f.name)))
                    .or_default();
            }
            _ => {}
        }
    }
    counts
        .into_iter()
        .map(|(key, c)| {
            let rate = rates.get(&key).copied().unwrap_or(0);
            (key, c.value(rate))
        })
        .collect()
}

fn workload_name(top: &OwnerRef) -> String {
    format!("{}/{}", top.kind, top.name)
}

/// The summaries (`Summary/<ns>/<name>` key → obj, `churn_per_min` 0) of a *published* state as
/// [`crate::project_all`] returns it: the expected summaries for integration tests once churn
/// has died down (compare without `churn_per_min`, or after a quiet minute).
pub fn summaries_of(published: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    let parsed: Vec<(String, String, String, Option<OwnerRef>, &Value)> = published
        .iter()
        .filter_map(|(key, obj)| {
            let mut parts = key.splitn(3, '/');
            let (kind, ns, name) = (parts.next()?, parts.next()?, parts.next()?);
            let top = obj
                .get("owner")
                .and_then(|o| serde_json::from_value::<OwnerRef>(o.clone()).ok());
            Some((kind.into(), ns.into(), name.into(), top, obj))
        })
        .collect();
    let facts: Vec<Fact<'_>> = parsed
        .iter()
        .map(|(kind, ns, name, top, obj)| Fact::new(kind, ns, name, top.clone(), obj))
        .collect();
    summarize(&facts, &BTreeMap::new())
        .into_iter()
        .map(|((ns, name), v)| {
            let key = kubecast_shared::protocol::object_key(crate::index::SUMMARY_KIND, &ns, &name);
            (key, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::project::Project;

    fn owner(kind: &str, name: &str) -> Option<OwnerRef> {
        Some(OwnerRef {
            kind: kind.into(),
            name: name.into(),
        })
    }

    #[test]
    fn pods_count_in_their_namespace_and_top_level_workload() {
        let running = fixtures::pod("shop", "web-1")
            .owned_by_rs("web-7d9f")
            .running()
            .build()
            .project()
            .expect("pod");
        let pending = fixtures::pod("shop", "web-2")
            .owned_by_rs("web-7d9f")
            .build()
            .project()
            .expect("pod");
        let dying = fixtures::pod("shop", "web-3")
            .owned_by_rs("web-7d9f")
            .running()
            .deleting()
            .build()
            .project()
            .expect("pod");
        let lone = fixtures::pod("shop", "debug")
            .running()
            .build()
            .project()
            .expect("pod");
        let ns = fixtures::namespace("empty").project().expect("ns");
        let deploy = fixtures::deployment("shop", "api", 0, 0)
            .project()
            .expect("deploy");
        let facts = vec![
            Fact::new(
                "Pod",
                "shop",
                "web-1",
                owner("Deployment", "web"),
                &running.obj,
            ),
            Fact::new(
                "Pod",
                "shop",
                "web-2",
                owner("Deployment", "web"),
                &pending.obj,
            ),
            Fact::new(
                "Pod",
                "shop",
                "web-3",
                owner("Deployment", "web"),
                &dying.obj,
            ),
            Fact::new("Pod", "shop", "debug", None, &lone.obj),
            Fact::new("Namespace", "empty", "empty", None, &ns.obj),
            Fact::new("Deployment", "shop", "api", None, &deploy.obj),
        ];
        let rates = BTreeMap::from([(("shop".to_string(), "Deployment/web".to_string()), 12)]);
        let s = summarize(&facts, &rates);
        let get = |ns: &str, name: &str| s[&(ns.to_string(), name.to_string())].clone();
        assert_eq!(
            get("shop", "Deployment/web"),
            json!({"total": 3, "ready": 1, "pending": 1, "terminating": 1, "failed": 0, "churn_per_min": 12})
        );
        assert_eq!(get("shop", NAMESPACE_SUMMARY)["total"], 4);
        assert_eq!(get("shop", NAMESPACE_SUMMARY)["ready"], 2);
        assert_eq!(get("empty", NAMESPACE_SUMMARY)["total"], 0);
        assert_eq!(get("shop", "Deployment/api")["total"], 0);
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn summaries_of_a_published_state_use_the_resolved_owners() {
        let published = BTreeMap::from([
            (
                "Pod/batch/report-1-x".to_string(),
                json!({"phase": "Failed", "ready": false, "deleting": false, "owner": {"kind": "CronJob", "name": "report"}}),
            ),
            (
                "CronJob/batch/report".to_string(),
                json!({"schedule": "* * * * *"}),
            ),
            (
                "Job/batch/report-1".to_string(),
                json!({"owner": {"kind": "CronJob", "name": "report"}}),
            ),
        ]);
        let s = summaries_of(&published);
        assert_eq!(s["Summary/batch/CronJob/report"]["failed"], 1);
        assert_eq!(s["Summary/batch/_namespace"]["total"], 1);
        assert_eq!(s.len(), 2, "a controlled job has no summary of its own");
    }
}
