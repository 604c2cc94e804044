//! Two Kubecast clusters share one Redis Cluster (three masters), their names chosen so their
//! hash tags land on different nodes. Both converge; then the node holding cluster A's slot is
//! SIGKILLed: cluster B goes on (its clients converge during the outage) while A cannot write.
//! The node comes back empty, A's producer starts a new epoch, and A's clients reset and converge.

use crate::support::{background_churn, client_objects, converge_both, ready_pair};
use kubecast_shared::log::{EventLog, RedisLog};
use kubecast_shared::testing::RedisClusterNodes;
use kubecast_tests::expected::cluster_state;
use kubecast_tests::poll_client::PollClient;
use kubecast_tests::redis::TestRedis;
use kubecast_tests::report::ScenarioRow;
use kubecast_tests::stack::Stack;
use kubecast_tests::ws_client::WsClient;
use kubecast_tests::{eventually, init_logging, unique_cluster};
use std::time::{Duration, Instant};

/// A fresh cluster name whose hash tag's slot is owned by a node other than `avoid`.
fn name_on_another_node(
    nodes: &RedisClusterNodes,
    prefix: &str,
    avoid: Option<usize>,
) -> (String, usize) {
    loop {
        let name = unique_cluster(prefix);
        let owner = nodes.owner_of(nodes.keyslot(&format!("{{{name}}}")));
        if Some(owner) != avoid {
            return (name, owner);
        }
    }
}

/// One Kubecast cluster's stack and clients.
struct Tenant {
    stack: Stack,
    ws: WsClient,
    poll: PollClient,
}

impl Tenant {
    async fn start(url: String, name: String, seed: u64) -> Self {
        let stack = Stack::start_named(TestRedis::External(url), name, seed, 2).await;
        let (a, b) = ready_pair(&stack).await;
        let ws = WsClient::connect(&a, "", true).await.expect("connect");
        let poll = PollClient::start(&b, "", true);
        Self { stack, ws, poll }
    }

    fn converged(&self) -> bool {
        let expected = cluster_state(&self.stack.sim.cluster);
        client_objects(&self.ws.state()) == expected
            && client_objects(&self.poll.state()) == expected
    }

    /// True when this cluster's meta cannot be read (its slot is down).
    async fn log_unreachable(&self, url: &str) -> bool {
        let probe = async {
            let log = RedisLog::connect(url, &self.stack.cluster_name, 10).await?;
            log.meta().await
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(10), probe).await,
            Ok(Err(_)) | Err(_)
        )
    }
}

async fn churn_for(tenants: &[&Tenant], how_long: Duration) {
    let churns: Vec<_> = tenants
        .iter()
        .map(|t| background_churn(t.stack.sim.cluster.clone()))
        .collect();
    tokio::time::sleep(how_long).await;
    for (stop, task) in churns {
        stop.cancel();
        task.await.expect("churn task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_cluster_node_only_affects_the_kubecast_cluster_whose_slot_it_holds() {
    init_logging();
    let mut nodes = tokio::task::spawn_blocking(RedisClusterNodes::start)
        .await
        .expect("start the Redis Cluster");
    let (name_a, owner_a) = name_on_another_node(&nodes, "rc-a", None);
    let (name_b, owner_b) = name_on_another_node(&nodes, "rc-b", Some(owner_a));
    println!("cluster {name_a} on node {owner_a}, {name_b} on node {owner_b}");
    let url = nodes.url();
    let a = Tenant::start(url.clone(), name_a, 31).await;
    let b = Tenant::start(url.clone(), name_b, 37).await;
    churn_for(&[&a, &b], Duration::from_millis(800)).await;
    eventually!(40, "both clusters' clients converge", async {
        a.converged() && b.converged()
    });

    nodes.nodes[owner_a].kill();
    let fault = Instant::now();
    churn_for(&[&a, &b], Duration::from_millis(800)).await;
    eventually!(40, "cluster B converges while A's node is down", async {
        b.converged()
    });
    let b_converged = fault.elapsed();
    assert!(a.log_unreachable(&url).await, "cluster A's slot is down");
    let head_b = b
        .stack
        .log()
        .await
        .meta()
        .await
        .expect("B's meta")
        .expect("B's log")
        .seq;

    nodes.nodes[owner_a].start_again();
    let restored = Instant::now();
    let nodes = tokio::task::spawn_blocking(move || {
        nodes.wait_ok(Duration::from_secs(30));
        nodes
    })
    .await
    .expect("the cluster is ok again");
    churn_for(&[&a, &b], Duration::from_millis(500)).await;
    let (a_ws, a_poll) = converge_both(&a.ws, a.poll, &a.stack.sim.cluster).await;
    let a_converged = restored.elapsed();
    let (b_ws, b_poll) = converge_both(&b.ws, b.poll, &b.stack.sim.cluster).await;
    println!(
        "B converged {b_converged:?} after the kill; A {a_converged:?} after the node came back"
    );

    assert!(
        a_ws.resets >= 1,
        "A's log came back empty: its clients were told to reset"
    );
    assert_eq!(
        (b_ws.resets, b_poll.resets),
        (0, 0),
        "B never noticed the dead node"
    );
    let b_log = b
        .stack
        .log()
        .await
        .meta()
        .await
        .expect("B's meta")
        .expect("B's log");
    assert!(b_log.seq >= head_b, "B's log kept its head");
    ScenarioRow::from_clients(
        "21-redis-cluster",
        "Redis Cluster (3 masters): 2 Kubecast clusters on different nodes, 2 replicas + WS + polling client each",
        "SIGKILL of the node holding cluster A's slot during churn, restarted empty (B converged during the outage)",
        &[a_ws, a_poll, b_ws, b_poll],
        a_converged,
    )
    .record();
    a.stack.stop().await;
    b.stack.stop().await;
    drop(nodes);
}
