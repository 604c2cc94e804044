//! Slow consumers: clients that stop reading are closed with 4008 once their backlog passes
//! `--max-backlog`; everyone else on the same replica keeps their pace and loses nothing.

use crate::support::closes;
use kubecast_tests::procs::deployment::Options;
use kubecast_tests::procs::fanout::default_flags;
use kubecast_tests::procs::scenario::Scenario;
use std::time::{Duration, Instant};
use tokio::net::TcpSocket;

const STALLED: usize = 5;

/// A WebSocket that completes its handshake and never reads again (a 4 KiB receive buffer).
async fn stalled_reader(addr: &str) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let stream = socket
        .connect(addr.parse().expect("addr"))
        .await
        .expect("connect");
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
        .await
        .expect("handshake");
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_readers_are_closed_and_the_others_lose_nothing() {
    let mut fanout_flags = default_flags();
    fanout_flags
        .extend(["--max-backlog", "65536", "--socket-send-buffer", "8192"].map(String::from));
    let options = Options {
        fanout_flags,
        ..Options::default()
    };
    let mut s = Scenario::start("15-slow-consumers", options, 12, 3).await;
    let replica = s.deployment.fanouts[0].addr.clone();
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        stalled.push(stalled_reader(&replica).await);
    }
    let before = closes(&replica, "too_slow").await;
    let started = Instant::now();
    let closed = loop {
        s.cluster().storm(500);
        if closes(&replica, "too_slow").await >= before + STALLED as f64 {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "stalled readers were never closed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    s.end_fault().await;
    drop(stalled);
    for state in s.fleet.states() {
        assert_eq!(state.resets, 0, "the others were not slowed into a reset");
    }
    s.finish_noted(
        "Slow consumers",
        "5 clients stop reading (4 KiB receive buffer) on one replica during pod storms",
        format!(
            "all 5 closed with 4008 within {:.1} s (--max-backlog 64 KiB); the others unaffected",
            closed.as_secs_f64()
        ),
    )
    .await;
}
