//! Shutdown and keep-alive on the real server ([`crate::serve`]): a drain spreads the 1001
//! closes over the window while still serving, and returns in time; a client that stops
//! answering pings is closed.

use crate::testkit::{Fixture, test_config};
use futures::StreamExt;
use kubecast_shared::log::{AppendBatch, AppendEntry, EventLog, MemoryLog, SnapshotChange};
use kubecast_shared::{Epoch, Seq};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

async fn append_one(log: &MemoryLog, seq: u64) {
    let event = crate::testkit::event(
        "e1",
        seq,
        "shop",
        "Pod",
        &format!("p{seq}"),
        kubecast_shared::Op::Added,
    );
    let batch = AppendBatch {
        fence: 1,
        epoch: Epoch("e1".into()),
        expected_head: Seq(seq - 1),
        entries: vec![AppendEntry {
            seq: Seq(seq),
            raw: event.encode(),
            ns: "shop".into(),
            kind: "Pod".into(),
            snapshot: SnapshotChange::Put(event.key()),
        }],
    };
    log.append(&batch).await.expect("append");
}

/// What one client saw: the seqs of its events and when (after the signal) it got 1001.
struct Seen {
    seqs: Vec<u64>,
    closed_after: Option<(u16, Duration)>,
}

async fn watch(addr: SocketAddr, signalled: std::sync::Arc<std::sync::OnceLock<Instant>>) -> Seen {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let mut seen = Seen {
        seqs: Vec::new(),
        closed_after: None,
    };
    while let Some(Ok(msg)) = ws.next().await {
        match msg {
            Message::Text(t) => {
                let frame: Value = serde_json::from_str(t.as_str()).expect("json");
                if frame["type"] == "events" {
                    for e in frame["events"].as_array().expect("events") {
                        seen.seqs.push(e["seq"].as_u64().expect("seq"));
                    }
                }
            }
            Message::Close(frame) => {
                let code = frame.map_or(0, |f| u16::from(f.code));
                let after = signalled.get().map_or(Duration::ZERO, Instant::elapsed);
                seen.closed_after = Some((code, after));
                break;
            }
            _ => {}
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_spreads_1001_closes_over_the_window_and_keeps_serving_until_then() {
    let log = MemoryLog::new(1000);
    log.create_epoch(&Epoch("e1".into()), 1)
        .await
        .expect("epoch");
    append_one(&log, 1).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let cancel = CancellationToken::new();
    let window = Duration::from_millis(1500);
    let config = crate::FanoutConfig {
        drain_window: window,
        ..test_config()
    };
    let server = tokio::spawn(crate::serve(listener, log.clone(), config, cancel.clone()));
    let signalled = std::sync::Arc::new(std::sync::OnceLock::new());
    let clients: Vec<_> = (0..20)
        .map(|_| tokio::spawn(watch(addr, signalled.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let _ = signalled.set(Instant::now());
    cancel.cancel();
    append_one(&log, 2).await;
    let stopped = tokio::time::timeout(window + Duration::from_secs(3), server).await;
    assert!(stopped.is_ok(), "serve returned within the window");
    let mut closes = Vec::new();
    for client in clients {
        let seen = client.await.expect("client");
        let (code, after) = seen.closed_after.expect("closed by the server");
        assert_eq!(code, 1001);
        assert!(after <= window + Duration::from_millis(500), "{after:?}");
        if after > Duration::from_millis(300) {
            assert_eq!(seen.seqs, [2], "still served while draining");
        }
        closes.push(after);
    }
    let spread = closes.iter().max().copied().unwrap_or_default()
        - closes.iter().min().copied().unwrap_or_default();
    assert!(
        spread > window / 3,
        "closes spread over the window, got {spread:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_answering_pings_is_closed_and_a_live_one_is_not() {
    let config = crate::FanoutConfig {
        heartbeat: Duration::from_millis(100),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(300),
        ..test_config()
    };
    let fx = Fixture::start(100, config).await;
    let addr = fx.serve().await;
    // Never polled after the handshake: its pongs are never sent.
    let (_silent, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let (mut live, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let reader = tokio::spawn(async move {
        let until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < until {
            match tokio::time::timeout(Duration::from_millis(200), live.next()).await {
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return false,
                _ => {}
            }
        }
        true
    });
    assert!(
        reader.await.expect("reader"),
        "the answering client stays connected"
    );
    let timeouts = crate::metrics::Reason {
        reason: "ping_timeout",
    };
    assert_eq!(fx.app.metrics.closes.get_or_create(&timeouts).get(), 1);
}
