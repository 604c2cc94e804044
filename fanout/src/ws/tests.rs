//! WebSocket tests on a real socket with `tokio-tungstenite`.

use crate::testkit::Fixture;
use futures::{SinkExt, StreamExt};
use kubecast_shared::Op;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: SocketAddr, query: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?{query}"))
        .await
        .expect("connect");
    ws
}

/// The next message of any kind.
async fn next_message(ws: &mut Ws) -> Message {
    tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("a message in time")
        .expect("stream open")
        .expect("valid message")
}

/// The next text frame, skipping `position` heartbeats unless `keep_positions`.
async fn next_frame_with(ws: &mut Ws, keep_positions: bool) -> Value {
    loop {
        if let Message::Text(text) = next_message(ws).await {
            let frame: Value = serde_json::from_str(text.as_str()).expect("json frame");
            if keep_positions || frame["type"] != "position" {
                return frame;
            }
        }
    }
}

async fn next_frame(ws: &mut Ws) -> Value {
    next_frame_with(ws, false).await
}

async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(text.into())).await.expect("send");
}

fn seqs(frame: &Value) -> Vec<u64> {
    frame["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect()
}

/// Collects `events` frames until `last` was seen; returns every seq in arrival order.
async fn events_until(ws: &mut Ws, last: u64) -> Vec<u64> {
    let mut seen = Vec::new();
    while seen.last() != Some(&last) {
        let frame = next_frame(ws).await;
        assert_eq!(frame["type"], "events", "unexpected frame {frame}");
        seen.extend(seqs(&frame));
    }
    seen
}

#[tokio::test]
async fn a_new_client_gets_hello_and_a_snapshot_then_live_events_in_order() {
    let mut fx = Fixture::default().await;
    fx.append_pods("shop", 3).await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "").await;
    let hello = next_frame(&mut ws).await;
    assert_eq!(
        (
            hello["type"].as_str(),
            hello["epoch"].as_str(),
            hello["seq"].as_u64()
        ),
        (Some("hello"), Some("e1"), Some(3))
    );
    assert_eq!(
        (
            hello["server"].as_str(),
            hello["protocol"].as_u64(),
            hello["heartbeat_ms"].as_u64()
        ),
        (Some("test"), Some(1), Some(200))
    );
    let snap = next_frame(&mut ws).await;
    assert_eq!(
        (
            snap["type"].as_str(),
            snap["seq"].as_u64(),
            snap["last"].as_bool()
        ),
        (Some("snapshot"), Some(3), Some(true))
    );
    assert_eq!(snap["objects"].as_array().map(Vec::len), Some(3));
    fx.append_pods("shop", 2).await;
    fx.append_pods("shop", 3).await;
    assert_eq!(events_until(&mut ws, 8).await, vec![4, 5, 6, 7, 8]);
}

#[tokio::test]
async fn resuming_with_since_gets_exactly_the_missed_events_then_live_ones() {
    let mut fx = Fixture::default().await;
    fx.append_pods("shop", 5).await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "since=2&epoch=e1").await;
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    assert_eq!(events_until(&mut ws, 5).await, vec![3, 4, 5]);
    fx.append_pods("shop", 1).await;
    assert_eq!(events_until(&mut ws, 6).await, vec![6]);
}

#[tokio::test]
async fn a_cursor_older_than_the_ring_is_replayed_from_the_log() {
    let config = crate::FanoutConfig {
        ring_capacity: 2,
        ..crate::testkit::test_config()
    };
    let mut fx = Fixture::start(1000, config).await;
    fx.append_pods("shop", 10).await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "since=1&epoch=e1").await;
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    assert_eq!(
        events_until(&mut ws, 10).await,
        (2..=10).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_cursor_from_another_epoch_gets_a_reset_and_a_snapshot() {
    let mut fx = Fixture::default().await;
    fx.append_pods("shop", 4).await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "since=2&epoch=gone").await;
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    let reset = next_frame(&mut ws).await;
    assert_eq!(
        (
            reset["type"].as_str(),
            reset["epoch"].as_str(),
            reset["seq"].as_u64()
        ),
        (Some("reset"), Some("e1"), Some(4))
    );
    assert_eq!(reset["reason"], "epoch");
    let snap = next_frame(&mut ws).await;
    assert_eq!(
        (snap["type"].as_str(), snap["seq"].as_u64()),
        (Some("snapshot"), Some(4))
    );
}

