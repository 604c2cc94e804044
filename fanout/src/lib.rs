//! Kubecast fanout: a stateless replica that tails the event log and pushes it to browsers
//! (DESIGN §3–§4).
//!
//! ```text
//! log ──wait_after──▶ tail ──▶ Shared view (objects + recent ring) ──broadcast──▶ ws sessions
//!                                   │                                   /events, /snapshot
//!                                   └── older cursors fall back to log.read_range
//! ```
//!
//! Invariants: one tail per replica is the only writer of the view; every client-facing answer is
//! either gap-free relative to its cursor or an explicit reset; shutdown closes every WebSocket
//! with 1001 before [`serve`] returns.

pub mod auth;
pub mod coalesce;
pub mod config;
pub mod cursor;
pub mod error;
pub mod history;
pub mod http;
#[cfg(test)]
mod lifecycle_tests;
pub mod limits;
pub mod metrics;
pub mod server;
pub mod state;
pub mod tail;
pub mod ws;

#[cfg(test)]
mod testkit;

pub use config::{FanoutArgs, FanoutConfig};
pub use http::{AppState, router};

use anyhow::Context;
use kubecast_shared::log::EventLog;
use tokio_util::sync::CancellationToken;

/// Runs a replica on `listener` until `cancel` fires, then drains: long-polls return, every
/// WebSocket gets its 1001 close frame, the tail stops. Returns once everything has stopped.
pub async fn serve<L: EventLog>(
    listener: tokio::net::TcpListener,
    log: L,
    config: FanoutConfig,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let state = AppState::new(log.clone(), config, cancel.clone());
    let sessions = state.sessions.clone();
    // The tail outlives the signal: draining sessions keep getting events until they close.
    let tail_cancel = CancellationToken::new();
    let tail = tokio::spawn(tail::run(
        log,
        state.shared.clone(),
        state.metrics.clone(),
        state.config.batch_interval,
        tail_cancel.clone(),
    ));
    server::serve_http(listener, router(state), cancel.clone()).await;
    sessions.close();
    sessions.wait().await;
    tail_cancel.cancel();
    tail.await.context("the tail task panicked")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubecast_shared::Epoch;
    use kubecast_shared::log::MemoryLog;
    use std::time::Duration;

    #[tokio::test]
    async fn serve_answers_until_cancelled_and_then_returns() {
        let log = MemoryLog::new(100);
        log.create_epoch(&Epoch("e1".into()), 1)
            .await
            .expect("epoch");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let cancel = CancellationToken::new();
        let server = tokio::spawn(serve(listener, log, testkit::test_config(), cancel.clone()));
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .expect("connect");
        cancel.cancel();
        let result = tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("stopped in time");
        assert!(result.expect("no panic").is_ok());
        drop(ws);
    }
}
