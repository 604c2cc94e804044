//! The Socket.IO peer (`bench/socketio`): installed with `npm ci` when its `node_modules` is
//! missing, one `node server.js` process per scenario (the counterpart of one `kubecast-fanout`)
//! and one `node publisher.js` process per S-deliver run (the counterpart of the in-process
//! publisher). Both print JSON lines on stdout; both are killed when dropped.

use super::procs::ServerProc;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The installed peer.
pub struct Peer {
    dir: PathBuf,
    node: PathBuf,
    /// `node --version`.
    pub node_version: String,
}

impl Peer {
    /// Checks that Node runs and installs the peer's packages (`npm ci`) when they are missing.
    pub async fn prepare(dir: &Path, node: &Path) -> anyhow::Result<Self> {
        anyhow::ensure!(
            dir.join("package-lock.json").exists(),
            "{} has no package-lock.json (--socketio-dir)",
            dir.display()
        );
        let version = Command::new(node).arg("--version").output().await;
        let version = version.with_context(|| {
            format!(
                "running `{} --version`: install Node 20 (apt-get install nodejs npm)",
                node.display()
            )
        })?;
        let node_version = String::from_utf8_lossy(&version.stdout).trim().to_string();
        if !dir.join("node_modules").exists() {
            npm_ci(dir).await?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            node: node.to_path_buf(),
            node_version,
        })
    }

    fn command(&self, script: &str, stdin: Stdio) -> Command {
        let mut cmd = Command::new(&self.node);
        cmd.arg(self.dir.join(script))
            .current_dir(&self.dir)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Starts `server.js` on a free port and waits for its ready line.
    pub async fn start_server(&self, redis_url: &str, stream: &str) -> anyhow::Result<ServerProc> {
        let port = kubecast_shared::testing::free_port();
        self.start_server_on(redis_url, stream, port).await
    }

    /// Starts `server.js` on `port` (e.g. that of one just killed) and waits for its ready line.
    pub async fn start_server_on(
        &self,
        redis_url: &str,
        stream: &str,
        port: u16,
    ) -> anyhow::Result<ServerProc> {
        let mut child = self
            .command("server.js", Stdio::null())
            .args(["--port", &port.to_string(), "--redis-url", redis_url])
            .args(["--stream", stream])
            .spawn()
            .context("starting node server.js")?;
        let mut lines = stdout_lines(&mut child)?;
        expect_line(
            &mut lines,
            "\"ready\"",
            Duration::from_secs(20),
            "server.js",
        )
        .await?;
        // Keep reading: a server writing to a closed pipe would fail.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[server.js] {line}");
            }
        });
        ServerProc::new(child, format!("127.0.0.1:{port}"))
    }

    /// Starts `publisher.js` and waits until it is connected; [`NodePublisher::run`] starts it.
    pub async fn publisher(&self, spec: &PublishSpec<'_>) -> anyhow::Result<NodePublisher> {
        let mut child = self
            .command("publisher.js", Stdio::piped())
            .args(["--redis-url", spec.redis_url, "--stream", spec.stream])
            .args(["--epoch", spec.epoch, "--rate", &spec.rate.to_string()])
            .args(["--duration", &spec.duration.as_secs_f64().to_string()])
            .args([
                "--batch",
                &spec.batch.to_string(),
                "--pad",
                &spec.pad.to_string(),
            ])
            .spawn()
            .context("starting node publisher.js")?;
        let mut lines = stdout_lines(&mut child)?;
        expect_line(
            &mut lines,
            "\"ready\"",
            Duration::from_secs(20),
            "publisher.js",
        )
        .await?;
        let stdin = child.stdin.take().context("publisher.js stdin")?;
        Ok(NodePublisher {
            _child: child,
            stdin,
            lines,
            duration: spec.duration,
        })
    }
}

async fn npm_ci(dir: &Path) -> anyhow::Result<()> {
    eprintln!(
        "installing the Socket.IO peer: npm ci in {} …",
        dir.display()
    );
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .await
        .context("running npm: install Node 20 and npm (apt-get install nodejs npm)")?;
    anyhow::ensure!(
        status.success(),
        "npm ci in {} failed: {status}",
        dir.display()
    );
    Ok(())
}

/// What the peer's publisher is asked to do.
pub struct PublishSpec<'a> {
    pub redis_url: &'a str,
    pub stream: &'a str,
    pub epoch: &'a str,
    pub rate: u64,
    pub duration: Duration,
    pub batch: usize,
    pub pad: usize,
}

/// A connected `publisher.js`, waiting for `go`.
pub struct NodePublisher {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    duration: Duration,
}

/// What `publisher.js` reports.
#[derive(Debug, serde::Deserialize)]
pub struct NodePublished {
    pub published: u64,
    pub last_seq: u64,
    pub elapsed_s: f64,
}

impl NodePublisher {
    /// Starts publishing and waits for the publisher's report.
    pub async fn run(mut self) -> anyhow::Result<NodePublished> {
        self.stdin.write_all(b"go\n").await?;
        self.stdin.flush().await?;
        let patience = self.duration + Duration::from_secs(60);
        let line = expect_line(&mut self.lines, "\"published\"", patience, "publisher.js").await?;
        serde_json::from_str(&line).with_context(|| format!("bad publisher.js report {line:?}"))
    }
}

fn stdout_lines(child: &mut Child) -> anyhow::Result<Lines<BufReader<ChildStdout>>> {
    let out = child.stdout.take().context("node stdout")?;
    Ok(BufReader::new(out).lines())
}

/// Reads stdout lines until one contains `marker`; other lines are passed on to stderr.
async fn expect_line(
    lines: &mut Lines<BufReader<ChildStdout>>,
    marker: &str,
    patience: Duration,
    script: &str,
) -> anyhow::Result<String> {
    let wait = async {
        while let Some(line) = lines.next_line().await? {
            if line.contains(marker) {
                return Ok(line);
            }
            eprintln!("[{script}] {line}");
        }
        bail!("{script} exited before printing {marker}")
    };
    tokio::time::timeout(patience, wait)
        .await
        .with_context(|| format!("{script} did not print {marker} within {patience:?}"))?
}
