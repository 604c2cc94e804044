//! HA and outage behaviour against real components: the simulated API server over HTTP (for
//! watches and the Lease) and a private `redis-server` per test (killed, restarted, or cut off
//! behind a TCP proxy).

mod support;

use kubecast_producer::ProducerConfig;
use kubecast_producer::lease::{FENCE_BASE, LeaseConfig, Pause};
use kubecast_shared::testing::{RedisServer, unique_cluster};
use std::time::Duration;
use support::*;

fn elected(identity: &str) -> ProducerConfig {
    ProducerConfig {
        lease: Some(LeaseConfig {
            namespace: "default".into(),
            name: "kubecast-producer".into(),
            identity: identity.into(),
            duration: Duration::from_secs(1),
            renew_every: Duration::from_millis(200),
        }),
        ..fast()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_publishes_and_a_follower_takes_over_with_a_higher_fence() {
    let redis = RedisServer::spawn();
    let cluster_name = unique_cluster("ha");
    let (sim, stop_sim) = sim().await;
    let log = log(&redis.url, &cluster_name);

    let a = spawn(&sim.url, log.clone(), elected("a"));
    eventually(10, "a leads", async || a.stats.leader.get() == 1).await;
    let b = spawn(&sim.url, log.clone(), elected("b"));
    converge(&log, &sim.cluster).await;
    for _ in 0..5 {
        sim.cluster.step();
    }
    converge(&log, &sim.cluster).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(b.stats.leader.get(), 0, "b follows");
    assert_eq!(
        b.stats.events_published.get(),
        0,
        "a follower never publishes"
    );
    let before = meta(&log).await;
    assert_eq!(before.fence, FENCE_BASE, "first generation");
    assert_eq!(before.seq.0, a.stats.events_published.get());

    a.cancel.cancel();
    a.task.await.expect("joins").expect("a stops cleanly");
    for _ in 0..5 {
        sim.cluster.step();
    }
    eventually(10, "b takes over", async || b.stats.leader.get() == 1).await;
    converge(&log, &sim.cluster).await;
    let after = meta(&log).await;
    assert!(
        after.fence > before.fence,
        "the new leader's fence is higher"
    );
    assert_eq!(after.epoch, before.epoch, "a takeover continues the epoch");
    assert!(after.seq > before.seq);
    assert_eq!(b.stats.epochs_started.get(), 0);
    assert_contiguous(&log).await;

    b.cancel.cancel();
    b.task.await.expect("joins").expect("b stops cleanly");
    stop_sim.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_stops_hands_the_lease_over_without_waiting_for_it_to_expire() {
    let redis = RedisServer::spawn();
    let (sim, stop_sim) = sim().await;
    let log = log(&redis.url, &unique_cluster("ha-release"));
    let long_lease = |identity: &str| {
        let mut config = elected(identity);
        if let Some(lease) = &mut config.lease {
            lease.duration = Duration::from_secs(60);
        }
        config
    };
    let a = spawn(&sim.url, log.clone(), long_lease("a"));
    eventually(10, "a leads", async || a.stats.leader.get() == 1).await;
    let b = spawn(&sim.url, log.clone(), long_lease("b"));
    converge(&log, &sim.cluster).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(b.stats.leader.get(), 0, "b follows while a holds the lease");

    let stopped = std::time::Instant::now();
    a.cancel.cancel();
    a.task.await.expect("joins").expect("a stops cleanly");
    eventually(10, "b takes over", async || b.stats.leader.get() == 1).await;
    let took = stopped.elapsed();
    assert!(
        took < Duration::from_secs(30),
        "took {took:?}: the lease was not released"
    );
    sim.cluster.step();
    converge(&log, &sim.cluster).await;
    assert_contiguous(&log).await;
    b.cancel.cancel();
    b.task.await.expect("joins").expect("b stops cleanly");
    stop_sim.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_leader_that_resumes_after_a_takeover_is_refused_and_steps_down() {
    let redis = RedisServer::spawn();
    let cluster_name = unique_cluster("pause");
    let (sim, stop_sim) = sim().await;
    let log = log(&redis.url, &cluster_name);
    let pause = Pause::default();

    let a = spawn(
        &sim.url,
        log.clone(),
        ProducerConfig {
            pause: Some(pause.clone()),
            ..elected("a")
        },
    );
    eventually(10, "a leads", async || a.stats.leader.get() == 1).await;
    converge(&log, &sim.cluster).await;
    let b = spawn(&sim.url, log.clone(), elected("b"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fence_a = meta(&log).await.fence;

    // Freeze a (renewals and the publish path), with a change in flight so its publish loop
    // stops right before an append, as a long GC pause would.
    pause.pause();
    eventually(10, "a change waits in a's publish path", async || {
        sim.cluster.step();
        tokio::time::sleep(Duration::from_millis(150)).await;
        a.stats.pending.get() > 0 && expected(&sim.cluster) != snapshot(&log).await
    })
    .await;
    let published_by_a = a.stats.events_published.get();
    eventually(10, "b takes over", async || b.stats.leader.get() == 1).await;
    eventually(10, "b claims the log", async || {
        meta(&log).await.fence > fence_a
    })
    .await;
    converge(&log, &sim.cluster).await;

    let failures = a.stats.log_failures.get();
    pause.resume();
    eventually(10, "a steps down", async || a.stats.leader.get() == 0).await;
    for _ in 0..3 {
        sim.cluster.step();
    }
    converge(&log, &sim.cluster).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        a.stats.events_published.get(),
        published_by_a,
        "a never wrote after the pause"
    );
    assert_eq!(
        a.stats.log_failures.get(),
        failures + 1,
        "its one append was refused"
    );
    assert!(
        !a.task.is_finished(),
        "a stale leader steps down instead of exiting"
    );
    assert_eq!(b.stats.leader.get(), 1);
    assert_contiguous(&log).await;

    for p in [a, b] {
        p.cancel.cancel();
        p.task.await.expect("joins").expect("stops cleanly");
    }
    stop_sim.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_without_data_starts_a_new_epoch_without_gaps() {
    let mut redis = RedisServer::spawn();
    let cluster_name = unique_cluster("restart");
    let (sim, stop_sim) = sim().await;
    let log = log(&redis.url, &cluster_name);
    let p = spawn(&sim.url, log.clone(), fast());
    converge(&log, &sim.cluster).await;
    let first = meta(&log).await;

    redis.kill();
    for _ in 0..5 {
        sim.cluster.step();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.restart_empty();
    sim.cluster.step();
    converge(&log, &sim.cluster).await;
    let second = meta(&log).await;
    assert_ne!(second.epoch, first.epoch, "the log was lost: a new epoch");
    assert_eq!(p.stats.epochs_started.get(), 2);
    assert_contiguous(&log).await;

    p.cancel.cancel();
    p.task.await.expect("joins").expect("stops cleanly");
    stop_sim.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_unreachable_at_start_and_later_loses_nothing_and_repeats_nothing() {
    let redis = RedisServer::spawn();
    let proxy = Proxy::start(redis.port).await;
    let cluster_name = unique_cluster("cut");
    let (sim, stop_sim) = sim().await;
    let log = log(&proxy.url, &cluster_name);

    proxy.cut();
    let p = spawn(&sim.url, log.clone(), fast());
    eventually(10, "watching while Redis is down", async || {
        p.stats.watch_events.get() > 0
    })
    .await;
    for _ in 0..3 {
        sim.cluster.step();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.restore();
    converge(&log, &sim.cluster).await;
    let first = meta(&log).await;

    for round in 0..3 {
        proxy.cut();
        for _ in 0..4 {
            sim.cluster.step();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(200 * (round + 1))).await;
        proxy.restore();
        converge(&log, &sim.cluster).await;
    }
    let last = meta(&log).await;
    assert_eq!(last.epoch, first.epoch, "same data: the epoch continues");
    assert!(p.stats.log_failures.get() > 0, "the outages were noticed");
    assert_eq!(p.stats.epochs_started.get(), 1);
    let events = assert_contiguous(&log).await;
    assert_eq!(events.len() as u64, p.stats.events_published.get());

    p.cancel.cancel();
    p.task.await.expect("joins").expect("stops cleanly");
    stop_sim.cancel();
}