#[tokio::test]
async fn a_namespace_filter_only_delivers_its_namespace_and_positions_advance() {
    let mut fx = Fixture::default().await;
    fx.append_pods("shop", 2).await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "ns=web").await;
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    let snap = next_frame(&mut ws).await;
    assert_eq!(snap["objects"].as_array().map(Vec::len), Some(0));
    fx.append_pods("shop", 3).await;
    fx.append_pods("web", 1).await;
    fx.append_pods("shop", 2).await;
    let mut web = Vec::new();
    let mut position = 0;
    while position < 8 {
        let frame = next_frame_with(&mut ws, true).await;
        match frame["type"].as_str() {
            Some("events") => {
                for ev in frame["events"].as_array().expect("events") {
                    assert_eq!(ev["ns"], "web", "{ev}");
                    web.push(ev["seq"].as_u64().expect("seq"));
                }
            }
            Some("position") => position = frame["seq"].as_u64().expect("seq"),
            other => panic!("unexpected frame {other:?}"),
        }
    }
    assert_eq!(web, vec![6]);
}

#[tokio::test]
async fn ping_gets_pong_and_a_malformed_message_gets_an_error_frame() {
    let fx = Fixture::default().await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "").await;
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    assert_eq!(next_frame(&mut ws).await["type"], "snapshot");
    send(&mut ws, r#"{"type":"ping"}"#).await;
    assert_eq!(next_frame(&mut ws).await["type"], "pong");
    for bad in [
        "not json",
        r#"{"type":"launch"}"#,
        r#"{"type":"subscribe","ns":["a b"]}"#,
    ] {
        send(&mut ws, bad).await;
        let error = next_frame(&mut ws).await;
        assert_eq!(error["type"], "error", "{bad}");
        assert!(error["code"].is_string() && error["message"].is_string());
    }
    send(&mut ws, r#"{"type":"ping"}"#).await;
    assert_eq!(
        next_frame(&mut ws).await["type"],
        "pong",
        "the connection stays up"
    );
}

#[tokio::test]
async fn subscribe_replaces_the_filter_and_answers_with_a_snapshot() {
    let mut fx = Fixture::default().await;
    fx.append(&[
        ("shop", "Pod", "a", Op::Added),
        ("web", "Pod", "b", Op::Added),
    ])
    .await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "").await;
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    assert_eq!(
        next_frame(&mut ws).await["objects"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    send(&mut ws, r#"{"type":"subscribe","ns":["web"]}"#).await;
    let snap = next_frame(&mut ws).await;
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(snap["objects"][0]["name"], "b");
    assert_eq!(snap["objects"].as_array().map(Vec::len), Some(1));
    send(&mut ws, r#"{"type":"get_snapshot"}"#).await;
    assert_eq!(next_frame(&mut ws).await["type"], "snapshot");
}

#[tokio::test]
async fn an_epoch_change_in_the_log_resets_every_client() {
    let mut fx = Fixture::default().await;
    fx.append_pods("shop", 3).await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "").await;
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    assert_eq!(next_frame(&mut ws).await["type"], "snapshot");
    fx.new_epoch("e2").await;
    fx.append(&[("shop", "Pod", "fresh", Op::Added)]).await;
    let reset = next_frame(&mut ws).await;
    assert_eq!(
        (reset["type"].as_str(), reset["epoch"].as_str()),
        (Some("reset"), Some("e2"))
    );
    let snap = next_frame(&mut ws).await;
    assert_eq!(
        (
            snap["type"].as_str(),
            snap["epoch"].as_str(),
            snap["seq"].as_u64()
        ),
        (Some("snapshot"), Some("e2"), Some(1))
    );
    assert_eq!(snap["objects"][0]["name"], "fresh");
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1001() {
    let fx = Fixture::default().await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "").await;
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    fx.cancel.cancel();
    loop {
        if let Message::Close(frame) = next_message(&mut ws).await {
            assert_eq!(frame.map(|f| u16::from(f.code)), Some(1001));
            break;
        }
    }
}

type Gated = (
    tokio::sync::watch::Sender<bool>,
    tokio::sync::mpsc::UnboundedReceiver<Message>,
    tokio::task::JoinHandle<()>,
);

/// A session on an in-memory stream of 1 KiB whose client reads only while the gate is open (a
/// client that stopped reading when it is closed); what the client receives is collected.
async fn gated_session(fx: &Fixture) -> Gated {
    use tokio_tungstenite::tungstenite::protocol::Role;
    let (gate, mut gate_rx) = tokio::sync::watch::channel(true);
    let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let (server_io, client_io) = tokio::io::duplex(1024);
    let mut client =
        tokio_tungstenite::WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
    tokio::spawn(async move {
        while gate_rx.wait_for(|open| *open).await.is_ok() {
            match client.next().await {
                Some(Ok(msg)) => drop(out_tx.send(msg)),
                _ => break,
            }
        }
    });
    let params = crate::http::query::Params {
        since: None,
        epoch: None,
        filter: Default::default(),
        limit: 1,
        wait: Duration::ZERO,
        token: None,
    };
    let grant = crate::auth::Grant::everything();
    let session = super::Session::new(fx.app.clone(), params, grant).expect("admitted");
    let socket = super::socket::WsSocket::new(server_io, super::MAX_CLIENT_MESSAGE, &[]);
    let session = tokio::spawn(Box::new(session).run(Box::new(socket)));
    let first = out_rx.recv().await.expect("hello");
    assert!(matches!(first, Message::Text(ref t) if t.as_str().contains("hello")));
    (gate, out_rx, session)
}

fn close_code(out_rx: &mut tokio::sync::mpsc::UnboundedReceiver<Message>) -> Option<u16> {
    let mut close = None;
    while let Ok(msg) = out_rx.try_recv() {
        if let Message::Close(frame) = msg {
            close = frame.map(|f| u16::from(f.code));
        }
    }
    close
}

/// The live channel overflows behind a blocked session.
#[tokio::test]
async fn a_client_that_falls_too_far_behind_is_closed_with_4008() {
    let mut fx = Fixture::default().await;
    let (gate, mut out_rx, session) = gated_session(&fx).await;
    gate.send_replace(false);
    for _ in 0..1100 {
        fx.append_pods("shop", 1).await;
    }
    gate.send_replace(true);
    tokio::time::timeout(Duration::from_secs(5), session)
        .await
        .expect("session ended")
        .expect("no panic");
    assert_eq!(close_code(&mut out_rx), Some(super::CLOSE_TOO_SLOW));
}

/// A session blocked on a send notices that it fell past its backlog bound and gives up long
/// before the send timeout, even though its client never takes another frame.
#[tokio::test]
async fn a_blocked_send_is_abandoned_once_the_client_is_over_its_backlog_bound() {
    let config = crate::FanoutConfig {
        max_backlog: 4096,
        ..crate::testkit::test_config()
    };
    let mut fx = Fixture::start(100_000, config).await;
    let (gate, _out_rx, session) = gated_session(&fx).await;
    gate.send_replace(false);
    fx.append_pods("shop", 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    for _ in 0..10 {
        fx.append_pods("shop", 10).await;
    }
    tokio::time::timeout(Duration::from_secs(5), session)
        .await
        .expect("ended well before the 10 s send timeout")
        .expect("no panic");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(gate);
}

/// A client whose socket takes at most a few KiB and that stops reading after the snapshot.
async fn stalled_client(addr: SocketAddr) -> Ws {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("small receive buffer");
    let stream = socket.connect(addr).await.expect("connect");
    let url = format!("ws://{addr}/ws");
    let (mut ws, _) =
        tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .expect("handshake");
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    assert_eq!(next_frame(&mut ws).await["type"], "snapshot");
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_is_cut_off_without_a_gap_while_the_others_get_everything() {
    // The bound is far above what a reading client ever lags (one ~55 KB batch at a time), and
    // far below what the stalled client falls behind once its socket buffers are full.
    let config = crate::FanoutConfig {
        max_backlog: 2 << 20,
        ..crate::testkit::test_config()
    };
    let mut fx = Fixture::start(1_000_000, config).await;
    let addr = fx.serve().await;
    let mut stalled = stalled_client(addr).await;
    let mut healthy = connect(addr, "").await;
    assert_eq!(next_frame(&mut healthy).await["type"], "hello");
    assert_eq!(next_frame(&mut healthy).await["type"], "snapshot");
    // ~16 MB in batches of ~80 KB: far more than the stalled client's socket buffers hold.
    let (batches, per_batch) = (200, 50);
    let last = (batches * per_batch) as u64;
    let reader = tokio::spawn(async move { events_until(&mut healthy, last).await });
    for b in 0..batches {
        let names: Vec<String> = (0..per_batch).map(|i| format!("p-{b}-{i}")).collect();
        let items: Vec<_> = names
            .iter()
            .map(|n| ("shop", "Pod", n.as_str(), Op::Added))
            .collect();
        fx.append_padded(&items, 1536).await;
    }
    let healthy_seqs = reader.await.expect("healthy reader");
    assert_eq!(
        healthy_seqs,
        (1..=last).collect::<Vec<_>>(),
        "every event once, in order"
    );

    // The stalled client now reads what was buffered for it: a gap-free prefix, then the end of
    // the connection (the server closed it instead of skipping or waiting forever).
    let mut seen = Vec::new();
    // Well within SEND_TIMEOUT (10 s): the backlog bound cut it off.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(msg)) = stalled.next().await {
            match msg {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(text.as_str()).expect("json");
                    if frame["type"] == "events" {
                        seen.extend(seqs(&frame));
                    }
                }
                Message::Close(frame) => {
                    let code = frame.map(|f| u16::from(f.code));
                    assert_eq!(code, Some(crate::ws::CLOSE_TOO_SLOW));
                }
                _ => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stalled connection was closed by the server"
    );
    assert!(
        seen.len() < last as usize,
        "it was cut off, got {}",
        seen.len()
    );
    assert_eq!(
        seen,
        (1..=seen.len() as u64).collect::<Vec<_>>(),
        "a gap-free prefix"
    );
    let too_slow = crate::metrics::Reason { reason: "too_slow" };
    assert_eq!(fx.app.metrics.closes.get_or_create(&too_slow).get(), 1);
}

/// With the kernel's send buffer capped, a client that stops reading is cut off once it is a
/// few hundred KiB behind; uncapped, the kernel alone would have taken megabytes for it first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_send_buffer_lets_the_backlog_bound_cut_off_a_stalled_client_early() {
    let config = crate::FanoutConfig {
        max_backlog: 256 << 10,
        send_buffer: 64 << 10,
        ..crate::testkit::test_config()
    };
    let mut fx = Fixture::start(1_000_000, config).await;
    let addr = fx.serve().await;
    let _stalled = stalled_client(addr).await;
    // ~1.5 MB in batches of ~80 KB: well under what the kernel buffers uncapped.
    for b in 0..20 {
        let names: Vec<String> = (0..50).map(|i| format!("p-{b}-{i}")).collect();
        let items: Vec<_> = names
            .iter()
            .map(|n| ("shop", "Pod", n.as_str(), Op::Added))
            .collect();
        fx.append_padded(&items, 1536).await;
    }
    let too_slow = crate::metrics::Reason { reason: "too_slow" };
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while fx.app.metrics.closes.get_or_create(&too_slow).get() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(closed.is_ok(), "the stalled client was closed with 4008");
}

#[tokio::test]
async fn a_large_snapshot_arrives_in_parts_of_bounded_size() {
    let mut fx = Fixture::default().await;
    let names: Vec<String> = (0..100).map(|i| format!("big-{i}")).collect();
    let items: Vec<_> = names
        .iter()
        .map(|n| ("shop", "Pod", n.as_str(), Op::Added))
        .collect();
    fx.append_padded(&items, 2048).await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "").await;
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    let mut objects = 0;
    let mut parts = 0;
    loop {
        let Message::Text(text) = next_message(&mut ws).await else {
            continue;
        };
        let frame: Value = serde_json::from_str(text.as_str()).expect("json");
        assert_eq!(frame["type"], "snapshot");
        assert_eq!(frame["part"], parts);
        assert!(
            text.len() <= 64 * 1024 + 4096,
            "part of {} bytes",
            text.len()
        );
        objects += frame["objects"].as_array().map_or(0, Vec::len);
        parts += 1;
        if frame["last"] == true {
            break;
        }
    }
    assert_eq!(objects, 100);
    assert!(parts >= 4, "{parts} parts");
}

#[tokio::test]
async fn an_oversize_message_closes_with_1009_and_binary_gets_an_error() {
    let fx = Fixture::default().await;
    let addr = fx.serve().await;
    let mut ws = connect(addr, "").await;
    assert_eq!(next_frame(&mut ws).await["type"], "hello");
    assert_eq!(next_frame(&mut ws).await["type"], "snapshot");
    ws.send(Message::Binary(vec![1u8, 2, 3].into()))
        .await
        .expect("send");
    let error = next_frame(&mut ws).await;
    assert_eq!(
        (error["type"].as_str(), error["code"].as_str()),
        (Some("error"), Some("bad_message"))
    );
    let huge = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(70 * 1024));
    let _ = ws.send(Message::Text(huge.into())).await;
    let mut close = None;
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Close(frame) = msg {
                close = frame.map(|f| u16::from(f.code));
                return;
            }
        }
    })
    .await;
    assert_eq!(close, Some(1009));
}

