//! Cluster churn in the background: one simulated-cluster step every `every` until stopped.

use kubecast_sim::SimCluster;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct BackgroundChurn {
    stop: CancellationToken,
    task: JoinHandle<u64>,
}

impl BackgroundChurn {
    pub fn start(cluster: SimCluster, every: Duration) -> Self {
        let stop = CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let mut steps = 0;
            while !token.is_cancelled() {
                cluster.step();
                steps += 1;
                tokio::time::sleep(every).await;
            }
            steps
        });
        Self { stop, task }
    }

    /// Stops churning; returns the number of steps taken.
    pub async fn stop(self) -> u64 {
        self.stop.cancel();
        self.task.await.expect("the churn task")
    }
}

/// `n` churn steps, 15 ms apart (so watch events spread over debounce windows).
pub async fn steps(cluster: &SimCluster, n: usize) {
    for _ in 0..n {
        cluster.step();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}
