//! nginx in front of the S5 replicas: the project's own `deploy/nginx/kubecast.conf.template`
//! (filled in with the replicas and a `reuseport` listen) inside a generated main config, run as a
//! child (`-p <temp dir>`, `daemon off`) and stopped with SIGTERM (a master killed with SIGKILL
//! would leave its workers running).
//!
//! Sizing: every proxied WebSocket holds two sockets in a worker (client and upstream), and no
//! process here may open more than ~20,000 files. So there are enough workers for ~12,000
//! connections each on average (at least 2), each listening on its own `reuseport` socket (the
//! kernel spreads new connections over them), with `worker_rlimit_nofile` just under the limit
//! and `worker_connections` with room for an uneven spread.

use crate::http1::get_once;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const TEMPLATE: &str = include_str!("../../../deploy/nginx/kubecast.conf.template");

/// Files per nginx worker: under the 20,000 a process may open here.
const WORKER_RLIMIT_NOFILE: usize = 19_500;
/// Average proxied connections (two sockets each) per worker.
const CONNECTIONS_PER_WORKER: usize = 12_000;

/// Workers and connections per worker for `clients` proxied WebSockets.
#[derive(Debug, PartialEq, Eq)]
pub struct Sizing {
    pub workers: usize,
    pub worker_connections: usize,
}

impl Sizing {
    pub fn for_clients(clients: usize) -> Self {
        let sockets = 2 * clients;
        let workers = sockets.div_ceil(CONNECTIONS_PER_WORKER).max(2);
        // Half again the average (reuseport spreads by hash, not evenly), plus spare.
        let worker_connections = (sockets / workers * 3 / 2 + 1024).min(WORKER_RLIMIT_NOFILE - 500);
        Self {
            workers,
            worker_connections,
        }
    }
}

/// The whole nginx config: main context around the deployment template.
pub fn config(dir: &Path, listen: &str, upstreams: &[String], sizing: &Sizing) -> String {
    let servers: String = upstreams
        .iter()
        .map(|u| format!("server {u} max_fails=1 fail_timeout=5s; "))
        .collect();
    let site = TEMPLATE.replace("${KUBECAST_UPSTREAMS}", &servers).replace(
        "${KUBECAST_LISTEN}",
        &format!("{listen} reuseport backlog=4096"),
    );
    let d = dir.display();
    format!(
        "daemon off;\nworker_processes {w};\nworker_rlimit_nofile {WORKER_RLIMIT_NOFILE};\n\
         pid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections {c}; multi_accept on; }}\n\
         http {{\n    access_log off;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n\
         \x20   fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n\
         {site}}}\n",
        w = sizing.workers,
        c = sizing.worker_connections,
    )
}

/// A running nginx.
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    pub addr: String,
    pub sizing: Sizing,
}

impl Nginx {
    /// Writes the config into a fresh temp dir, starts nginx and waits until `/readyz` answers
    /// through it.
    pub async fn start(bin: &Path, upstreams: &[String], clients: usize) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "kubecast-bench-nginx-{}-{}",
            std::process::id(),
            kubecast_shared::testing::free_port()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let addr = format!("127.0.0.1:{}", kubecast_shared::testing::free_port());
        let sizing = Sizing::for_clients(clients);
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(&dir, &addr, upstreams, &sizing))?;
        let mut child = Command::new(bin)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} (apt-get install nginx-light)", bin.display()))?;
        for _ in 0..100 {
            if let Some(status) = child.try_wait()? {
                let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                bail!("nginx exited during start-up: {status}: {log}");
            }
            if matches!(get_once(&addr, "/readyz").await, Ok((200, _))) {
                return Ok(Self {
                    child,
                    dir,
                    addr,
                    sizing,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "nginx on {addr} did not proxy /readyz within 10 s (see {})",
            dir.display()
        )
    }
}

impl Drop for Nginx {
    /// SIGTERM to the master (fast shutdown: it stops its workers), then the temp dir goes.
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            for _ in 0..50 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nineteen_thousand_clients_fit_under_the_file_limit() {
        let s = Sizing::for_clients(19_000);
        assert_eq!(s.workers, 4);
        assert!(s.worker_connections * s.workers >= 2 * 19_000 * 3 / 2);
        assert!(s.worker_connections < WORKER_RLIMIT_NOFILE);
        assert_eq!(Sizing::for_clients(100).workers, 2);
    }

    #[test]
    fn the_config_fills_the_deployment_template() {
        let ups = ["127.0.0.1:1".to_string(), "127.0.0.1:2".to_string()];
        let conf = config(
            Path::new("/t"),
            "127.0.0.1:9",
            &ups,
            &Sizing::for_clients(100),
        );
        assert!(conf.contains("listen 127.0.0.1:9 reuseport backlog=4096;"));
        assert!(conf.contains("server 127.0.0.1:2 max_fails=1 fail_timeout=5s;"));
        assert!(conf.contains("worker_rlimit_nofile 19500;"));
        assert!(conf.contains("daemon off;") && conf.contains("location /ws"));
        assert!(!conf.contains("${"), "every placeholder filled");
    }
}
