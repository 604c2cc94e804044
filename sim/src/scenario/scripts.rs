//! The scenario scripts: each is a function of its own step counter `t` (1, 2, …) over a fixed
//! cycle, acting through the churn model's control surface.

use super::Scenario;
use crate::churn::Churn;

/// Namespace of the scenarios' dedicated objects.
pub(crate) const DEMO_NS: &str = "demo";
/// The namespace the namespace-deletion scenario creates and deletes.
pub(crate) const EPHEMERAL_NS: &str = "ephemeral";

/// HPA replica targets, one per 3 steps: 2 → 10 → 3, then the cycle repeats.
const HPA_TARGETS: &[i32] = &[2, 4, 6, 8, 10, 10, 8, 6, 4, 3, 3];

/// A running scenario.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    scenario: Scenario,
    t: u64,
}

fn key(ns: &str, name: &str) -> (String, String) {
    (ns.to_owned(), name.to_owned())
}

impl Script {
    pub(crate) fn new(scenario: Scenario) -> Self {
        Self { scenario, t: 0 }
    }

    /// Creates the scenario's objects as part of the initial state.
    pub(crate) fn setup(&mut self, churn: &mut Churn) {
        match self.scenario {
            Scenario::RollingUpdate => drop(churn.add_pinned_deployment(DEMO_NS, "rollout", 4)),
            Scenario::Hpa => drop(churn.add_pinned_deployment(DEMO_NS, "hpa", 2)),
            Scenario::CrashLoop => drop(churn.add_pinned_deployment(DEMO_NS, "crasher", 1)),
            Scenario::Jobs => churn.ensure_namespace(DEMO_NS),
            Scenario::NamespaceDeletion => {
                drop(churn.add_pinned_deployment(EPHEMERAL_NS, "temp", 2))
            }
            Scenario::NodeNotReady | Scenario::Random | Scenario::Mixed => {}
        }
    }

    /// One step of the scenario.
    pub(crate) fn step(&mut self, churn: &mut Churn) {
        self.t += 1;
        let t = self.t;
        match self.scenario {
            Scenario::RollingUpdate => {
                let k = key(DEMO_NS, "rollout");
                if t % 30 == 2 {
                    churn.start_rollout(&k);
                } else {
                    churn.rolling_step(&k);
                }
            }
            Scenario::Hpa => {
                let phase = usize::try_from(t / 3).unwrap_or(0) % HPA_TARGETS.len();
                if t.is_multiple_of(3) {
                    churn.scale_to(&key(DEMO_NS, "hpa"), HPA_TARGETS[phase]);
                }
            }
            Scenario::CrashLoop => {
                if t % 3 == 1 {
                    churn.crash(&key(DEMO_NS, "crasher"));
                }
            }
            Scenario::Jobs => {
                let k = key(DEMO_NS, "import");
                match t % 40 {
                    1 => churn.start_job(&k, 5, 2),
                    0 => churn.remove_job(&k),
                    _ => {}
                }
            }
            Scenario::NodeNotReady => {
                let last = churn.node_count();
                match t % 30 {
                    3 => churn.set_node_ready(last, "False"),
                    8 => churn.set_node_ready(last, "Unknown"),
                    15 => churn.set_node_ready(last, "True"),
                    _ => {}
                }
            }
            Scenario::NamespaceDeletion => match t % 30 {
                10 => churn.begin_namespace_deletion(EPHEMERAL_NS),
                11..=20 => drop(churn.namespace_deletion_step(EPHEMERAL_NS)),
                0 => drop(churn.add_pinned_deployment(EPHEMERAL_NS, "temp", 2)),
                _ => {}
            },
            Scenario::Random | Scenario::Mixed => {}
        }
    }
}
