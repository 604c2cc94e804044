//! The mixed-load soak: a churning cluster, WebSocket, polling and hybrid clients through
//! nginx, and one replica restarted over and over (alternately drained and killed) while the
//! others absorb its clients. It reports the RSS drift and open files of the long-lived
//! processes and the clients' loss counters. `KUBECAST_SOAK_SECS` sets its length (45 s in the
//! test suite; `scripts/soak.sh` runs it for hours).

use kubecast_tests::procs::deployment::Options;
use kubecast_tests::procs::drift::{DriftSummary, Track};
use kubecast_tests::procs::scenario::Scenario;
use serde::Serialize;
use std::time::{Duration, Instant};

const DEFAULT_SECS: u64 = 45;
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
const RESTART_EVERY: Duration = Duration::from_secs(15);
const RESTARTED: usize = 2;

fn soak_length() -> Duration {
    let secs = std::env::var("KUBECAST_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SECS);
    Duration::from_secs(secs)
}

/// What `scripts/reliability-table.py` puts in the soak section.
#[derive(Serialize)]
struct SoakReport {
    seconds: u64,
    restarts: u64,
    clients: usize,
    events_checked: u64,
    lost: u64,
    duplicated: u64,
    misordered: u64,
    processes: Vec<DriftSummary>,
}

/// Restarts the rotating replica: even turns drain it (SIGTERM), odd ones kill it.
async fn restart(s: &mut Scenario, turn: u64) {
    if turn.is_multiple_of(2) {
        let replica = &mut s.deployment.fanouts[RESTARTED].proc;
        replica.terminate(Duration::from_secs(15)).await;
    } else {
        s.deployment.kill_replica(RESTARTED);
    }
    s.deployment.restart_replica(RESTARTED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_load_soak_with_replica_restarts_loses_nothing_and_reports_drift() {
    let length = soak_length();
    let mut s = Scenario::start("16-soak", Options::default(), 10, 5).await;
    let entry = s.deployment.entry().to_string();
    s.fleet.add_hybrid(&entry, 15, Duration::from_secs(3));
    let mut tracks = [
        Track::new(
            "producer",
            s.deployment.producer.as_ref().expect("producer").pid(),
        ),
        Track::new("replica-0", s.deployment.fanouts[0].proc.pid()),
        Track::new("replica-1", s.deployment.fanouts[1].proc.pid()),
        Track::new("nginx worker", s.deployment.nginx.worker_pid()),
    ];
    let start = Instant::now();
    let (mut next_sample, mut next_restart, mut restarts) = (Duration::ZERO, RESTART_EVERY, 0);
    while start.elapsed() < length {
        if start.elapsed() >= next_sample {
            tracks.iter_mut().for_each(|t| t.sample(start.elapsed()));
            next_sample += SAMPLE_EVERY;
        }
        if start.elapsed() >= next_restart {
            restart(&mut s, restarts).await;
            restarts += 1;
            next_restart += RESTART_EVERY;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tracks.iter_mut().for_each(|t| t.sample(start.elapsed()));
    s.end_fault().await;
    let processes: Vec<DriftSummary> = tracks.iter().map(Track::summary).collect();
    let merged: u64 = s.fleet.states().iter().map(|c| c.via_poll).sum();
    let row = s
        .finish_noted(
            "Soak: mixed load",
            &format!(
                "{} s of churn; replica-2 drained or killed every 15 s ({restarts} restarts); WebSocket, polling and hybrid clients",
                length.as_secs()
            ),
            format!("{merged} events reached hybrid clients first by poll; drift below"),
        )
        .await;
    let report = SoakReport {
        seconds: length.as_secs(),
        restarts,
        clients: row.clients,
        events_checked: row.events_checked,
        lost: row.lost,
        duplicated: row.duplicated,
        misordered: row.misordered,
        processes,
    };
    let json = serde_json::to_string_pretty(&report).expect("soak report");
    println!("soak report: {json}");
    let path = kubecast_tests::report::rows_dir().join("soak");
    std::fs::create_dir_all(&path).expect("soak dir");
    std::fs::write(path.join("summary.json"), json).expect("write the soak report");
}
