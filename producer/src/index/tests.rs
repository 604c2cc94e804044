use super::*;
use crate::fixtures;
use crate::project::Project;
use serde_json::json;

fn pod(name: &str, rs: &str) -> Projection {
    fixtures::pod("shop", name)
        .owned_by_rs(rs)
        .running()
        .build()
        .project()
        .expect("pod")
}

fn rs(name: &str, deployment: Option<&str>) -> Projection {
    fixtures::replica_set("shop", name, deployment, 2, 2)
        .project()
        .expect("rs")
}

fn flush_all(index: &mut Index) -> Vec<Delta> {
    let keys = index.keys();
    let deltas = index.flush(&keys, 99);
    index.commit(&deltas);
    deltas
}

fn ops(deltas: &[Delta]) -> Vec<(Op, &str)> {
    deltas.iter().map(|d| (d.op, d.key.as_str())).collect()
}

#[test]
fn a_new_object_flushes_as_added_once() {
    let mut index = Index::new();
    let touched = index.apply(Input::Apply(pod("web-1", "web-7d9f")), 5);
    assert_eq!(touched, ["Pod/shop/web-1"]);
    let deltas = flush_all(&mut index);
    assert_eq!(ops(&deltas), [(Op::Added, "Pod/shop/web-1")]);
    assert_eq!(deltas[0].ts, 5);
    assert!(flush_all(&mut index).is_empty());
}

#[test]
fn an_update_with_an_unchanged_projection_emits_nothing() {
    let mut index = Index::new();
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    flush_all(&mut index);
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 2);
    assert!(flush_all(&mut index).is_empty());
}

#[test]
fn a_changed_projection_emits_updated_with_the_latest_state() {
    let mut index = Index::new();
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    flush_all(&mut index);
    let mut changed = pod("web-1", "web-7d9f");
    changed.obj["ready"] = json!(false);
    index.apply(Input::Apply(changed), 2);
    let deltas = flush_all(&mut index);
    assert_eq!(ops(&deltas), [(Op::Updated, "Pod/shop/web-1")]);
    assert_eq!(deltas[0].obj["ready"], false);
}

#[test]
fn added_then_deleted_before_a_flush_produces_nothing() {
    let mut index = Index::new();
    let p = pod("web-1", "web-7d9f");
    index.apply(Input::Apply(p.clone()), 1);
    index.apply(Input::Delete(p), 2);
    assert!(flush_all(&mut index).is_empty());
    assert!(index.gone_ms.is_empty());
}

#[test]
fn a_deleted_object_carries_its_last_published_projection() {
    let mut index = Index::new();
    let p = pod("web-1", "web-7d9f");
    index.apply(Input::Apply(p.clone()), 1);
    let added = flush_all(&mut index);
    index.apply(Input::Delete(p), 7);
    let deltas = flush_all(&mut index);
    assert_eq!(ops(&deltas), [(Op::Deleted, "Pod/shop/web-1")]);
    assert_eq!(deltas[0].obj, added[0].obj);
    assert_eq!(deltas[0].ts, 7);
    assert!(index.published().is_empty());
}

#[test]
fn a_relist_deletes_objects_it_did_not_list() {
    let mut index = Index::new();
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    index.apply(Input::Apply(pod("web-2", "web-7d9f")), 1);
    index.apply(Input::Apply(rs("web-7d9f", Some("web"))), 1);
    flush_all(&mut index);
    index.apply(Input::Init("Pod".into()), 2);
    index.apply(Input::InitApply(pod("web-1", "web-7d9f")), 2);
    let touched = index.apply(Input::InitDone("Pod".into()), 3);
    assert_eq!(touched, ["Pod/shop/web-2"]);
    assert_eq!(
        ops(&flush_all(&mut index)),
        [(Op::Deleted, "Pod/shop/web-2")]
    );
}

