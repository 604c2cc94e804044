//! Object builders for tests: just enough of each Kubernetes object to exercise the projections
//! and the index (after kube-rs/controller-rs `src/fixtures.rs`).

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, DaemonSetStatus, Deployment, DeploymentSpec, DeploymentStatus,
    ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, StatefulSet, StatefulSetSpec, StatefulSetStatus,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, CronJobStatus, Job, JobSpec, JobStatus};
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, EndpointAddress, EndpointSubset, Endpoints, Namespace, Node, NodeCondition,
    NodeStatus, ObjectReference, Pod, PodCondition, PodSpec, PodStatus, Service, ServicePort,
    ServiceSpec,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference, Time,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_string(), "web".to_string())])
}

fn meta(ns: &str, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(ns.into()),
        uid: Some(format!("uid-{ns}-{name}")),
        resource_version: Some("1".into()),
        labels: Some(labels()),
        ..Default::default()
    }
}

fn controller(kind: &str, name: &str) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        name: name.into(),
        uid: format!("uid-{name}"),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// A namespace in phase `Active`.
pub fn namespace(name: &str) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A deployment selecting `app=web`.
pub fn deployment(ns: &str, name: &str, desired: i32, ready: i32) -> Deployment {
    Deployment {
        metadata: meta(ns, name),
        spec: Some(DeploymentSpec {
            replicas: Some(desired),
            selector: LabelSelector {
                match_labels: Some(labels()),
                ..Default::default()
            },
            ..Default::default()
        }),
        status: Some(DeploymentStatus {
            ready_replicas: Some(ready),
            updated_replicas: Some(ready),
            available_replicas: Some(ready),
            ..Default::default()
        }),
    }
}

/// A replica set, controlled by the deployment `owner` if given.
pub fn replica_set(
    ns: &str,
    name: &str,
    owner: Option<&str>,
    desired: i32,
    ready: i32,
) -> ReplicaSet {
    let mut metadata = meta(ns, name);
    metadata.owner_references = owner.map(|o| vec![controller("Deployment", o)]);
    ReplicaSet {
        metadata,
        spec: Some(ReplicaSetSpec {
            replicas: Some(desired),
            selector: LabelSelector {
                match_labels: Some(labels()),
                ..Default::default()
            },
            ..Default::default()
        }),
        status: Some(ReplicaSetStatus {
            replicas: desired,
            ready_replicas: Some(ready),
            available_replicas: Some(ready),
            ..Default::default()
        }),
    }
}

