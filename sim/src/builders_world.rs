//! Typed builders for the kinds beyond the Deployment world: Nodes, StatefulSets, DaemonSets,
//! Jobs, CronJobs, pods owned by them, finished pods, and the `argoproj.io` Workflow custom
//! resource (plain JSON: there is no typed struct for a CRD).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateTerminated, Node, NodeAddress, NodeCondition,
    NodeSpec, NodeStatus, NodeSystemInfo, Pod, PodSpec, PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference, Time};
use serde_json::{Value, json};

use crate::builders::{controller_ref, labels, meta, ready_condition, set_pod_pending};

/// A Ready node `name` with pod CIDR `10.244.<index>.0/24`.
pub fn node(name: &str, index: usize, uid: &str, created: Time) -> Node {
    let mut meta = meta(None, name, uid, created.clone());
    meta.labels = Some(labels(&[
        ("kubernetes.io/hostname", name),
        ("kubernetes.io/os", "linux"),
        ("node-role.kubernetes.io/worker", ""),
    ]));
    let resources: BTreeMap<String, Quantity> = [("cpu", "8"), ("memory", "32Gi"), ("pods", "110")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Quantity((*v).to_owned())))
        .collect();
    let info = NodeSystemInfo {
        architecture: "amd64".into(),
        kubelet_version: "v1.33.0".into(),
        operating_system: "linux".into(),
        os_image: "Kubecast Sim Linux".into(),
        container_runtime_version: "containerd://2.0.0".into(),
        ..NodeSystemInfo::default()
    };
    let mut node = Node {
        metadata: meta,
        spec: Some(NodeSpec {
            pod_cidr: Some(format!("10.244.{index}.0/24")),
            ..NodeSpec::default()
        }),
        status: Some(NodeStatus {
            addresses: Some(vec![NodeAddress {
                type_: "InternalIP".into(),
                address: format!("192.168.0.{}", index + 10),
            }]),
            capacity: Some(resources.clone()),
            allocatable: Some(resources),
            node_info: Some(info),
            ..NodeStatus::default()
        }),
    };
    set_node_ready(&mut node, "True", created);
    node
}

/// Sets the node's Ready condition to `status` (`True`, `False` or `Unknown`).
pub fn set_node_ready(node: &mut Node, status: &str, now: Time) {
    let reason = match status {
        "True" => "KubeletReady",
        "False" => "KubeletNotReady",
        _ => "NodeStatusUnknown",
    };
    let condition = NodeCondition {
        type_: "Ready".into(),
        status: status.into(),
        reason: Some(reason.into()),
        last_heartbeat_time: Some(now.clone()),
        last_transition_time: Some(now),
        ..NodeCondition::default()
    };
    if let Some(s) = node.status.as_mut() {
        s.conditions = Some(vec![condition]);
    }
}

fn template(app: &str, image: &str, restart: Option<&str>) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            labels: Some(labels(&[("app", app)])),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: app.to_owned(),
                image: Some(image.to_owned()),
                ..Container::default()
            }],
            restart_policy: restart.map(str::to_owned),
            ..PodSpec::default()
        }),
    }
}

fn selector(app: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels(&[("app", app)])),
        ..LabelSelector::default()
    }
}

/// A StatefulSet `name` selecting `app=<name>` with a headless service of the same name.
pub fn stateful_set(ns: &str, name: &str, uid: &str, replicas: i32, created: Time) -> StatefulSet {
    let mut meta = meta(Some(ns), name, uid, created);
    meta.labels = Some(labels(&[("app", name)]));
    meta.generation = Some(1);
    StatefulSet {
        metadata: meta,
        spec: Some(StatefulSetSpec {
            replicas: Some(replicas),
            selector: selector(name),
            service_name: Some(name.to_owned()),
            template: template(name, &format!("registry.example/{name}:v1"), None),
            ..StatefulSetSpec::default()
        }),
        status: None,
    }
}

/// A DaemonSet `name` selecting `app=<name>`.
pub fn daemon_set(ns: &str, name: &str, uid: &str, created: Time) -> DaemonSet {
    let mut meta = meta(Some(ns), name, uid, created);
    meta.labels = Some(labels(&[("app", name)]));
    meta.generation = Some(1);
    DaemonSet {
        metadata: meta,
        spec: Some(DaemonSetSpec {
            selector: selector(name),
            template: template(name, &format!("registry.example/{name}:v1"), None),
            ..DaemonSetSpec::default()
        }),
        status: None,
    }
}

