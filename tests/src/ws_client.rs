//! A verifying WebSocket client: applies frames to a [`ClientState`] as the browser client would.

use crate::client_state::ClientState;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// Shared view of what the client has received.
#[derive(Default)]
struct Seen {
    state: ClientState,
    frame_types: Vec<String>,
    close_code: Option<u16>,
    hello: Option<Value>,
    errors: Vec<Value>,
}

/// A connected WebSocket client.
pub struct WsClient {
    seen: Arc<Mutex<Seen>>,
    outbox: mpsc::UnboundedSender<Message>,
    task: JoinHandle<()>,
}

impl WsClient {
    /// Connects to `ws://{addr}/ws?{query}` with a fresh state.
    pub async fn connect(addr: &str, query: &str, contiguous: bool) -> anyhow::Result<Self> {
        Self::connect_with(addr, query, ClientState::new(contiguous)).await
    }

    /// Resumes from `state` (sends its epoch and last seq) with an extra `query` (filters).
    pub async fn resume(addr: &str, state: ClientState, query: &str) -> anyhow::Result<Self> {
        let epoch = state.epoch.clone().unwrap_or_default();
        let q = format!(
            "since={}&epoch={}{}{}",
            state.last_seq,
            epoch,
            if query.is_empty() { "" } else { "&" },
            query
        );
        Self::connect_with(addr, &q, state).await
    }

    async fn connect_with(addr: &str, query: &str, state: ClientState) -> anyhow::Result<Self> {
        let url = format!("ws://{addr}/ws?{query}");
        let (socket, _) = tokio_tungstenite::connect_async(url).await?;
        let (mut sink, mut stream) = socket.split();
        let seen = Arc::new(Mutex::new(Seen {
            state,
            ..Seen::default()
        }));
        let (outbox, mut outgoing) = mpsc::unbounded_channel::<Message>();
        let seen_task = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    msg = stream.next() => match msg {
                        Some(Ok(Message::Text(text))) => on_text(&seen_task, &text),
                        Some(Ok(Message::Close(frame))) => {
                            lock(&seen_task).close_code = frame.map(|f| u16::from(f.code));
                            break;
                        }
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => break,
                    },
                    out = outgoing.recv() => match out {
                        Some(m) => { if sink.send(m).await.is_err() { break; } }
                        None => { let _ = sink.close().await; break; }
                    },
                }
            }
        });
        Ok(Self { seen, outbox, task })
    }

    pub fn state(&self) -> ClientState {
        lock(&self.seen).state.clone()
    }

    pub fn frame_types(&self) -> Vec<String> {
        lock(&self.seen).frame_types.clone()
    }

    pub fn hello(&self) -> Option<Value> {
        lock(&self.seen).hello.clone()
    }

    pub fn errors(&self) -> Vec<Value> {
        lock(&self.seen).errors.clone()
    }

    pub fn close_code(&self) -> Option<u16> {
        lock(&self.seen).close_code
    }

    pub fn is_closed(&self) -> bool {
        self.task.is_finished()
    }

    pub fn send_text(&self, text: &str) {
        let _ = self.outbox.send(Message::text(text));
    }

    /// Closes the socket (as a client that goes away) and returns its final state.
    pub async fn disconnect(self) -> ClientState {
        let _ = self.outbox.send(Message::Close(None));
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.task).await;
        lock(&self.seen).state.clone()
    }
}

fn lock(seen: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    seen.lock().unwrap_or_else(|e| e.into_inner())
}

fn on_text(seen: &Mutex<Seen>, text: &str) {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        lock(seen).frame_types.push("<invalid json>".into());
        return;
    };
    let kind = frame["type"].as_str().unwrap_or("<no type>").to_string();
    let mut s = lock(seen);
    s.frame_types.push(kind.clone());
    match kind.as_str() {
        "hello" => s.hello = Some(frame),
        "error" => s.errors.push(frame),
        _ => s.state.apply_frame(&frame),
    }
}
