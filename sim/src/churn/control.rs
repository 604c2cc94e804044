//! The control surface scenarios drive the model through: dedicated (pinned) deployments, one-by-one
//! rollouts, scaling to a target, container crash loops, node readiness, scenario jobs and
//! namespace deletion. Every method emits the changes it makes, like the random actions.

use k8s_openapi::api::core::v1::{ContainerState, ContainerStateWaiting};

use super::actions::replicas;
use super::{Change, Churn, Key, emit};
use crate::{builders, builders_world as bw};

impl Churn {
    /// `n` pod status writes (the Ready condition's `lastProbeTime` advances), round robin over
    /// the pods; readiness and everything the endpoints depend on stay the same.
    pub(crate) fn storm(&mut self, n: usize) -> Vec<Change> {
        let keys: Vec<Key> = self.pods.keys().cloned().collect();
        if keys.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            self.storm_count += 1;
            let probe = builders::time(self.storm_count);
            let Some(p) = self.pods.get_mut(&keys[i % keys.len()]) else {
                continue;
            };
            let conditions = p
                .pod
                .status
                .iter_mut()
                .flat_map(|s| s.conditions.iter_mut().flatten());
            for c in conditions.filter(|c| c.type_ == "Ready") {
                c.last_probe_time = Some(probe.clone());
            }
            emit(&mut out, "Pod", &p.pod);
        }
        out
    }

    /// Number of nodes (`node-1..=node-N`).
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Creates the namespace if it does not exist.
    pub(crate) fn ensure_namespace(&mut self, ns: &str) {
        if !self.namespaces.contains_key(ns) {
            self.create_namespace(ns);
        }
    }

    /// A deployment (with its Service) that random churn leaves alone.
    pub(crate) fn add_pinned_deployment(&mut self, ns: &str, app: &str, replicas: i32) -> Key {
        self.ensure_namespace(ns);
        self.create_deployment(ns, app, replicas);
        self.create_service(ns, app);
        let key = (ns.to_owned(), app.to_owned());
        if let Some(d) = self.deployments.get_mut(&key) {
            d.pinned = true;
        }
        key
    }

    /// Starts a rolling update with one surge pod; `rolling_step` adds the rest one by one.
    pub(crate) fn start_rollout(&mut self, key: &Key) {
        let Some(d) = self.deployments.get_mut(key) else {
            return;
        };
        d.bump_template(&key.1);
        emit(&mut self.out, "Deployment", &d.dep);
        self.new_replica_set_with(key, Some(1));
    }

    /// (active pods of the current replica set, of them ready, desired replicas, old pods left).
    pub(crate) fn rollout_progress(&self, key: &Key) -> (i32, i32, i32, i32) {
        let Some(d) = self.deployments.get(key) else {
            return (0, 0, 0, 0);
        };
        let mut counts = (0, 0, replicas(d), 0);
        for ((ns, _), p) in &self.pods {
            if *ns != key.0 || p.deploy != key.1 {
                continue;
            }
            if p.rs == d.current_rs && p.active() {
                counts.0 += 1;
                counts.1 += i32::from(p.ready);
            } else if p.rs != d.current_rs {
                counts.3 += 1;
            }
        }
        counts
    }

    /// Adds the next new pod once every new pod so far is ready (maxSurge 1, maxUnavailable 0).
    pub(crate) fn rolling_step(&mut self, key: &Key) {
        let (active, ready, desired, _) = self.rollout_progress(key);
        if active < desired && ready == active {
            let rs = self
                .deployments
                .get(key)
                .map(|d| d.current_rs.clone())
                .unwrap_or_default();
            self.new_pod(&key.0, &rs);
        }
    }

    /// Scales a deployment to `target` replicas, creating or terminating pods.
    pub(crate) fn scale_to(&mut self, key: &Key, target: i32) {
        let current = self.deployments.get(key).map_or(0, replicas);
        let Some(rs) = self.set_replicas(key, target - current) else {
            return;
        };
        for _ in current..target {
            self.new_pod(&key.0, &rs);
        }
        for _ in target..current {
            if let Some(victim) = self.scale_down_victim(&key.0, &rs) {
                self.terminate(&victim);
            }
        }
    }

    /// The deployment's first active pod crashes: CrashLoopBackOff, restartCount+1, not ready
    /// until the next step.
    pub(crate) fn crash(&mut self, key: &Key) {
        let now = self.clock;
        let Some(p) = self
            .pods
            .iter_mut()
            .find(|((ns, _), p)| *ns == key.0 && p.deploy == key.1 && p.active())
            .map(|(_, p)| p)
        else {
            return;
        };
        builders::restart_container(&mut p.pod, builders::time(now));
        for c in p
            .pod
            .status
            .iter_mut()
            .flat_map(|s| s.container_statuses.iter_mut().flatten())
        {
            c.state = Some(ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some("CrashLoopBackOff".into()),
                    message: Some("back-off restarting failed container".into()),
                }),
                ..ContainerState::default()
            });
        }
        (p.ready, p.ready_at) = (false, Some(now + 1));
        emit(&mut self.out, "Pod", &p.pod);
    }

    /// Sets node `index`'s (1-based) Ready condition; its pods go unready, or recover with it.
    pub(crate) fn set_node_ready(&mut self, index: usize, status: &'static str) {
        let now = self.clock;
        let Some(n) = self.nodes.get_mut(index.wrapping_sub(1)) else {
            return;
        };
        n.ready = status;
        bw::set_node_ready(&mut n.node, status, builders::time(now));
        emit(&mut self.out, "Node", &n.node);
        let node = format!("node-{index}");
        for p in self.pods.values_mut() {
            let on_node =
                p.pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node.as_str());
            let running = p.pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
            if !on_node || !running || !p.active() {
                continue;
            }
            if status == "True" {
                p.ready_at = Some(now + 1);
            } else if p.ready || p.ready_at.is_some() {
                builders::set_pod_running(&mut p.pod, false, builders::time(now), &p.ip);
                (p.ready, p.ready_at) = (false, None);
                emit(&mut self.out, "Pod", &p.pod);
            }
        }
    }

    /// A Job of `completions` pods, `parallelism` at a time, whose first finishing pod fails.
    pub(crate) fn start_job(&mut self, key: &Key, completions: i32, parallelism: i32) {
        self.ensure_namespace(&key.0);
        self.create_job(key, (completions, parallelism), None, true);
    }

    pub(crate) fn remove_job(&mut self, key: &Key) {
        self.delete_job(key);
    }

    /// Marks the namespace Terminating (deletionTimestamp set) and terminates its pods.
    pub(crate) fn begin_namespace_deletion(&mut self, ns: &str) {
        let now = builders::time(self.clock);
        let Some(obj) = self.namespaces.get_mut(ns) else {
            return;
        };
        obj.metadata.deletion_timestamp = Some(now);
        if let Some(s) = obj.status.as_mut() {
            s.phase = Some("Terminating".into());
        }
        emit(&mut self.out, "Namespace", obj);
        let pods: Vec<Key> = self
            .pods
            .iter()
            .filter(|(k, p)| k.0 == ns && p.active())
            .map(|(k, _)| k.clone())
            .collect();
        for pod in pods {
            self.terminate(&pod);
        }
    }

    /// One deletion step in a Terminating namespace: workloads first, then services, then (once
    /// the pods are gone) the Namespace itself. Returns whether the namespace is gone.
    pub(crate) fn namespace_deletion_step(&mut self, ns: &str) -> bool {
        let in_ns = |k: &Key| k.0 == ns;
        let mut deletes: Vec<(&'static str, Key)> = Vec::new();
        deletes.extend(
            self.deployments
                .keys()
                .filter(|k| in_ns(k))
                .map(|k| ("Deployment", k.clone())),
        );
        deletes.extend(
            self.replica_sets
                .keys()
                .filter(|k| in_ns(k))
                .map(|k| ("ReplicaSet", k.clone())),
        );
        deletes.extend(
            self.stateful_sets
                .keys()
                .filter(|k| in_ns(k))
                .map(|k| ("StatefulSet", k.clone())),
        );
        deletes.extend(
            self.daemon_sets
                .keys()
                .filter(|k| in_ns(k))
                .map(|k| ("DaemonSet", k.clone())),
        );
        if deletes.is_empty() {
            deletes.extend(
                self.services
                    .keys()
                    .filter(|k| in_ns(k))
                    .map(|k| ("Service", k.clone())),
            );
        }
        for (kind, key) in &deletes {
            match *kind {
                "Deployment" => drop(self.deployments.remove(key)),
                "ReplicaSet" => drop(self.replica_sets.remove(key)),
                "StatefulSet" => drop(self.stateful_sets.remove(key)),
                "DaemonSet" => drop(self.daemon_sets.remove(key)),
                _ => drop(self.services.remove(key)),
            }
            self.out.push(Change::Delete {
                kind,
                ns: key.0.clone(),
                name: key.1.clone(),
            });
        }
        let jobs: Vec<Key> = self.jobs.keys().filter(|k| in_ns(k)).cloned().collect();
        for job in jobs {
            self.delete_job(&job);
        }
        let pods_left = self.pods.keys().any(in_ns);
        if !deletes.is_empty() || pods_left || !self.namespaces.contains_key(ns) {
            return !self.namespaces.contains_key(ns);
        }
        self.namespaces.remove(ns);
        self.out.push(Change::Delete {
            kind: "Namespace",
            ns: ns.to_owned(),
            name: ns.to_owned(),
        });
        true
    }
}