/// A client may send its first message in the same packet as the upgrade request: the bytes the
/// HTTP server already read are handed to the socket, not lost.
#[tokio::test]
async fn a_message_sent_with_the_upgrade_request_is_not_lost() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fx = Fixture::default().await;
    let addr = fx.serve().await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut bytes = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    .into_bytes();
    bytes.extend(super::socket::frame::tests::client_frame(
        true,
        super::socket::frame::OP_TEXT,
        br#"{"type":"ping"}"#,
        [7, 7, 7, 7],
    ));
    tcp.write_all(&bytes).await.expect("write");
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(5), async {
        let mut chunk = [0u8; 4096];
        loop {
            let n = tcp.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed before the pong");
            seen.extend_from_slice(&chunk[..n]);
            if String::from_utf8_lossy(&seen).contains(r#"{"type":"pong"}"#) {
                return;
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&seen);
    assert!(found.is_ok(), "no pong; got {text}");
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    assert!(text.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{text}");
}

/// Upgrade requests that break RFC 6455's handshake rules get a 400 naming the rule, not a socket.
#[tokio::test]
async fn a_broken_upgrade_request_gets_a_400_naming_the_rule() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fx = Fixture::default().await;
    let addr = fx.serve().await;
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\n";
    let cases = [
        (
            format!("Sec-WebSocket-Version: 13\r\n{key}"),
            "400",
            "Connection: upgrade",
        ),
        (
            format!("{upgrade}Sec-WebSocket-Version: 8\r\n{key}"),
            "400",
            "Sec-WebSocket-Version: 13",
        ),
        (
            format!("{upgrade}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n"),
            "400",
            "Sec-WebSocket-Key",
        ),
        (
            format!("{upgrade}Sec-WebSocket-Version: 13\r\n{key}"),
            "101",
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        ),
    ];
    for (headers, status, says) in cases {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET /ws HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n");
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut seen = Vec::new();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = tcp.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&chunk[..n]);
            }
        })
        .await;
        let text = String::from_utf8_lossy(&seen);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status}")),
            "{headers}: {text}"
        );
        assert!(text.contains(says), "{headers}: {text}");
    }
}
