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
    assert_eq!(deltas[0].obj.value()["ready"], false);
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
            .all(|d| d.op == Op::Updated && d.obj.value()["owner"]["kind"] == "Deployment")
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

fn slice(name: &str, pods: &[(&str, bool)]) -> Projection {
    fixtures::endpoint_slice("shop", name, "web", pods)
        .project()
        .expect("slice")
}

#[test]
fn a_service_lists_the_pods_of_its_endpoint_slices_and_slices_are_not_published() {
    let mut index = Index::new();
    index.apply(
        Input::Apply(fixtures::service("shop", "web").project().expect("svc")),
        1,
    );
    index.apply(Input::Apply(slice("web-a", &[("web-1", true)])), 1);
    let deltas = flush_all(&mut index);
    assert_eq!(ops(&deltas), [(Op::Added, "Service/shop/web")]);
    assert_eq!(
        deltas[0].obj.value()["pods"],
        json!({"ready": ["web-1"], "notReady": []})
    );
    let touched = index.apply(Input::Apply(slice("web-b", &[("web-2", false)])), 2);
    assert!(touched.contains(&"Service/shop/web".to_string()));
    let deltas = index.flush(&touched, 2);
    assert_eq!(ops(&deltas), [(Op::Updated, "Service/shop/web")]);
    assert_eq!(
        deltas[0].obj.value()["pods"],
        json!({"ready": ["web-1"], "notReady": ["web-2"]})
    );
    index.commit(&deltas);
    let touched = index.apply(Input::Delete(slice("web-a", &[])), 3);
    let deltas = index.flush(&touched, 3);
    assert_eq!(
        deltas[0].obj.value()["pods"],
        json!({"ready": [], "notReady": ["web-2"]})
    );
}

#[test]
fn a_pod_job_cronjob_chain_resolves_to_the_cronjob() {
    let objects = [
        (
            "CronJob",
            serde_json::to_value(fixtures::cron_job("shop", "report")).expect("json"),
        ),
        (
            "Job",
            serde_json::to_value(fixtures::job("shop", "report-1", Some("report"), 1, 1, 0))
                .expect("json"),
        ),
        (
            "Pod",
            serde_json::to_value(
                fixtures::pod("shop", "report-1-x")
                    .owned_by("Job", "report-1")
                    .build(),
            )
            .expect("json"),
        ),
    ];
    let all = project_all(objects.iter().map(|(k, v)| (*k, v))).expect("projects");
    assert_eq!(
        all["Pod/shop/report-1-x"]["owner"],
        json!({"kind": "CronJob", "name": "report"})
    );
    assert_eq!(all["Pod/shop/report-1-x"]["job"], "report-1");
}

#[test]
fn a_new_pod_is_held_for_the_minimum_lifetime_and_never_shown_if_it_dies_sooner() {
    let mut index = Index::with_min_pod_lifetime(2000);
    let short = pod("short", "rs");
    let long = pod("long", "rs");
    index.apply(Input::Apply(short.clone()), 1000);
    index.apply(Input::Apply(long.clone()), 1000);
    let keys = index.keys();
    assert!(index.flush(&keys, 1500).is_empty(), "both held");
    assert_eq!(index.next_release_ms(), Some(3000));
    let touched = index.apply(Input::Delete(short), 2500);
    assert!(
        index.flush(&touched, 2500).is_empty(),
        "died young: never shown"
    );
    assert!(index.take_released(2999).is_empty());
    let released = index.take_released(3000);
    assert_eq!(released, ["Pod/shop/long"]);
    let deltas = index.flush(&released, 3000);
    assert_eq!(ops(&deltas), [(Op::Added, "Pod/shop/long")]);
    assert_eq!(index.next_release_ms(), None);
}

#[test]
fn old_pods_are_not_held() {
    let mut index = Index::with_min_pod_lifetime(2000);
    let mut p = pod("old", "rs");
    p.created_ms = Some(10);
    index.apply(Input::InitApply(p), 5000);
    let keys = index.keys();
    assert_eq!(
        ops(&index.flush(&keys, 5000)),
        [(Op::Added, "Pod/shop/old")]
    );
}

#[test]
fn summaries_publish_when_changed_and_delete_when_gone_churn_is_one_shot() {
    let mut index = Index::new();
    let key = ("shop".to_string(), "_namespace".to_string());
    let keys = index.set_summaries(BTreeMap::from([(key.clone(), json!({"total": 1}))]));
    let deltas = index.flush(&keys, 1);
    assert_eq!(ops(&deltas), [(Op::Summary, "Summary/shop/_namespace")]);
    index.commit(&deltas);
    assert!(
        index
            .set_summaries(BTreeMap::from([(key, json!({"total": 1}))]))
            .is_empty()
    );
    let keys = index.set_summaries(BTreeMap::new());
    let deltas = index.flush(&keys, 2);
    assert_eq!(ops(&deltas), [(Op::Deleted, "Summary/shop/_namespace")]);
    index.commit(&deltas);
    let key = index.push_churn("shop", "Deployment/web", json!({"rate": 40}), 3);
    let deltas = index.flush(std::slice::from_ref(&key), 3);
    assert_eq!(ops(&deltas), [(Op::Churn, "Churn/shop/Deployment/web")]);
    index.commit(&deltas);
    assert!(index.flush(&[key], 4).is_empty());
    assert!(
        index.published().is_empty(),
        "churn never enters the snapshot"
    );
}

#[test]
fn a_namespace_relist_only_deletes_in_its_namespace() {
    let mut index = Index::new();
    let other = fixtures::pod("other", "x").build().project().expect("pod");
    index.apply(Input::Apply(other), 1);
    index.apply(Input::Apply(pod("web-1", "rs")), 1);
    flush_all(&mut index);
    index.apply(Input::Init("Pod@shop".into()), 2);
    let touched = index.apply(Input::InitDone("Pod@shop".into()), 2);
    assert_eq!(touched, ["Pod/shop/web-1"]);
}

#[test]
fn a_published_pod_shares_one_copy_of_its_rendering() {
    let mut index = Index::new();
    index.apply(Input::Apply(rs("web-7d9f", Some("web"))), 1);
    index.apply(Input::Apply(pod("web-1", "web-7d9f")), 1);
    flush_all(&mut index);
    let latest = &index.latest["Pod/shop/web-1"].obj;
    let published = &index.published["Pod/shop/web-1"].obj;
    assert!(Arc::ptr_eq(&latest.0, &published.0));
    assert_eq!(
        published.value()["owner"],
        json!({"kind": "Deployment", "name": "web"})
    );
}

#[test]
fn interned_controller_names_of_gone_objects_are_pruned() {
    let mut index = Index::new();
    for i in 0..5 * MIN_PRUNE_NAMES_AT {
        let name = format!("web-{i}");
        index.apply(Input::Apply(pod(&name, &format!("web-rs-{i}"))), 1);
        index.apply(Input::Delete(pod(&name, &format!("web-rs-{i}"))), 2);
    }
    assert!(
        index.names.len() <= 2 * MIN_PRUNE_NAMES_AT,
        "{}",
        index.names.len()
    );
    index.apply(Input::Apply(pod("a", "shared-rs")), 3);
    index.apply(Input::Apply(pod("b", "shared-rs")), 3);
    let (a, b) = (&index.latest["Pod/shop/a"], &index.latest["Pod/shop/b"]);
    let ca = a.controller.as_ref().expect("controlled");
    let cb = b.controller.as_ref().expect("controlled");
    assert!(Arc::ptr_eq(&ca.name, &cb.name));
}
