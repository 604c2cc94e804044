//! A `kubecast-fanout` replica process on a fixed loopback address (so a restarted replica
//! comes back where nginx expects it).

use super::child::ChildProc;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A replica process and its address.
pub struct FanoutProc {
    pub addr: String,
    pub proc: ChildProc,
}

/// The flags every scenario replica gets: a short drain window, and pings often enough that a
/// half-open connection is found within seconds.
pub fn default_flags() -> Vec<String> {
    [
        "--drain-window",
        "2s",
        "--ping-interval",
        "2s",
        "--ping-timeout",
        "2s",
    ]
    .map(String::from)
    .to_vec()
}

impl FanoutProc {
    /// Starts a replica on `addr` and waits until `/readyz` answers 200.
    pub async fn start(
        name: &str,
        addr: &str,
        log_dir: &Path,
        redis_url: &str,
        cluster: &str,
        flags: &[String],
    ) -> Self {
        let mut cmd = Command::new(super::built_binary("kubecast-fanout"));
        cmd.args(["--listen", addr])
            .args(["--redis-url", redis_url])
            .args(["--cluster", cluster])
            .args(["--server-name", name])
            .args([
                "--log",
                &std::env::var("KUBECAST_TEST_FANOUT_LOG").unwrap_or_else(|_| "info".into()),
            ])
            .args(flags);
        let mut proc = ChildProc::spawn(name, log_dir, cmd);
        wait_ready(&mut proc, addr).await;
        Self {
            addr: addr.to_string(),
            proc,
        }
    }
}

/// Waits (20 s at most) for `/readyz` to answer 200; panics with the log tail otherwise.
pub async fn wait_ready(proc: &mut ChildProc, addr: &str) {
    let url = format!("http://{addr}/readyz");
    for _ in 0..400 {
        assert!(
            proc.is_running(),
            "{} exited during start-up:\n{}",
            proc.name,
            proc.log_tail(20)
        );
        if matches!(reqwest::get(&url).await, Ok(r) if r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} not ready in 20 s:\n{}", proc.name, proc.log_tail(20));
}
