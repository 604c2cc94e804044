//! One fault scenario from start to row: a [`Deployment`], a [`Fleet`] of verifying clients
//! through nginx, cluster churn while the fault is injected, then convergence, a liveness check
//! and the row for `docs/reliability.md`.

use super::deployment::{Deployment, Options};
use crate::churn::BackgroundChurn;
use crate::fleet::Fleet;
use crate::report::ScenarioRow;
use kubecast_sim::SimCluster;
use std::time::Duration;

/// How long clients may take to converge before the scenario fails.
const CONVERGE_WITHIN: Duration = Duration::from_secs(60);
/// Pause between churn steps while the fault is injected.
const CHURN_EVERY: Duration = Duration::from_millis(10);

pub struct Scenario {
    pub id: String,
    pub deployment: Deployment,
    pub fleet: Fleet,
    churn: Option<BackgroundChurn>,
    converged: Option<Duration>,
}

impl Scenario {
    /// Starts the deployment and `ws` + `poll` clients, waits until they hold the cluster's
    /// state, then starts churning.
    pub async fn start(id: &str, options: Options, ws: usize, poll: usize) -> Self {
        let deployment = Deployment::start(id, options).await;
        let fleet = Fleet::start(deployment.entry(), ws, poll);
        fleet
            .converge(&deployment.sim.cluster, CONVERGE_WITHIN)
            .await;
        let churn = BackgroundChurn::start(deployment.sim.cluster.clone(), CHURN_EVERY);
        Self {
            id: id.to_string(),
            deployment,
            fleet,
            churn: Some(churn),
            converged: None,
        }
    }

    pub fn cluster(&self) -> &SimCluster {
        &self.deployment.sim.cluster
    }

    /// Lets the churn run for `how_long` (before or after a fault).
    pub async fn churn_for(&self, how_long: Duration) {
        tokio::time::sleep(how_long).await;
    }

    /// The fault is over: stops the churn (the cluster's last change) and waits until every
    /// client holds the cluster's state; returns (and keeps, for the row) how long that took.
    pub async fn end_fault(&mut self) -> Duration {
        if let Some(churn) = self.churn.take() {
            churn.stop().await;
        }
        let cluster = self.deployment.sim.cluster.clone();
        let converged = self.fleet.converge(&cluster, CONVERGE_WITHIN).await;
        self.converged = Some(converged);
        converged
    }

    /// Checks the clients still follow new changes and the log is whole, then records the row
    /// (which fails the test on any lost, duplicated or misordered event).
    pub async fn finish(self, scenario: &str, injected: &str) -> ScenarioRow {
        self.finish_noted(scenario, injected, String::new()).await
    }

    /// [`finish`](Self::finish) with notes for the row.
    pub async fn finish_noted(
        mut self,
        scenario: &str,
        injected: &str,
        notes: String,
    ) -> ScenarioRow {
        let converged = match self.converged {
            Some(converged) => converged,
            None => self.end_fault().await,
        };
        let cluster = self.deployment.sim.cluster.clone();
        crate::churn::steps(&cluster, 20).await;
        self.fleet.converge(&cluster, CONVERGE_WITHIN).await;
        self.deployment.assert_log_contiguous().await;
        let states = self.fleet.stop().await;
        let mut row = ScenarioRow::from_clients(&self.id, scenario, injected, &states, converged);
        row.notes = notes;
        row.record();
        row
    }
}
