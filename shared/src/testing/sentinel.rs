//! A Sentinel-managed Redis for tests: a primary, one replica and three sentinels (quorum 2,
//! `down-after-milliseconds` 1000, `failover-timeout` 3000) on free loopback ports, in a temp dir,
//! every process killed on drop.

use super::process::{RedisProcess, TempDir, base_args, spawn_on_free_port, wait_until};
use std::collections::HashMap;
use std::time::Duration;

/// The name the sentinels monitor the primary under.
pub const MASTER_NAME: &str = "kubecast";

/// A primary, a replica and three sentinels.
pub struct SentinelSet {
    /// The two data servers; which one is primary changes with a failover.
    pub servers: Vec<RedisProcess>,
    pub sentinels: Vec<RedisProcess>,
    /// Config files; removed after the processes (fields drop in order).
    _dir: TempDir,
}

impl SentinelSet {
    /// Starts the set and waits until every sentinel knows the primary, the replica and the
    /// other sentinels (so a failover can be authorised at once).
    pub fn start() -> Self {
        let dir = TempDir::new("sentinel");
        let primary = spawn_on_free_port(|port| base_args(port, &dir.0));
        let replica = spawn_on_free_port(|port| {
            let mut args = base_args(port, &dir.0);
            args.extend(["--replicaof", "127.0.0.1"].map(String::from));
            args.push(primary.port.to_string());
            args
        });
        let sentinels = (0..3)
            .map(|i| spawn_on_free_port(|port| sentinel_args(&dir, i, port, primary.port)))
            .collect();
        let set = Self {
            servers: vec![primary, replica],
            sentinels,
            _dir: dir,
        };
        set.wait_until_settled();
        set
    }

    /// `redis+sentinel://127.0.0.1:a,127.0.0.1:b,127.0.0.1:c/kubecast`
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!("redis+sentinel://{}/{MASTER_NAME}", hosts.join(","))
    }

    /// The primary's port as the first sentinel that answers names it.
    pub fn primary_port(&self) -> Option<u16> {
        let mut cmd = redis::cmd("SENTINEL");
        cmd.arg("get-master-addr-by-name").arg(MASTER_NAME);
        self.sentinels.iter().find_map(|s| {
            let addr: Option<(String, u16)> = s.query(&cmd).ok()?;
            addr.map(|(_, port)| port)
        })
    }

    /// SIGKILLs the current primary and returns its port.
    pub fn kill_primary(&mut self) -> u16 {
        let port = self.primary_port().expect("the sentinels name a primary");
        let server = self
            .servers
            .iter_mut()
            .find(|s| s.port == port)
            .expect("the primary is one of ours");
        server.kill();
        port
    }

    /// Waits until the sentinels name a primary other than `old_port`, and it answers as master.
    pub fn wait_for_failover(&self, old_port: u16, patience: Duration) -> u16 {
        let mut promoted = 0;
        wait_until(patience, "the sentinels promote the replica", || {
            let Some(port) = self.primary_port().filter(|p| *p != old_port) else {
                return false;
            };
            promoted = port;
            self.servers
                .iter()
                .find(|s| s.port == port)
                .and_then(|s| s.query::<redis::Value>(&redis::cmd("ROLE")).ok())
                .is_some_and(|role| format!("{role:?}").contains("master"))
        });
        promoted
    }

    fn wait_until_settled(&self) {
        wait_until(
            Duration::from_secs(30),
            "sentinels see replica and peers",
            || {
                self.sentinels.iter().all(|s| {
                    let mut cmd = redis::cmd("SENTINEL");
                    cmd.arg("MASTER").arg(MASTER_NAME);
                    let info: HashMap<String, String> = s.query(&cmd).unwrap_or_default();
                    info.get("num-slaves").map(String::as_str) == Some("1")
                        && info.get("num-other-sentinels").map(String::as_str) == Some("2")
                })
            },
        );
    }
}

fn sentinel_args(dir: &TempDir, index: usize, port: u16, primary: u16) -> Vec<String> {
    let conf = dir.0.join(format!("sentinel-{index}.conf"));
    let text = format!(
        "port {port}\nbind 127.0.0.1\ndir {dir}\n\
         sentinel monitor {MASTER_NAME} 127.0.0.1 {primary} 2\n\
         sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
         sentinel failover-timeout {MASTER_NAME} 3000\n\
         sentinel parallel-syncs {MASTER_NAME} 1\n",
        dir = dir.0.display()
    );
    std::fs::write(&conf, text).expect("write a sentinel config");
    vec![conf.display().to_string(), "--sentinel".to_string()]
}
