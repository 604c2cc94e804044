//! The world around the deployments: nodes, namespaces, services, a StatefulSet, a DaemonSet, a
//! CronJob spawning Jobs and an argoproj.io Workflow per namespace (by namespace index), and
//! their per-step progress (job pods run to completion, cron schedules, workflow steps).

use rand::Rng;

use super::{Change, Churn, CronSim, JobSim, Key, NodeSim, Owner, PodSim, WorkflowSim, emit};
use crate::{builders, builders_world as bw};

/// Steps between two runs of a namespace's CronJob.
const CRON_EVERY: u64 = 12;
/// Steps a running job pod takes to finish.
const JOB_POD_RUNTIME: u64 = 2;

impl Churn {
    pub(super) fn create_nodes(&mut self, n: usize) {
        for i in 1..=n {
            let uid = self.uid();
            let node = bw::node(&format!("node-{i}"), i, &uid, builders::time(0));
            self.nodes.push(NodeSim {
                node,
                ready: "True",
            });
        }
    }

    pub(super) fn create_namespace(&mut self, ns: &str) {
        let uid = self.uid();
        let obj = builders::namespace(ns, &uid, builders::time(self.clock));
        emit(&mut self.out, "Namespace", &obj);
        self.namespaces.insert(ns.to_owned(), obj);
    }

    pub(super) fn create_service(&mut self, ns: &str, app: &str) {
        let uid = self.uid();
        let n = self.services.len();
        let ip = format!("10.96.{}.{}", n / 250 % 250, n % 250 + 10);
        let svc = builders::service(ns, app, &uid, &ip, builders::time(self.clock));
        emit(&mut self.out, "Service", &svc);
        self.services.insert((ns.to_owned(), app.to_owned()), svc);
    }

    /// A ready node, chosen at random (any node if none is ready).
    pub(super) fn pick_node(&mut self) -> usize {
        let ready: Vec<usize> = (1..=self.nodes.len())
            .filter(|i| self.nodes[i - 1].ready == "True")
            .collect();
        match ready.len() {
            0 => self.rng.random_range(1..=self.nodes.len().max(1)),
            n => ready[self.rng.random_range(0..n)],
        }
    }

    /// A fresh pod IP inside `node`'s pod CIDR.
    pub(super) fn pod_ip(&mut self, node: usize) -> String {
        self.pods_created += 1;
        format!("10.244.{node}.{}", self.pods_created % 250 + 2)
    }

    /// A pending pod from `template`, owned as `owner`, on `node` (random ready node if `None`).
    pub(super) fn spawn_pod(
        &mut self,
        key: &Key,
        template: &k8s_openapi::api::core::v1::PodTemplateSpec,
        (owner, owner_ref): (
            Owner,
            k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
        ),
        node: Option<usize>,
    ) {
        let node = node.unwrap_or_else(|| self.pick_node());
        let uid = self.uid();
        let ip = self.pod_ip(node);
        let pod = bw::owned_pod(
            &key.0,
            &key.1,
            &uid,
            (template, owner_ref),
            &format!("node-{node}"),
            builders::time(self.clock),
        );
        emit(&mut self.out, "Pod", &pod);
        let sim = PodSim {
            pod,
            rs: String::new(),
            deploy: String::new(),
            ip,
            ready: false,
            ready_at: Some(self.clock + 1),
            delete_at: None,
            owner,
            finish_at: None,
        };
        self.pods.insert(key.clone(), sim);
    }

    /// Namespace `n` gets a DaemonSet (n % 3 == 0), a CronJob and a Workflow (n % 3 == 1) or a
    /// StatefulSet (n % 3 == 2).
    pub(super) fn create_extra_workloads(&mut self, n: usize, ns: &str) {
        match n % 3 {
            0 => self.create_daemon_set(ns, "log-agent"),
            1 => {
                self.create_cron_job(ns, "report", CRON_EVERY);
                self.create_workflow(ns);
            }
            _ => self.create_stateful_set(ns, "db", 3),
        }
    }

