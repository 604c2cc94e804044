//! The `kubecast-producer` binary against the simulated cluster, tuned like the in-process
//! tests' producer (short debounce and pod hold) so scenarios converge quickly.

use super::child::ChildProc;
use std::path::Path;
use std::process::Command;

/// Where a producer reads from and writes to.
#[derive(Clone, Debug)]
pub struct ProducerTarget {
    pub kube_url: String,
    pub redis_url: String,
    pub cluster: String,
}

/// Starts a producer named `name`; `extra` flags are appended (e.g. `--leader-elect`).
pub fn start_producer(
    name: &str,
    log_dir: &Path,
    target: &ProducerTarget,
    extra: &[String],
) -> ChildProc {
    let mut cmd = Command::new(super::built_binary("kubecast-producer"));
    cmd.args(["--kube-url", &target.kube_url])
        .args(["--redis-url", &target.redis_url])
        .args(["--cluster", &target.cluster])
        .args(["--debounce", "20ms", "--max-wait", "100ms"])
        .args(["--min-pod-lifetime", "100ms"])
        .args(["--kinds", &crate::stack::simulated_kinds().join(",")])
        .args(["--watch-resource", crate::stack::WORKFLOW])
        .args(["--metrics-listen", ""])
        .args(["--identity", name])
        .args(["--log", "info"])
        .args(extra);
    ChildProc::spawn(name, log_dir, cmd)
}
