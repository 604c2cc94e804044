//! A client that disconnects, misses events and resumes with `since` on the other replica gets
//! every missed event exactly once, and no snapshot.

use crate::support::ready_pair;
use crate::support::{assert_clean, churn, client_objects, replica_head};
use kubecast_tests::expected::cluster_state;
use kubecast_tests::stack::*;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{eventually, init_logging};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_on_the_other_replica_delivers_every_missed_event_exactly_once() {
    init_logging();
    let stack = Stack::start("resume", 11, 2).await;
    let sim = &stack.sim;
    let (a, b) = ready_pair(&stack).await;

    let ws = WsClient::connect(&a, "", true).await.expect("connect to a");
    churn(&sim.cluster, 20).await;
    eventually!(30, "first client converges", async {
        client_objects(&ws.state()) == cluster_state(&sim.cluster)
    });
    let before = ws.disconnect().await;
    let left_at = before.last_seq;

    churn(&sim.cluster, 40).await;
    eventually!(30, "replica b saw the missed events", async {
        replica_head(&b).await > left_at + 10
    });

    let resumed = WsClient::resume(&b, before, "").await.expect("resume on b");
    eventually!(30, "resumed client converges", async {
        client_objects(&resumed.state()) == cluster_state(&sim.cluster)
    });
    let after = resumed.state();
    assert_clean(&after, "resumed client");
    assert_replayed_without_snapshot(&resumed);
    let replayed: Vec<u64> = after
        .seqs
        .iter()
        .copied()
        .filter(|s| *s > left_at)
        .collect();
    let expected: Vec<u64> = (left_at + 1..=after.last_seq).collect();
    assert_eq!(
        replayed, expected,
        "every missed event exactly once, in order"
    );

    stack.stop().await;
}

/// The objects of namespace `ns` (keys are `Kind/ns/name`).
fn in_namespace(
    objects: std::collections::BTreeMap<String, serde_json::Value>,
    ns: &str,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    objects
        .into_iter()
        .filter(|(key, _)| key.split('/').nth(1) == Some(ns))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_client_resumes_on_the_other_replica_with_only_its_namespace() {
    init_logging();
    let stack = Stack::start("resume-filtered", 12, 2).await;
    let sim = &stack.sim;
    let (a, b) = ready_pair(&stack).await;

    let ws = WsClient::connect(&a, "ns=shop", false)
        .await
        .expect("connect to a");
    churn(&sim.cluster, 20).await;
    eventually!(30, "the filtered client converges", async {
        client_objects(&ws.state()) == in_namespace(cluster_state(&sim.cluster), "shop")
    });
    let before = ws.disconnect().await;
    let left_at = before.last_seq;

    churn(&sim.cluster, 40).await;
    eventually!(30, "replica b saw the missed events", async {
        replica_head(&b).await > left_at + 10
    });
    let resumed = WsClient::resume(&b, before, "ns=shop")
        .await
        .expect("resume on b");
    eventually!(30, "the resumed client converges on its namespace", async {
        client_objects(&resumed.state()) == in_namespace(cluster_state(&sim.cluster), "shop")
    });
    let after = resumed.state();
    assert_eq!(after.duplicates, 0, "no event twice");
    assert!(
        after
            .objects
            .keys()
            .all(|k| k.split('/').nth(1) == Some("shop")),
        "nothing from another namespace"
    );
    assert_replayed_without_snapshot(&resumed);
    stack.stop().await;
}

/// A resumed client got the missed events replayed: no `snapshot`, no `reset`.
fn assert_replayed_without_snapshot(resumed: &WsClient) {
    assert!(
        !resumed
            .frame_types()
            .iter()
            .any(|t| t == "snapshot" || t == "reset"),
        "resume replays, no snapshot: {:?}",
        resumed.frame_types()
    );
}
