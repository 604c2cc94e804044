//! Test support: a private `redis-server` per test on a free loopback port (or `REDIS_URL` with a
//! unique cluster name when set), a Sentinel set and a Redis Cluster of real processes. Compiled for this crate's tests and, with the `testing` feature,
//! for the integration-test harness.

mod cluster;
mod process;
mod proxy;
mod sentinel;

pub use cluster::RedisClusterNodes;
pub use process::{RedisProcess, TempDir};
pub use proxy::TcpProxy;
pub use sentinel::{MASTER_NAME, SentinelSet};

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Redis server for one test. The spawned process is killed on drop.
pub struct RedisServer {
    pub url: String,
    pub port: u16,
    child: Option<Child>,
    /// Data directory of a persistent server (append-only file, fsync on every write).
    data_dir: Option<std::path::PathBuf>,
}

impl RedisServer {
    /// Uses `REDIS_URL` when set; otherwise spawns `redis-server` on a free port.
    pub fn start() -> Self {
        if let Ok(url) = std::env::var("REDIS_URL") {
            return Self {
                url,
                port: 0,
                child: None,
                data_dir: None,
            };
        }
        Self::spawn()
    }

    /// Always spawns a private server without persistence (for tests that kill or wipe it).
    pub fn spawn() -> Self {
        Self::spawn_in(None)
    }

    /// Spawns a private server that persists every write (AOF, `appendfsync always`), so a
    /// restart keeps all acknowledged data.
    pub fn spawn_persistent() -> Self {
        let dir =
            std::env::temp_dir().join(format!("kubecast-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create a redis data dir");
        Self::spawn_in(Some(dir))
    }

    fn spawn_in(data_dir: Option<std::path::PathBuf>) -> Self {
        for _ in 0..20 {
            let port = free_port();
            if let Some(child) = spawn_on(port, data_dir.as_deref()) {
                let url = format!("redis://127.0.0.1:{port}/");
                return Self {
                    url,
                    port,
                    child: Some(child),
                    data_dir,
                };
            }
        }
        panic!("could not start redis-server (is it installed? scripts/test.sh installs it)");
    }

    /// Kills the server (SIGKILL) and starts it again on the same port: a persistent server
    /// comes back with its data, a non-persistent one comes back empty.
    pub fn restart(&mut self) {
        self.kill();
        self.start_again();
    }

    /// Starts the server again after [`kill`](Self::kill), on the same port and data directory.
    pub fn start_again(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = spawn_on(self.port, self.data_dir.as_deref()) {
                self.child = Some(child);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("could not restart redis-server on port {}", self.port);
    }

    /// Kills the server (no persistence: its data is gone) and starts a fresh one on the same port.
    pub fn restart_empty(&mut self) {
        assert!(
            self.data_dir.is_none(),
            "restart_empty is for servers without persistence"
        );
        self.restart();
    }

    /// Kills the server process.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = self.data_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A unique cluster name, so tests sharing one `REDIS_URL` do not collide.
pub fn unique_cluster(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

fn spawn_on(port: u16, data_dir: Option<&std::path::Path>) -> Option<Child> {
    let mut args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
    ]
    .map(String::from)
    .to_vec();
    args.extend(["--maxmemory-policy", "noeviction"].map(String::from));
    match data_dir {
        Some(dir) => {
            args.extend(
                ["--appendonly", "yes", "--appendfsync", "always", "--dir"].map(String::from),
            );
            args.push(dir.display().to_string());
        }
        None => args.extend(["--appendonly", "no"].map(String::from)),
    }
    process::spawn_listening(port, &args)
}

/// Runs a command for at most 10 s and returns (exited successfully, stderr). A process still
/// running at the deadline is killed and reported as a success, so tests of start-up refusals
/// fail instead of hanging.
pub fn run_bounded(cmd: Command) -> (bool, String) {
    let (code, stderr) = run_bounded_code(cmd);
    (code.is_none_or(|c| c == 0), stderr)
}

/// Like [`run_bounded`], returning the exit code (`None` when it was still running at the
/// deadline, or ended by a signal).
pub fn run_bounded_code(mut cmd: Command) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    (status.and_then(|s| s.code()), stderr)
}
