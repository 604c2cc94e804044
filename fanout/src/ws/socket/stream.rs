//! The byte stream under a production socket: the plain `TcpStream` when the connection came
//! from Kubecast's own server (the usual case), or hyper's upgraded stream otherwise.

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub enum UpgradedStream {
    Tcp(TcpStream),
    Wrapped(TokioIo<Upgraded>),
}

impl UpgradedStream {
    /// The stream under `upgraded`, and the bytes the HTTP server had already read from it.
    pub fn new(upgraded: Upgraded) -> (Self, bytes::Bytes) {
        match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(parts) => (Self::Tcp(parts.io.into_inner()), parts.read_buf),
            Err(upgraded) => (Self::Wrapped(TokioIo::new(upgraded)), bytes::Bytes::new()),
        }
    }

    /// Caps the kernel's send buffer at `bytes` (Linux keeps twice that for its bookkeeping); 0
    /// leaves the kernel's automatic sizing, which grows it to `net.ipv4.tcp_wmem`'s maximum
    /// (often 4 MiB) for a client that stops reading. Bytes the kernel holds are bytes the
    /// backlog bound cannot see, so the cap is what keeps that bound meaningful.
    pub fn limit_send_buffer(&self, bytes: usize) {
        let Self::Tcp(tcp) = self else {
            return;
        };
        if bytes == 0 {
            return;
        }
        if let Err(error) = socket2::SockRef::from(tcp).set_send_buffer_size(bytes) {
            tracing::debug!(%error, "could not set SO_SNDBUF");
        }
    }
}

impl AsyncRead for UpgradedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Self::Wrapped(io) => Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpgradedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Self::Wrapped(io) => Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
            Self::Wrapped(io) => Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Self::Wrapped(io) => Pin::new(io).poll_shutdown(cx),
        }
    }
}
