//! The replica's HTTP server: accepts TCP connections and serves each with hyper's HTTP/1
//! (keep-alive and upgrades). Our own loop rather than `axum::serve`, whose connections are
//! wrapped for HTTP/2 detection: here an upgraded WebSocket gets its plain `TcpStream` back
//! (see `ws::socket::handshake`), with no boxed wrapper on every read and write of a connection
//! that lives for hours.
//!
//! Shutdown: once `cancel` fires, nothing more is accepted, idle keep-alive connections close,
//! requests in flight finish; [`serve_http`] returns when every HTTP connection has ended
//! (WebSocket sessions, which outlive their HTTP connection, watch the token themselves).

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Serves `router` on `listener` until `cancel`, then drains the HTTP connections.
pub async fn serve_http(listener: TcpListener, router: Router, cancel: CancellationToken) {
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = cancel.cancelled() => break,
        };
        match accepted {
            Ok((tcp, peer)) => {
                connections.spawn(serve_connection(tcp, peer, router.clone(), cancel.clone()));
            }
            Err(error) => backoff_after(error, &cancel).await,
        }
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// One HTTP/1 connection; the peer's address reaches handlers as `ConnectInfo<SocketAddr>`.
async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    cancel: CancellationToken,
) {
    // Frames are small and latency-sensitive: without TCP_NODELAY, Nagle's algorithm holds a
    // frame back until the previous one is acknowledged.
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    tokio::pin!(connection);
    let finished = tokio::select! {
        finished = connection.as_mut() => finished,
        () = cancel.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = finished {
        tracing::debug!(%error, "http connection ended with an error");
    }
}

/// After a failed accept: a connection that died in the backlog is skipped at once; anything
/// else (out of file descriptors, say) is logged and waited out for a second, so the loop does
/// not spin.
async fn backoff_after(error: std::io::Error, cancel: &CancellationToken) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%error, "accepting a connection failed; retrying in a second");
    tokio::select! {
        () = tokio::time::sleep(Duration::from_secs(1)) => {}
        () = cancel.cancelled() => {}
    }
}