    pub(super) fn create_stateful_set(&mut self, ns: &str, name: &str, replicas: i32) {
        let uid = self.uid();
        let sts = bw::stateful_set(ns, name, &uid, replicas, builders::time(self.clock));
        let template = sts
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let owner = bw::owner_of("apps/v1", "StatefulSet", &sts.metadata);
        for i in 0..replicas {
            let key = (ns.to_owned(), format!("{name}-{i}"));
            let spec = (Owner::StatefulSet(name.to_owned()), owner.clone());
            self.spawn_pod(&key, &template, spec, None);
        }
        self.stateful_sets
            .insert((ns.to_owned(), name.to_owned()), sts);
    }

    pub(super) fn create_daemon_set(&mut self, ns: &str, name: &str) {
        let uid = self.uid();
        let ds = bw::daemon_set(ns, name, &uid, builders::time(self.clock));
        let template = ds
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let owner = bw::owner_of("apps/v1", "DaemonSet", &ds.metadata);
        for node in 1..=self.nodes.len() {
            let key = (ns.to_owned(), format!("{name}-{}", self.suffix(5)));
            let spec = (Owner::DaemonSet(name.to_owned()), owner.clone());
            self.spawn_pod(&key, &template, spec, Some(node));
        }
        self.daemon_sets
            .insert((ns.to_owned(), name.to_owned()), ds);
    }

    fn create_cron_job(&mut self, ns: &str, name: &str, every: u64) {
        let uid = self.uid();
        let cron = bw::cron_job(ns, name, &uid, "*/5 * * * *", builders::time(self.clock));
        let jobs = Vec::new();
        self.cron_jobs.insert(
            (ns.to_owned(), name.to_owned()),
            CronSim { cron, every, jobs },
        );
    }

    /// Creates a Job (optionally owned by a CronJob) with `completions` pods, `parallelism` at a
    /// time; the first pod to finish fails if `fail_once`.
    pub(super) fn create_job(
        &mut self,
        key: &Key,
        shape: (i32, i32),
        cron: Option<&Key>,
        fail_once: bool,
    ) {
        let uid = self.uid();
        let owner = cron
            .and_then(|c| self.cron_jobs.get(c))
            .map(|c| bw::owner_of("batch/v1", "CronJob", &c.cron.metadata));
        let job = bw::job(
            &key.0,
            &key.1,
            &uid,
            shape,
            owner,
            builders::time(self.clock),
        );
        emit(&mut self.out, "Job", &job);
        let sim = JobSim {
            job,
            succeeded: 0,
            failed: 0,
            fail_next: fail_once,
            finished_at: None,
        };
        self.jobs.insert(key.clone(), sim);
    }

    /// Deletes an object of the model's owned kinds and, for a Job, its pods.
    pub(super) fn delete_job(&mut self, key: &Key) {
        if self.jobs.remove(key).is_none() {
            return;
        }
        let pods: Vec<Key> = self
            .pods
            .iter()
            .filter(|(k, p)| k.0 == key.0 && p.owner == Owner::Job(key.1.clone()))
            .map(|(k, _)| k.clone())
            .collect();
        for pod in pods {
            self.pods.remove(&pod);
            self.out.push(Change::Delete {
                kind: "Pod",
                ns: pod.0,
                name: pod.1,
            });
        }
        self.out.push(Change::Delete {
            kind: "Job",
            ns: key.0.clone(),
            name: key.1.clone(),
        });
    }

    fn create_workflow(&mut self, ns: &str) {
        let key = (ns.to_owned(), format!("etl-{}", self.suffix(5)));
        let total = self.rng.random_range(3..=6);
        let wf = WorkflowSim {
            done: 0,
            total,
            phase: "Running",
            created: self.clock,
        };
        self.workflows.insert(key.clone(), wf);
        self.emit_workflow(&key);
    }

    pub(super) fn emit_workflow(&mut self, key: &Key) {
        let Some(wf) = self.workflows.get(key) else {
            return;
        };
        let uid = format!("wf-{}-{}", key.0, key.1);
        let created = builders::time(wf.created);
        let value = bw::workflow(
            &key.0,
            &key.1,
            &uid,
            (wf.done, wf.total),
            wf.phase,
            &created,
        );
        self.out.push(Change::Upsert {
            kind: "Workflow",
            value,
        });
    }

