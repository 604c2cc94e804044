//! Typed object builders. Every object the churn generator emits is a `k8s_openapi` struct, so its
//! serde serialization (including `apiVersion` / `kind`) is exactly the wire format of a real API
//! server. Times come from a logical clock so a seed always produces the same objects.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, Namespace, NamespaceStatus, Pod, PodCondition, PodSpec,
    PodStatus, PodTemplateSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference, Time,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;

/// 2025-01-01T00:00:00Z: second 0 of the logical clock.
const CLOCK_BASE: i64 = 1_735_689_600;

/// A logical time `second`s after the clock base.
pub fn time(second: u64) -> Time {
    let secs = CLOCK_BASE.saturating_add(i64::try_from(second).unwrap_or(i64::MAX / 2));
    Time(Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH))
}

pub(crate) fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub(crate) fn meta(ns: Option<&str>, name: &str, uid: &str, created: Time) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: ns.map(str::to_owned),
        uid: Some(uid.to_owned()),
        creation_timestamp: Some(created),
        ..ObjectMeta::default()
    }
}

pub(crate) fn controller_ref(api_version: &str, kind: &str, meta: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// An active namespace.
pub fn namespace(name: &str, uid: &str, created: Time) -> Namespace {
    let mut meta = meta(None, name, uid, created);
    meta.labels = Some(labels(&[("kubernetes.io/metadata.name", name)]));
    Namespace {
        metadata: meta,
        status: Some(NamespaceStatus {
            phase: Some("Active".into()),
            ..NamespaceStatus::default()
        }),
        ..Namespace::default()
    }
}

/// A deployment selecting `app=<name>`; its status is filled in by the churn generator.
pub fn deployment(
    ns: &str,
    name: &str,
    uid: &str,
    replicas: i32,
    image: &str,
    created: Time,
) -> Deployment {
    let mut meta = meta(Some(ns), name, uid, created);
    meta.labels = Some(labels(&[("app", name)]));
    meta.generation = Some(1);
    meta.annotations = Some(labels(&[("deployment.kubernetes.io/revision", "1")]));
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(&[("app", name)])),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: name.to_owned(),
                image: Some(image.to_owned()),
                ports: Some(vec![ContainerPort {
                    container_port: 8080,
                    ..ContainerPort::default()
                }]),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
    };
    let spec = DeploymentSpec {
        replicas: Some(replicas),
        selector: LabelSelector {
            match_labels: Some(labels(&[("app", name)])),
            ..LabelSelector::default()
        },
        template,
        ..DeploymentSpec::default()
    };
    Deployment {
        metadata: meta,
        spec: Some(spec),
        status: None,
    }
}

/// The deployment's pod template, with `pod-template-hash` added to its labels.
fn hashed_template(dep: &Deployment, hash: &str) -> PodTemplateSpec {
    let mut template = dep
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let meta = template.metadata.get_or_insert_with(ObjectMeta::default);
    meta.labels
        .get_or_insert_with(BTreeMap::new)
        .insert("pod-template-hash".into(), hash.to_owned());
    template
}

/// The replica set `<deploy>-<hash>` for the deployment's current template, owned by it.
pub fn replica_set(
    dep: &Deployment,
    hash: &str,
    uid: &str,
    revision: u32,
    created: Time,
) -> ReplicaSet {
    let dep_name = dep.metadata.name.clone().unwrap_or_default();
    let ns = dep.metadata.namespace.as_deref();
    let template = hashed_template(dep, hash);
    let pod_labels = template.metadata.as_ref().and_then(|m| m.labels.clone());
    let mut meta = meta(ns, &format!("{dep_name}-{hash}"), uid, created);
    meta.labels = pod_labels.clone();
    meta.generation = Some(1);
    meta.annotations = Some(labels(&[(
        "deployment.kubernetes.io/revision",
        &revision.to_string(),
    )]));
    meta.owner_references = Some(vec![controller_ref("apps/v1", "Deployment", &dep.metadata)]);
    let spec = ReplicaSetSpec {
        replicas: dep.spec.as_ref().and_then(|s| s.replicas),
        selector: LabelSelector {
            match_labels: pod_labels,
            ..LabelSelector::default()
        },
        template: Some(template),
        ..ReplicaSetSpec::default()
    };
    ReplicaSet {
        metadata: meta,
        spec: Some(spec),
        status: None,
    }
}

