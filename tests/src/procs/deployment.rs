//! The production topology as processes: a private `redis-server`, the simulated cluster
//! (in-process: it is the world being watched, not part of Kubecast), the `kubecast-producer`
//! binary, three `kubecast-fanout` binaries and nginx in front of them. The producer and the
//! replicas may each reach Redis through their own [`TcpProxy`], so a scenario can cut one of
//! them off alone.

use super::child::ChildProc;
use super::fanout::{FanoutProc, default_flags};
use super::nginx::Nginx;
use super::producer::{ProducerTarget, start_producer};
use crate::RedisServer;
use kubecast_shared::testing::TcpProxy;
use kubecast_sim::SimServer;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// How a scenario wants the deployment built.
pub struct Options {
    pub seed: u64,
    pub replicas: usize,
    /// Redis keeps its data across restarts (AOF, fsync always).
    pub persistent_redis: bool,
    pub producer_flags: Vec<String>,
    pub fanout_flags: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            seed: 1,
            replicas: 3,
            persistent_redis: false,
            producer_flags: Vec::new(),
            fanout_flags: default_flags(),
        }
    }
}

/// Everything one scenario runs.
pub struct Deployment {
    pub scenario: String,
    pub log_dir: PathBuf,
    pub cluster: String,
    pub redis: RedisServer,
    /// Between the producer and Redis.
    pub producer_link: TcpProxy,
    /// Between the replicas and Redis.
    pub fanout_link: TcpProxy,
    pub sim: SimServer,
    sim_stop: CancellationToken,
    pub producer: Option<ChildProc>,
    pub fanouts: Vec<FanoutProc>,
    pub nginx: Nginx,
    fanout_flags: Vec<String>,
}

impl Deployment {
    pub async fn start(scenario: &str, options: Options) -> Self {
        crate::init_logging();
        let log_dir = super::log_dir(scenario);
        let redis = if options.persistent_redis {
            RedisServer::spawn_persistent()
        } else {
            RedisServer::spawn()
        };
        let producer_link = TcpProxy::start(redis.port).await;
        let fanout_link = TcpProxy::start(redis.port).await;
        let (sim, sim_stop) =
            crate::stack::start_sim(crate::stack::quiet_sim_config(options.seed)).await;
        let cluster = crate::unique_cluster(scenario);
        let target = ProducerTarget {
            kube_url: sim.url.clone(),
            redis_url: producer_link.url.clone(),
            cluster: cluster.clone(),
        };
        let producer = start_producer("producer", &log_dir, &target, &options.producer_flags);
        let mut fanouts = Vec::with_capacity(options.replicas);
        for i in 0..options.replicas {
            let addr = format!("127.0.0.1:{}", crate::free_port());
            let replica = ReplicaSpec {
                log_dir: &log_dir,
                redis_url: &fanout_link.url,
                cluster: &cluster,
                flags: &options.fanout_flags,
            };
            fanouts.push(replica.start(i, &addr).await);
        }
        let upstreams: Vec<String> = fanouts.iter().map(|f| f.addr.clone()).collect();
        let nginx = Nginx::start(&log_dir, &upstreams).await;
        Self {
            scenario: scenario.to_string(),
            log_dir,
            cluster,
            redis,
            producer_link,
            fanout_link,
            sim,
            sim_stop,
            producer: Some(producer),
            fanouts,
            nginx,
            fanout_flags: options.fanout_flags,
        }
    }

    /// What a producer of this deployment watches and writes to.
    pub fn producer_target(&self) -> ProducerTarget {
        ProducerTarget {
            kube_url: self.sim.url.clone(),
            redis_url: self.producer_link.url.clone(),
            cluster: self.cluster.clone(),
        }
    }

    /// A producer process (not kept: the caller decides what it is).
    pub fn spawn_producer(&self, name: &str, flags: &[String]) -> ChildProc {
        start_producer(name, &self.log_dir, &self.producer_target(), flags)
    }

    /// Kills replica `i` with SIGKILL (its clients lose their sockets mid-stream).
    pub fn kill_replica(&mut self, i: usize) {
        self.fanouts[i].proc.kill();
    }

    /// Starts replica `i` again on its address (after a kill or a drain).
    pub async fn restart_replica(&mut self, i: usize) {
        let addr = self.fanouts[i].addr.clone();
        let replica = ReplicaSpec {
            log_dir: &self.log_dir,
            redis_url: &self.fanout_link.url,
            cluster: &self.cluster,
            flags: &self.fanout_flags,
        };
        self.fanouts[i] = replica.start(i, &addr).await;
    }

    /// Starts replicas `indices` again at once (a storm: their clients all come back together).
    pub async fn restart_replicas_together(&mut self, indices: &[usize]) {
        let replica = ReplicaSpec {
            log_dir: &self.log_dir,
            redis_url: &self.fanout_link.url,
            cluster: &self.cluster,
            flags: &self.fanout_flags,
        };
        let starts = indices
            .iter()
            .map(|&i| replica.start(i, &self.fanouts[i].addr));
        let started = futures::future::join_all(starts).await;
        for (&i, fanout) in indices.iter().zip(started) {
            self.fanouts[i] = fanout;
        }
    }

    /// The address clients use (nginx).
    pub fn entry(&self) -> &str {
        &self.nginx.addr
    }

    /// A direct connection to this deployment's log (not through either proxy).
    pub async fn log(&self) -> kubecast_shared::log::AnyLog {
        crate::stack::redis_log(&self.redis.url, &self.cluster, 100_000).await
    }

    /// Checks the log holds every seq of its epoch once, in order, from 1 to the head.
    pub async fn assert_log_contiguous(&self) {
        crate::expected::assert_whole_log(&self.log().await).await;
    }

    /// Fails the test with the component's log tail if the producer exited.
    pub fn assert_producer_running(&mut self) {
        let producer = self.producer.as_mut().expect("a producer");
        assert!(
            producer.is_running(),
            "the producer exited:\n{}",
            producer.log_tail(30)
        );
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        self.sim_stop.cancel();
    }
}

/// How replicas of one deployment are started.
struct ReplicaSpec<'a> {
    log_dir: &'a std::path::Path,
    redis_url: &'a str,
    cluster: &'a str,
    flags: &'a [String],
}

impl ReplicaSpec<'_> {
    async fn start(&self, i: usize, addr: &str) -> FanoutProc {
        let name = format!("replica-{i}");
        FanoutProc::start(
            &name,
            addr,
            self.log_dir,
            self.redis_url,
            self.cluster,
            self.flags,
        )
        .await
    }
}
