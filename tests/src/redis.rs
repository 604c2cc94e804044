//! Redis for a test, chosen in this order: `REDIS_URL` when set (tests isolate themselves by
//! cluster name), a private `redis-server` process on a free port when the binary is installed,
//! or a container through testcontainers when a Docker engine answers.

use kubecast_shared::keys::ClusterKeys;
use kubecast_shared::testing::RedisServer;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage};

/// A Redis server a test can use and wipe.
pub enum TestRedis {
    External(String),
    Process(RedisServer),
    Container {
        url: String,
        container: Box<ContainerAsync<GenericImage>>,
    },
}

impl TestRedis {
    pub async fn start() -> Self {
        if let Ok(url) = std::env::var("REDIS_URL") {
            return Self::External(url);
        }
        if binary_on_path("redis-server") {
            return Self::Process(RedisServer::spawn());
        }
        if docker_engine_answers() {
            return Self::container().await;
        }
        panic!(
            "no Redis: set REDIS_URL, install redis-server (scripts/test.sh does), or run a Docker engine"
        );
    }

    /// A private server that persists every write, so it can be restarted with its data.
    pub fn persistent() -> Self {
        Self::Process(RedisServer::spawn_persistent())
    }

    /// The private server process (fault-injection tests need one).
    pub fn process(&mut self) -> &mut RedisServer {
        match self {
            Self::Process(server) => server,
            _ => panic!("this test needs a private redis-server process"),
        }
    }

    async fn container() -> Self {
        let container = GenericImage::new("redis", "7-alpine")
            .with_exposed_port(6379.tcp())
            .with_wait_for(WaitFor::message_on_stdout("Ready to accept connections"))
            .start()
            .await
            .expect("start a redis container");
        let port = container
            .get_host_port_ipv4(6379)
            .await
            .expect("container port");
        Self::Container {
            url: format!("redis://127.0.0.1:{port}/"),
            container: Box::new(container),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::External(url) | Self::Container { url, .. } => url,
            Self::Process(server) => &server.url,
        }
    }

    /// Loses `cluster`'s log as a Redis wipe would: a private server is killed and restarted
    /// empty (clients see connections drop); a shared one only loses this cluster's keys.
    pub async fn wipe(&mut self, cluster: &str) {
        match self {
            Self::Process(server) => server.restart_empty(),
            Self::External(url) | Self::Container { url, .. } => delete_cluster(url, cluster).await,
        }
    }
}

async fn delete_cluster(url: &str, cluster: &str) {
    let keys = ClusterKeys::new(cluster);
    let client = redis::Client::open(url).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let _: () = redis::cmd("DEL")
        .arg(&keys.log)
        .arg(&keys.objects)
        .arg(&keys.meta)
        .query_async(&mut conn)
        .await
        .expect("DEL");
}

fn binary_on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}

fn docker_engine_answers() -> bool {
    std::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