    /// Per-step progress of jobs, cron jobs and workflows.
    pub(super) fn world_step(&mut self) {
        self.jobs_step();
        let due: Vec<Key> = self
            .cron_jobs
            .iter()
            .filter(|(_, c)| self.clock.is_multiple_of(c.every))
            .map(|(k, _)| k.clone())
            .collect();
        for cron in due {
            let job = (cron.0.clone(), format!("{}-{}", cron.1, self.clock));
            let completions = self.rng.random_range(1..=2);
            self.create_job(&job, (completions, 1), Some(&cron), false);
            let Some(c) = self.cron_jobs.get_mut(&cron) else {
                continue;
            };
            c.jobs.push(job.1);
            if c.jobs.len() > 3 {
                let old = c.jobs.remove(0);
                self.delete_job(&(cron.0.clone(), old));
            }
        }
        self.workflows_step();
    }

    fn workflows_step(&mut self) {
        let keys: Vec<Key> = self.workflows.keys().cloned().collect();
        for key in keys {
            let clock = self.clock;
            let Some(wf) = self.workflows.get_mut(&key) else {
                continue;
            };
            if wf.phase != "Running" {
                if clock >= wf.created + u64::from(wf.total) * 2 + 10 {
                    self.workflows.remove(&key);
                    self.out.push(Change::Delete {
                        kind: "Workflow",
                        ns: key.0.clone(),
                        name: key.1,
                    });
                    self.create_workflow(&key.0);
                }
                continue;
            }
            if !(clock - wf.created).is_multiple_of(2) {
                continue;
            }
            wf.done += 1;
            if wf.done >= wf.total {
                wf.phase = if wf.total == 5 { "Failed" } else { "Succeeded" };
            }
            self.emit_workflow(&key);
        }
    }

    fn jobs_step(&mut self) {
        let now = self.clock;
        for (key, p) in &mut self.pods {
            let Owner::Job(job) = &p.owner else { continue };
            if p.ready && p.finish_at.is_none() {
                p.finish_at = Some(now + JOB_POD_RUNTIME);
            }
            if p.finish_at.is_some_and(|t| t <= now) && p.ready {
                let Some(j) = self.jobs.get_mut(&(key.0.clone(), job.clone())) else {
                    continue;
                };
                let ok = !std::mem::take(&mut j.fail_next);
                bw::set_pod_finished(&mut p.pod, ok, builders::time(now));
                if ok {
                    j.succeeded += 1
                } else {
                    j.failed += 1
                }
                p.ready = false;
                emit(&mut self.out, "Pod", &p.pod);
            }
        }
        let keys: Vec<Key> = self.jobs.keys().cloned().collect();
        for key in keys {
            let running = self
                .pods
                .iter()
                .filter(|(k, p)| k.0 == key.0 && p.owner == Owner::Job(key.1.clone()))
                .filter(|(_, p)| p.running_job_pod())
                .count();
            let running = i32::try_from(running).unwrap_or(i32::MAX);
            let Some(j) = self.jobs.get(&key) else {
                continue;
            };
            let spec = j.job.spec.as_ref();
            let completions = spec.and_then(|s| s.completions).unwrap_or(1);
            let parallelism = spec.and_then(|s| s.parallelism).unwrap_or(1);
            let wanted = (completions - j.succeeded - running).min(parallelism - running);
            let template = spec.map(|s| s.template.clone()).unwrap_or_default();
            let owner = bw::owner_of("batch/v1", "Job", &j.job.metadata);
            for _ in 0..wanted.max(0) {
                let name = format!("{}-{}", key.1, self.suffix(5));
                let pod = (key.0.clone(), name);
                let owner = owner.clone();
                self.spawn_pod(&pod, &template, (Owner::Job(key.1.clone()), owner), None);
            }
        }
    }
}

impl PodSim {
    /// A job pod that has not finished yet.
    fn running_job_pod(&self) -> bool {
        let phase = self.pod.status.as_ref().and_then(|s| s.phase.as_deref());
        !matches!(phase, Some("Succeeded" | "Failed"))
    }
}
