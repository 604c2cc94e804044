//! nginx in front of the replicas with the project's own `deploy/nginx/kubecast.conf.template`,
//! run as a child (`-p <dir>`, `daemon off`).

use super::child::ChildProc;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TEMPLATE: &str = include_str!("../../../deploy/nginx/kubecast.conf.template");

/// A running nginx and the address clients use.
pub struct Nginx {
    pub addr: String,
    pub proc: ChildProc,
}

fn binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("nginx is not installed (scripts/test.sh installs Debian's nginx)")
}

/// The main config around the deployment template, one worker, everything under `dir`.
fn config(dir: &Path, listen: &str, upstreams: &[String]) -> String {
    let servers: String = upstreams
        .iter()
        .map(|u| format!("server {u} max_fails=0; "))
        .collect();
    let site = TEMPLATE
        .replace("${KUBECAST_UPSTREAMS}", &servers)
        .replace("${KUBECAST_LISTEN}", listen);
    let d = dir.display();
    format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n    access_log off;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n\
         \x20   fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n\
         {site}}}\n"
    )
}

impl Nginx {
    /// Starts nginx on a free port in front of `upstreams` and waits until `/readyz` answers
    /// through it.
    pub async fn start(log_dir: &Path, upstreams: &[String]) -> Self {
        let addr = format!("127.0.0.1:{}", crate::free_port());
        let conf = log_dir.join("nginx.conf");
        std::fs::write(&conf, config(log_dir, &addr, upstreams)).expect("write nginx.conf");
        let mut cmd = Command::new(binary());
        cmd.arg("-p").arg(log_dir).arg("-c").arg(&conf);
        cmd.arg("-e").arg(log_dir.join("nginx-error.log"));
        let mut proc = ChildProc::spawn("nginx", log_dir, cmd);
        super::fanout::wait_ready(&mut proc, &addr).await;
        Self { addr, proc }
    }
}

impl Nginx {
    /// The (single) worker process's pid: it holds the proxied connections.
    pub fn worker_pid(&self) -> u32 {
        let master = self.proc.pid();
        std::fs::read_to_string(format!("/proc/{master}/task/{master}/children"))
            .ok()
            .and_then(|pids| pids.split_whitespace().next()?.parse().ok())
            .unwrap_or(master)
    }
}

impl Drop for Nginx {
    /// SIGTERM first: a master killed with SIGKILL would leave its worker running.
    fn drop(&mut self) {
        if self.proc.is_running() {
            self.proc.signal("TERM");
            for _ in 0..50 {
                if !self.proc.is_running() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
