//! A TCP proxy for fault injection: put it between a component and Redis, then [`cut`] every
//! connection (and refuse new ones) to simulate an outage or a partition, and [`restore`] it.
//!
//! [`cut`]: TcpProxy::cut
//! [`restore`]: TcpProxy::restore

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A proxy on `127.0.0.1:<free port>` forwarding to `127.0.0.1:<backend_port>`.
pub struct TcpProxy {
    /// `redis://127.0.0.1:<proxy port>/`.
    pub url: String,
    cut: Arc<AtomicBool>,
    generation: Arc<Mutex<CancellationToken>>,
    task: JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(backend_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("redis://{}/", listener.local_addr().expect("addr"));
        let cut = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(Mutex::new(CancellationToken::new()));
        let (c, g) = (cut.clone(), generation.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let token = g.lock().unwrap_or_else(|e| e.into_inner()).clone();
                tokio::spawn(pipe(client, backend_port, token));
            }
        });
        Self {
            url,
            cut,
            generation,
            task,
        }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        let mut token = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        token.cancel();
        *token = CancellationToken::new();
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
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

async fn pipe(mut client: TcpStream, port: u16, token: CancellationToken) {
    let Ok(mut backend) = TcpStream::connect(("127.0.0.1", port)).await else {
        return;
    };
    tokio::select! {
        _ = token.cancelled() => {}
        _ = tokio::io::copy_bidirectional(&mut client, &mut backend) => {}
    }
}
