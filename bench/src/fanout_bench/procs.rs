//! Child processes of the fanout benchmark: the server under test (the release `kubecast-fanout`,
//! or the Socket.IO peer's `node server.js`, see `peer.rs`) and the `kubecast-bench clients` load
//! generators. Every child is spawned with `kill_on_drop`, so an error or panic in the
//! orchestrator (or its SIGINT/SIGTERM handler) kills them; a load generator also stops by itself
//! when its stdin closes, i.e. when the orchestrator is gone.

use super::fleet::Dial;
use crate::http1::get_once;
use crate::loadgen::LoadgenResult;
use crate::procstat::{cpu_seconds_of, open_fds_of, rss_bytes_of};
use anyhow::{Context, bail};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// `kubecast-fanout` and the `kubecast-bench` executable itself: next to the current executable.
pub fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the current executable")?;
    let dir = exe
        .parent()
        .context("the current executable has no directory")?;
    Ok(dir.join(name))
}

/// A running server under test: `kubecast-fanout` or the Socket.IO peer.
/// What a benchmark sets on a `kubecast-fanout` process.
#[derive(Debug, Default)]
pub struct FanoutOptions {
    pub ring_capacity: Option<usize>,
    pub batch_interval: Duration,
    /// `--max-backlog` (bytes), when not the fanout's default.
    pub max_backlog: Option<u64>,
}

pub struct ServerProc {
    child: Child,
    pid: String,
    pub addr: String,
}

impl ServerProc {
    /// A server process that is already up and listening on `addr`.
    pub fn new(child: Child, addr: String) -> anyhow::Result<Self> {
        let pid = child.id().context("the server exited at once")?.to_string();
        Ok(Self { child, pid, addr })
    }

    /// Starts `kubecast-fanout` on a free port and waits until `/readyz` answers 200.
    pub async fn start_fanout(
        bin: &Path,
        redis_url: &str,
        cluster: &str,
        options: &FanoutOptions,
    ) -> anyhow::Result<Self> {
        let addr = format!("127.0.0.1:{}", kubecast_shared::testing::free_port());
        Self::start_fanout_at(bin, addr, redis_url, cluster, options).await
    }

    /// Starts `kubecast-fanout` on `addr` (e.g. the address of one that was just killed) and
    /// waits until `/readyz` answers 200.
    pub async fn start_fanout_at(
        bin: &Path,
        addr: String,
        redis_url: &str,
        cluster: &str,
        options: &FanoutOptions,
    ) -> anyhow::Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.args([
            "--listen",
            &addr,
            "--redis-url",
            redis_url,
            "--cluster",
            cluster,
        ])
        .args(["--server-name", "bench", "--log", "warn"])
        // Set, so a KUBECAST_BATCH_INTERVAL in the bench's environment cannot leak in.
        .arg(format!(
            "--batch-interval={}ms",
            options.batch_interval.as_millis()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
        if let Some(ring) = options.ring_capacity {
            cmd.args(["--ring-capacity", &ring.to_string()]);
        }
        if let Some(bound) = options.max_backlog {
            cmd.args(["--max-backlog", &bound.to_string()]);
        }
        let mut child = cmd.spawn().with_context(|| {
            format!(
                "starting {} (build it with `cargo build --release -p kubecast-fanout`)",
                bin.display()
            )
        })?;
        for _ in 0..200 {
            if let Some(status) = child.try_wait()? {
                bail!("kubecast-fanout exited during start-up: {status}");
            }
            if matches!(get_once(&addr, "/readyz").await, Ok((200, _))) {
                return Self::new(child, addr);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("kubecast-fanout on {addr} did not become ready in 10 s")
    }

    pub fn rss(&self) -> u64 {
        rss_bytes_of(&self.pid)
    }

    pub fn cpu(&self) -> f64 {
        cpu_seconds_of(&self.pid)
    }

    pub fn fds(&self) -> usize {
        open_fds_of(&self.pid)
    }

    /// Whether the process is still running (a crash or an OOM kill ends a scenario early).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The log head the replica has loaded (from `/readyz`).
    pub async fn head(&self) -> anyhow::Result<u64> {
        let (code, body) = get_once(&self.addr, "/readyz").await?;
        anyhow::ensure!(code == 200, "/readyz answered {code}");
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        v["seq"].as_u64().context("/readyz without seq")
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Progress a load generator reports on stderr.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Ready {
    pub connected: u64,
    pub failed: u64,
}

/// A running `kubecast-bench clients` process.
pub struct Loadgen {
    child: Child,
    stdin: Option<ChildStdin>,
    until_sent: bool,
    ready: watch::Receiver<Option<Ready>>,
    stdout: JoinHandle<String>,
}

/// What a load generator is asked to do.
pub struct LoadgenSpec<'a> {
    pub dial: &'a Dial<'a>,
    pub count: usize,
    pub source_ip: IpAddr,
    pub mode: &'a str,
    pub connect_rate: f64,
    pub drain_timeout: Duration,
    /// Further `clients` flags (slow readers, poll interval).
    pub extra: &'a [String],
}

impl Loadgen {
    pub fn spawn(index: usize, spec: &LoadgenSpec<'_>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the current executable")?;
        let mut child = Command::new(exe)
            .arg("clients")
            .args(["--url", spec.dial.url, "--mode", spec.mode])
            .args(["--protocol", spec.dial.protocol.as_str()])
            .args(["--epoch", spec.dial.epoch])
            .args(spec.dial.reconnect.map_or_else(Vec::new, |b| b.args()))
            .args(["--count", &spec.count.to_string()])
            .args(["--source-ips", &spec.source_ip.to_string()])
            .args(["--connect-rate", &spec.connect_rate.to_string()])
            .args([
                "--drain-timeout",
                &format!("{}s", spec.drain_timeout.as_secs()),
            ])
            .args(spec.extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting a load generator")?;
        let stdin = child.stdin.take();
        let mut out = child.stdout.take().context("load generator stdout")?;
        let err = child.stderr.take().context("load generator stderr")?;
        let (tx, ready) = watch::channel(None);
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match serde_json::from_str::<Ready>(&line) {
                    Ok(r) if line.contains("\"ready\"") => {
                        let _ = tx.send(Some(r));
                    }
                    _ => eprintln!("[clients #{index}] {line}"),
                }
            }
        });
        let stdout = tokio::spawn(async move {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s).await;
            s
        });
        Ok(Self {
            child,
            stdin,
            until_sent: false,
            ready,
            stdout,
        })
    }

    /// Waits until every client of this generator has connected or failed.
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<Ready> {
        let ready = tokio::time::timeout(timeout, self.ready.wait_for(Option::is_some))
            .await
            .context("load generator did not finish connecting in time")?
            .context("load generator exited before connecting its clients")?;
        Ok(ready.clone().unwrap_or_default())
    }

    /// Asks the generator to stop once every open client has received `seq`.
    pub async fn until(&mut self, seq: u64) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("stdin already closed")?;
        stdin.write_all(format!("until {seq}\n").as_bytes()).await?;
        stdin.flush().await?;
        self.until_sent = true;
        Ok(())
    }

