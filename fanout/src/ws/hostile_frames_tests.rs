//! Hostile frames on a live replica (a real socket, raw bytes after the handshake, since a
//! WebSocket library refuses to build most of them): each gets its documented close code
//! (docs/protocol.md), and the replica keeps serving a well-behaved client afterwards.
//!
//! Already covered elsewhere: an oversize message (1009) and a binary message (`error` frame) in
//! `ws::tests::an_oversize_message_closes_with_1009_and_binary_gets_an_error`; malformed JSON in
//! `ws::tests::ping_gets_pong_and_a_malformed_message_gets_an_error_frame`; a message flood (1008)
//! in `ws::limits_tests::a_client_flooding_messages_is_closed_with_1008`.

use super::MAX_CLIENT_MESSAGE;
use super::socket::frame::{self, Frame, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};
use crate::testkit::Fixture;
use futures::StreamExt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame::tests::client_frame(fin, opcode, payload, MASK)
}

/// A client speaking raw bytes: frames it writes are not checked by anyone but the replica.
struct RawClient {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl RawClient {
    async fn connect(addr: SocketAddr) -> Self {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut client = Self {
            tcp,
            buf: Vec::new(),
        };
        let end = loop {
            if let Some(i) = client.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            client.fill().await;
        };
        let head = String::from_utf8_lossy(&client.buf[..end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        client.buf.drain(..end);
        client
    }

    async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 16 * 1024];
        let n = tokio::time::timeout(Duration::from_secs(5), self.tcp.read(&mut chunk))
            .await
            .expect("the replica answers in time")
            .unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    async fn send(&mut self, bytes: &[u8]) {
        // The replica may close while a large write is under way; what it says is read next.
        let _ = self.tcp.write_all(bytes).await;
    }

    /// The next server frame, or `None` at end of stream.
    async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            let parsed = parse_server_frame(&self.buf);
            if let Some((frame, used)) = parsed {
                self.buf.drain(..used);
                return Some(frame);
            }
            if self.fill().await == 0 {
                return None;
            }
        }
    }

    /// Reads past everything else to the close frame; its code and the text frames before it.
    async fn close_code(&mut self) -> (Option<u16>, Vec<String>) {
        let mut texts = Vec::new();
        while let Some(f) = self.next_frame().await {
            match f.opcode {
                OP_CLOSE => return (frame::close_code(&f.payload).ok().flatten(), texts),
                OP_TEXT => texts.push(String::from_utf8_lossy(&f.payload).to_string()),
                _ => {}
            }
        }
        (None, texts)
    }

    /// Reads until a text frame containing `needle` (skipping others); panics on a close.
    async fn text_containing(&mut self, needle: &str) -> String {
        loop {
            let f = self.next_frame().await.expect("still open");
            assert_ne!(
                f.opcode,
                OP_CLOSE,
                "closed: {:?}",
                frame::close_code(&f.payload)
            );
            let text = String::from_utf8_lossy(&f.payload).to_string();
            if f.opcode == OP_TEXT && text.contains(needle) {
                return text;
            }
        }
    }
}

/// Server frames are unmasked; [`frame::parse`] insists on masks, so set the bit on a copy.
fn parse_server_frame(buf: &[u8]) -> Option<(Frame, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let (len, header) = match buf[1] & 0x7F {
        126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => {
            let mut n = [0u8; 8];
            n.copy_from_slice(&buf[2..10]);
            (usize::try_from(u64::from_be_bytes(n)).expect("fits"), 10)
        }
        126 | 127 => return None,
        short => (usize::from(short), 2),
    };
    if buf.len() < header + len {
        return None;
    }
    let frame = Frame {
        fin: buf[0] & 0x80 != 0,
        opcode: buf[0] & 0x0F,
        payload: buf[header..header + len].to_vec(),
    };
    Some((frame, header + len))
}

/// A well-behaved client still gets `hello` from the replica.
async fn assert_still_serves(addr: SocketAddr, after: &str) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap_or_else(|e| panic!("after {after}: {e}"));
    let first = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("hello in time")
        .expect("open")
        .expect("valid");
    assert!(
        first.to_string().contains("hello"),
        "after {after}: {first}"
    );
}

async fn served() -> (Fixture, SocketAddr) {
    let mut fx = Fixture::default().await;
    fx.append_pods("shop", 3).await;
    let addr = fx.serve().await;
    (fx, addr)
}

fn fragments_over_the_limit() -> Vec<u8> {
    let part = vec![b' '; MAX_CLIENT_MESSAGE / 2 + 1];
    [
        client_frame(false, OP_TEXT, &part),
        client_frame(true, OP_CONTINUATION, &part),
    ]
    .concat()
}

