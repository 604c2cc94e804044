//! Churn model tests: determinism and status consistency.

use serde_json::Value;

use super::*;

fn config(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        churn_interval: None,
        scenarios: vec![crate::Scenario::Random],
        ..SimConfig::default()
    }
}

fn run(seed: u64, steps: usize) -> Vec<Change> {
    let (mut churn, mut all) = Churn::new(&config(seed));
    for _ in 0..steps {
        all.extend(churn.step());
    }
    all
}

#[test]
fn the_same_seed_yields_the_same_changes() {
    assert_eq!(run(7, 300), run(7, 300));
    assert_ne!(run(7, 50), run(8, 50));
}

#[test]
fn the_initial_state_has_namespaces_deployments_replica_sets_pods_and_services() {
    let (_, initial) = Churn::new(&config(1));
    let count = |k: &str| {
        initial
            .iter()
            .filter(|c| matches!(c, Change::Upsert { kind, .. } if *kind == k))
            .count()
    };
    assert_eq!(
        (
            count("Namespace"),
            count("Deployment"),
            count("ReplicaSet"),
            count("Service")
        ),
        (3, 9, 9, 9)
    );
    assert!(count("Pod") >= 9);
    let names: Vec<&str> = initial
        .iter()
        .filter_map(|c| match c {
            Change::Upsert {
                kind: "Namespace",
                value,
            } => value["metadata"]["name"].as_str(),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        ["data", "shop", "web"],
        "namespaces are emitted in name order"
    );
}

#[test]
fn deployment_status_matches_its_pods_after_many_steps() {
    let (mut churn, _) = Churn::new(&config(3));
    for _ in 0..500 {
        churn.step();
        for (key, d) in &churn.deployments {
            let pods: Vec<&PodSim> = churn
                .pods
                .iter()
                .filter(|((ns, _), p)| *ns == key.0 && p.deploy == key.1)
                .map(|(_, p)| p)
                .collect();
            let active = pods.iter().filter(|p| p.active()).count();
            let ready = pods.iter().filter(|p| p.active() && p.ready).count();
            let status = d.dep.status.clone().unwrap_or_default();
            assert_eq!(status.replicas.unwrap_or(0) as usize, active);
            assert_eq!(status.ready_replicas.unwrap_or(0) as usize, ready);
            let current = pods
                .iter()
                .filter(|p| p.active() && p.rs == d.current_rs)
                .count();
            assert_eq!(
                current as i32,
                d.dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0),
                "current rs has spec.replicas pods"
            );
        }
    }
}

#[test]
fn pods_are_owned_by_their_replica_set_and_carry_the_selector_labels() {
    let (_, initial) = Churn::new(&config(1));
    let pod: &Value = initial
        .iter()
        .find_map(|c| match c {
            Change::Upsert { kind: "Pod", value } => Some(value),
            _ => None,
        })
        .expect("a pod");
    let owner = &pod["metadata"]["ownerReferences"][0];
    assert_eq!(
        (owner["kind"].as_str(), owner["controller"].as_bool()),
        (Some("ReplicaSet"), Some(true))
    );
    let name = pod["metadata"]["name"].as_str().expect("name");
    assert!(name.starts_with(owner["name"].as_str().expect("owner name")));
    assert!(pod["metadata"]["labels"]["app"].is_string());
    assert_eq!(pod["status"]["phase"], "Running");
    assert_eq!(
        (pod["kind"].as_str(), pod["apiVersion"].as_str()),
        (Some("Pod"), Some("v1"))
    );
}
