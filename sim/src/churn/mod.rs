//! The churn generator: a deterministic model of Deployments → ReplicaSets → Pods (plus Namespaces
//! and Services) that mutates itself one step at a time and reports each step as a list of
//! `Change`s for the store. Everything (names, uids, times, choices) derives from one seeded
//! `StdRng` and a logical clock (one second per step), so a seed always yields the same sequence.
//!
//! Invariant: the current ReplicaSet of a deployment has exactly `spec.replicas` non-terminating
//! pods; older ReplicaSets drain one pod per newly-ready pod of the current one.

mod actions;
mod status;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
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
const NODES: usize = 3;
/// Kubernetes' "safe" alphabet for generated name suffixes.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const MAX_REPLICAS: i32 = 6;

struct DeploySim {
    dep: Deployment,
    current_rs: String,
    revision: u32,
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
            out: Vec::new(),
        };
        let mut services = Vec::new();
        for n in 0..config.namespaces {
            let ns = NAMESPACES
                .get(n)
                .map_or_else(|| format!("ns-{}", n + 1), |s| (*s).to_owned());
            let uid = churn.uid();
            emit(
                &mut churn.out,
                "Namespace",
                &builders::namespace(&ns, &uid, builders::time(0)),
            );
            for d in 0..config.deployments_per_namespace {
                let app = if d < APPS.len() {
                    APPS[(d + n) % APPS.len()].to_owned()
                } else {
                    format!("app-{d}")
                };
                let replicas = churn.rng.random_range(1..=3);
                churn.create_deployment(&ns, &app, replicas);
                let uid = churn.uid();
                let ip = format!("10.96.{}.{}", n % 250, d % 250 + 10);
                services.push(builders::service(&ns, &app, &uid, &ip, builders::time(0)));
            }
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
        churn.out.retain(|c| {
            matches!(
                c,
                Change::Upsert {
                    kind: "Namespace",
                    ..
                }
            )
        });
        churn.emit_all();
        for svc in &services {
            emit(&mut churn.out, "Service", svc);
        }
        let initial = std::mem::take(&mut churn.out);
        (churn, initial)
    }

    /// Advances the clock one step: pod lifecycles progress, then one random action happens.
    pub fn step(&mut self) -> Vec<Change> {
        self.clock += 1;
        self.progress();
        match self.rng.random_range(0..100) {
            0..35 => self.heartbeat(),
            35..50 => self.restart(),
            50..70 => self.scale_up(),
            70..85 => self.scale_down(),
            _ => self.rollout(),
        }
        self.sync_statuses();
        std::mem::take(&mut self.out)
    }

    fn emit_all(&mut self) {
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
