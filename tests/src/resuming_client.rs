//! A WebSocket client as the browser client behaves behind a load balancer: after any close or
//! error it reconnects (short jittered backoff) and resumes with `since` + `epoch`, so a replica
//! that dies or drains only moves it to another one. Every frame is checked by [`ClientState`].
//!
//! A hybrid client also polls `GET /events?since=` on a timer and merges both sources, each seq
//! applied once from whichever brings it first (DESIGN §5).

use crate::client_state::ClientState;
use futures::StreamExt;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

/// Like the browser client: a connection that has not said `hello` by then is given up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The server sends a `position` heartbeat every 2 s; a socket silent this long is dead
/// (half-open) and is replaced.
const SILENCE_TIMEOUT: Duration = Duration::from_secs(8);

/// A background WebSocket client that always comes back.
pub struct ResumingClient {
    state: Arc<Mutex<ClientState>>,
    connections: Arc<AtomicU64>,
    stop: CancellationToken,
    task: JoinHandle<()>,
    poller: Option<JoinHandle<()>>,
}

impl ResumingClient {
    /// Connects to `ws://{addr}/ws?{query}` and keeps connecting until stopped.
    pub fn start(addr: &str, query: &str) -> Self {
        Self::start_with_silence(addr, query, SILENCE_TIMEOUT)
    }

    /// As [`start`](Self::start), replacing a socket only after `silence` without a frame
    /// (longer than the server's keep-alive deadline, the server finds a half-open socket first).
    pub fn start_with_silence(addr: &str, query: &str, silence: Duration) -> Self {
        let state = Arc::new(Mutex::new(ClientState::new(query.is_empty())));
        let connections = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(
            addr.to_string(),
            query.to_string(),
            state.clone(),
            connections.clone(),
            silence,
            stop.clone(),
        ));
        Self {
            state,
            connections,
            stop,
            task,
            poller: None,
        }
    }

    /// A hybrid client: also polls `/events` every `every` and merges what it finds.
    pub fn start_hybrid(addr: &str, every: Duration) -> Self {
        let mut client = Self::start(addr, "");
        client.poller = Some(tokio::spawn(poll_events(
            format!("http://{addr}"),
            every,
            client.state.clone(),
            client.stop.clone(),
        )));
        client
    }

    pub fn state(&self) -> ClientState {
        lock(&self.state).clone()
    }

    /// Whether the client holds exactly `expected` among objects of `kinds` (no copy made).
    pub fn holds_exactly(
        &self,
        expected: &std::collections::BTreeMap<String, Value>,
        kinds: &[String],
    ) -> bool {
        lock(&self.state).holds_exactly(expected, kinds)
    }

    /// Connections opened so far (1 + reconnects).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    pub async fn stop(self) -> ClientState {
        self.stop.cancel();
        let _ = self.task.await;
        if let Some(poller) = self.poller {
            let _ = poller.await;
        }
        lock(&self.state).clone()
    }
}

fn lock(state: &Mutex<ClientState>) -> std::sync::MutexGuard<'_, ClientState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

async fn run(
    addr: String,
    query: String,
    state: Arc<Mutex<ClientState>>,
    connections: Arc<AtomicU64>,
    silence: Duration,
    stop: CancellationToken,
) {
    while !stop.is_cancelled() {
        let url = format!("ws://{addr}/ws?{}", resume_query(&lock(&state), &query));
        let connect = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(url));
        if let Ok(Ok((socket, _))) = connect.await {
            connections.fetch_add(1, Ordering::Relaxed);
            let (_sink, mut stream) = socket.split();
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    msg = tokio::time::timeout(silence, stream.next()) => match msg {
                        Ok(Some(Ok(Message::Text(text)))) => on_text(&state, &text),
                        Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) | Err(_) => break,
                        Ok(Some(Ok(_))) => {}
                    },
                }
            }
        }
        let backoff = Duration::from_millis(100 + rand_below(300));
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
    }
}

/// Every `every`: one `GET /events?since=&epoch=` from the merged position; its events are
/// merged (a `410` or an error is left to the socket, which resets or resumes by itself).
async fn poll_events(
    base: String,
    every: Duration,
    state: Arc<Mutex<ClientState>>,
    stop: CancellationToken,
) {
    let http = reqwest::Client::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let (since, epoch) = {
            let st = lock(&state);
            (st.last_seq, st.epoch.clone())
        };
        let Some(epoch) = epoch else { continue };
        let url = format!("{base}/events?since={since}&epoch={epoch}");
        let page = match http.get(url).send().await {
            Ok(resp) if resp.status().is_success() => resp.json::<Value>().await.ok(),
            _ => None,
        };
        let mut st = lock(&state);
        for event in page.iter().flat_map(|p| p["events"].as_array()).flatten() {
            st.apply_polled(event);
        }
    }
}

/// `since` + `epoch` once the client holds a position, then the subscription's filters.
fn resume_query(state: &ClientState, filters: &str) -> String {
    let position = match &state.epoch {
        Some(epoch) => format!("since={}&epoch={epoch}", state.last_seq),
        None => String::new(),
    };
    [position.as_str(), filters]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("&")
}

fn on_text(state: &Mutex<ClientState>, text: &str) {
    if let Ok(frame) = serde_json::from_str::<Value>(text) {
        lock(state).apply_frame(&frame);
    }
}

/// A cheap jitter source (no RNG dependency): the clock's nanoseconds.
fn rand_below(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    u64::from(nanos) % n
}
