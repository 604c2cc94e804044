//! Integration-test harness: real `redis-server` processes, the simulated cluster on loopback,
//! producers and fanout replicas as in-process tasks on real sockets, and clients that verify the
//! protocol's promises (no gap, no duplicate, right final state) as they go.

pub mod churn;
pub mod client_state;
pub mod expected;
pub mod fleet;
pub mod poll_client;
pub mod procs;
pub mod redis;
pub mod report;
pub mod resuming_client;
pub mod stack;
pub mod ws_client;

pub use kubecast_shared::testing::{RedisServer, free_port, unique_cluster};

/// Polls `$cond` (an async block returning bool) until it holds or `$secs` seconds pass.
#[macro_export]
macro_rules! eventually {
    ($secs:expr, $what:expr, $cond:expr) => {{
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs($secs);
        loop {
            if $cond.await {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("not true within {} s: {}", $secs, $what);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }};
}

/// Logs to the test output when `KUBECAST_TEST_LOG` is set (e.g. `debug`).
pub fn init_logging() {
    if let Ok(filter) = std::env::var("KUBECAST_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
}
