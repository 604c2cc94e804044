//! A verifying polling client: `GET /snapshot` once, then `GET /events?since=` with long-poll,
//! replacing its state from a snapshot on `410`.

use crate::client_state::ClientState;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A background polling client.
pub struct PollClient {
    state: Arc<Mutex<ClientState>>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl PollClient {
    /// Starts polling `http://{addr}` with `query` (filters) appended to every request.
    pub fn start(addr: &str, query: &str, contiguous: bool) -> Self {
        let state = Arc::new(Mutex::new(ClientState::new(contiguous)));
        let stop = CancellationToken::new();
        let base = format!("http://{addr}");
        let task = tokio::spawn(poll_loop(
            base,
            query.to_string(),
            state.clone(),
            stop.clone(),
        ));
        Self { state, stop, task }
    }

    pub fn state(&self) -> ClientState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether the client holds exactly `expected` among objects of `kinds` (no copy made).
    pub fn holds_exactly(
        &self,
        expected: &std::collections::BTreeMap<String, Value>,
        kinds: &[String],
    ) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .holds_exactly(expected, kinds)
    }

    pub async fn stop(self) -> ClientState {
        self.stop.cancel();
        let _ = self.task.await;
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

async fn poll_loop(
    base: String,
    query: String,
    state: Arc<Mutex<ClientState>>,
    stop: CancellationToken,
) {
    let http = reqwest::Client::new();
    let mut need_snapshot = true;
    while !stop.is_cancelled() {
        let step = if need_snapshot {
            fetch_snapshot(&http, &base, &query, &state)
                .await
                .map(|()| false)
        } else {
            poll_once(&http, &base, &query, &state).await
        };
        match step {
            Ok(reset) => need_snapshot = reset,
            Err(_) => {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
    }
}

async fn fetch_snapshot(
    http: &reqwest::Client,
    base: &str,
    query: &str,
    state: &Mutex<ClientState>,
) -> anyhow::Result<()> {
    let snap: Value = http
        .get(format!("{base}/snapshot?{query}"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let objects = snap["objects"].as_array().cloned().unwrap_or_default();
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    st.apply_snapshot(
        snap["epoch"].as_str().unwrap_or_default(),
        snap["seq"].as_u64().unwrap_or(0),
        &objects,
        true,
    );
    Ok(())
}

/// One poll; returns whether a snapshot is needed (410).
async fn poll_once(
    http: &reqwest::Client,
    base: &str,
    query: &str,
    state: &Mutex<ClientState>,
) -> anyhow::Result<bool> {
    let (since, epoch) = {
        let st = state.lock().unwrap_or_else(|e| e.into_inner());
        (st.last_seq, st.epoch.clone().unwrap_or_default())
    };
    let url = format!("{base}/events?since={since}&epoch={epoch}&wait=1&{query}");
    let resp = http.get(url).send().await?;
    if resp.status() == reqwest::StatusCode::GONE {
        state.lock().unwrap_or_else(|e| e.into_inner()).resets += 1;
        return Ok(true);
    }
    let page: Value = resp.error_for_status()?.json().await?;
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    for ev in page["events"].as_array().into_iter().flatten() {
        st.apply_event(ev);
    }
    if let Some(next) = page["next"].as_u64() {
        st.last_seq = st.last_seq.max(next);
    }
    Ok(false)
}
