//! Unit tests for the store: RV stamping, history replay and the 410 floor.

use serde_json::json;

use super::*;

fn pod(ns: &str, name: &str) -> Value {
    json!({"metadata": {"namespace": ns, "name": name}, "spec": {}})
}

#[test]
fn every_write_bumps_the_global_resource_version_and_stamps_the_object() {
    let mut store = Store::new(10);
    let ev = store.upsert("Pod", pod("a", "p1")).expect("pod");
    assert_eq!((ev.rv, ev.ty), (1, EventType::Added));
    assert_eq!(ev.object["metadata"]["resourceVersion"], "1");
    assert_eq!(
        (ev.object["kind"].as_str(), ev.object["apiVersion"].as_str()),
        (Some("Pod"), Some("v1"))
    );
    let ev = store
        .upsert(
            "Deployment",
            json!({"metadata": {"namespace": "a", "name": "d"}}),
        )
        .expect("d");
    assert_eq!(
        (ev.rv, ev.object["apiVersion"].as_str()),
        (2, Some("apps/v1"))
    );
    let ev = store.upsert("Pod", pod("a", "p1")).expect("pod");
    assert_eq!((ev.rv, ev.ty), (3, EventType::Modified));
    let ev = store.delete("Pod", "a", "p1").expect("deleted");
    assert_eq!((ev.rv, ev.ty), (4, EventType::Deleted));
    assert_eq!(ev.object["metadata"]["resourceVersion"], "4");
    assert!(store.delete("Pod", "a", "p1").is_none());
    assert_eq!(store.rv(), 4);
}

#[test]
fn unknown_kinds_and_nameless_objects_are_rejected_without_bumping() {
    let mut store = Store::new(10);
    assert!(store.upsert("Widget", pod("a", "b")).is_none());
    assert!(store.upsert("Pod", json!({"metadata": {}})).is_none());
    assert_eq!(store.rv(), 0);
}

#[test]
fn namespaces_are_keyed_by_their_own_name() {
    let mut store = Store::new(10);
    store.upsert("Namespace", json!({"metadata": {"name": "shop"}}));
    let all = store.all();
    assert_eq!(
        (all[0].0, all[0].1.as_str(), all[0].2.as_str()),
        ("Namespace", "shop", "shop")
    );
    assert!(store.get("Namespace", "", "shop").is_some());
}

#[test]
fn watch_replays_events_after_the_requested_version_in_its_namespace() {
    let mut store = Store::new(10);
    store.upsert("Pod", pod("a", "p1"));
    store.upsert("Pod", pod("b", "p2"));
    store.upsert("Pod", pod("a", "p3"));
    let all = store.watch("Pod", None, Some(1)).expect("watch");
    assert_eq!(
        all.replay.iter().map(|e| e.rv).collect::<Vec<_>>(),
        vec![2, 3]
    );
    let in_a = store.watch("Pod", Some("a"), Some(0)).expect("watch");
    assert_eq!(
        in_a.replay.iter().map(|e| e.rv).collect::<Vec<_>>(),
        vec![1, 3]
    );
    let now = store.watch("Pod", None, None).expect("watch");
    assert!(now.replay.is_empty());
    assert_eq!(now.rv, 3);
}

#[test]
fn watch_from_before_the_trimmed_history_is_too_old() {
    let mut store = Store::new(2);
    for i in 0..5 {
        store.upsert("Pod", pod("a", &format!("p{i}")));
    }
    // Events 4 and 5 are retained, so a watch from 3 is complete and one from 2 is not.
    assert_eq!(
        store
            .watch("Pod", None, Some(3))
            .expect("watch")
            .replay
            .len(),
        2
    );
    let err = store.watch("Pod", None, Some(2)).err();
    assert_eq!(
        err,
        Some(Error::TooOldResourceVersion {
            requested: 2,
            oldest: 3
        })
    );
}

#[test]
fn compacting_history_expires_every_older_version() {
    let mut store = Store::new(100);
    store.upsert("Pod", pod("a", "p1"));
    store.upsert("Service", pod("a", "s1"));
    store.compact_history();
    assert!(store.watch("Pod", None, Some(1)).is_err());
    assert!(
        store
            .watch("Service", None, Some(2))
            .expect("current rv is fine")
            .replay
            .is_empty()
    );
}

#[tokio::test]
async fn live_writes_reach_subscribed_watchers() {
    let mut store = Store::new(10);
    let mut start = store.watch("Pod", None, None).expect("watch");
    store.upsert("Pod", pod("a", "p1"));
    let ev = start.rx.recv().await.expect("event");
    assert_eq!((ev.rv, ev.ty), (1, EventType::Added));
}
