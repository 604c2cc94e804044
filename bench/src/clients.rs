//! Verifying WebSocket clients: each checks seq continuity and records the latency from the
//! publisher's append to its own receipt.

use crate::publisher::now_us;
use futures::StreamExt;
use serde::Deserialize;
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
pub async fn spawn(
    addr: &str,
    until_seq: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> anyhow::Result<JoinHandle<ClientResult>> {
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
    Ok(tokio::spawn(read_all(socket, until_seq)))
}

async fn read_all<S>(
    mut socket: S,
    until_seq: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> ClientResult
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut result = ClientResult {
        received: 0,
        gaps: 0,
        duplicates: 0,
        latency_us: hdrhistogram::Histogram::new(3).expect("histogram"),
    };
    let mut last = 0u64;
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(20));
    loop {
        let target = until_seq.load(std::sync::atomic::Ordering::Acquire);
        if target > 0 && last >= target {
            break;
        }
        let msg = tokio::select! {
            msg = socket.next() => msg,
            _ = tick.tick() => continue,
        };
        let Some(Ok(msg)) = msg else { break };
        let Message::Text(text) = msg else { continue };
        let Ok(frame) = serde_json::from_str::<Frame>(&text) else {
            continue;
        };
        match frame.kind {
            "snapshot" => last = last.max(frame.seq),
            "events" => {
                let now = now_us();
                for ev in frame.events {
                    if ev.seq <= last {
                        result.duplicates += 1;
                        continue;
                    }
                    if ev.seq != last + 1 {
                        result.gaps += 1;
                    }
                    last = ev.seq;
                    result.received += 1;
                    if let Some(sent) = ev.obj.sent_us {
                        let _ = result.latency_us.record(now.saturating_sub(sent));
                    }
                }
            }
            _ => {}
        }
    }
    result
}

/// The fields a benchmark client reads; everything else is skipped by the parser.
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    events: Vec<Ev>,
}

#[derive(Deserialize)]
struct Ev {
    seq: u64,
    #[serde(default)]
    obj: Obj,
}

#[derive(Deserialize, Default)]
struct Obj {
    sent_us: Option<u64>,
}
