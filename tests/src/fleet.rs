//! Many verifying clients at once: WebSocket clients that resume after any close and polling
//! clients, all through one address (nginx), and the check that each ends with exactly the
//! simulated cluster's state.

use crate::client_state::ClientState;
use crate::expected::{cluster_state, compared_kinds};
use crate::poll_client::PollClient;
use crate::resuming_client::ResumingClient;
use kubecast_sim::SimCluster;
use std::time::Duration;
use tokio::time::Instant;

pub struct Fleet {
    pub ws: Vec<ResumingClient>,
    pub poll: Vec<PollClient>,
}

impl Fleet {
    /// `ws` resuming WebSocket clients and `poll` polling clients on `addr`, unfiltered.
    pub fn start(addr: &str, ws: usize, poll: usize) -> Self {
        Self {
            ws: (0..ws).map(|_| ResumingClient::start(addr, "")).collect(),
            poll: (0..poll)
                .map(|_| PollClient::start(addr, "", true))
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.ws.len() + self.poll.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every client's current state.
    pub fn states(&self) -> Vec<ClientState> {
        let ws = self.ws.iter().map(ResumingClient::state);
        ws.chain(self.poll.iter().map(PollClient::state)).collect()
    }

    /// Adds `n` hybrid clients on `addr` (WebSocket plus a poll every `every`).
    pub fn add_hybrid(&mut self, addr: &str, n: usize, every: Duration) {
        self.ws
            .extend((0..n).map(|_| ResumingClient::start_hybrid(addr, every)));
    }

    /// Adds `n` resuming WebSocket clients on `addr` (e.g. behind a chaos proxy).
    pub fn add_ws(&mut self, addr: &str, n: usize) {
        self.ws
            .extend((0..n).map(|_| ResumingClient::start(addr, "")));
    }

    /// Adds `n` resuming WebSocket clients on `addr` that replace a socket only after `silence`.
    pub fn add_ws_with_silence(&mut self, addr: &str, n: usize, silence: Duration) {
        self.ws
            .extend((0..n).map(|_| ResumingClient::start_with_silence(addr, "", silence)));
    }

    /// How many clients do not yet hold exactly the cluster's objects.
    pub fn diverging(&self, cluster: &SimCluster) -> usize {
        let expected = cluster_state(cluster);
        let kinds = compared_kinds();
        let ws = self
            .ws
            .iter()
            .filter(|c| !c.holds_exactly(&expected, &kinds));
        let poll = self
            .poll
            .iter()
            .filter(|c| !c.holds_exactly(&expected, &kinds));
        ws.count() + poll.count()
    }

    /// Waits until every client holds the cluster's objects; returns how long that took.
    /// Panics after `within`, saying how many clients still differ.
    pub async fn converge(&self, cluster: &SimCluster, within: Duration) -> Duration {
        let start = Instant::now();
        let mut next_report = Duration::from_secs(5);
        loop {
            let diverging = self.diverging(cluster);
            if diverging == 0 {
                return start.elapsed();
            }
            if start.elapsed() > next_report {
                eprintln!(
                    "{diverging} of {} clients still differ after {next_report:?}",
                    self.len()
                );
                next_report += Duration::from_secs(5);
            }
            assert!(
                start.elapsed() < within,
                "{diverging} of {} clients still differ from the cluster after {within:?}",
                self.len()
            );
            // Comparing every client with the cluster costs CPU the clients need: a big fleet is
            // checked less often.
            let every = 50 + self.len() as u64 / 2;
            tokio::time::sleep(Duration::from_millis(every)).await;
        }
    }

    /// Stops every client; returns their final states.
    pub async fn stop(self) -> Vec<ClientState> {
        let mut states = Vec::with_capacity(self.len());
        for client in self.ws {
            states.push(client.stop().await);
        }
        for client in self.poll {
            states.push(client.stop().await);
        }
        states
    }
}
