//! The churn generator: a deterministic model of Deployments → ReplicaSets → Pods (plus Namespaces
//! and Services) that mutates itself one step at a time and reports each step as a list of
//! `Change`s for the store. Everything (names, uids, times, choices) derives from one seeded
//! `StdRng` and a logical clock (one second per step), so a seed always yields the same sequence.
//!
//! Invariant: the current ReplicaSet of a deployment has exactly `spec.replicas` non-terminating
//! pods; older ReplicaSets drain one pod per newly-ready pod of the current one.

mod actions;
pub(crate) mod control;
mod owned;
mod status;
mod world;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Service};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::Value;

use crate::SimConfig;
use crate::builders;

/// One write for the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Upsert {
        kind: &'static str,
        value: Value,
    },
    Delete {
        kind: &'static str,
        ns: String,
        name: String,
    },
}

/// (namespace, name).
type Key = (String, String);

const NAMESPACES: &[&str] = &["shop", "web", "data"];
const APPS: &[&str] = &[
    "web", "api", "worker", "cache", "checkout", "search", "auth", "payments", "catalog", "gateway",
];
/// Kubernetes' "safe" alphabet for generated name suffixes.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const MAX_REPLICAS: i32 = 6;

struct DeploySim {
    dep: Deployment,
    current_rs: String,
    revision: u32,
    /// Driven by a scenario: random churn leaves it alone.
    pinned: bool,
}

impl DeploySim {
    /// Changes the pod template for the next revision (a new image and revision annotation, and a
    /// new generation), as `kubectl set image` would; the caller creates the new replica set.
    fn bump_template(&mut self, app: &str) {
        let version = self.revision + 1;
        let meta = &mut self.dep.metadata;
        meta.generation = Some(meta.generation.unwrap_or(0) + 1);
        meta.annotations
            .get_or_insert_with(Default::default)
            .insert(
                "deployment.kubernetes.io/revision".into(),
                version.to_string(),
            );
        if let Some(c) = self
            .dep
            .spec
            .as_mut()
            .and_then(|s| s.template.spec.as_mut())
            .and_then(|s| s.containers.first_mut())
        {
            c.image = Some(format!("registry.example/{app}:v{version}"));
        }
    }
}

/// The controller of a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    ReplicaSet,
    StatefulSet(String),
    DaemonSet(String),
    Job(String),
}

struct NodeSim {
    node: Node,
    /// Ready condition status: `True`, `False` or `Unknown`.
    ready: &'static str,
}

struct JobSim {
    job: Job,
    succeeded: i32,
    failed: i32,
    /// The next pod to finish fails (then this is cleared).
    fail_next: bool,
    finished_at: Option<u64>,
}

struct CronSim {
    cron: CronJob,
    every: u64,
    jobs: Vec<String>,
}

struct WorkflowSim {
    done: u32,
    total: u32,
    phase: &'static str,
    created: u64,
}

struct RsSim {
    rs: ReplicaSet,
    deploy: String,
}

struct PodSim {
    pod: Pod,
    rs: String,
    deploy: String,
    ip: String,
    ready: bool,
    ready_at: Option<u64>,
    delete_at: Option<u64>,
    owner: Owner,
    /// When a running job pod finishes.
    finish_at: Option<u64>,
}

impl PodSim {
    fn active(&self) -> bool {
        self.pod.metadata.deletion_timestamp.is_none()
    }
}

/// The churn model.
pub struct Churn {
    rng: StdRng,
    clock: u64,
    pods_created: u32,
    deployments: BTreeMap<Key, DeploySim>,
    replica_sets: BTreeMap<Key, RsSim>,
    pods: BTreeMap<Key, PodSim>,
    nodes: Vec<NodeSim>,
    namespaces: BTreeMap<String, Namespace>,
    services: BTreeMap<Key, Service>,
    stateful_sets: BTreeMap<Key, StatefulSet>,
    daemon_sets: BTreeMap<Key, DaemonSet>,
    jobs: BTreeMap<Key, JobSim>,
    cron_jobs: BTreeMap<Key, CronSim>,
    workflows: BTreeMap<Key, WorkflowSim>,
    /// Whether a random action runs each step (today's churn).
    random: bool,
    scripts: Vec<crate::scenario::Script>,
    max_replicas: i32,
    /// Pod status writes made by `storm` (the logical time of the next probe).
    storm_count: u64,
    out: Vec<Change>,
}

