//! The churn actions: pod lifecycle progress, scaling, rolling updates, restarts and heartbeats.

use rand::Rng;

use super::{Change, Churn, DeploySim, Key, Owner, PodSim, RsSim, emit};
use crate::builders;

impl Churn {
    /// Creates a deployment with its first replica set and `replicas` pending pods.
    pub(super) fn create_deployment(&mut self, ns: &str, app: &str, replicas: i32) {
        let uid = self.uid();
        let image = format!("registry.example/{app}:v1");
        let dep = builders::deployment(ns, app, &uid, replicas, &image, builders::time(self.clock));
        let key = (ns.to_owned(), app.to_owned());
        self.deployments.insert(
            key.clone(),
            DeploySim {
                dep,
                current_rs: String::new(),
                revision: 0,
                pinned: false,
            },
        );
        self.new_replica_set(&key);
    }

    /// Starts a new revision: a new current replica set with a full set of pending pods.
    pub(super) fn new_replica_set(&mut self, key: &Key) {
        self.new_replica_set_with(key, None);
    }

    /// A new current replica set starting with `pods` pending pods (`None`: `spec.replicas`).
    pub(super) fn new_replica_set_with(&mut self, key: &Key, pods: Option<i32>) {
        let hash = self.suffix(10);
        let uid = self.uid();
        let now = builders::time(self.clock);
        let Some(d) = self.deployments.get_mut(key) else {
            return;
        };
        d.revision += 1;
        let rs = builders::replica_set(&d.dep, &hash, &uid, d.revision, now);
        let rs_name = rs.metadata.name.clone().unwrap_or_default();
        d.current_rs.clone_from(&rs_name);
        let replicas = pods.unwrap_or_else(|| replicas(d));
        emit(&mut self.out, "ReplicaSet", &rs);
        self.replica_sets.insert(
            (key.0.clone(), rs_name.clone()),
            RsSim {
                rs,
                deploy: key.1.clone(),
            },
        );
        for _ in 0..replicas {
            self.new_pod(&key.0, &rs_name);
        }
    }

    pub(super) fn new_pod(&mut self, ns: &str, rs_name: &str) {
        let name = format!("{rs_name}-{}", self.suffix(5));
        let uid = self.uid();
        let node = self.pick_node();
        let ready_at = self.clock + self.rng.random_range(1..=2);
        let Some(rs) = self.replica_sets.get(&(ns.to_owned(), rs_name.to_owned())) else {
            return;
        };
        let pod = builders::pod(
            &rs.rs,
            &name,
            &uid,
            &format!("node-{node}"),
            builders::time(self.clock),
        );
        let deploy = rs.deploy.clone();
        let ip = self.pod_ip(node);
        emit(&mut self.out, "Pod", &pod);
        let sim = PodSim {
            pod,
            rs: rs_name.to_owned(),
            deploy,
            ip,
            ready: false,
            ready_at: Some(ready_at),
            delete_at: None,
            owner: Owner::ReplicaSet,
            finish_at: None,
        };
        self.pods.insert((ns.to_owned(), name), sim);
    }

    /// The pod a scale-down of replica set `rs` removes: like the ReplicaSet controller, one that
    /// is not ready yet if there is one.
    pub(super) fn scale_down_victim(&self, ns: &str, rs: &str) -> Option<Key> {
        self.pods
            .iter()
            .filter(|((pod_ns, _), p)| pod_ns == ns && p.rs == rs && p.active())
            .min_by_key(|(_, p)| p.ready)
            .map(|(k, _)| k.clone())
    }

    pub(super) fn terminate(&mut self, key: &Key) {
        let delete_at = self.clock + self.rng.random_range(1..=2);
        let Some(p) = self.pods.get_mut(key) else {
            return;
        };
        builders::mark_terminating(&mut p.pod, builders::time(self.clock));
        p.delete_at = Some(delete_at);
        p.ready_at = None;
        emit(&mut self.out, "Pod", &p.pod);
    }

