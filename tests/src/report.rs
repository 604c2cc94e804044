//! One row of `docs/reliability.md` per fault scenario: what was injected, how many events the
//! clients checked and every broken promise they counted. Scenario tests write their row as JSON
//! under `target/reliability/` (or `$KUBECAST_RELIABILITY_DIR`); `scripts/reliability-table.py`
//! turns the rows into the table.

use crate::client_state::ClientState;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// What one scenario did and what its clients saw.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioRow {
    /// File name and sort key, e.g. `03-redis-rollback`.
    pub id: String,
    pub scenario: String,
    pub injected: String,
    pub clients: usize,
    /// Events applied by all clients together (each checked for seq, epoch and object state).
    pub events_checked: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub misordered: u64,
    /// Explicit resets the clients were told about (allowed: they reload, lose nothing).
    pub resets: u64,
    /// From the end of the fault to the last client holding exactly the cluster's state.
    pub converge_ms: u128,
    /// What else the scenario measured (e.g. peak memory in a storm).
    pub notes: String,
}

impl ScenarioRow {
    /// Sums the counters of every client's final state.
    pub fn from_clients(
        id: &str,
        scenario: &str,
        injected: &str,
        clients: &[ClientState],
        converge: Duration,
    ) -> Self {
        let sum = |f: fn(&ClientState) -> u64| clients.iter().map(f).sum::<u64>();
        Self {
            id: id.to_string(),
            scenario: scenario.to_string(),
            injected: injected.to_string(),
            clients: clients.len(),
            events_checked: sum(|c| c.applied),
            lost: sum(|c| c.lost),
            duplicated: sum(|c| c.duplicates),
            misordered: sum(|c| c.misordered),
            resets: sum(|c| c.resets),
            converge_ms: converge.as_millis(),
            notes: String::new(),
        }
    }

    /// True when no client lost, duplicated or reordered an event.
    pub fn is_clean(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.misordered == 0
    }

    /// Prints the row and writes it for the table; panics (failing the test) when it is not clean.
    pub fn record(&self) {
        let json = serde_json::to_string_pretty(self).expect("a row serializes");
        println!("reliability row: {json}");
        let dir = rows_dir();
        std::fs::create_dir_all(&dir).expect("create the reliability rows directory");
        std::fs::write(dir.join(format!("{}.json", self.id)), json).expect("write the row");
        assert!(
            self.is_clean(),
            "{}: a broken promise: {self:?}",
            self.scenario
        );
    }
}

pub fn rows_dir() -> PathBuf {
    match std::env::var_os("KUBECAST_RELIABILITY_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/reliability"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(epoch: &str, seq: u64) -> serde_json::Value {
        json!({"epoch": epoch, "seq": seq, "op": "added", "kind": "Pod", "ns": "a", "name": "p", "obj": {}})
    }

    #[test]
    fn a_row_counts_lost_duplicated_and_misordered_events_apart() {
        let mut client = ClientState::new(true);
        client.apply_snapshot("e", 0, &[], true);
        for seq in [1, 2, 5, 5, 3, 6] {
            client.apply_event(&event("e", seq));
        }
        let row = ScenarioRow::from_clients("x", "x", "x", &[client], Duration::ZERO);
        assert_eq!(
            (row.events_checked, row.lost, row.duplicated, row.misordered),
            (4, 2, 1, 1)
        );
        assert!(!row.is_clean());
    }
}