/// A new pod of the replica set, scheduled on `node`, Pending with its container being created.
pub fn pod(rs: &ReplicaSet, name: &str, uid: &str, node: &str, created: Time) -> Pod {
    let template = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    let mut meta = meta(rs.metadata.namespace.as_deref(), name, uid, created.clone());
    meta.labels = template.metadata.and_then(|m| m.labels);
    meta.owner_references = Some(vec![controller_ref("apps/v1", "ReplicaSet", &rs.metadata)]);
    let mut spec = template.spec.unwrap_or_default();
    spec.node_name = Some(node.to_owned());
    let mut pod = Pod {
        metadata: meta,
        spec: Some(spec),
        status: None,
    };
    set_pod_pending(&mut pod, created);
    pod
}

fn container_status(pod: &Pod, ready: bool, state: ContainerState) -> ContainerStatus {
    let container = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .cloned()
        .unwrap_or_default();
    let previous = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first());
    ContainerStatus {
        name: container.name,
        image: container.image.unwrap_or_default(),
        image_id: String::new(),
        ready,
        started: Some(state.running.is_some()),
        restart_count: previous.map_or(0, |c| c.restart_count),
        last_state: previous.and_then(|c| c.last_state.clone()),
        state: Some(state),
        ..ContainerStatus::default()
    }
}

pub(crate) fn ready_condition(ready: bool, now: Time) -> PodCondition {
    PodCondition {
        type_: "Ready".into(),
        status: if ready { "True" } else { "False" }.into(),
        last_transition_time: Some(now),
        ..PodCondition::default()
    }
}

pub(crate) fn set_pod_pending(pod: &mut Pod, now: Time) {
    let waiting = ContainerStateWaiting {
        reason: Some("ContainerCreating".into()),
        message: None,
    };
    let status = container_status(
        pod,
        false,
        ContainerState {
            waiting: Some(waiting),
            ..ContainerState::default()
        },
    );
    pod.status = Some(PodStatus {
        phase: Some("Pending".into()),
        conditions: Some(vec![ready_condition(false, now)]),
        container_statuses: Some(vec![status]),
        ..PodStatus::default()
    });
}

/// Marks the pod Running (its container started at `now`), ready or not yet ready.
pub fn set_pod_running(pod: &mut Pod, ready: bool, now: Time, pod_ip: &str) {
    let running = ContainerStateRunning {
        started_at: Some(now.clone()),
    };
    let status = container_status(
        pod,
        ready,
        ContainerState {
            running: Some(running),
            ..ContainerState::default()
        },
    );
    let start_time = pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.clone())
        .unwrap_or_else(|| now.clone());
    pod.status = Some(PodStatus {
        phase: Some("Running".into()),
        conditions: Some(vec![ready_condition(ready, now)]),
        container_statuses: Some(vec![status]),
        pod_ip: Some(pod_ip.to_owned()),
        start_time: Some(start_time),
        ..PodStatus::default()
    });
}

/// Records a container crash and restart: restartCount+1, last state terminated, not ready.
pub fn restart_container(pod: &mut Pod, now: Time) {
    let Some(status) = pod.status.as_mut() else {
        return;
    };
    for c in status.container_statuses.iter_mut().flatten() {
        c.restart_count += 1;
        c.ready = false;
        let terminated = ContainerStateTerminated {
            exit_code: 1,
            reason: Some("Error".into()),
            finished_at: Some(now.clone()),
            ..ContainerStateTerminated::default()
        };
        c.last_state = Some(ContainerState {
            terminated: Some(terminated),
            ..ContainerState::default()
        });
        c.state = Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(now.clone()),
            }),
            ..ContainerState::default()
        });
    }
    status.conditions = Some(vec![ready_condition(false, now)]);
}

/// Starts graceful deletion: deletionTimestamp set, pod Terminating.
pub fn mark_terminating(pod: &mut Pod, now: Time) {
    pod.metadata.deletion_timestamp = Some(now);
    pod.metadata.deletion_grace_period_seconds = Some(30);
}

/// A ClusterIP service selecting `app=<name>`, port 80 → 8080.
pub fn service(ns: &str, name: &str, uid: &str, cluster_ip: &str, created: Time) -> Service {
    let mut meta = meta(Some(ns), name, uid, created);
    meta.labels = Some(labels(&[("app", name)]));
    let spec = ServiceSpec {
        type_: Some("ClusterIP".into()),
        cluster_ip: Some(cluster_ip.to_owned()),
        cluster_ips: Some(vec![cluster_ip.to_owned()]),
        selector: Some(labels(&[("app", name)])),
        ports: Some(vec![ServicePort {
            name: Some("http".into()),
            port: 80,
            protocol: Some("TCP".into()),
            target_port: Some(IntOrString::Int(8080)),
            ..ServicePort::default()
        }]),
        ..ServiceSpec::default()
    };
    Service {
        metadata: meta,
        spec: Some(spec),
        status: None,
    }
}