/// A Job needing `completions` successful pods, `parallelism` at a time, optionally owned by a
/// CronJob.
pub fn job(
    ns: &str,
    name: &str,
    uid: &str,
    (completions, parallelism): (i32, i32),
    owner: Option<OwnerReference>,
    created: Time,
) -> Job {
    let mut meta = meta(Some(ns), name, uid, created);
    meta.labels = Some(labels(&[("job-name", name)]));
    meta.owner_references = owner.map(|o| vec![o]);
    let mut template = template(name, "registry.example/batch:v1", Some("Never"));
    if let Some(m) = template.metadata.as_mut() {
        m.labels = Some(labels(&[
            ("job-name", name),
            ("batch.kubernetes.io/job-name", name),
        ]));
    }
    Job {
        metadata: meta,
        spec: Some(JobSpec {
            completions: Some(completions),
            parallelism: Some(parallelism),
            backoff_limit: Some(6),
            template,
            ..JobSpec::default()
        }),
        status: None,
    }
}

/// A CronJob running `schedule`; its jobs need `completions` pods.
pub fn cron_job(ns: &str, name: &str, uid: &str, schedule: &str, created: Time) -> CronJob {
    let mut meta = meta(Some(ns), name, uid, created);
    meta.labels = Some(labels(&[("app", name)]));
    let job_template = JobTemplateSpec {
        metadata: None,
        spec: job(ns, name, "", (1, 1), None, crate::builders::time(0)).spec,
    };
    CronJob {
        metadata: meta,
        spec: Some(CronJobSpec {
            schedule: schedule.to_owned(),
            job_template,
            successful_jobs_history_limit: Some(3),
            ..CronJobSpec::default()
        }),
        status: None,
    }
}

/// The owner reference a controller of `kind` puts on what it creates.
pub fn owner_of(
    api_version: &str,
    kind: &str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> OwnerReference {
    controller_ref(api_version, kind, meta)
}

/// A Pending pod from `template`, owned by `owner`, on `node`.
pub fn owned_pod(
    ns: &str,
    name: &str,
    uid: &str,
    (template, owner): (&PodTemplateSpec, OwnerReference),
    node: &str,
    created: Time,
) -> Pod {
    let mut meta = meta(Some(ns), name, uid, created.clone());
    meta.labels = template.metadata.as_ref().and_then(|m| m.labels.clone());
    meta.owner_references = Some(vec![owner]);
    let mut spec = template.spec.clone().unwrap_or_default();
    spec.node_name = Some(node.to_owned());
    let mut pod = Pod {
        metadata: meta,
        spec: Some(spec),
        status: None,
    };
    set_pod_pending(&mut pod, created);
    pod
}

/// Ends a (job) pod: phase Succeeded or Failed, container terminated, not ready.
pub fn set_pod_finished(pod: &mut Pod, succeeded: bool, now: Time) {
    let Some(status) = pod.status.as_mut() else {
        return;
    };
    status.phase = Some(if succeeded { "Succeeded" } else { "Failed" }.into());
    status.conditions = Some(vec![ready_condition(false, now.clone())]);
    for c in status.container_statuses.iter_mut().flatten() {
        c.ready = false;
        c.started = Some(false);
        c.state = Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: if succeeded { 0 } else { 1 },
                reason: Some(if succeeded { "Completed" } else { "Error" }.into()),
                finished_at: Some(now.clone()),
                ..ContainerStateTerminated::default()
            }),
            ..ContainerState::default()
        });
    }
}

/// An argoproj.io Workflow with `total` steps, `done` of them finished, in `phase`.
pub fn workflow(
    ns: &str,
    name: &str,
    uid: &str,
    (done, total): (u32, u32),
    phase: &str,
    created: &Time,
) -> Value {
    let created = serde_json::to_value(created).unwrap_or(Value::Null);
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": name, "namespace": ns, "uid": uid, "creationTimestamp": created,
            "labels": {"workflows.argoproj.io/phase": phase},
        },
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "steps": []}]},
        "status": {"phase": phase, "progress": format!("{done}/{total}"), "startedAt": created},
    })
}
