//! Spawning the real parts on loopback: simulated cluster, producers, fanout replicas.

use kubecast_fanout::FanoutConfig;
use kubecast_producer::ProducerConfig;
use kubecast_shared::log::{AnyLog, RedisLog};
use kubecast_sim::{SimConfig, SimServer};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A background part that can be stopped.
pub struct Task {
    pub cancel: CancellationToken,
    join: JoinHandle<anyhow::Result<()>>,
}

impl Task {
    fn spawn<F>(cancel: CancellationToken, fut: F) -> Self
    where
        F: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self {
            cancel,
            join: tokio::spawn(fut),
        }
    }

    /// Cancels the task and waits (bounded) for it to end; returns its result.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.cancel.cancel();
        match tokio::time::timeout(Duration::from_secs(10), self.join).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(anyhow::anyhow!("task panicked: {e}")),
            Err(_) => Err(anyhow::anyhow!("task did not stop within 10 s")),
        }
    }

    /// Aborts without a graceful stop (like SIGKILL for an in-process part).
    pub fn abort(self) {
        self.join.abort();
    }

    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }
}

/// A simulated cluster without automatic churn; tests call `cluster.step()`.
pub fn quiet_sim_config(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        churn_interval: None,
        bookmark_interval: Duration::from_millis(500),
        ..SimConfig::default()
    }
}

pub async fn start_sim(config: SimConfig) -> (SimServer, CancellationToken) {
    let cancel = CancellationToken::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sim");
    let sim = kubecast_sim::serve(listener, config, cancel.clone())
        .await
        .expect("start sim");
    (sim, cancel)
}

pub fn kube_client(url: &str) -> kube::Client {
    let config = kube::Config::new(url.parse().expect("sim url"));
    kube::Client::try_from(config).expect("kube client")
}

/// The producer's default kinds that the simulated cluster serves (a kind it does not serve would
/// never complete its first list and would hold publishing back).
pub fn simulated_kinds() -> Vec<String> {
    kubecast_producer::kinds::default_names()
        .into_iter()
        .filter(|kind| {
            kubecast_sim::kinds::KINDS
                .iter()
                .any(|spec| spec.kind == kind)
        })
        .collect()
}

/// The simulated cluster's custom resource, watched through the producer's dynamic API.
pub const WORKFLOW: &str = "argoproj.io/v1alpha1/Workflow";

/// A producer tuned for tests: short debounce and pod hold so convergence is quick.
pub fn fast_producer_config() -> ProducerConfig {
    let mut config = ProducerConfig {
        debounce: Duration::from_millis(20),
        max_wait: Duration::from_millis(100),
        min_pod_lifetime: Duration::from_millis(100),
        ..ProducerConfig::default()
    };
    config.watch.kinds = Some(simulated_kinds());
    config.watch.resources = vec![WORKFLOW.parse().expect("resource")];
    config
}

pub fn spawn_producer(sim_url: &str, log: AnyLog, config: ProducerConfig) -> Task {
    let cancel = CancellationToken::new();
    let client = kube_client(sim_url);
    let token = cancel.clone();
    Task::spawn(cancel, async move {
        kubecast_producer::run(client, log, config, token)
            .await
            .map_err(anyhow::Error::from)
    })
}

/// A running fanout replica.
pub struct Fanout {
    /// `127.0.0.1:port`
    pub addr: String,
    pub task: Task,
}

pub async fn spawn_fanout(log: AnyLog, config: FanoutConfig) -> Fanout {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fanout");
    let addr = listener.local_addr().expect("addr").to_string();
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let task = Task::spawn(cancel, async move {
        kubecast_fanout::serve(listener, log, config, token).await
    });
    Fanout { addr, task }
}

/// A replica's configuration for tests: a short drain window keeps stops quick.
pub fn fanout_config(name: &str) -> FanoutConfig {
    FanoutConfig {
        server_name: name.to_string(),
        drain_window: Duration::from_millis(500),
        ..FanoutConfig::default()
    }
}

pub async fn redis_log(url: &str, cluster: &str, retention: usize) -> AnyLog {
    AnyLog::Redis(
        RedisLog::connect(url, cluster, retention)
            .await
            .expect("connect redis log"),
    )
}

/// The production topology for one test: a private redis-server, a quiet simulated cluster, one
/// producer and `replicas` fanout replicas, all on one cluster name.
pub struct Stack {
    pub redis: crate::redis::TestRedis,
    pub cluster_name: String,
    pub sim: SimServer,
    sim_stop: CancellationToken,
    pub producer: Option<Task>,
    pub fanouts: Vec<Fanout>,
}

impl Stack {
    pub async fn start(prefix: &str, seed: u64, replicas: usize) -> Self {
        Self::start_on(
            crate::redis::TestRedis::start().await,
            prefix,
            seed,
            replicas,
        )
        .await
    }

    /// Like [`start`](Self::start) on a given Redis.
    pub async fn start_on(
        redis: crate::redis::TestRedis,
        prefix: &str,
        seed: u64,
        replicas: usize,
    ) -> Self {
        Self::start_named(redis, crate::unique_cluster(prefix), seed, replicas).await
    }

    /// Like [`start_on`](Self::start_on) with a given cluster name (tests that place a cluster's
    /// hash tag on a chosen Redis Cluster node).
    pub async fn start_named(
        redis: crate::redis::TestRedis,
        cluster_name: String,
        seed: u64,
        replicas: usize,
    ) -> Self {
        let (sim, sim_stop) = start_sim(quiet_sim_config(seed)).await;
        let log = redis_log(redis.url(), &cluster_name, 100_000).await;
        let producer = Some(spawn_producer(&sim.url, log, fast_producer_config()));
        let mut fanouts = Vec::with_capacity(replicas);
        for i in 0..replicas {
            let log = redis_log(redis.url(), &cluster_name, 100_000).await;
            fanouts.push(spawn_fanout(log, fanout_config(&format!("replica-{i}"))).await);
        }
        Self {
            redis,
            cluster_name,
            sim,
            sim_stop,
            producer,
            fanouts,
        }
    }

    /// Address of replica `i`.
    pub fn addr(&self, i: usize) -> &str {
        &self.fanouts[i].addr
    }

    /// A new connection to this stack's log (as a fresh process would open it).
    pub async fn log(&self) -> AnyLog {
        redis_log(self.redis.url(), &self.cluster_name, 100_000).await
    }

    /// Kills the producer without a graceful stop (an in-process SIGKILL).
    pub fn kill_producer(&mut self) {
        if let Some(producer) = self.producer.take() {
            producer.abort();
        }
    }

    /// Starts a producer (after `kill_producer`, this is a restart: a new process, a newer fence).
    pub async fn start_producer(&mut self) {
        let log = self.log().await;
        self.producer = Some(spawn_producer(&self.sim.url, log, fast_producer_config()));
    }

    /// Stops every part and checks each stopped cleanly.
    pub async fn stop(mut self) {
        if let Some(producer) = self.producer.take() {
            producer.stop().await.expect("the producer stops cleanly");
        }
        for fanout in self.fanouts.drain(..) {
            fanout
                .task
                .stop()
                .await
                .expect("a fanout replica stops cleanly");
        }
        self.sim_stop.cancel();
    }
}
