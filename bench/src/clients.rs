//! Verifying WebSocket clients: each checks seq continuity and records the latency from the
//! publisher's append to its own receipt.

use crate::publisher::now_us;
use futures::StreamExt;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// What one client observed.
pub struct ClientResult {
    pub received: u64,
    pub gaps: u64,
    pub duplicates: u64,
    pub latency_us: hdrhistogram::Histogram<u64>,
}

/// Connects a client that reads until it has seen `until_seq` or the socket closes.
pub async fn spawn(addr: &str, until_seq: std::sync::Arc<std::sync::atomic::AtomicU64>) -> anyhow::Result<JoinHandle<ClientResult>> {
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
    Ok(tokio::spawn(read_all(socket, until_seq)))
}

async fn read_all<S>(mut socket: S, until_seq: std::sync::Arc<std::sync::atomic::AtomicU64>) -> ClientResult
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut result = ClientResult { received: 0, gaps: 0, duplicates: 0, latency_us: hdrhistogram::Histogram::new(3).expect("histogram") };
    let mut last = 0u64;
    while let Some(Ok(msg)) = socket.next().await {
        let Message::Text(text) = msg else { continue };
        let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
        match frame["type"].as_str() {
            Some("snapshot") => last = last.max(frame["seq"].as_u64().unwrap_or(0)),
            Some("events") => {
                let now = now_us();
                for ev in frame["events"].as_array().into_iter().flatten() {
                    let seq = ev["seq"].as_u64().unwrap_or(0);
                    if seq <= last { result.duplicates += 1; continue; }
                    if seq != last + 1 { result.gaps += 1; }
                    last = seq;
                    result.received += 1;
                    if let Some(sent) = ev["obj"]["sent_us"].as_u64() {
                        let _ = result.latency_us.record(now.saturating_sub(sent));
                    }
                }
            }
            _ => {}
        }
        let target = until_seq.load(std::sync::atomic::Ordering::Acquire);
        if target > 0 && last >= target { break; }
    }
    result
}
