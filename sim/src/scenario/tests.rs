//! Each scenario's observable effect, driven step by step through `SimCluster::step`.

use serde_json::Value;

use super::Scenario;
use crate::{SimCluster, SimConfig, SimObject};

fn cluster(scenarios: &[Scenario]) -> SimCluster {
    SimCluster::new(&SimConfig {
        churn_interval: None,
        scenarios: scenarios.to_vec(),
        ..SimConfig::default()
    })
}

fn find(c: &SimCluster, kind: &str, ns: &str, name: &str) -> Option<Value> {
    c.objects()
        .into_iter()
        .find(|o| o.kind == kind && o.ns == ns && o.name == name)
        .map(|o| o.value)
}

fn of_kind(c: &SimCluster, kind: &str, ns: &str) -> Vec<SimObject> {
    c.objects()
        .into_iter()
        .filter(|o| o.kind == kind && o.ns == ns)
        .collect()
}

fn steps(c: &SimCluster, n: usize) {
    for _ in 0..n {
        c.step();
    }
}

#[test]
fn scenario_names_parse_and_unknown_ones_are_rejected() {
    for s in Scenario::ALL {
        assert_eq!(s.name().parse::<Scenario>(), Ok(s));
    }
    assert!("nope".parse::<Scenario>().is_err());
}

#[test]
fn jobs_scenario_runs_the_job_to_five_successes_with_one_failure() {
    let c = cluster(&[Scenario::Jobs]);
    steps(&c, 30);
    let job = find(&c, "Job", "demo", "import").expect("job");
    assert_eq!(job["spec"]["completions"], 5);
    assert_eq!(job["status"]["succeeded"], 5, "{job}");
    assert_eq!(job["status"]["failed"], 1);
    assert_eq!(job["status"]["conditions"][0]["type"], "Complete");
}

#[test]
fn hpa_scenario_scales_up_to_ten_then_down_to_three() {
    let c = cluster(&[Scenario::Hpa]);
    let replicas = |c: &SimCluster| {
        find(c, "Deployment", "demo", "hpa").expect("dep")["spec"]["replicas"].clone()
    };
    steps(&c, 15);
    assert_eq!(replicas(&c), 10);
    steps(&c, 2);
    let ready =
        find(&c, "Deployment", "demo", "hpa").expect("dep")["status"]["readyReplicas"].clone();
    assert_eq!(ready, 10);
    steps(&c, 13);
    assert_eq!(replicas(&c), 3);
}

#[test]
fn rolling_update_replaces_pods_one_by_one_onto_a_new_replica_set() {
    let c = cluster(&[Scenario::RollingUpdate]);
    let before = of_kind(&c, "ReplicaSet", "demo");
    assert_eq!(before.len(), 1);
    let mut max_pods = 0;
    for _ in 0..25 {
        c.step();
        let pods = of_kind(&c, "Pod", "demo")
            .into_iter()
            .filter(|p| p.value["metadata"]["deletionTimestamp"].is_null())
            .count();
        max_pods = max_pods.max(pods);
    }
    assert!(max_pods <= 5, "at most one surge pod, saw {max_pods}");
    let rs = of_kind(&c, "ReplicaSet", "demo");
    let new = rs
        .iter()
        .find(|r| r.name != before[0].name)
        .expect("a new replica set");
    let pods = of_kind(&c, "Pod", "demo");
    assert_eq!(pods.len(), 4);
    assert!(pods.iter().all(
        |p| p.value["metadata"]["ownerReferences"][0]["name"] == new.value["metadata"]["name"]
    ));
}

#[test]
fn crashloop_scenario_increases_restarts_and_flaps_ready() {
    let c = cluster(&[Scenario::CrashLoop]);
    let pod = |c: &SimCluster| of_kind(c, "Pod", "demo").remove(0).value;
    steps(&c, 1);
    let crashed = pod(&c);
    let status = &crashed["status"]["containerStatuses"][0];
    assert_eq!(status["state"]["waiting"]["reason"], "CrashLoopBackOff");
    assert_eq!(status["restartCount"], 1);
    assert_eq!(crashed["status"]["conditions"][0]["status"], "False");
    steps(&c, 2);
    assert_eq!(pod(&c)["status"]["conditions"][0]["status"], "True");
    steps(&c, 6);
    assert_eq!(pod(&c)["status"]["containerStatuses"][0]["restartCount"], 3);
}

#[test]
fn node_not_ready_scenario_takes_the_nodes_pods_down_and_recovers() {
    let c = cluster(&[Scenario::NodeNotReady]);
    let ready = |c: &SimCluster| {
        find(c, "Node", "", "node-3").expect("node")["status"]["conditions"][0]["status"].clone()
    };
    let pods_ready = |c: &SimCluster| {
        c.objects()
            .into_iter()
            .filter(|o| o.kind == "Pod" && o.value["spec"]["nodeName"] == "node-3")
            .map(|o| o.value["status"]["conditions"][0]["status"] == "True")
            .collect::<Vec<_>>()
    };
    steps(&c, 3);
    assert_eq!(ready(&c), "False");
    assert!(!pods_ready(&c).is_empty() && pods_ready(&c).iter().all(|r| !r));
    steps(&c, 5);
    assert_eq!(ready(&c), "Unknown");
    steps(&c, 9);
    assert_eq!(ready(&c), "True");
    assert!(pods_ready(&c).iter().all(|r| *r));
}

#[test]
fn namespace_deletion_terminates_then_removes_everything_in_it() {
    let c = cluster(&[Scenario::NamespaceDeletion]);
    assert!(!of_kind(&c, "Pod", "ephemeral").is_empty());
    steps(&c, 10);
    let ns = find(&c, "Namespace", "ephemeral", "ephemeral").expect("namespace");
    assert_eq!(ns["status"]["phase"], "Terminating");
    assert!(ns["metadata"]["deletionTimestamp"].is_string());
    steps(&c, 10);
    assert!(
        c.objects().iter().all(|o| o.ns != "ephemeral"),
        "everything in ephemeral is gone"
    );
    steps(&c, 10);
    assert!(
        find(&c, "Namespace", "ephemeral", "ephemeral").is_some(),
        "recreated next cycle"
    );
}
