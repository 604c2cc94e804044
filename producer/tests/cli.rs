//! The standalone binary refuses to start without Redis or with a malformed resource, with a
//! message that says what is wrong.

use kubecast_shared::testing::{run_bounded, run_bounded_code};
use std::process::Command;

fn run(args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubecast-producer"));
    cmd.env_remove("REDIS_URL")
        .env_remove("KUBECAST_KINDS")
        .args(args);
    run_bounded(cmd)
}

#[test]
fn the_standalone_producer_without_redis_exits_with_a_clear_error() {
    let (ok, stderr) = run(&["--kube-url", "http://127.0.0.1:9", "--metrics-listen", ""]);
    assert!(!ok, "it must not start");
    assert!(
        stderr.contains("REDIS_URL"),
        "the error names REDIS_URL: {stderr}"
    );
}

#[test]
fn a_malformed_watch_resource_is_refused_at_parse_time() {
    let (ok, stderr) = run(&["--watch-resource", "Workflow"]);
    assert!(!ok);
    assert!(stderr.contains("group/version/kind"), "{stderr}");
}

#[test]
fn a_malformed_redis_url_is_refused_at_parse_time_with_exit_code_2() {
    for (url, problem) in [
        ("redis+sentinel://127.0.0.1:26379", "master name"),
        ("redis+cluster://127.0.0.1:7000/3", "only database 0"),
        ("redis+cluster://127.0.0.1:99999", "127.0.0.1:99999"),
        ("http://127.0.0.1:6379", "unsupported Redis URL scheme"),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubecast-producer"));
        cmd.env("REDIS_URL", url).args([
            "--kube-url",
            "http://127.0.0.1:9",
            "--metrics-listen",
            "",
        ]);
        let (code, stderr) = run_bounded_code(cmd);
        assert_eq!(code, Some(2), "{url}: {stderr}");
        assert!(stderr.contains(problem), "{url}: {stderr}");
    }
}
