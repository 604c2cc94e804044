//! The producer's watches cut and their history expired (`410 Gone`): the relist publishes the
//! deletes it missed.

use kubecast_tests::procs::deployment::Options;
use kubecast_tests::procs::scenario::Scenario;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_watches_and_410_gone_relist_with_the_right_deletes() {
    let mut s = Scenario::start("12-watch-410", Options::default(), 10, 3).await;
    s.churn_for(Duration::from_secs(1)).await;
    let cluster = s.cluster().clone();
    cluster.refuse_watches(true);
    cluster.cut_watches();
    let victims: Vec<(String, String, String)> = cluster
        .objects()
        .into_iter()
        .filter(|o| o.kind == "Pod" || o.kind == "Service" || o.kind == "Deployment")
        .take(6)
        .map(|o| (o.kind, o.ns, o.name))
        .collect();
    for (kind, ns, name) in &victims {
        cluster.delete(kind, ns, name);
    }
    s.churn_for(Duration::from_secs(1)).await;
    cluster.compact_history();
    cluster.refuse_watches(false);
    s.end_fault().await;
    // Churn may recreate a name; the ones still gone must be gone from every client.
    let present: Vec<(String, String, String)> = cluster
        .objects()
        .into_iter()
        .map(|o| (o.kind, o.ns, o.name))
        .collect();
    let gone: Vec<_> = victims.iter().filter(|v| !present.contains(v)).collect();
    assert!(
        gone.len() >= 3,
        "most deleted objects stay deleted: {gone:?}"
    );
    for state in s.fleet.states() {
        assert_eq!(state.resets, 0, "a relist is not an epoch change");
        for (kind, ns, name) in &gone {
            let key = format!("{kind}/{ns}/{name}");
            assert!(!state.objects.contains_key(&key), "{key} was deleted");
        }
    }
    s.finish(
        "Watch streams cut, history expired (410 Gone)",
        "every watch ended and refused for 1 s while 6 objects were deleted, then history compacted",
    )
    .await;
}
