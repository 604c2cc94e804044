//! Kubecast producer: watch the cluster → project each object (`project`) → keep latest and
//! published state (`index`, pure) → debounce per object (`debounce`, pure) → append sequenced
//! events and the snapshot to the event log (`publish`). `driver` sequences these in time;
//! `watch` and the kind table (`kinds`) connect them to Kubernetes.
//!
//! Only the watchers and [`run`] touch Kubernetes; everything after the watch channel can be
//! driven by hand ([`driver::run_inputs`]) and is tested without a cluster.

pub mod aggregate;
pub mod config;
pub mod deadlines;
pub mod debounce;
pub mod driver;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod index;
pub mod input;
pub mod kinds;
pub mod lazy_log;
pub mod lease;
pub mod metrics;
pub mod project;
pub mod publish;
pub mod stats;
pub mod watch;
pub mod watchers;

pub use config::{ProducerArgs, ProducerConfig};
pub use error::{ProducerError, Result};
pub use index::project_all;
pub use input::Input;
pub use lazy_log::LazyLog;
pub use project::{Projection, project_value};
pub use stats::ProducerStats;

use kubecast_shared::log::EventLog;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Room for watch inputs between the watchers and the index task; a full channel pauses the
/// watchers (back-pressure) rather than growing memory.
const INPUT_CAPACITY: usize = 1024;

/// Runs the producer until `cancel` fires or it cannot go on (another producer took over, or
/// every watcher stopped).
pub async fn run(
    client: kube::Client,
    log: impl EventLog,
    config: ProducerConfig,
    cancel: CancellationToken,
) -> Result<()> {
    run_with_stats(client, log, config, ProducerStats::default(), cancel).await
}

/// [`run`], counting into `stats`.
pub async fn run_with_stats(
    client: kube::Client,
    log: impl EventLog,
    config: ProducerConfig,
    stats: ProducerStats,
    cancel: CancellationToken,
) -> Result<()> {
    let (tx, rx) = mpsc::channel(INPUT_CAPACITY);
    let watchers = TaskTracker::new();
    let stop_watchers = cancel.child_token();
    // Not a child of `cancel`: the lease is released only after the driver stopped appending.
    let stop_election = CancellationToken::new();
    let scopes = match watchers::spawn_watchers(
        &client,
        &config.watch,
        &tx,
        &stats,
        &stop_watchers,
        &watchers,
    )
    .await
    {
        Ok(scopes) => scopes,
        Err(e) => {
            stop_watchers.cancel();
            return Err(e);
        }
    };
    watchers.close();
    drop(tx);
    let leadership = match &config.lease {
        None => {
            lease::Leadership::fixed(config.fence.unwrap_or_else(kubecast_shared::time::now_ms))
        }
        Some(lease_config) => {
            let (role_tx, role_rx) = tokio::sync::watch::channel(lease::Role::Follower);
            let (refused_tx, refused_rx) = tokio::sync::watch::channel(0);
            watchers.reopen();
            watchers.spawn(lease::elect(
                client.clone(),
                lease_config.clone(),
                config.pause.clone(),
                role_tx,
                refused_rx,
                stats.clone(),
                stop_election.clone(),
            ));
            watchers.close();
            lease::Leadership {
                role: role_rx,
                refused_by: refused_tx,
                elected: true,
            }
        }
    };
    let result = driver::run_led(log, config, stats, scopes, rx, leadership, cancel).await;
    // The driver has stopped appending: now the elector may hand the lease back.
    stop_election.cancel();
    stop_watchers.cancel();
    watchers.wait().await;
    result
}