/// A ClusterIP service with a numeric and a named target port.
pub fn service(ns: &str, name: &str) -> Service {
    let port = |port, target, name: Option<&str>| ServicePort {
        port,
        target_port: Some(target),
        name: name.map(Into::into),
        protocol: Some("TCP".into()),
        ..Default::default()
    };
    Service {
        metadata: meta(ns, name),
        spec: Some(ServiceSpec {
            cluster_ip: Some("10.96.0.10".into()),
            selector: Some(labels()),
            ports: Some(vec![
                port(80, IntOrString::Int(8080), Some("http")),
                port(9090, IntOrString::String("metrics".into()), None),
            ]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Starts a pod builder.
pub fn pod(ns: &str, name: &str) -> PodBuilder {
    let pod = Pod {
        metadata: meta(ns, name),
        ..Default::default()
    };
    PodBuilder { pod }
}

/// Builds pods step by step.
pub struct PodBuilder {
    pod: Pod,
}

impl PodBuilder {
    pub fn owned_by_rs(self, rs: &str) -> Self {
        self.owned_by("ReplicaSet", rs)
    }

    /// Controlled by `kind`/`name` (Job, StatefulSet, DaemonSet, …).
    pub fn owned_by(mut self, kind: &str, name: &str) -> Self {
        self.pod.metadata.owner_references = Some(vec![controller(kind, name)]);
        self
    }

    /// Scheduled on `node-1`, phase Running, Ready, one running container `app`.
    pub fn running(mut self) -> Self {
        self.pod.spec = Some(PodSpec {
            node_name: Some("node-1".into()),
            ..Default::default()
        });
        let status = self.status();
        status.phase = Some("Running".into());
        status.conditions = Some(vec![PodCondition {
            type_: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        }]);
        let running = ContainerState {
            running: Some(ContainerStateRunning::default()),
            ..Default::default()
        };
        status.container_statuses = Some(vec![container("app", true, 0, running)]);
        self
    }

    pub fn container_waiting(mut self, name: &str, reason: &str, restarts: i32) -> Self {
        let waiting = ContainerStateWaiting {
            reason: Some(reason.into()),
            ..Default::default()
        };
        let state = ContainerState {
            waiting: Some(waiting),
            ..Default::default()
        };
        self.push(container(name, false, restarts, state));
        self
    }

    pub fn container_terminated(mut self, name: &str, reason: &str, restarts: i32) -> Self {
        let terminated = ContainerStateTerminated {
            reason: Some(reason.into()),
            ..Default::default()
        };
        let state = ContainerState {
            terminated: Some(terminated),
            ..Default::default()
        };
        self.push(container(name, false, restarts, state));
        self
    }

    pub fn deleting(mut self) -> Self {
        self.pod.metadata.deletion_timestamp = Some(Time(Default::default()));
        self
    }

    pub fn build(self) -> Pod {
        self.pod
    }

    fn status(&mut self) -> &mut PodStatus {
        self.pod.status.get_or_insert_with(Default::default)
    }

    fn push(&mut self, c: ContainerStatus) {
        self.status()
            .container_statuses
            .get_or_insert_with(Vec::new)
            .push(c);
    }
}

fn container(name: &str, ready: bool, restarts: i32, state: ContainerState) -> ContainerStatus {
    ContainerStatus {
        name: name.into(),
        ready,
        restart_count: restarts,
        state: Some(state),
        image: "example/app:1".into(),
        image_id: String::new(),
        ..Default::default()
    }
}

/// A node (`ready` or not) with 4 CPUs, 16Gi and 110 pods of capacity.
pub fn node(name: &str, ready: bool) -> Node {
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    let capacity = [
        ("cpu", "4"),
        ("memory", "16Gi"),
        ("pods", "110"),
        ("hugepages-2Mi", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Quantity(v.into())))
    .collect();
    Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            ..Default::default()
        },
        status: Some(NodeStatus {
            capacity: Some(capacity),
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn selector() -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels()),
        ..Default::default()
    }
}

/// A stateful set selecting `app=web`.
pub fn stateful_set(ns: &str, name: &str, desired: i32, ready: i32) -> StatefulSet {
    StatefulSet {
        metadata: meta(ns, name),
        spec: Some(StatefulSetSpec {
            replicas: Some(desired),
            selector: selector(),
            ..Default::default()
        }),
        status: Some(StatefulSetStatus {
            replicas: desired,
            ready_replicas: Some(ready),
            updated_replicas: Some(ready),
            available_replicas: Some(ready),
            ..Default::default()
        }),
    }
}

/// A daemon set selecting `app=web`.
pub fn daemon_set(ns: &str, name: &str, desired: i32, ready: i32) -> DaemonSet {
    DaemonSet {
        metadata: meta(ns, name),
        spec: Some(DaemonSetSpec {
            selector: selector(),
            ..Default::default()
        }),
        status: Some(DaemonSetStatus {
            desired_number_scheduled: desired,
            number_ready: ready,
            updated_number_scheduled: Some(ready),
            number_available: Some(ready),
            ..Default::default()
        }),
    }
}

/// A job of `completions` tasks, controlled by the cronjob `owner` if given.
pub fn job(
    ns: &str,
    name: &str,
    owner: Option<&str>,
    completions: i32,
    active: i32,
    succeeded: i32,
) -> Job {
    let mut metadata = meta(ns, name);
    metadata.owner_references = owner.map(|o| {
        vec![OwnerReference {
            api_version: "batch/v1".into(),
            ..controller("CronJob", o)
        }]
    });
    Job {
        metadata,
        spec: Some(JobSpec {
            completions: Some(completions),
            ..Default::default()
        }),
        status: Some(JobStatus {
            active: Some(active),
            succeeded: Some(succeeded),
            ..Default::default()
        }),
    }
}

/// A cronjob every five minutes with one active job.
pub fn cron_job(ns: &str, name: &str) -> CronJob {
    CronJob {
        metadata: meta(ns, name),
        spec: Some(CronJobSpec {
            schedule: "*/5 * * * *".into(),
            ..Default::default()
        }),
        status: Some(CronJobStatus {
            active: Some(vec![ObjectReference {
                kind: Some("Job".into()),
                name: Some(format!("{name}-1")),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    }
}

fn pod_ref(ns: &str, name: &str) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        name: Some(name.into()),
        namespace: Some(ns.into()),
        ..Default::default()
    }
}

/// An endpoint slice of `service` with one endpoint per `(pod, ready)`.
pub fn endpoint_slice(ns: &str, name: &str, service: &str, pods: &[(&str, bool)]) -> EndpointSlice {
    let mut metadata = meta(ns, name);
    metadata.labels = Some(BTreeMap::from([(
        "kubernetes.io/service-name".to_string(),
        service.to_string(),
    )]));
    metadata.owner_references = Some(vec![OwnerReference {
        api_version: "v1".into(),
        ..controller("Service", service)
    }]);
    EndpointSlice {
        metadata,
        address_type: "IPv4".into(),
        endpoints: pods
            .iter()
            .enumerate()
            .map(|(i, (pod, ready))| Endpoint {
                addresses: vec![format!("10.0.0.{i}")],
                conditions: Some(EndpointConditions {
                    ready: Some(*ready),
                    ..Default::default()
                }),
                target_ref: Some(pod_ref(ns, pod)),
                ..Default::default()
            })
            .collect(),
        ports: None,
    }
}

/// The Endpoints object of `service` with one address per `(pod, ready)`.
pub fn endpoints(ns: &str, service: &str, pods: &[(&str, bool)]) -> Endpoints {
    let addresses = |want: bool| {
        let v: Vec<EndpointAddress> = pods
            .iter()
            .filter(|(_, ready)| *ready == want)
            .map(|(pod, _)| EndpointAddress {
                ip: "10.0.0.1".into(),
                target_ref: Some(pod_ref(ns, pod)),
                ..Default::default()
            })
            .collect();
        (!v.is_empty()).then_some(v)
    };
    Endpoints {
        metadata: meta(ns, service),
        subsets: Some(vec![EndpointSubset {
            addresses: addresses(true),
            not_ready_addresses: addresses(false),
            ports: None,
        }]),
    }
}
