//! The socket against `tokio-tungstenite` as the client, over an in-memory duplex stream.

use super::frame::{self, ProtocolError};
use super::*;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const MAX: usize = 1024;

async fn pair(buffer: usize) -> (WsSocket<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (server, client) = tokio::io::duplex(buffer);
    let client = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
    (WsSocket::new(server, MAX, &[]), client)
}

/// A socket whose client side is a raw byte stream; `received` as if read with the request.
fn raw_pair(received: &[u8]) -> (WsSocket<DuplexStream>, DuplexStream) {
    let (server, raw) = tokio::io::duplex(4096);
    (WsSocket::new(server, MAX, received), raw)
}

async fn within<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(5), f)
        .await
        .unwrap_or_else(|_| panic!("{what} timed out"))
}

#[tokio::test]
async fn text_goes_both_ways() {
    let (mut server, mut client) = pair(4096).await;
    client
        .send(Message::text("hello server"))
        .await
        .expect("send");
    let got = within("recv", server.recv()).await.expect("message");
    assert_eq!(got, Incoming::Text("hello server".into()));
    server
        .send(frame::text("hello client"))
        .await
        .expect("send");
    let got = within("client", client.next())
        .await
        .expect("frame")
        .expect("ok");
    assert_eq!(got, Message::text("hello client"));
}

#[tokio::test]
async fn pings_pongs_and_binary_are_reported() {
    let (mut server, mut client) = pair(4096).await;
    client
        .send(Message::Ping(b"p".to_vec().into()))
        .await
        .expect("ping");
    client
        .send(Message::Pong(Vec::new().into()))
        .await
        .expect("pong");
    client
        .send(Message::binary(vec![1, 2, 3]))
        .await
        .expect("binary");
    assert_eq!(
        server.recv().await.expect("ping"),
        Incoming::Ping(b"p".to_vec())
    );
    assert_eq!(server.recv().await.expect("pong"), Incoming::Pong);
    assert_eq!(server.recv().await.expect("binary"), Incoming::Binary);
}

#[tokio::test]
async fn a_server_close_reaches_the_client_with_its_code_and_completes() {
    let (mut server, mut client) = pair(4096).await;
    let closing = tokio::spawn(async move { server.close(4008, "too slow").await });
    let got = within("client", client.next())
        .await
        .expect("frame")
        .expect("ok");
    let Message::Close(Some(close)) = got else {
        panic!("expected a close frame, got {got:?}");
    };
    assert_eq!(close.code, CloseCode::from(4008));
    assert_eq!(close.reason.as_str(), "too slow");
    // tungstenite answers the close; the server's handshake then completes.
    let _ = within("client end", client.next()).await;
    within("server close", closing).await.expect("no panic");
}

#[tokio::test]
async fn a_client_close_is_echoed() {
    let (mut server, mut client) = pair(4096).await;
    client.close(None).await.expect("close");
    assert_eq!(server.recv().await.expect("close"), Incoming::Close(None));
    assert!(server.peer_closed());
    within("server close", server.close(4008, "ignored")).await;
    let got = within("client", client.next()).await;
    assert!(
        matches!(got, None | Some(Ok(Message::Close(_)))),
        "the echo completes the client's close: {got:?}"
    );
}

/// Bytes arriving one at a time, and reads cancelled in between, still make whole messages.
#[tokio::test]
async fn messages_survive_byte_by_byte_arrival_and_cancelled_reads() {
    let (mut server, mut raw) = raw_pair(&[]);
    let mut bytes = frame_tests_client(b"{\"type\":\"ping\"}");
    bytes.extend(frame_tests_client(b"second"));
    let writer = tokio::spawn(async move {
        for byte in bytes {
            raw.write_all(&[byte]).await.expect("write");
            tokio::task::yield_now().await;
        }
        raw
    });
    let mut got = Vec::new();
    while got.len() < 2 {
        tokio::select! {
            message = server.recv() => got.push(message.expect("message")),
            () = tokio::task::yield_now() => {}
        }
    }
    assert_eq!(
        got,
        vec![
            Incoming::Text("{\"type\":\"ping\"}".into()),
            Incoming::Text("second".into())
        ]
    );
    drop(writer.await.expect("writer"));
    assert!(matches!(server.recv().await, Err(RecvError::Eof)));
}

fn frame_tests_client(payload: &[u8]) -> Vec<u8> {
    frame::tests::client_frame(true, frame::OP_TEXT, payload, [3, 1, 4, 1])
}

/// A write abandoned half-way (the client stopped reading) is finished before the next frame,
/// so the client never sees a torn frame.
#[tokio::test]
async fn an_abandoned_write_is_finished_before_the_next_frame() {
    let (mut server, mut client) = pair(64).await;
    let big = "x".repeat(1000);
    let abandoned =
        tokio::time::timeout(Duration::from_millis(50), server.send(frame::text(&big))).await;
    assert!(
        abandoned.is_err(),
        "the 64-byte pipe cannot take 1000 bytes"
    );
    let reader = tokio::spawn(async move {
        let first = client.next().await.expect("frame").expect("ok");
        let second = client.next().await.expect("frame").expect("ok");
        (first, second)
    });
    within("send", server.send(frame::text("next")))
        .await
        .expect("send");
    let (first, second) = within("reader", reader).await.expect("no panic");
    assert_eq!(first, Message::text(big));
    assert_eq!(second, Message::text("next"));
}

/// Broken input is reported as the protocol error that names its close code; an oversize
/// length is refused from its header, before the payload arrives.
#[tokio::test]
async fn broken_frames_are_protocol_errors() {
    let mut reserved = frame_tests_client(b"x");
    reserved[0] |= 0x40;
    let oversize = frame::tests::client_frame(true, frame::OP_TEXT, &vec![b'x'; MAX + 1], [0; 4]);
    let bad_utf8 = frame::tests::client_frame(true, frame::OP_TEXT, &[0xC3, 0x28], [1; 4]);
    let cases: [(&[u8], ProtocolError); 4] = [
        (&[0x81, 0x02, b'h', b'i'], ProtocolError::Unmasked),
        (&reserved, ProtocolError::ReservedBits),
        (&oversize[..8], ProtocolError::TooBig),
        (&bad_utf8, ProtocolError::InvalidUtf8),
    ];
    for (bytes, expected) in cases {
        let (mut server, mut raw) = raw_pair(&[]);
        raw.write_all(bytes).await.expect("write");
        let got = within("recv", server.recv()).await;
        assert!(
            matches!(got, Err(RecvError::Protocol(error)) if error == expected),
            "{expected:?}: {got:?}"
        );
    }
}

/// Bytes the client sent right after its request (handed over by the HTTP server) are read first.
#[tokio::test]
async fn bytes_received_with_the_request_are_read_first() {
    let (mut server, mut raw) = raw_pair(&frame_tests_client(b"early"));
    raw.write_all(&frame_tests_client(b"late"))
        .await
        .expect("write");
    assert_eq!(
        server.recv().await.expect("1"),
        Incoming::Text("early".into())
    );
    assert_eq!(
        server.recv().await.expect("2"),
        Incoming::Text("late".into())
    );
    let mut rest = [0u8; 1];
    drop(server);
    assert_eq!(raw.read(&mut rest).await.expect("eof"), 0);
}