impl Churn {
    /// Builds the initial cluster; returns the model and the changes that create it.
    pub fn new(config: &SimConfig) -> (Self, Vec<Change>) {
        let mut churn = Self {
            rng: StdRng::seed_from_u64(config.seed),
            clock: 0,
            pods_created: 0,
            deployments: BTreeMap::new(),
            replica_sets: BTreeMap::new(),
            pods: BTreeMap::new(),
            nodes: Vec::new(),
            namespaces: BTreeMap::new(),
            services: BTreeMap::new(),
            stateful_sets: BTreeMap::new(),
            daemon_sets: BTreeMap::new(),
            jobs: BTreeMap::new(),
            cron_jobs: BTreeMap::new(),
            workflows: BTreeMap::new(),
            random: crate::scenario::wants_random(&config.scenarios),
            scripts: crate::scenario::scripts(&config.scenarios),
            max_replicas: MAX_REPLICAS.max(config.max_replicas),
            storm_count: 0,
            out: Vec::new(),
        };
        churn.create_nodes(config.nodes.max(1));
        for n in 0..config.namespaces {
            let ns = NAMESPACES
                .get(n)
                .map_or_else(|| format!("ns-{}", n + 1), |s| (*s).to_owned());
            churn.create_namespace(&ns);
            for d in 0..config.deployments_per_namespace {
                let app = if d < APPS.len() {
                    APPS[(d + n) % APPS.len()].to_owned()
                } else {
                    format!("app-{d}")
                };
                let replicas = churn.rng.random_range(1..=config.max_replicas.max(1));
                churn.create_deployment(&ns, &app, replicas);
                churn.create_service(&ns, &app);
            }
            if config.extra_workloads {
                churn.create_extra_workloads(n, &ns);
            }
        }
        for script in &mut std::mem::take(&mut churn.scripts) {
            script.setup(&mut churn);
            churn.scripts.push(script.clone());
        }
        // Start fully rolled out: every pod Running and Ready, statuses consistent.
        let keys: Vec<Key> = churn.pods.keys().cloned().collect();
        for key in keys {
            if let Some(p) = churn.pods.get_mut(&key) {
                builders::set_pod_running(&mut p.pod, true, builders::time(0), &p.ip);
                (p.ready, p.ready_at) = (true, None);
            }
        }
        churn.sync_statuses();
        churn.sync_owned();
        churn.out.clear();
        churn.emit_all();
        let initial = std::mem::take(&mut churn.out);
        (churn, initial)
    }

    /// Advances the clock one step: pod lifecycles progress, then one random action happens.
    pub fn step(&mut self) -> Vec<Change> {
        self.clock += 1;
        self.progress();
        self.world_step();
        if self.random {
            match self.rng.random_range(0..100) {
                0..35 => self.heartbeat(),
                35..50 => self.restart(),
                50..70 => self.scale_up(),
                70..85 => self.scale_down(),
                _ => self.rollout(),
            }
        }
        let mut scripts = std::mem::take(&mut self.scripts);
        for script in &mut scripts {
            script.step(self);
        }
        self.scripts = scripts;
        self.sync_statuses();
        self.sync_owned();
        std::mem::take(&mut self.out)
    }

    fn emit_all(&mut self) {
        for n in &self.nodes {
            emit(&mut self.out, "Node", &n.node);
        }
        for ns in self.namespaces.values() {
            emit(&mut self.out, "Namespace", ns);
        }
        for s in self.services.values() {
            emit(&mut self.out, "Service", s);
        }
        self.emit_owned();
        for d in self.deployments.values() {
            emit(&mut self.out, "Deployment", &d.dep);
        }
        for r in self.replica_sets.values() {
            emit(&mut self.out, "ReplicaSet", &r.rs);
        }
        for p in self.pods.values() {
            emit(&mut self.out, "Pod", &p.pod);
        }
    }

    /// A uuid-shaped uid from the seeded rng.
    fn uid(&mut self) -> String {
        let a: u128 = self.rng.random();
        let h = format!("{a:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    fn suffix(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
            .collect()
    }
}

/// Serializes a typed object into an upsert.
fn emit<T: Serialize>(out: &mut Vec<Change>, kind: &'static str, obj: &T) {
    match serde_json::to_value(obj) {
        Ok(value) => out.push(Change::Upsert { kind, value }),
        Err(error) => tracing::warn!(kind, %error, "could not serialize a simulated object"),
    }
}

#[cfg(test)]
mod tests;
