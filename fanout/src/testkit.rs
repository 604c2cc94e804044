//! Test fixtures: events, a `MemoryLog` with a running tail, and a server on a real socket.

use crate::config::FanoutConfig;
use crate::http::{AppState, router};
use kubecast_shared::log::{
    AppendBatch, AppendEntry, EventLog, LogMeta, MemoryLog, SnapshotChange,
};
use kubecast_shared::{Epoch, Event, Op, Seq, StoredEvent};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub fn meta(epoch: &str, seq: u64) -> LogMeta {
    LogMeta {
        epoch: Epoch(epoch.into()),
        seq: Seq(seq),
        fence: 1,
        created: 0,
    }
}

pub fn event(epoch: &str, seq: u64, ns: &str, kind: &str, name: &str, op: Op) -> Event {
    Event {
        seq: Seq(seq),
        epoch: Epoch(epoch.into()),
        ts: 1,
        op,
        kind: kind.into(),
        ns: ns.into(),
        name: name.into(),
        uid: String::new(),
        obj: Some(serde_json::json!({"n": seq})),
    }
}

pub fn stored(epoch: &str, seq: u64, name: &str, op: Op) -> StoredEvent {
    StoredEvent::from_raw(event(epoch, seq, "shop", "Pod", name, op).encode()).expect("valid event")
}

fn entry(ev: &Event) -> AppendEntry {
    let key = ev.key();
    let snapshot = match ev.op {
        Op::Churn => SnapshotChange::None,
        Op::Deleted => SnapshotChange::Delete(key),
        _ => SnapshotChange::Put(key),
    };
    AppendEntry {
        seq: ev.seq,
        raw: ev.encode(),
        ns: ev.ns.clone(),
        kind: ev.kind.clone(),
        snapshot,
    }
}

/// A memory log with a tail following it into an [`AppState`].
pub struct Fixture {
    pub log: MemoryLog,
    pub app: AppState<MemoryLog>,
    pub cancel: CancellationToken,
    pub epoch: String,
    pub head: u64,
}

impl Fixture {
    /// A fresh epoch `e1`, a tail that has loaded it, and the given config.
    pub async fn start(retention: usize, config: FanoutConfig) -> Self {
        let log = MemoryLog::new(retention);
        log.create_epoch(&Epoch("e1".into()), 1)
            .await
            .expect("epoch");
        let cancel = CancellationToken::new();
        let app = AppState::new(log.clone(), config, cancel.clone());
        tokio::spawn(crate::tail::run(
            log.clone(),
            app.shared.clone(),
            app.metrics.clone(),
            app.config.batch_interval,
            cancel.child_token(),
        ));
        let fx = Self {
            log,
            app,
            cancel,
            epoch: "e1".into(),
            head: 0,
        };
        fx.wait_generation(1).await;
        fx
    }

    pub async fn default() -> Self {
        Self::start(100_000, test_config()).await
    }

    /// Appends one event per `(ns, kind, name, op)` and waits until the tail has applied them.
    pub async fn append(&mut self, items: &[(&str, &str, &str, Op)]) {
        self.append_padded(items, 0).await;
    }

    /// [`append`](Self::append) with `pad` bytes of filler in every event's object.
    pub async fn append_padded(&mut self, items: &[(&str, &str, &str, Op)], pad: usize) {
        self.append_unapplied(items, pad).await;
        self.wait_head(self.head).await;
    }

    /// Appends to the log without waiting for the tail to apply it.
    pub async fn append_unapplied(&mut self, items: &[(&str, &str, &str, Op)], pad: usize) {
        let entries: Vec<AppendEntry> = items
            .iter()
            .enumerate()
            .map(|(i, (ns, kind, name, op))| {
                let seq = self.head + 1 + i as u64;
                let mut ev = event(&self.epoch, seq, ns, kind, name, *op);
                if pad > 0 {
                    ev.obj = Some(serde_json::json!({"n": seq, "pad": "x".repeat(pad)}));
                }
                entry(&ev)
            })
            .collect();
        let batch = AppendBatch {
            fence: 1,
            epoch: Epoch(self.epoch.clone()),
            expected_head: Seq(self.head),
            entries,
        };
        self.head = self.log.append(&batch).await.expect("append").0;
    }

    /// Appends `n` pod updates in namespace `ns`.
    pub async fn append_pods(&mut self, ns: &str, n: usize) {
        let names: Vec<String> = (0..n)
            .map(|i| format!("pod-{}", self.head as usize + i))
            .collect();
        let items: Vec<_> = names
            .iter()
            .map(|name| (ns, "Pod", name.as_str(), Op::Added))
            .collect();
        self.append(&items).await;
    }

    /// Starts a new epoch in the log (as a producer would after losing it).
    pub async fn new_epoch(&mut self, epoch: &str) {
        self.log
            .create_epoch(&Epoch(epoch.into()), 1)
            .await
            .expect("epoch");
        self.epoch = epoch.into();
        self.head = 0;
    }

    pub async fn wait_head(&self, head: u64) {
        let mut progress = self.app.shared.progress();
        tokio::time::timeout(
            Duration::from_secs(5),
            progress.wait_for(|p| p.head.0 >= head),
        )
        .await
        .expect("tail caught up in time")
        .expect("progress channel open");
    }

    pub async fn wait_generation(&self, generation: u64) {
        let mut progress = self.app.shared.progress();
        tokio::time::timeout(
            Duration::from_secs(5),
            progress.wait_for(|p| p.generation >= generation),
        )
        .await
        .expect("tail resynced in time")
        .expect("progress channel open");
    }

    pub fn router(&self) -> axum::Router {
        router(self.app.clone())
    }

    /// Serves the router on `127.0.0.1:0`.
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = self.router();
        tokio::spawn(crate::server::serve_http(
            listener,
            router,
            self.cancel.clone(),
        ));
        addr
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

pub fn test_config() -> FanoutConfig {
    FanoutConfig {
        server_name: "test".into(),
        heartbeat: Duration::from_millis(200),
        ring_capacity: 100_000,
        catchup_wait: Duration::from_millis(100),
        drain_window: Duration::ZERO,
        ..FanoutConfig::default()
    }
}
