//! A TCP proxy for fault injection: put it between a component and Redis, then [`cut`] every
//! connection (and refuse new ones) to simulate an outage, or [`partition`] it (connections stay
//! open but nothing flows, as when packets are dropped), and [`restore`] it.
//!
//! [`cut`]: TcpProxy::cut
//! [`partition`]: TcpProxy::partition
//! [`restore`]: TcpProxy::restore

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A proxy on `127.0.0.1:<free port>` forwarding to `127.0.0.1:<backend_port>`.
pub struct TcpProxy {
    /// `redis://127.0.0.1:<proxy port>/`.
    pub url: String,
    cut: Arc<AtomicBool>,
    /// `true` while partitioned: bytes are read and held, none are written.
    partitioned: watch::Sender<bool>,
    generation: Arc<Mutex<CancellationToken>>,
    /// The proxy's own ports of its open connections to the backend.
    upstream: Upstream,
    task: JoinHandle<()>,
}

/// The local ports of the proxy's open backend connections.
type Upstream = Arc<Mutex<BTreeSet<u16>>>;

impl TcpProxy {
    pub async fn start(backend_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("redis://{}/", listener.local_addr().expect("addr"));
        let cut = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(Mutex::new(CancellationToken::new()));
        let (partitioned, flowing) = watch::channel(false);
        let upstream = Upstream::default();
        let (c, g, u) = (cut.clone(), generation.clone(), upstream.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let token = g.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let route = Route {
                    port: backend_port,
                    upstream: u.clone(),
                };
                tokio::spawn(pipe(client, route, token, flowing.clone()));
            }
        });
        Self {
            url,
            cut,
            partitioned,
            generation,
            upstream,
            task,
        }
    }

    /// The local ports of the proxy's open connections to the backend: the backend sees its
    /// clients at `127.0.0.1:<port>`, so a test can find those sockets on the backend's side.
    pub fn upstream_ports(&self) -> Vec<u16> {
        lock(&self.upstream).iter().copied().collect()
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        let mut token = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        token.cancel();
        *token = CancellationToken::new();
    }

    /// Stops every byte without closing anything: open connections hang, new ones are accepted
    /// but reach nothing (a dropped-packet partition, found only by timeouts).
    pub fn partition(&self) {
        self.partitioned.send_replace(true);
    }

    /// Accepts connections again and lets held bytes flow.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
        self.partitioned.send_replace(false);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.generation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .cancel();
    }
}

fn lock(upstream: &Upstream) -> std::sync::MutexGuard<'_, BTreeSet<u16>> {
    upstream.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where a connection goes, and where its open backend connections are listed.
struct Route {
    port: u16,
    upstream: Upstream,
}

async fn pipe(
    client: TcpStream,
    route: Route,
    token: CancellationToken,
    mut flowing: watch::Receiver<bool>,
) {
    if !wait_for_flow(&mut flowing, &token).await {
        return;
    }
    let Ok(backend) = TcpStream::connect(("127.0.0.1", route.port)).await else {
        return;
    };
    let Ok(local) = backend.local_addr() else {
        return;
    };
    lock(&route.upstream).insert(local.port());
    splice(client, backend, token, flowing).await;
    lock(&route.upstream).remove(&local.port());
}

/// Forwards both ways until either side closes or the connection is cut.
async fn splice(
    client: TcpStream,
    backend: TcpStream,
    token: CancellationToken,
    flowing: watch::Receiver<bool>,
) {
    let (client_read, client_write) = client.into_split();
    let (backend_read, backend_write) = backend.into_split();
    tokio::select! {
        _ = token.cancelled() => {}
        _ = forward(client_read, backend_write, flowing.clone()) => {}
        _ = forward(backend_read, client_write, flowing) => {}
    }
}

/// Copies `from` → `to`, holding each chunk while the proxy is partitioned.
async fn forward(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut flowing: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if flowing.wait_for(|partitioned| !partitioned).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Waits until the proxy is not partitioned; false if the connection was cut meanwhile.
async fn wait_for_flow(flowing: &mut watch::Receiver<bool>, token: &CancellationToken) -> bool {
    tokio::select! {
        _ = token.cancelled() => false,
        open = flowing.wait_for(|partitioned| !partitioned) => open.is_ok(),
    }
}
