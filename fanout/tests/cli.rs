//! The standalone binary refuses to start without Redis, with a message that says what to set.

use kubecast_shared::testing::run_bounded;
use std::process::Command;

#[test]
fn the_standalone_fanout_without_redis_exits_with_a_clear_error() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubecast-fanout"));
    cmd.env_remove("REDIS_URL")
        .args(["--listen", "127.0.0.1:0"]);
    let (ok, stderr) = run_bounded(cmd);
    assert!(!ok, "it must not start");
    assert!(
        stderr.contains("REDIS_URL"),
        "the error names REDIS_URL: {stderr}"
    );
}
