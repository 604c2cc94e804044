//! Status of the StatefulSets, DaemonSets, Jobs and CronJobs, derived from their pods each step;
//! only objects whose status changed are emitted.

use k8s_openapi::api::apps::v1::{DaemonSetStatus, StatefulSetStatus};
use k8s_openapi::api::batch::v1::{CronJobStatus, JobCondition, JobStatus};
use k8s_openapi::api::core::v1::ObjectReference;

use super::{Churn, Key, Owner, emit};
use crate::builders;

fn nonzero(n: i32) -> Option<i32> {
    (n > 0).then_some(n)
}

impl Churn {
    /// (active, ready, finished-or-running) pod counts of one owner in one namespace.
    fn owned_counts(&self, ns: &str, owner: &Owner) -> (i32, i32) {
        let mut counts = (0, 0);
        for ((pod_ns, _), p) in &self.pods {
            if pod_ns == ns && p.owner == *owner && p.active() {
                counts.0 += 1;
                counts.1 += i32::from(p.ready);
            }
        }
        counts
    }

    pub(super) fn sync_owned(&mut self) {
        let keys: Vec<Key> = self.stateful_sets.keys().cloned().collect();
        for key in keys {
            let (active, ready) = self.owned_counts(&key.0, &Owner::StatefulSet(key.1.clone()));
            let Some(sts) = self.stateful_sets.get_mut(&key) else {
                continue;
            };
            let status = StatefulSetStatus {
                replicas: active,
                ready_replicas: nonzero(ready),
                available_replicas: nonzero(ready),
                current_replicas: nonzero(active),
                updated_replicas: nonzero(active),
                observed_generation: sts.metadata.generation,
                ..StatefulSetStatus::default()
            };
            if sts.status.as_ref() != Some(&status) {
                sts.status = Some(status);
                emit(&mut self.out, "StatefulSet", sts);
            }
        }
        let nodes = i32::try_from(self.nodes.len()).unwrap_or(i32::MAX);
        let keys: Vec<Key> = self.daemon_sets.keys().cloned().collect();
        for key in keys {
            let (active, ready) = self.owned_counts(&key.0, &Owner::DaemonSet(key.1.clone()));
            let Some(ds) = self.daemon_sets.get_mut(&key) else {
                continue;
            };
            let status = DaemonSetStatus {
                desired_number_scheduled: nodes,
                current_number_scheduled: active,
                updated_number_scheduled: Some(active),
                number_ready: ready,
                number_available: nonzero(ready),
                number_unavailable: nonzero(nodes - ready),
                observed_generation: ds.metadata.generation,
                ..DaemonSetStatus::default()
            };
            if ds.status.as_ref() != Some(&status) {
                ds.status = Some(status);
                emit(&mut self.out, "DaemonSet", ds);
            }
        }
        self.sync_jobs();
    }

    fn sync_jobs(&mut self) {
        let now = self.clock;
        let keys: Vec<Key> = self.jobs.keys().cloned().collect();
        for key in &keys {
            let running = self
                .pods
                .iter()
                .filter(|(k, p)| k.0 == key.0 && p.owner == Owner::Job(key.1.clone()))
                .filter(|(_, p)| {
                    let phase = p.pod.status.as_ref().and_then(|s| s.phase.as_deref());
                    !matches!(phase, Some("Succeeded" | "Failed"))
                })
                .count();
            let Some(j) = self.jobs.get_mut(key) else {
                continue;
            };
            let completions = j.job.spec.as_ref().and_then(|s| s.completions).unwrap_or(1);
            if j.succeeded >= completions && j.finished_at.is_none() {
                j.finished_at = Some(now);
            }
            let complete = j.finished_at.map(|t| JobCondition {
                type_: "Complete".into(),
                status: "True".into(),
                last_transition_time: Some(builders::time(t)),
                ..JobCondition::default()
            });
            let status = JobStatus {
                active: nonzero(i32::try_from(running).unwrap_or(i32::MAX)),
                succeeded: nonzero(j.succeeded),
                failed: nonzero(j.failed),
                start_time: j.job.metadata.creation_timestamp.clone(),
                completion_time: j.finished_at.map(builders::time),
                conditions: complete.map(|c| vec![c]),
                ..JobStatus::default()
            };
            if j.job.status.as_ref() != Some(&status) {
                j.job.status = Some(status);
                emit(&mut self.out, "Job", &j.job);
            }
        }
        for (key, c) in &mut self.cron_jobs {
            let active: Vec<ObjectReference> = c
                .jobs
                .iter()
                .filter_map(|name| self.jobs.get(&(key.0.clone(), name.clone())))
                .filter(|j| j.finished_at.is_none())
                .map(|j| ObjectReference {
                    kind: Some("Job".into()),
                    api_version: Some("batch/v1".into()),
                    namespace: j.job.metadata.namespace.clone(),
                    name: j.job.metadata.name.clone(),
                    uid: j.job.metadata.uid.clone(),
                    ..ObjectReference::default()
                })
                .collect();
            let last = c
                .jobs
                .last()
                .and_then(|n| self.jobs.get(&(key.0.clone(), n.clone())));
            let status = CronJobStatus {
                active: (!active.is_empty()).then_some(active),
                last_schedule_time: last.and_then(|j| j.job.metadata.creation_timestamp.clone()),
                last_successful_time: c
                    .jobs
                    .iter()
                    .filter_map(|n| self.jobs.get(&(key.0.clone(), n.clone())))
                    .filter_map(|j| j.finished_at)
                    .max()
                    .map(builders::time),
            };
            if c.cron.status.as_ref() != Some(&status) {
                c.cron.status = Some(status);
                emit(&mut self.out, "CronJob", &c.cron);
            }
        }
    }

    pub(super) fn emit_owned(&mut self) {
        for s in self.stateful_sets.values() {
            emit(&mut self.out, "StatefulSet", s);
        }
        for d in self.daemon_sets.values() {
            emit(&mut self.out, "DaemonSet", d);
        }
        for j in self.jobs.values() {
            emit(&mut self.out, "Job", &j.job);
        }
        for c in self.cron_jobs.values() {
            emit(&mut self.out, "CronJob", &c.cron);
        }
        let keys: Vec<Key> = self.workflows.keys().cloned().collect();
        for key in keys {
            self.emit_workflow(&key);
        }
    }
}
