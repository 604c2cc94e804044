//! The Redis log on highly available topologies, beyond the shared contract: a Sentinel failover
//! followed by the same `RedisLog` (writer and blocking reader), clear refusals of bad targets,
//! and Redis Cluster placement by hash tag.

use super::*;
use crate::protocol::{Event, Op};
use crate::testing::{RedisClusterNodes, SentinelSet, unique_cluster};

fn append_one(epoch: &Epoch, seq: u64) -> AppendBatch {
    let event = Event {
        seq: Seq(seq),
        epoch: epoch.clone(),
        ts: 1,
        op: Op::Added,
        kind: "Pod".into(),
        ns: "shop".into(),
        name: format!("p{seq}"),
        uid: String::new(),
        obj: None,
    };
    AppendBatch {
        fence: 1,
        epoch: epoch.clone(),
        expected_head: Seq(seq - 1),
        entries: vec![AppendEntry {
            seq: Seq(seq),
            raw: event.encode(),
            ns: "shop".into(),
            kind: "Pod".into(),
            snapshot: SnapshotChange::Put(event.key()),
        }],
    }
}

/// Retries `append` (as the producer would) until it lands, for at most 30 s.
async fn append_until_it_lands(log: &RedisLog, batch: &AppendBatch) -> usize {
    let mut failures = 0;
    for _ in 0..300 {
        match log.append(batch).await {
            Ok(head) => {
                assert_eq!(head, batch.entries[0].seq);
                return failures;
            }
            Err(e) => {
                assert!(
                    e.is_transient(),
                    "only connection errors while failing over: {e}"
                );
                failures += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("the append never landed on the new primary");
}

#[tokio::test]
async fn a_sentinel_log_follows_a_failover_with_its_writer_and_its_reader() {
    let mut set = SentinelSet::start();
    let log = RedisLog::connect(&set.url(), &unique_cluster("failover"), 1000)
        .await
        .expect("connect through Sentinel");
    let epoch = Epoch::generate();
    log.create_epoch(&epoch, 1).await.expect("epoch");
    for seq in 1..=3 {
        log.append(&append_one(&epoch, seq)).await.expect("append");
    }
    let tail = log.wait_after(Seq(0), 10, Duration::from_millis(10)).await;
    assert_eq!(tail.expect("tail").len(), 3, "the reader is connected too");
    let primary = set.primary_port().expect("a primary");
    let primary = set
        .servers
        .iter()
        .find(|s| s.port == primary)
        .expect("ours");
    let replicated: i64 = primary
        .query(::redis::cmd("WAIT").arg(1).arg(5000))
        .expect("WAIT");
    assert_eq!(replicated, 1, "the replica holds the three events");

    let old = set.kill_primary();
    let new = set.wait_for_failover(old, Duration::from_secs(30));
    assert_ne!(old, new);
    let failures = append_until_it_lands(&log, &append_one(&epoch, 4)).await;
    assert!(failures >= 1, "the write to the dead primary failed first");

    let page = log
        .read_range(Seq(0), 10)
        .await
        .expect("range on the new primary");
    let seqs: Vec<u64> = page.events.iter().map(|e| e.seq().0).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4], "nothing lost, nothing doubled");
    let mut tail = log.wait_after(Seq(3), 10, Duration::from_millis(100)).await;
    for _ in 0..50 {
        if tail.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        tail = log.wait_after(Seq(3), 10, Duration::from_millis(100)).await;
    }
    let tail: Vec<u64> = tail
        .expect("the reader follows")
        .iter()
        .map(|e| e.seq().0)
        .collect();
    assert_eq!(tail, vec![4]);
}

#[tokio::test]
async fn an_unknown_master_name_or_unreachable_sentinels_fail_to_connect() {
    let set = SentinelSet::start();
    let port = set.sentinels[0].port;
    let unknown = format!("redis+sentinel://127.0.0.1:{port}/nope");
    let refused = RedisLog::connect(&unknown, "c", 10).await;
    assert!(matches!(refused, Err(LogError::Redis(_))), "unknown master");
    let dead = format!(
        "redis+sentinel://127.0.0.1:{}/kubecast",
        crate::testing::free_port()
    );
    let refused = RedisLog::connect(&dead, "c", 10).await;
    assert!(
        matches!(refused, Err(LogError::Redis(_))),
        "no sentinel answers"
    );
}

#[tokio::test]
async fn a_malformed_url_is_refused_before_connecting() {
    for url in [
        "redis+cluster://n1:7000/2",
        "redis+sentinel://s1:26379",
        "http://h/",
    ] {
        let refused = RedisLog::connect(url, "c", 10).await;
        assert!(matches!(refused, Err(LogError::InvalidUrl(_))), "{url}");
    }
}

#[tokio::test]
async fn cluster_logs_live_on_the_node_owning_their_hash_tag() {
    let nodes = RedisClusterNodes::start();
    let mut owners = std::collections::BTreeMap::new();
    for i in 0..64 {
        let name = format!("tenant-{i}");
        let owner = nodes.owner_of(nodes.keyslot(&format!("{{{name}}}")));
        owners.entry(owner).or_insert(name);
    }
    assert_eq!(owners.len(), 3, "64 names cover the three masters");
    for (owner, name) in &owners {
        let log = RedisLog::connect(&nodes.url(), name, 100)
            .await
            .expect("connect");
        log.create_epoch(&Epoch::generate(), 1)
            .await
            .expect("epoch");
        log.append(&append_one(
            &log.meta().await.expect("meta").expect("log").epoch,
            1,
        ))
        .await
        .expect("append");
        let keys = log.keys().clone();
        for (index, node) in nodes.nodes.iter().enumerate() {
            let mut exists = ::redis::cmd("EXISTS");
            exists.arg(&keys.log).arg(&keys.objects).arg(&keys.meta);
            let found: ::redis::RedisResult<i64> = node.query(&exists);
            if index == *owner {
                assert_eq!(
                    found.expect("EXISTS on the owner"),
                    3,
                    "{name} on node {index}"
                );
            } else {
                assert!(found.is_err(), "other nodes redirect (MOVED) for {name}");
            }
        }
    }
}
