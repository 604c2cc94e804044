//! A Redis Cluster for tests: three masters, no replicas, on free loopback ports (data and bus
//! port both chosen free), joined with `redis-cli --cluster create`, in a temp dir, every process
//! killed on drop. `cluster-require-full-coverage no`, so a dead node only takes its own slots
//! down; `cluster-node-timeout` 1000 ms.

use super::process::{RedisProcess, TempDir, base_args, spawn_on_free_port, wait_until};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Three cluster masters.
pub struct RedisClusterNodes {
    pub nodes: Vec<RedisProcess>,
    /// Node config files; removed after the processes (fields drop in order).
    _dir: TempDir,
}

impl RedisClusterNodes {
    /// Starts three nodes, creates the cluster and waits until every node reports it `ok`.
    pub fn start() -> Self {
        let dir = TempDir::new("cluster");
        let nodes: Vec<RedisProcess> = (0..3)
            .map(|_| spawn_on_free_port(|port| node_args(&dir, port)))
            .collect();
        let cluster = Self { nodes, _dir: dir };
        cluster.create();
        wait_until(
            Duration::from_secs(30),
            "the cluster is ok on every node",
            || cluster.nodes.iter().all(cluster_state_ok),
        );
        cluster
    }

    fn create(&self) {
        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run redis-cli --cluster create");
        assert!(status.success(), "redis-cli --cluster create failed");
    }

    /// `redis+cluster://127.0.0.1:a,127.0.0.1:b,127.0.0.1:c`
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", hosts.join(","))
    }

    /// The slot of `key` (`CLUSTER KEYSLOT`, asked of a live node).
    pub fn keyslot(&self, key: &str) -> u16 {
        let mut cmd = redis::cmd("CLUSTER");
        cmd.arg("KEYSLOT").arg(key);
        self.nodes
            .iter()
            .find_map(|n| n.query(&cmd).ok())
            .expect("a live node answers CLUSTER KEYSLOT")
    }

    /// The index in [`nodes`](Self::nodes) of the master owning `slot`, read from
    /// `CLUSTER NODES` (`<id> <ip:port@bus> <flags> … <slot ranges>`).
    pub fn owner_of(&self, slot: u16) -> usize {
        let text: String = self
            .nodes
            .iter()
            .find_map(|n| n.query(redis::cmd("CLUSTER").arg("NODES")).ok())
            .expect("a live node answers CLUSTER NODES");
        let port = text
            .lines()
            .find(|line| {
                line.split(' ')
                    .skip(8)
                    .any(|range| range_holds(range, slot))
            })
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|addr| addr.split(['@', ':']).nth(1))
            .and_then(|port| port.parse::<u16>().ok())
            .expect("some node owns the slot");
        self.nodes
            .iter()
            .position(|n| n.port == port)
            .expect("the owner is one of ours")
    }

    /// Waits until every live node reports the cluster `ok` again (after a node came back).
    pub fn wait_ok(&self, patience: Duration) {
        wait_until(patience, "the cluster is ok again", || {
            self.nodes.iter().all(cluster_state_ok)
        });
    }
}

fn range_holds(range: &str, slot: u16) -> bool {
    let (start, end) = range.split_once('-').unwrap_or((range, range));
    matches!((start.parse::<u16>(), end.parse::<u16>()), (Ok(s), Ok(e)) if (s..=e).contains(&slot))
}

fn cluster_state_ok(node: &RedisProcess) -> bool {
    node.query::<String>(redis::cmd("CLUSTER").arg("INFO"))
        .is_ok_and(|info| info.contains("cluster_state:ok"))
}

fn node_args(dir: &TempDir, port: u16) -> Vec<String> {
    let mut args = base_args(port, &dir.0);
    let bus = super::free_port().to_string();
    let conf = dir
        .0
        .join(format!("nodes-{port}.conf"))
        .display()
        .to_string();
    args.extend(
        [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            &conf,
            "--cluster-port",
            &bus,
            "--cluster-node-timeout",
            "1000",
            "--cluster-require-full-coverage",
            "no",
        ]
        .map(String::from),
    );
    args
}
