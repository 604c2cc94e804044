//! The standalone binary refuses to start without Redis, with a message that says what to set.

use kubecast_shared::testing::{run_bounded, run_bounded_code};
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

fn refused(args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubecast-fanout"));
    cmd.env_remove("REDIS_URL")
        .env_remove("KUBECAST_JWT_SECRET")
        .args(args);
    let (ok, stderr) = run_bounded(cmd);
    assert!(!ok, "it must not start: {args:?}");
    stderr
}

#[test]
fn serving_everyone_everything_off_loopback_needs_an_explicit_flag() {
    let stderr = refused(&["--listen", "0.0.0.0:0"]);
    assert!(stderr.contains("--allow-unauthenticated"), "{stderr}");
    // With the flag it gets as far as the missing Redis.
    let stderr = refused(&["--listen", "0.0.0.0:0", "--allow-unauthenticated"]);
    assert!(stderr.contains("REDIS_URL"), "{stderr}");
}

#[test]
fn bad_authentication_settings_are_refused_at_start() {
    let stderr = refused(&["--jwt-secret", "too-short"]);
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    let stderr = refused(&["--jwt-public-key-file", "/nonexistent/key.pem"]);
    assert!(stderr.contains("/nonexistent/key.pem"), "{stderr}");
    let stderr = refused(&[
        "--jwt-secret",
        "0123456789abcdef0123456789abcdef",
        "--jwt-public-key-file",
        "/nonexistent/key.pem",
    ]);
    assert!(stderr.contains("give one of"), "{stderr}");
}

#[test]
fn a_malformed_trusted_proxy_is_refused_at_parse_time() {
    let stderr = refused(&["--trusted-proxies", "10.0.0.0/99"]);
    assert!(stderr.contains("10.0.0.0/99"), "{stderr}");
}

#[test]
fn a_zero_worker_thread_count_is_refused_at_parse_time() {
    let stderr = refused(&["--worker-threads", "0"]);
    assert!(stderr.contains("--worker-threads"), "{stderr}");
}

#[test]
fn a_batch_interval_over_a_second_or_malformed_is_refused_at_parse_time() {
    let stderr = refused(&["--batch-interval", "2s"]);
    assert!(
        stderr.contains("longer than the 1000ms allowed"),
        "{stderr}"
    );
    let stderr = refused(&["--batch-interval", "soon"]);
    assert!(stderr.contains("--batch-interval"), "{stderr}");
    // A valid one gets as far as the missing Redis.
    let stderr = refused(&["--batch-interval", "50ms"]);
    assert!(stderr.contains("REDIS_URL"), "{stderr}");
}

#[test]
fn a_socket_send_buffer_that_is_not_a_byte_count_is_refused_at_parse_time() {
    let stderr = refused(&["--socket-send-buffer", "lots"]);
    assert!(stderr.contains("--socket-send-buffer"), "{stderr}");
    let stderr = refused(&["--socket-send-buffer", "-1"]);
    assert!(stderr.contains("-1"), "{stderr}");
}

#[test]
fn a_malformed_redis_url_is_refused_at_parse_time_with_exit_code_2() {
    for (url, problem) in [
        (
            "redis+sentinel://s1:26379/master/db",
            "\"db\" is not a number",
        ),
        ("redis+cluster://,", "names no host"),
        ("tcp://127.0.0.1:6379", "unsupported Redis URL scheme"),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubecast-fanout"));
        cmd.args(["--listen", "127.0.0.1:0", "--redis-url", url]);
        let (code, stderr) = run_bounded_code(cmd);
        assert_eq!(code, Some(2), "{url}: {stderr}");
        assert!(stderr.contains(problem), "{url}: {stderr}");
    }
}