#[tokio::test]
async fn each_hostile_frame_gets_its_close_code_and_the_replica_keeps_serving() {
    let (_fx, addr) = served().await;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "invalid UTF-8 in a text frame",
            client_frame(true, OP_TEXT, &[b'{', 0xC3, 0x28, b'}']),
            1007,
        ),
        (
            "a lone surrogate in a text frame",
            client_frame(true, OP_TEXT, &[0xED, 0xA0, 0x80]),
            1007,
        ),
        (
            "a continuation without a message",
            client_frame(true, OP_CONTINUATION, b"{}"),
            1002,
        ),
        (
            "a new text frame inside a fragmented message",
            [
                client_frame(false, OP_TEXT, b"{"),
                client_frame(true, OP_TEXT, b"{}"),
            ]
            .concat(),
            1002,
        ),
        (
            "a ping with a 126-byte payload",
            client_frame(true, OP_PING, &[7; 126]),
            1002,
        ),
        (
            "a fragmented ping",
            client_frame(false, OP_PING, b"x"),
            1002,
        ),
        (
            "a close frame with a 1-byte payload",
            client_frame(true, OP_CLOSE, &[3]),
            1002,
        ),
        (
            "a close frame with code 999",
            client_frame(true, OP_CLOSE, &999u16.to_be_bytes()),
            1002,
        ),
        ("a reserved opcode", client_frame(true, 0x3, b"x"), 1002),
        ("an unmasked frame", vec![0x81, 0x02, b'h', b'i'], 1002),
        (
            "fragments adding up past 64 KiB",
            fragments_over_the_limit(),
            1009,
        ),
        (
            "a length header claiming 2^63 bytes",
            [&[0x81, 0xFF, 0x7F][..], &[0xFF; 7], &MASK].concat(),
            1009,
        ),
    ];
    for (what, bytes, expected) in cases {
        let mut client = RawClient::connect(addr).await;
        client.text_containing("\"snapshot\"").await;
        client.send(&bytes).await;
        let (code, _) = client.close_code().await;
        assert_eq!(code, Some(expected), "{what}");
        assert_still_serves(addr, what).await;
    }
}

#[tokio::test]
async fn fragments_with_interleaved_pings_and_split_characters_are_one_message() {
    let (_fx, addr) = served().await;
    let mut client = RawClient::connect(addr).await;
    client.text_containing("\"snapshot\"").await;
    let pieces = [
        client_frame(false, OP_TEXT, br#"{"type""#),
        client_frame(true, OP_PING, b"mid"),
        client_frame(false, OP_CONTINUATION, br#":"pi"#),
        client_frame(true, OP_CONTINUATION, br#"ng"}"#),
    ];
    client.send(&pieces.concat()).await;
    let pong = loop {
        let f = client.next_frame().await.expect("open");
        if f.opcode == OP_PONG {
            break f;
        }
    };
    assert_eq!(
        pong.payload, b"mid",
        "a control frame inside a message is answered"
    );
    client.text_containing(r#"{"type":"pong"}"#).await;
    // "é" is C3 A9: a character split across fragments is still valid UTF-8.
    let split = [
        client_frame(false, OP_TEXT, b"{\"type\":\"subscribe\",\"ns\":[\"\xC3"),
        client_frame(true, OP_CONTINUATION, b"\xA9\"]}"),
    ];
    client.send(&split.concat()).await;
    let refused = client.text_containing("\"error\"").await;
    assert!(refused.contains("bad_filter"), "{refused}");
    client
        .send(&client_frame(true, OP_TEXT, br#"{"type":"ping"}"#))
        .await;
    client.text_containing(r#"{"type":"pong"}"#).await;
}

#[tokio::test]
async fn a_hostile_message_gets_an_error_frame_and_the_connection_stays_up() {
    let (_fx, addr) = served().await;
    let mut client = RawClient::connect(addr).await;
    client.text_containing("\"snapshot\"").await;
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let names: Vec<String> = (0..2_000).map(|i| format!("n{i}")).collect();
    let long_list = serde_json::json!({"type": "subscribe", "ns": names}).to_string();
    let hostile = [
        (deep.as_str(), "bad_message"),
        (r#"{"type":"subscribe","ns":[1e999]}"#, "bad_message"),
        (
            r#"{"type":"subscribe","kinds":["Pod\u0000"]}"#,
            "bad_filter",
        ),
        (long_list.as_str(), "bad_filter"),
        (r#"{"type":"auth","token":"\ud800"}"#, "bad_message"),
        ("\u{feff}{\"type\":\"ping\"}", "bad_message"),
    ];
    for (text, code) in hostile {
        client
            .send(&client_frame(true, OP_TEXT, text.as_bytes()))
            .await;
        let answer = client.text_containing("\"error\"").await;
        assert!(
            answer.contains(code),
            "{}: {answer}",
            &text[..text.len().min(40)]
        );
    }
    client
        .send(&client_frame(true, OP_TEXT, br#"{"type":"ping"}"#))
        .await;
    client.text_containing(r#"{"type":"pong"}"#).await;
}
