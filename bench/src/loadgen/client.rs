//! One load-generator client: connect from its source address, join (Socket.IO), then read
//! until the server closes, verifying every frame through its [`Session`].

use super::poll::Poller;
use super::session::{Next, Session, socketio_handshake};
use super::slow::SLOW_RCVBUF;
use super::{GenState, Mode, Protocol, Ws};
use futures::{SinkExt, StreamExt};
use std::cell::Cell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Where and how a client connects; shared by the clients of a process.
pub struct Dial {
    pub target: SocketAddr,
    pub url: Box<str>,
    pub protocol: Protocol,
    /// Socket.IO: the publisher's epoch.
    pub epoch: Box<str>,
    pub timeout: Duration,
}

async fn connect(src: IpAddr, dial: &Dial, slow: bool) -> Result<Ws, String> {
    connect_to(src, dial, &dial.url, slow).await
}

/// Connects to `url` (the dial's URL, or it with a resume query) from `src`; a `slow` client
/// asks for a small receive buffer first.
pub(super) async fn connect_to(
    src: IpAddr,
    dial: &Dial,
    url: &str,
    slow: bool,
) -> Result<Ws, String> {
    let socket = match dial.target {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    }
    .map_err(|e| format!("socket: {:?}", e.kind()))?;
    if slow {
        // Before connecting, so the window the client announces is small from the start.
        let _ = socket.set_recv_buffer_size(SLOW_RCVBUF);
    }
    socket
        .bind(SocketAddr::new(src, 0))
        .map_err(|e| format!("bind: {:?}", e.kind()))?;
    let stream = socket
        .connect(dial.target)
        .await
        .map_err(|e| format!("connect: {:?}", e.kind()))?;
    let _ = stream.set_nodelay(true);
    // Small buffers: the generator holds thousands of sockets; frames larger than this still
    // arrive (the buffer grows for them).
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .map_err(|e| {
            let s = format!("handshake: {e}");
            s.chars().take(80).collect::<String>()
        })?;
    Ok(ws)
}

/// Connects and, for Socket.IO, joins the default namespace.
async fn open(src: IpAddr, dial: &Dial, slow: bool) -> Result<(Ws, Session), String> {
    let mut ws = connect(src, dial, slow).await?;
    let session = match dial.protocol {
        Protocol::Kubecast => Session::kubecast(),
        Protocol::SocketIo => {
            socketio_handshake(&mut ws).await?;
            Session::socketio(&dial.epoch)
        }
    };
    Ok((ws, session))
}

pub async fn client(i: usize, state: Rc<GenState>, src: IpAddr, dial: Rc<Dial>) {
    let slot = &state.slots[i];
    let slow = state.slow_plan.is_slow(i);
    let opening = open(src, &dial, slow);
    let (mut ws, mut session) = match tokio::time::timeout(dial.timeout, opening).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(cause)) => return failed(&state, slot, cause),
        Err(_) => return failed(&state, slot, "timeout".into()),
    };
    state.connected.set(state.connected.get() + 1);
    state.open.set(state.open.get() + 1);
    let (tally, closes) = if slow {
        let s = &state.slow;
        s.connected.set(s.connected.get() + 1);
        (&s.tally, &s.closes)
    } else {
        (&state.tally, &state.closes)
    };
    let poller = (state.mode == Mode::Hybrid).then(|| Poller::start(&state, src, dial.target, i));
    let end = loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let next = session.on_text(text.as_str(), state.mode, &mut tally.borrow_mut());
                if let Some(poller) = &poller {
                    poller.on_socket_text(text.as_str(), &state);
                }
                slot.set(session.last());
                if slow {
                    tokio::time::sleep(state.slow_plan.pause(text.len())).await;
                }
                match next {
                    Next::Read => {}
                    Next::Reply(reply) => {
                        if let Err(e) = ws.send(Message::text(reply)).await {
                            break format!("error: {e}").chars().take(60).collect();
                        }
                    }
                    Next::End(cause) => break cause.to_string(),
                }
            }
            Some(Ok(Message::Close(frame))) => {
                break frame.map_or("close-without-code".into(), |f| {
                    u16::from(f.code).to_string()
                });
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => break format!("error: {e}").chars().take(60).collect(),
            None => break "eof".into(),
        }
    };
    drop(poller);
    GenState::bump(closes, end);
    state.open.set(state.open.get() - 1);
    slot.set(u64::MAX);
}

/// Reads `ws` until the connection ends, handing each text frame to `on_text` and sending its
/// replies; returns the cause (close code, `eof`, `error: …` or the verifier's own).
pub(super) async fn read_until_end(ws: &mut Ws, mut on_text: impl FnMut(&str) -> Next) -> String {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => match on_text(text.as_str()) {
                Next::Read => {}
                Next::Reply(reply) => {
                    if let Err(e) = ws.send(Message::text(reply)).await {
                        return format!("error: {e}").chars().take(60).collect();
                    }
                }
                Next::End(cause) => return cause.to_string(),
            },
            Some(Ok(Message::Close(frame))) => {
                return frame.map_or("close-without-code".into(), |f| {
                    u16::from(f.code).to_string()
                });
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return format!("error: {e}").chars().take(60).collect(),
            None => return "eof".into(),
        }
    }
}

fn failed(state: &GenState, slot: &Cell<u64>, cause: String) {
    state.failed.set(state.failed.get() + 1);
    GenState::bump(&state.failures, cause);
    slot.set(u64::MAX);
}
