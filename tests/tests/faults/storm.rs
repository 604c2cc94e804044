//! Every replica killed at once, then restarted together: all clients come back in one storm.
//! Admission control (`--max-concurrent-joins`) queues their catch-ups, so memory stays bounded,
//! and everyone resumes.

use crate::support::closes;
use kubecast_tests::procs::child::rss_of;
use kubecast_tests::procs::deployment::Options;
use kubecast_tests::procs::fanout::default_flags;
use kubecast_tests::procs::scenario::Scenario;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const WS_CLIENTS: usize = 300;
const POLL_CLIENTS: usize = 10;
const MAX_CONCURRENT_JOINS: usize = 8;
/// A replica serving a few hundred clients of a small cluster stays far below this.
const RSS_BOUND: u64 = 256 << 20;

/// How many sessions the replicas closed for `reason` since they restarted.
async fn closes_by_all(s: &Scenario, reason: &str) -> f64 {
    let mut total = 0.0;
    for fanout in &s.deployment.fanouts {
        total += closes(&fanout.addr, reason).await;
    }
    total
}

/// Samples the replicas' resident memory every 50 ms until `stop`; returns the peak.
fn sample_peak_rss(pids: Vec<u32>, stop: CancellationToken) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut peak = 0;
        while !stop.is_cancelled() {
            for pid in &pids {
                peak = peak.max(rss_of(*pid));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        peak
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_storm_of_every_client_is_admitted_in_bounded_memory() {
    let mut fanout_flags = default_flags();
    fanout_flags.extend([
        "--max-concurrent-joins".into(),
        MAX_CONCURRENT_JOINS.to_string(),
    ]);
    let options = Options {
        fanout_flags,
        ..Options::default()
    };
    let mut s = Scenario::start("13-reconnect-storm", options, WS_CLIENTS, POLL_CLIENTS).await;
    s.churn_for(Duration::from_secs(1)).await;
    for i in 0..3 {
        s.deployment.kill_replica(i);
    }
    s.churn_for(Duration::from_secs(2)).await;
    s.deployment.restart_replicas_together(&[0, 1, 2]).await;
    let pids = s.deployment.fanouts.iter().map(|f| f.proc.pid()).collect();
    let stop_sampling = CancellationToken::new();
    let peak = sample_peak_rss(pids, stop_sampling.clone());
    let converged = s.end_fault().await;
    stop_sampling.cancel();
    let peak = peak.await.expect("sampler");
    assert!(peak < RSS_BOUND, "peak replica RSS {peak} B stays bounded");
    for state in s.fleet.states() {
        assert_eq!(state.resets, 0, "every client resumed from its position");
    }
    let (by_ping, as_slow) = (
        closes_by_all(&s, "ping_timeout").await,
        closes_by_all(&s, "too_slow").await,
    );
    let notes = format!(
        "{} clients back in {:.2} s; peak replica RSS {:.0} MiB; joins admitted {} at a time; closed again meanwhile: {by_ping} for ping timeout, {as_slow} as too slow",
        s.fleet.len(),
        converged.as_secs_f64(),
        peak as f64 / f64::from(1 << 20),
        MAX_CONCURRENT_JOINS
    );
    s.finish_noted(
        "Reconnect storm",
        "all 3 replicas SIGKILLed during churn, restarted together 2 s later",
        notes,
    )
    .await;
}
