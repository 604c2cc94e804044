//! Contract tests run against both log implementations (Redis on a private `redis-server`, over
//! plain TCP and over TLS, through Redis Sentinel and on a Redis Cluster).

use super::tls_redis::TlsRedis;
use super::*;
use crate::protocol::{Event, Op};
use crate::testing::{RedisClusterNodes, RedisServer, SentinelSet, unique_cluster};

fn event(epoch: &Epoch, seq: u64, name: &str, op: Op) -> AppendEntry {
    let ev = Event {
        seq: Seq(seq),
        epoch: epoch.clone(),
        ts: 1,
        op,
        kind: "Pod".into(),
        ns: "shop".into(),
        name: name.into(),
        uid: String::new(),
        obj: Some(serde_json::json!({"n": seq})),
    };
    let key = ev.key();
    let snapshot = if op == Op::Deleted {
        SnapshotChange::Delete(key)
    } else {
        SnapshotChange::Put(key)
    };
    AppendEntry {
        seq: Seq(seq),
        raw: ev.encode(),
        ns: ev.ns,
        kind: ev.kind,
        snapshot,
    }
}

fn batch(epoch: &Epoch, fence: Fence, head: u64, entries: Vec<AppendEntry>) -> AppendBatch {
    AppendBatch {
        fence,
        epoch: epoch.clone(),
        expected_head: Seq(head),
        entries,
    }
}

async fn with_logs<F, Fut>(max_len: usize, check: F)
where
    F: Fn(AnyLog) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    check(AnyLog::Memory(MemoryLog::new(max_len))).await;
    let server = RedisServer::start();
    let log = RedisLog::connect(&server.url, &unique_cluster("conf"), max_len)
        .await
        .expect("connect");
    check(AnyLog::Redis(log)).await;
    let tls = TlsRedis::spawn();
    let log = RedisLog::connect(&tls.insecure_url(), &unique_cluster("conf-tls"), max_len)
        .await
        .expect("connect over TLS");
    check(AnyLog::Redis(log)).await;
    let sentinel = SentinelSet::start();
    let log = RedisLog::connect(&sentinel.url(), &unique_cluster("conf-sentinel"), max_len)
        .await
        .expect("connect through Sentinel");
    check(AnyLog::Redis(log)).await;
    let cluster = RedisClusterNodes::start();
    let log = RedisLog::connect(&cluster.url(), &unique_cluster("conf-cluster"), max_len)
        .await
        .expect("connect to the Redis Cluster");
    check(AnyLog::Redis(log)).await;
}

#[tokio::test]
async fn tls_verifies_the_server_certificate_unless_told_not_to() {
    let tls = TlsRedis::spawn();
    let untrusted = RedisLog::connect(&tls.verified_url(), "tls", 10).await;
    assert!(
        untrusted.is_err(),
        "a self-signed certificate is not trusted by default"
    );
    let plain = format!("redis://127.0.0.1:{}/", tls.port);
    let refused = async { RedisLog::connect(&plain, "tls", 10).await?.meta().await };
    assert!(refused.await.is_err(), "plain text to a TLS port fails");
    let log = RedisLog::connect(&tls.insecure_url(), "tls", 10)
        .await
        .expect("connect");
    assert!(log.meta().await.expect("meta over TLS").is_none());
}

#[tokio::test]
async fn appended_events_read_back_in_order_with_the_snapshot() {
    with_logs(1000, |log| async move {
        assert!(log.meta().await.expect("meta").is_none());
        let ep = Epoch::generate();
        log.create_epoch(&ep, 1).await.expect("epoch");
        let entries = vec![event(&ep, 1, "a", Op::Added), event(&ep, 2, "b", Op::Added)];
        assert_eq!(
            log.append(&batch(&ep, 1, 0, entries))
                .await
                .expect("append"),
            Seq(2)
        );
        log.append(&batch(&ep, 1, 2, vec![event(&ep, 3, "a", Op::Deleted)]))
            .await
            .expect("append");
        let page = log.read_range(Seq(1), 10).await.expect("range");
        assert_eq!(page.meta.seq, Seq(3));
        assert_eq!(page.oldest, Some(Seq(1)));
        let seqs: Vec<u64> = page.events.iter().map(|e| e.seq().0).collect();
        assert_eq!(seqs, vec![2, 3]);
        let snap = log.snapshot().await.expect("snapshot");
        let names: Vec<_> = snap.objects.iter().map(|o| o.head.name.clone()).collect();
        assert_eq!(names, vec!["b".to_string()]);
        assert_eq!(snap.meta.seq, Seq(3));
    })
    .await;
}

