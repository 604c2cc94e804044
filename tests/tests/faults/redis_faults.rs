//! Redis lost, rolled back or unreachable.

use crate::support::{KeysCopy, log_epoch, log_head, replica_head, scenario_epoch, time_until};
use kubecast_tests::procs::deployment::Options;
use kubecast_tests::procs::scenario::Scenario;
use std::time::Duration;

const WS_CLIENTS: usize = 12;
const POLL_CLIENTS: usize = 4;

/// A scenario on the default deployment with this file's clients.
async fn start(id: &str) -> Scenario {
    Scenario::start(id, Options::default(), WS_CLIENTS, POLL_CLIENTS).await
}

async fn every_client_moved_to(scenario: &Scenario, epoch_before: &str) -> String {
    let d = &scenario.deployment;
    let epoch = log_epoch(&d.redis.url, &d.cluster).await;
    assert_ne!(epoch, epoch_before, "the log started a new epoch");
    for state in scenario.fleet.states() {
        assert_eq!(
            state.epoch.as_deref(),
            Some(epoch.as_str()),
            "a client is on the new epoch"
        );
        assert!(state.resets >= 1, "every client was told to reset");
    }
    epoch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_empty_starts_a_new_epoch_and_every_client_resets() {
    let mut s = start("01-redis-wiped").await;
    let epoch = scenario_epoch(&s).await;
    s.churn_for(Duration::from_secs(1)).await;
    s.deployment.redis.restart_empty();
    s.end_fault().await;
    every_client_moved_to(&s, &epoch).await;
    s.finish(
        "Redis killed and restarted (no persistence)",
        "SIGKILL to redis-server during churn; it comes back empty",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_rolled_back_with_the_same_epoch_is_detected_and_starts_a_new_epoch() {
    let mut s = start("02-redis-rolled-back").await;
    let url = s.deployment.redis.url.clone();
    let epoch = log_epoch(&url, &s.deployment.cluster).await;
    let copy = KeysCopy::take(&url, &s.deployment.cluster).await;
    s.churn_for(Duration::from_secs(2)).await;
    // Out of everyone's reach, Redis restarts with the older copy (same epoch, lower head).
    s.deployment.producer_link.cut();
    s.deployment.fanout_link.cut();
    s.deployment.redis.restart_empty();
    copy.restore(&url).await;
    assert_eq!(
        log_epoch(&url, &s.deployment.cluster).await,
        epoch,
        "the copy has the same epoch"
    );
    s.deployment.producer_link.restore();
    s.deployment.fanout_link.restore();
    // The producer finds the head below what it wrote at its next append.
    s.churn_for(Duration::from_millis(500)).await;
    s.end_fault().await;
    every_client_moved_to(&s, &epoch).await;
    s.finish(
        "Redis rolled back to an earlier copy, same epoch",
        "Redis restarted from a copy taken 2 s earlier (DUMP/RESTORE of the cluster's keys)",
    )
    .await;
}

/// Cuts or partitions one component's link to Redis for 10 s during churn. Returns the scenario
/// and a note on where the recovery time goes: how long after the restore the producer wrote
/// again, or every replica served the head the log had at the restore.
async fn unreachable_for_ten_seconds(
    id: &str,
    producer_side: bool,
    partition: bool,
) -> (Scenario, String) {
    let mut s = Scenario::start(id, Options::default(), WS_CLIENTS, POLL_CLIENTS).await;
    let epoch = scenario_epoch(&s).await;
    s.churn_for(Duration::from_secs(1)).await;
    let link = if producer_side {
        &s.deployment.producer_link
    } else {
        &s.deployment.fanout_link
    };
    if partition {
        link.partition();
    } else {
        link.cut();
    }
    s.churn_for(Duration::from_secs(10)).await;
    link.restore();
    let restore = Restore::take(&s).await;
    let backlog = restore.replica_backlog().await;
    let recovery = tokio::spawn(restore.time_return(producer_side));
    s.end_fault().await;
    s.deployment.assert_producer_running();
    for state in s.fleet.states() {
        assert_eq!(state.resets, 0, "no reset: the log continued");
        assert_eq!(state.epoch.as_deref(), Some(epoch.as_str()));
    }
    let recovered = recovery.await.expect("the recovery timer").as_secs_f64();
    let note = if producer_side {
        format!("the producer wrote again {recovered:.2} s after the restore")
    } else {
        format!(
            "every replica served the log's head {recovered:.2} s after the restore ({backlog} events behind at the restore)"
        )
    };
    (s, note)
}

/// What the outage scenarios time the recovery against: the log's head at the restore.
struct Restore {
    url: String,
    cluster: String,
    replicas: Vec<String>,
    head: u64,
}

impl Restore {
    async fn take(s: &Scenario) -> Self {
        let d = &s.deployment;
        let head = log_head(&d.redis.url, &d.cluster).await;
        Self {
            url: d.redis.url.clone(),
            cluster: d.cluster.clone(),
            replicas: d.fanouts.iter().map(|f| f.addr.clone()).collect(),
            head,
        }
    }

    /// How far the furthest-behind replica is from the head.
    async fn replica_backlog(&self) -> u64 {
        let mut backlog = 0;
        for addr in &self.replicas {
            backlog = backlog.max(self.head.saturating_sub(replica_head(addr).await));
        }
        backlog
    }

    /// How long until the component is back: the producer's next append (the log's head
    /// moves), or every replica serving the head.
    async fn time_return(self, producer_side: bool) -> Duration {
        if producer_side {
            time_until(|| async { log_head(&self.url, &self.cluster).await > self.head }).await
        } else {
            time_until(|| async {
                for addr in &self.replicas {
                    if replica_head(addr).await < self.head {
                        return false;
                    }
                }
                true
            })
            .await
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_refusing_the_producer_for_ten_seconds_leaves_no_gap() {
    let (s, note) = unreachable_for_ten_seconds("03-redis-refuses-producer", true, false).await;
    s.finish_noted(
        "Redis unreachable for the producer, 10 s (refused)",
        "proxy closes the producer's connections and refuses new ones",
        note,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_partitioned_from_the_producer_for_ten_seconds_leaves_no_gap() {
    let (s, note) = unreachable_for_ten_seconds("04-redis-partitioned-producer", true, true).await;
    s.finish_noted(
        "Redis unreachable for the producer, 10 s (packets dropped)",
        "proxy holds every byte both ways; connections hang, none close",
        note,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_refusing_the_replicas_for_ten_seconds_leaves_no_gap() {
    let (s, note) = unreachable_for_ten_seconds("05-redis-refuses-replicas", false, false).await;
    s.finish_noted(
        "Redis unreachable for all 3 replicas, 10 s (refused)",
        "proxy closes the replicas' connections and refuses new ones",
        note,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_partitioned_from_the_replicas_for_ten_seconds_leaves_no_gap() {
    let (s, note) = unreachable_for_ten_seconds("06-redis-partitioned-replicas", false, true).await;
    s.finish_noted(
        "Redis unreachable for all 3 replicas, 10 s (packets dropped)",
        "proxy holds every byte both ways; connections hang, none close",
        note,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_rolled_back_while_the_producer_restarts_is_still_detected() {
    let mut s = start("02b-redis-rolled-back-producer-restarted").await;
    let url = s.deployment.redis.url.clone();
    let cluster = s.deployment.cluster.clone();
    let epoch = log_epoch(&url, &cluster).await;
    let copy = KeysCopy::take(&url, &cluster).await;
    s.churn_for(Duration::from_secs(2)).await;
    let head_seen = log_head(&url, &cluster).await;
    // The node fails: Redis comes back from the older copy and the producer restarts, so no
    // writer remembers the lost seqs; the replicas are cut off until the new producer has
    // written past what they hold.
    s.deployment.producer_link.cut();
    s.deployment.fanout_link.cut();
    s.deployment.producer.as_mut().expect("producer").kill();
    s.deployment.redis.restart_empty();
    copy.restore(&url).await;
    s.deployment.producer_link.restore();
    s.deployment.producer = Some(s.deployment.spawn_producer("producer-2", &[]));
    for _ in 0..300 {
        if log_head(&url, &cluster).await > head_seen + 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        log_head(&url, &cluster).await > head_seen,
        "the new producer wrote past the lost seqs"
    );
    s.deployment.fanout_link.restore();
    s.churn_for(Duration::from_millis(500)).await;
    s.end_fault().await;
    every_client_moved_to(&s, &epoch).await;
    s.finish(
        "Redis rolled back and the producer restarted",
        "as above, and the producer killed and replaced meanwhile; replicas cut off until it wrote past their position",
    )
    .await;
}
