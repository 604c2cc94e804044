//! Scenarios: named, deterministic scripts layered on the churn generator, selectable by flag
//! (`--scenario rolling-update,hpa`) and drivable step by step from tests through
//! `SimCluster::step`. Each scenario works on its own objects (namespace `demo`, or `ephemeral`
//! for namespace deletion, or the last node) so they interleave without interfering, and repeats
//! on a fixed cycle so a long demo keeps showing it. `random` is today's random churn; `mixed` is
//! every scenario plus random churn (the default).

mod scripts;

use std::fmt;
use std::str::FromStr;

pub(crate) use scripts::Script;

/// One selectable scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Random churn only: scaling, rollouts, restarts, heartbeats.
    Random,
    /// Deployment `demo/rollout` rolls to a new ReplicaSet, pods replaced one by one.
    RollingUpdate,
    /// Deployment `demo/hpa` scales 2 → 10 → 3 in steps.
    Hpa,
    /// Deployment `demo/crasher`'s container goes CrashLoopBackOff, Ready flapping.
    CrashLoop,
    /// Job `demo/import` (completions 5, parallelism 2) runs to 5 succeeded, one pod failing once.
    Jobs,
    /// The last node goes NotReady, then Unknown, then recovers; its pods follow.
    NodeNotReady,
    /// Namespace `ephemeral` goes Terminating, its objects are deleted, then the Namespace.
    NamespaceDeletion,
    /// All of the above interleaved with random churn.
    Mixed,
}

impl Scenario {
    /// Every scenario, in flag-name order.
    pub const ALL: [Self; 8] = [
        Self::Random,
        Self::RollingUpdate,
        Self::Hpa,
        Self::CrashLoop,
        Self::Jobs,
        Self::NodeNotReady,
        Self::NamespaceDeletion,
        Self::Mixed,
    ];

    /// The flag name, e.g. `rolling-update`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Random => "random",
            Self::RollingUpdate => "rolling-update",
            Self::Hpa => "hpa",
            Self::CrashLoop => "crashloop",
            Self::Jobs => "jobs",
            Self::NodeNotReady => "node-not-ready",
            Self::NamespaceDeletion => "namespace-deletion",
            Self::Mixed => "mixed",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown scenario name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown scenario {0:?} (expected one of: random, rolling-update, hpa, crashloop, jobs, node-not-ready, namespace-deletion, mixed)"
)]
pub struct UnknownScenario(pub String);

impl FromStr for Scenario {
    type Err = UnknownScenario;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|sc| sc.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownScenario(s.to_owned()))
    }
}

/// Whether random churn runs alongside the selected scenarios.
pub(crate) fn wants_random(selected: &[Scenario]) -> bool {
    selected
        .iter()
        .any(|s| matches!(s, Scenario::Random | Scenario::Mixed))
}

/// The scripts to run for a selection (`mixed` expands to every scripted scenario), each once.
pub(crate) fn scripts(selected: &[Scenario]) -> Vec<Script> {
    let mut out: Vec<Scenario> = Vec::new();
    for s in selected {
        let expanded: &[Scenario] = match s {
            Scenario::Mixed => &Scenario::ALL[1..7],
            Scenario::Random => &[],
            one => std::slice::from_ref(one),
        };
        for e in expanded {
            if !out.contains(e) {
                out.push(*e);
            }
        }
    }
    out.into_iter().map(Script::new).collect()
}

#[cfg(test)]
mod tests;