#[tokio::test]
async fn a_stale_fence_is_refused_and_a_newer_one_takes_over() {
    with_logs(1000, |log| async move {
        let ep = Epoch::generate();
        log.create_epoch(&ep, 5).await.expect("epoch");
        let stale = log
            .append(&batch(&ep, 4, 0, vec![event(&ep, 1, "a", Op::Added)]))
            .await;
        assert!(
            matches!(
                stale,
                Err(LogError::StaleFence {
                    ours: 4,
                    current: 5
                })
            ),
            "{stale:?}"
        );
        log.append(&batch(&ep, 6, 0, vec![event(&ep, 1, "a", Op::Added)]))
            .await
            .expect("newer");
        let old = log
            .append(&batch(&ep, 5, 1, vec![event(&ep, 2, "a", Op::Updated)]))
            .await;
        assert!(
            matches!(old, Err(LogError::StaleFence { current: 6, .. })),
            "{old:?}"
        );
        assert!(matches!(
            log.create_epoch(&Epoch::generate(), 5).await,
            Err(LogError::StaleFence { .. })
        ));
        assert_eq!(log.meta().await.expect("meta").expect("exists").seq, Seq(1));
    })
    .await;
}

#[tokio::test]
async fn a_wrong_expected_head_or_seq_is_refused_and_nothing_is_written() {
    with_logs(1000, |log| async move {
        let ep = Epoch::generate();
        log.create_epoch(&ep, 1).await.expect("epoch");
        log.append(&batch(&ep, 1, 0, vec![event(&ep, 1, "a", Op::Added)]))
            .await
            .expect("append");
        let replay = log
            .append(&batch(&ep, 1, 0, vec![event(&ep, 1, "a", Op::Added)]))
            .await;
        assert!(
            matches!(replay, Err(LogError::HeadMismatch { actual: Seq(1), .. })),
            "{replay:?}"
        );
        let gap = log
            .append(&batch(&ep, 1, 1, vec![event(&ep, 3, "a", Op::Updated)]))
            .await;
        assert!(matches!(gap, Err(LogError::NonContiguous)), "{gap:?}");
        let other = Epoch::generate();
        let wrong_epoch = log
            .append(&batch(
                &other,
                1,
                1,
                vec![event(&other, 2, "a", Op::Updated)],
            ))
            .await;
        assert!(
            matches!(wrong_epoch, Err(LogError::EpochMismatch { .. })),
            "{wrong_epoch:?}"
        );
        let page = log.read_range(Seq(0), 10).await.expect("range");
        assert_eq!(page.events.len(), 1, "refused appends wrote nothing");
    })
    .await;
}

#[tokio::test]
async fn a_new_epoch_drops_the_previous_log_and_snapshot() {
    with_logs(1000, |log| async move {
        let ep = Epoch::generate();
        log.create_epoch(&ep, 1).await.expect("epoch");
        log.append(&batch(&ep, 1, 0, vec![event(&ep, 1, "a", Op::Added)]))
            .await
            .expect("append");
        let next = Epoch::generate();
        let meta = log.create_epoch(&next, 1).await.expect("epoch");
        assert_eq!((meta.epoch.clone(), meta.seq), (next.clone(), Seq(0)));
        assert!(log.snapshot().await.expect("snap").objects.is_empty());
        assert!(
            log.read_range(Seq(0), 10)
                .await
                .expect("range")
                .events
                .is_empty()
        );
        let stale_epoch = log
            .append(&batch(&ep, 1, 1, vec![event(&ep, 2, "a", Op::Updated)]))
            .await;
        assert!(matches!(stale_epoch, Err(LogError::EpochMismatch { .. })));
    })
    .await;
}

#[tokio::test]
async fn appending_to_a_missing_log_is_refused() {
    with_logs(1000, |log| async move {
        let ep = Epoch::generate();
        let result = log
            .append(&batch(&ep, 1, 0, vec![event(&ep, 1, "a", Op::Added)]))
            .await;
        assert!(
            matches!(result, Err(LogError::EpochMismatch { current: None, .. })),
            "{result:?}"
        );
        assert!(matches!(
            log.read_range(Seq(0), 1).await,
            Err(LogError::Missing)
        ));
        assert!(matches!(log.snapshot().await, Err(LogError::Missing)));
    })
    .await;
}