    /// Due terminating pods disappear; due pending pods start (not ready), then become ready. Each
    /// newly ready pod of a current replica set retires one pod of an older one.
    pub(super) fn progress(&mut self) {
        let now = self.clock;
        let due: Vec<Key> = self
            .pods
            .iter()
            .filter(|(_, p)| p.delete_at.is_some_and(|t| t <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for (ns, name) in due {
            self.pods.remove(&(ns.clone(), name.clone()));
            self.out.push(Change::Delete {
                kind: "Pod",
                ns,
                name,
            });
        }
        let due: Vec<Key> = self
            .pods
            .iter()
            .filter(|(_, p)| p.ready_at.is_some_and(|t| t <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let Some(p) = self.pods.get_mut(&key) else {
                continue;
            };
            let pending = p.pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending");
            builders::set_pod_running(&mut p.pod, !pending, builders::time(now), &p.ip);
            (p.ready, p.ready_at) = if pending {
                (false, Some(now + 1))
            } else {
                (true, None)
            };
            emit(&mut self.out, "Pod", &p.pod);
            let dep_key = (key.0.clone(), p.deploy.clone());
            let is_current = self
                .deployments
                .get(&dep_key)
                .is_some_and(|d| d.current_rs == p.rs);
            if !pending && is_current {
                self.retire_old_pod(&dep_key);
            }
        }
    }

    fn retire_old_pod(&mut self, dep_key: &Key) {
        let Some(d) = self.deployments.get(dep_key) else {
            return;
        };
        let old = self.pods.iter().find(|((ns, _), p)| {
            *ns == dep_key.0 && p.deploy == dep_key.1 && p.rs != d.current_rs && p.active()
        });
        if let Some(key) = old.map(|(k, _)| k.clone()) {
            self.terminate(&key);
        }
    }

    fn pick_pod(&mut self, pred: impl Fn(&PodSim) -> bool) -> Option<Key> {
        let keys: Vec<&Key> = self
            .pods
            .iter()
            .filter(|(_, p)| pred(p))
            .map(|(k, _)| k)
            .collect();
        let key = keys.get(self.rng.random_range(0..keys.len().max(1)))?;
        Some((*key).clone())
    }

    fn pick_deployment(&mut self, pred: impl Fn(i32) -> bool) -> Option<Key> {
        let keys: Vec<&Key> = self
            .deployments
            .iter()
            .filter(|(_, d)| !d.pinned && pred(replicas(d)))
            .map(|(k, _)| k)
            .collect();
        let key = keys.get(self.rng.random_range(0..keys.len().max(1)))?;
        Some((*key).clone())
    }

    /// A status write that changes nothing but the resourceVersion.
    pub(super) fn heartbeat(&mut self) {
        if let Some(p) = self
            .pick_pod(PodSim::active)
            .and_then(|k| self.pods.get(&k))
        {
            emit(&mut self.out, "Pod", &p.pod);
        }
    }

    /// A container crash: restartCount+1, not ready until the next step.
    pub(super) fn restart(&mut self) {
        let Some(key) = self.pick_pod(|p| p.active() && p.ready) else {
            return self.heartbeat();
        };
        let now = self.clock;
        let Some(p) = self.pods.get_mut(&key) else {
            return;
        };
        builders::restart_container(&mut p.pod, builders::time(now));
        (p.ready, p.ready_at) = (false, Some(now + 1));
        emit(&mut self.out, "Pod", &p.pod);
    }

    pub(super) fn scale_up(&mut self) {
        let max = self.max_replicas;
        let Some(key) = self.pick_deployment(|r| r < max) else {
            return self.heartbeat();
        };
        let Some(rs) = self.set_replicas(&key, 1) else {
            return;
        };
        self.new_pod(&key.0, &rs);
    }

    pub(super) fn scale_down(&mut self) {
        let Some(key) = self.pick_deployment(|r| r > 1) else {
            return self.heartbeat();
        };
        let Some(rs) = self.set_replicas(&key, -1) else {
            return;
        };
        if let Some(victim) = self.scale_down_victim(&key.0, &rs) {
            self.terminate(&victim);
        }
    }

    /// Changes the desired replicas; returns the current replica set's name.
    pub(super) fn set_replicas(&mut self, key: &Key, delta: i32) -> Option<String> {
        let d = self.deployments.get_mut(key)?;
        let spec = d.dep.spec.as_mut()?;
        spec.replicas = Some(spec.replicas.unwrap_or(0) + delta);
        d.dep.metadata.generation = Some(d.dep.metadata.generation.unwrap_or(0) + 1);
        emit(&mut self.out, "Deployment", &d.dep);
        Some(d.current_rs.clone())
    }

    /// A rolling update: new image, new replica set, pods move over as the new ones become ready.
    pub(super) fn rollout(&mut self) {
        let Some(key) = self.pick_deployment(|_| true) else {
            return;
        };
        // Garbage-collect drained old replica sets so history stays bounded.
        let empty: Vec<Key> = self
            .replica_sets
            .iter()
            .filter(|((ns, name), r)| {
                *ns == key.0 && r.deploy == key.1 && !self.pods.values().any(|p| p.rs == *name)
            })
            .map(|(k, _)| k.clone())
            .filter(|k| {
                self.deployments
                    .get(&key)
                    .is_some_and(|d| d.current_rs != k.1)
            })
            .collect();
        for (ns, name) in empty {
            self.replica_sets.remove(&(ns.clone(), name.clone()));
            self.out.push(Change::Delete {
                kind: "ReplicaSet",
                ns,
                name,
            });
        }
        let Some(d) = self.deployments.get_mut(&key) else {
            return;
        };
        d.bump_template(&key.1);
        emit(&mut self.out, "Deployment", &d.dep);
        self.new_replica_set(&key);
    }
}

pub(super) fn replicas(d: &DeploySim) -> i32 {
    d.dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}