#[test]
fn pods_publish_their_top_level_workload_as_owner() {
    let mut index = Index::new();
    index.apply(Input::Apply(rs("web-7d9f", Some("web"))), 1);
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    let state = index.rendered();
    assert_eq!(
        state["Pod/shop/web-1"]["owner"],
        json!({"kind": "Deployment", "name": "web"})
    );
    assert_eq!(state["Pod/shop/web-1"]["rs"], "web-7d9f");
    assert_eq!(
        state["ReplicaSet/shop/web-7d9f"]["owner"],
        json!({"kind": "Deployment", "name": "web"})
    );
}

#[test]
fn a_pod_whose_replica_set_is_unknown_is_owned_by_the_replica_set() {
    let mut index = Index::new();
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    let state = index.rendered();
    assert_eq!(
        state["Pod/shop/web-1"]["owner"],
        json!({"kind": "ReplicaSet", "name": "web-7d9f"})
    );
}

#[test]
fn a_replica_set_owner_change_updates_its_pods() {
    let mut index = Index::new();
    index.apply(Input::Apply(rs("web-7d9f", None)), 1);
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    index.apply(Input::Apply(pod("web-2", "web-7d9f")), 1);
    flush_all(&mut index);
    let touched = index.apply(Input::Apply(rs("web-7d9f", Some("web"))), 2);
    assert_eq!(
        touched,
        [
            "ReplicaSet/shop/web-7d9f",
            "Pod/shop/web-1",
            "Pod/shop/web-2"
        ]
    );
    let deltas = index.flush(&touched, 3);
    index.commit(&deltas);
    assert_eq!(deltas.len(), 3);
    assert!(
        deltas
            .iter()
            .all(|d| d.op == Op::Updated && d.obj["owner"]["kind"] == "Deployment")
    );
}

#[test]
fn a_status_only_replica_set_update_does_not_touch_its_pods() {
    let mut index = Index::new();
    index.apply(Input::Apply(rs("web-7d9f", Some("web"))), 1);
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    let mut scaled = rs("web-7d9f", Some("web"));
    scaled.obj["ready"] = json!(1);
    assert_eq!(
        index.apply(Input::Apply(scaled), 2),
        ["ReplicaSet/shop/web-7d9f"]
    );
}

#[test]
fn loaded_published_state_suppresses_unchanged_objects_and_deletes_gone_ones() {
    let mut first = Index::new();
    first.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    first.apply(Input::Apply(pod("web-2", "web-7d9f")), 1);
    flush_all(&mut first);
    let mut restarted = Index::new();
    restarted.load_published(first.published().values().cloned());
    restarted.apply(Input::Apply(pod("web-1", "web-7d9f")), 2);
    assert_eq!(
        ops(&flush_all(&mut restarted)),
        [(Op::Deleted, "Pod/shop/web-2")]
    );
}

#[test]
fn a_reset_republishes_every_live_object_as_added() {
    let mut index = Index::new();
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    flush_all(&mut index);
    index.reset_published();
    assert_eq!(ops(&flush_all(&mut index)), [(Op::Added, "Pod/shop/web-1")]);
}

#[test]
fn uncommitted_deltas_are_recomputed_by_the_next_flush() {
    let mut index = Index::new();
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    let keys = index.keys();
    assert_eq!(index.flush(&keys, 1).len(), 1);
    assert_eq!(index.flush(&keys, 1).len(), 1);
}

#[test]
fn project_all_resolves_owners_like_the_producer() {
    let rs = serde_json::to_value(fixtures::replica_set("shop", "web-7d9f", Some("web"), 1, 1))
        .expect("json");
    let pod = serde_json::to_value(
        fixtures::pod("shop", "web-1")
            .owned_by_rs("web-7d9f")
            .build(),
    )
    .expect("json");
    let state = project_all([("Pod", &pod), ("ReplicaSet", &rs)]).expect("projects");
    assert_eq!(state["Pod/shop/web-1"]["owner"]["name"], "web");
    assert_eq!(state.len(), 2);
}