#[tokio::test]
async fn retention_trims_old_events() {
    with_logs(10, |log| async move {
        let ep = Epoch::generate();
        log.create_epoch(&ep, 1).await.expect("epoch");
        for seq in 1..=600u64 {
            let e = event(&ep, seq, &format!("p{}", seq % 7), Op::Updated);
            log.append(&batch(&ep, 1, seq - 1, vec![e]))
                .await
                .expect("append");
        }
        let page = log.read_range(Seq(0), 1000).await.expect("range");
        let oldest = page.oldest.expect("some retained");
        assert!(oldest > Seq(1), "trimmed");
        assert_eq!(page.events.first().map(StoredEvent::seq), Some(oldest));
        assert_eq!(page.events.last().map(StoredEvent::seq), Some(Seq(600)));
        assert_eq!(
            log.snapshot().await.expect("snap").objects.len(),
            7,
            "snapshot keeps all objects"
        );
    })
    .await;
}

#[tokio::test]
async fn wait_after_wakes_when_an_event_is_appended() {
    with_logs(1000, |log| async move {
        let ep = Epoch::generate();
        log.create_epoch(&ep, 1).await.expect("epoch");
        let empty = log
            .wait_after(Seq(0), 10, Duration::from_millis(50))
            .await
            .expect("wait");
        assert!(empty.is_empty());
        let waiter = {
            let log = log.clone();
            tokio::spawn(async move { log.wait_after(Seq(0), 10, Duration::from_secs(10)).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        log.append(&batch(&ep, 1, 0, vec![event(&ep, 1, "a", Op::Added)]))
            .await
            .expect("append");
        let got = waiter.await.expect("join").expect("wait");
        assert_eq!(got.iter().map(|e| e.seq().0).collect::<Vec<_>>(), vec![1]);
    })
    .await;
}

#[tokio::test]
async fn corrupt_entries_in_redis_are_reported_not_skipped() {
    let server = RedisServer::start();
    let cluster = unique_cluster("corrupt");
    let log = RedisLog::connect(&server.url, &cluster, 1000)
        .await
        .expect("connect");
    let ep = Epoch::generate();
    log.create_epoch(&ep, 1).await.expect("epoch");
    log.append(&batch(&ep, 1, 0, vec![event(&ep, 1, "a", Op::Added)]))
        .await
        .expect("append");
    let keys = log.keys().clone();
    let client = ::redis::Client::open(server.url.as_str()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("conn");
    // An entry that is not an event, and one whose payload carries another seq than its ID.
    let _: String = ::redis::cmd("XADD")
        .arg(&keys.log)
        .arg("2-0")
        .arg("e")
        .arg("not json")
        .query_async(&mut conn)
        .await
        .expect("xadd");
    let wrong = event(&ep, 7, "b", Op::Added).raw;
    let _: String = ::redis::cmd("XADD")
        .arg(&keys.log)
        .arg("3-0")
        .arg("e")
        .arg(wrong.as_ref())
        .query_async(&mut conn)
        .await
        .expect("xadd");
    let garbage = log.read_range(Seq(1), 1).await;
    assert!(matches!(garbage, Err(LogError::Corrupt(_))), "{garbage:?}");
    let mismatch = log.read_range(Seq(2), 1).await;
    assert!(
        matches!(mismatch, Err(LogError::Corrupt(_))),
        "{mismatch:?}"
    );
    let tail = log.wait_after(Seq(1), 10, Duration::from_millis(10)).await;
    assert!(matches!(tail, Err(LogError::Corrupt(_))), "{tail:?}");
}

#[tokio::test]
async fn a_retired_epoch_refuses_its_writer_and_keeps_the_history() {
    with_logs(1000, |log| async move {
        let ep = Epoch::generate();
        log.create_epoch(&ep, 1).await.expect("epoch");
        log.append(&batch(&ep, 1, 0, vec![event(&ep, 1, "a", Op::Added)]))
            .await
            .expect("append");
        let retired = Epoch(format!("{}-retired", ep.as_str()));
        let other = Epoch::generate();
        assert!(
            !log.retire_epoch(&other, &retired).await.expect("retire"),
            "another epoch is left alone"
        );
        assert!(log.retire_epoch(&ep, &retired).await.expect("retire"));
        assert!(
            !log.retire_epoch(&ep, &retired).await.expect("retire"),
            "only once"
        );
        let meta = log.meta().await.expect("meta").expect("the log exists");
        assert_eq!((meta.epoch, meta.seq), (retired.clone(), Seq(1)));
        let refused = log
            .append(&batch(&ep, 1, 1, vec![event(&ep, 2, "a", Op::Updated)]))
            .await;
        assert!(
            matches!(&refused, Err(LogError::EpochMismatch { current: Some(c), .. }) if *c == retired),
            "{refused:?}"
        );
        assert_eq!(log.snapshot().await.expect("snap").objects.len(), 1);
    })
    .await;
}