    /// Stops the generator at once, or after `until` (and its drain timeout) when that was sent,
    /// and parses its result line.
    pub async fn finish(mut self, timeout: Duration) -> anyhow::Result<LoadgenResult> {
        if !self.until_sent {
            // Closing stdin stops the generator.
            drop(self.stdin.take());
        }
        let out = tokio::time::timeout(timeout, &mut self.stdout)
            .await
            .context("load generator did not report in time")??;
        let _ = self.child.wait().await;
        let line = out.lines().last().unwrap_or_default();
        serde_json::from_str(line).with_context(|| format!("bad load generator output {out:?}"))
    }
}

/// One sample of the server's `/metrics` on `addr`, by its exact series name (with its labels,
/// e.g. `kubecast_fanout_closes_total{reason="too_slow"}`).
pub async fn metric(addr: &str, series: &str) -> anyhow::Result<u64> {
    metric_if_any(addr, series)
        .await?
        .with_context(|| format!("{addr}/metrics has no {series}"))
}

/// [`metric`], or `None` when the series is absent (a labelled counter appears only once
/// counted).
pub async fn metric_if_any(addr: &str, series: &str) -> anyhow::Result<Option<u64>> {
    let (code, body) = get_once(addr, "/metrics").await?;
    anyhow::ensure!(code == 200, "{addr}/metrics answered {code}");
    Ok(sample(&String::from_utf8_lossy(&body), series))
}

/// The value of one series in a Prometheus text exposition.
fn sample(text: &str, series: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (n, v) = line.split_once(' ')?;
        (n == series)
            .then(|| v.trim().parse::<f64>().ok())?
            .map(|v| v as u64)
    })
}

#[cfg(test)]
mod metric_tests {
    use super::sample;

    #[test]
    fn a_series_is_read_by_its_exact_name_and_labels() {
        let text = "# HELP kubecast_fanout_connections Open WebSocket sessions\n\
                    # TYPE kubecast_fanout_connections gauge\n\
                    kubecast_fanout_connections 6337\n\
                    kubecast_fanout_connections_opened_total 7000\n\
                    kubecast_fanout_closes_total{reason=\"too_slow\"} 10\n";
        assert_eq!(sample(text, "kubecast_fanout_connections"), Some(6337));
        assert_eq!(sample(text, "kubecast_fanout_closes"), None);
        let too_slow = r#"kubecast_fanout_closes_total{reason="too_slow"}"#;
        assert_eq!(sample(text, too_slow), Some(10));
    }
}
