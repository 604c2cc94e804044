//! One `redis-server` process (a server, a replica, a sentinel or a cluster node) on a loopback
//! port, killed (SIGKILL) on drop, and small synchronous helpers to query it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` process.
pub struct RedisProcess {
    pub port: u16,
    args: Vec<String>,
    child: Option<Child>,
}

impl RedisProcess {
    /// Spawns `redis-server` with `args` (which must make it listen on `port`); `None` when it
    /// exits at once (port taken) or does not listen within 5 s.
    pub fn spawn(port: u16, args: Vec<String>) -> Option<Self> {
        let child = spawn_listening(port, &args)?;
        Some(Self {
            port,
            args,
            child: Some(child),
        })
    }

    /// Kills the process with SIGKILL (no shutdown, no save).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again with the same arguments (same port, same files).
    pub fn start_again(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = spawn_listening(self.port, &self.args) {
                self.child = Some(child);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("could not restart redis-server on port {}", self.port);
    }

    /// `redis://127.0.0.1:<port>/`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Runs one command on this process (synchronously, for test set-up and checks).
    pub fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> redis::RedisResult<T> {
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
        cmd.query(&mut conn)
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `redis-server args` and waits (5 s at most) until it listens on `port`; `None` if it
/// exited (the port was taken) or never listened.
pub(super) fn spawn_listening(port: u16, args: &[String]) -> Option<Child> {
    let mut child = Command::new("redis-server")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        if let Ok(Some(_)) = child.try_wait() {
            return None; // exited: port taken
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Spawns a process on a fresh free port, `args_for(port)` giving its arguments; retries on a
/// lost port race.
pub fn spawn_on_free_port(args_for: impl Fn(u16) -> Vec<String>) -> RedisProcess {
    for _ in 0..20 {
        let port = super::free_port();
        if let Some(process) = RedisProcess::spawn(port, args_for(port)) {
            return process;
        }
    }
    panic!("could not start redis-server (is it installed? scripts/test.sh installs it)");
}

/// Arguments every test server shares: loopback only, no RDB snapshots, no AOF, no eviction.
pub fn base_args(port: u16, dir: &Path) -> Vec<String> {
    let dir = dir.display().to_string();
    [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--dir",
        &dir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--maxmemory-policy",
        "noeviction",
    ]
    .map(String::from)
    .to_vec()
}

/// A fresh temporary directory, removed by [`TempDir`]'s drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `kubecast-<prefix>-<uuid>` under the system's temp dir.
    pub fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "kubecast-{prefix}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Polls `check` every 100 ms until it holds; panics after `patience` naming `what`.
pub fn wait_until(patience: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + patience;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "not true within {patience:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
