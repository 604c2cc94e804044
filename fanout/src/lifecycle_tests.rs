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

/// Sessions the fixture's server closed for `reason`.
fn closes(fx: &Fixture, reason: &'static str) -> u64 {
    fx.app
        .metrics
        .closes
        .get_or_create(&crate::metrics::Reason { reason })
        .get()
}

/// Keep-alive in 600 ms, a 4 KiB kernel send buffer (a stalled client blocks sends at once)
/// and the backlog bound out of reach, for the flood tests.
fn flood_config() -> crate::FanoutConfig {
    crate::FanoutConfig {
        heartbeat: Duration::from_millis(100),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(300),
        max_backlog: 1 << 30,
        send_buffer: 4096,
        ..test_config()
    }
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
    assert_eq!(closes(&fx, "ping_timeout"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_catch_up_does_not_count_against_the_client_as_silence() {
    // The catch-up of a cursor ahead of the replica waits `catchup_wait`, far longer than
    // `ping_interval + ping_timeout`; the client could not be heard meanwhile (nobody read its
    // socket), so its first heartbeat must not close it for a ping timeout.
    let config = crate::FanoutConfig {
        heartbeat: Duration::from_millis(100),
        ping_interval: Duration::from_millis(200),
        ping_timeout: Duration::from_millis(200),
        catchup_wait: Duration::from_millis(1200),
        ..test_config()
    };
    let fx = Fixture::start(100, config).await;
    append_one(&fx.log, 1).await;
    fx.wait_head(1).await;
    let addr = fx.serve().await;
    let url = format!("ws://{addr}/ws?since=5&epoch=e1");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    let until = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < until {
        match tokio::time::timeout(Duration::from_millis(100), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => panic!("closed: {frame:?}"),
            Ok(None) | Ok(Some(Err(_))) => panic!("the connection ended"),
            _ => {}
        }
    }
    assert_eq!(closes(&fx, "ping_timeout"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_stuck_behind_a_blocked_send_is_closed_by_its_keep_alive_deadline() {
    // A half-open socket stops taking bytes: once the kernel's buffers are full the session
    // waits in a send, and the keep-alive deadline must count there too (the send timeout is
    // 10 s, and the backlog bound is set out of reach).
    let fx = Fixture::start(100_000, flood_config()).await;
    let addr = fx.serve().await;
    let (_silent, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let started = Instant::now();
    let mut seq = 0;
    while closes(&fx, "ping_timeout") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not closed for ping timeout (too slow: {})",
            closes(&fx, "too_slow")
        );
        for _ in 0..200 {
            seq += 1;
            append_one(&fx.log, seq).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(closes(&fx, "too_slow"), 0);
}

/// A raw WebSocket client with a small receive buffer: reads `chunk` bytes every 20 ms (its
/// frames are not parsed) and sends a masked `{"type":"ping"}` every 50 ms, so it is heard from
/// all along while the server's sends to it block. Returns how many bytes it read.
async fn trickle_reader(addr: SocketAddr, chunk: usize, run_for: Duration) -> usize {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut stream = socket.connect(addr).await.expect("connect");
    let upgrade = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    stream.write_all(upgrade.as_bytes()).await.expect("upgrade");
    let ping = br#"{"type":"ping"}"#;
    // FIN + text, masked with a zero key (the payload is then sent as is).
    let mut frame = vec![0x81, 0x80 | ping.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(ping);
    let (mut read, mut buf) = (0, vec![0u8; chunk]);
    let until = Instant::now() + run_for;
    let mut next_ping = Instant::now();
    while Instant::now() < until {
        if Instant::now() >= next_ping {
            stream
                .write_all(&frame)
                .await
                .expect("the server still reads");
            next_ping += Duration::from_millis(50);
        }
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "the server closed the connection after {read} bytes");
        read += n;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    read
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_that_keeps_taking_bytes_is_not_taken_for_half_open() {
    // The same flood to a client that reads 256 bytes every 20 ms and pings all along: each
    // send blocks for longer than the keep-alive window, but every block moves bytes.
    let fx = Fixture::start(100_000, flood_config()).await;
    let addr = fx.serve().await;
    let reader = tokio::spawn(trickle_reader(addr, 256, Duration::from_secs(3)));
    let mut seq = 0;
    while !reader.is_finished() {
        for _ in 0..50 {
            seq += 1;
            append_one(&fx.log, seq).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let read = reader.await.expect("the slow client stayed connected");
    assert_eq!(closes(&fx, "ping_timeout"), 0, "read {read} bytes");
    assert_eq!(closes(&fx, "too_slow"), 0, "read {read} bytes");
}
