//! Real processes for the fault scenarios: the `kubecast-producer` and `kubecast-fanout`
//! binaries built beside the test (`cargo build --workspace`, which the README's test command
//! runs first) and nginx in front of the replicas. Every child is killed when its handle drops;
//! its output goes to a log file under `target/reliability/logs/<scenario>/`.

pub mod child;
pub mod deployment;
pub mod drift;
pub mod fanout;
pub mod nginx;
pub mod producer;
pub mod scenario;
pub mod sockets;

use std::path::PathBuf;

/// A workspace binary built beside the running test executable (`target/<profile>/<name>`).
pub fn built_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/<test>-<hash> → target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test executable sits in target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the workspace first (`cargo build --workspace`; scripts/test.sh does)",
        path.display()
    );
    path
}

/// `target/reliability/logs/<scenario>/`, emptied for a new run.
pub fn log_dir(scenario: &str) -> PathBuf {
    let dir = crate::report::rows_dir().join("logs").join(scenario);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the scenario's log directory");
    dir
}
