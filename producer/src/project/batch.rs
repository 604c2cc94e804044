//! Job and CronJob projections: a job's task progress (active/succeeded/failed out of
//! `completions`) and outcome; a cronjob's schedule, suspension, active job count and last
//! schedule time. A Job carries its CronJob as direct controller, so pods of scheduled jobs
//! resolve to the CronJob (Pod → Job → CronJob).

use super::{Project, Projection, from_meta};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use serde_json::json;

impl Project for Job {
    const KIND: &'static str = "Job";

    fn project(&self) -> Option<Projection> {
        project_job(self)
    }
}

impl Project for CronJob {
    const KIND: &'static str = "CronJob";

    fn project(&self) -> Option<Projection> {
        project_cron_job(self)
    }
}

/// Projects a job. `completions` is `null` for a work-queue job (any success completes it);
/// `state` is `Complete`, `Failed` (from the job's conditions) or `Running`.
pub fn project_job(job: &Job) -> Option<Projection> {
    let status = job.status.as_ref();
    let condition = |type_: &str| {
        status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
    };
    let state = if condition("Complete") {
        "Complete"
    } else if condition("Failed") {
        "Failed"
    } else {
        "Running"
    };
    let obj = json!({
        "active": status.and_then(|s| s.active).unwrap_or(0),
        "succeeded": status.and_then(|s| s.succeeded).unwrap_or(0),
        "failed": status.and_then(|s| s.failed).unwrap_or(0),
        "completions": job.spec.as_ref().and_then(|s| s.completions),
        "state": state,
    });
    from_meta(Job::KIND, &job.metadata, obj)
}

/// Projects a cronjob; `lastSchedule` is the RFC 3339 time of the last scheduled run or `null`.
pub fn project_cron_job(cj: &CronJob) -> Option<Projection> {
    let spec = cj.spec.as_ref();
    let status = cj.status.as_ref();
    let obj = json!({
        "schedule": spec.map(|s| s.schedule.clone()),
        "suspend": spec.and_then(|s| s.suspend).unwrap_or(false),
        "active": status.and_then(|s| s.active.as_ref()).map_or(0, Vec::len),
        "lastSchedule": status.and_then(|s| s.last_schedule_time.as_ref()).map(|t| t.0.to_string()),
    });
    from_meta(CronJob::KIND, &cj.metadata, obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn jobs_project_task_progress_and_their_cronjob_owner() {
        let job = fixtures::job("batch", "report-1", Some("report"), 5, 2, 1);
        let p = project_job(&job).expect("projects");
        assert_eq!(p.key(), "Job/batch/report-1");
        assert_eq!(
            p.obj,
            json!({"active": 2, "succeeded": 1, "failed": 0, "completions": 5, "state": "Running",
                   "owner": {"kind": "CronJob", "name": "report"}})
        );
    }

    #[test]
    fn cronjobs_project_schedule_suspension_and_active_count() {
        let p = project_cron_job(&fixtures::cron_job("batch", "report")).expect("projects");
        assert_eq!(
            p.obj,
            json!({"schedule": "*/5 * * * *", "suspend": false, "active": 1, "lastSchedule": null})
        );
    }
}
