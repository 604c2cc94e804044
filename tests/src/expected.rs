//! The state a client must end with, computed from the simulated cluster's objects by the
//! producer's own projection and owner resolution (`project_all`).

use kubecast_sim::SimCluster;
use serde_json::Value;
use std::collections::BTreeMap;

/// Kinds whose objects clients compare with the cluster (the published object kinds the
/// simulated cluster serves; aggregates such as `Summary` are compared separately).
pub fn compared_kinds() -> Vec<String> {
    let mut kinds = crate::stack::simulated_kinds();
    kinds.push("Workflow".into());
    kinds
}

/// `Kind/ns/name` → projection of every watched object the simulated cluster holds.
pub fn cluster_state(cluster: &SimCluster) -> BTreeMap<String, Value> {
    let kinds = compared_kinds();
    let objects: Vec<_> = cluster
        .objects()
        .into_iter()
        .filter(|o| kinds.contains(&o.kind))
        .collect();
    kubecast_producer::project_all(objects.iter().map(|o| (o.kind.as_str(), &o.value)))
        .expect("the simulated cluster's objects project")
}

/// Reads the whole log and checks it holds every retained seq of its epoch once, in order, up to
/// its head (a long run trims the oldest); returns the page (meta included) for further checks.
pub async fn assert_whole_log(
    log: &impl kubecast_shared::log::EventLog,
) -> kubecast_shared::log::RangeRead {
    let page = log
        .read_range(kubecast_shared::Seq::ZERO, 10_000_000)
        .await
        .expect("read the log");
    let seqs: Vec<u64> = page.events.iter().map(|e| e.seq().0).collect();
    let first = seqs.first().copied().unwrap_or(1);
    assert_eq!(
        Some(first),
        page.oldest.map(|s| s.0).or(Some(1)),
        "the log starts at its oldest retained seq"
    );
    let misplaced = seqs
        .iter()
        .zip(first..)
        .find(|(seq, expected)| **seq != *expected);
    assert_eq!(misplaced, None, "the log holds every seq once, in order");
    assert_eq!(
        seqs.last().copied().unwrap_or(0),
        page.meta.seq.0,
        "the log ends at its head"
    );
    page
}
