//! Kubecast's own server-side WebSocket connection (RFC 6455, no extensions).
//!
//! A fanout replica mostly writes the same frame to thousands of sockets and holds them idle in
//! between, so this socket is built for that:
//! - a frame is one `Bytes` (header included) written as is: a batch's frame is encoded once and
//!   every client's socket writes the same bytes, with no per-socket copy or write buffer;
//! - nothing is buffered while idle: incoming bytes go through a stack buffer, and only a
//!   partial frame or fragmented message is kept between reads;
//! - reading and writing share one value (no lock between halves); both are cancel-safe, so a
//!   session can `select!` on [`WsSocket::recv`], and a write abandoned half-way is finished
//!   before the next frame (the stream never carries a torn frame).
//!
//! It is generic over the byte stream, so tests drive it over `tokio::io::duplex`.

pub mod frame;
pub mod handshake;
mod message;
mod read_interest;
mod stream;

pub use handshake::Upgrade;
pub use message::Incoming;

use bytes::{Buf, Bytes};
use frame::ProtocolError;
use message::Assembler;
use read_interest::ReadInterest;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The byte streams a socket runs on.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// Bytes taken from the stream per read.
const READ_CHUNK: usize = 2048;
/// How long each step of a close (our frame out, the peer's reply in, shutdown) may take.
const CLOSE_STEP: Duration = Duration::from_secs(1);

/// Why [`WsSocket::recv`] returned no message.
#[derive(Debug, thiserror::Error)]
pub enum RecvError {
    #[error("the connection ended")]
    Eof,
    #[error("reading the connection: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// One WebSocket connection, server side.
pub struct WsSocket<T> {
    io: T,
    /// Received bytes not yet parsed (empty, and unallocated, between messages).
    inbuf: Vec<u8>,
    /// Skips polling the stream on wake-ups that were not its own.
    readable: ReadInterest,
    assembler: Assembler,
    /// The rest of the frame being written (left here when a write is abandoned half-way, and
    /// finished before the next frame).
    unsent: Option<Bytes>,
    /// The client sent its close frame (we only answer it now).
    peer_closed: Option<Option<u16>>,
    close_sent: bool,
}

impl<T: Io> WsSocket<T> {
    /// A socket on an upgraded stream; `received` is what the client sent after its request
    /// (usually nothing).
    pub fn new(io: T, max_message: usize, received: &[u8]) -> Self {
        Self {
            io,
            inbuf: received.to_vec(),
            readable: ReadInterest::new(),
            assembler: Assembler::new(max_message),
            unsent: None,
            peer_closed: None,
            close_sent: false,
        }
    }

    /// The next message. Cancel-safe: bytes read before a cancellation stay buffered. Pings are
    /// not answered here; the caller answers them with [`pong`](frame::OP_PONG) frames.
    pub async fn recv(&mut self) -> Result<Incoming, RecvError> {
        loop {
            if let Some(message) = self.parse_buffered()? {
                if let Incoming::Close(code) = message {
                    self.peer_closed = Some(code);
                }
                return Ok(message);
            }
            poll_fn(|cx| self.poll_fill(cx)).await?;
        }
    }

    /// Parses one complete message out of `inbuf`, if there is one.
    fn parse_buffered(&mut self) -> Result<Option<Incoming>, ProtocolError> {
        if self.inbuf.is_empty() {
            return Ok(None);
        }
        let mut used = 0;
        let mut message = None;
        while message.is_none() {
            let Some((frame, len)) = frame::parse(&self.inbuf[used..], self.assembler.room())?
            else {
                break;
            };
            used += len;
            message = self.assembler.push(frame)?;
        }
        self.inbuf.drain(..used);
        if self.inbuf.is_empty() {
            self.inbuf = Vec::new();
        }
        Ok(message)
    }

    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        let mut chunk = [0u8; READ_CHUNK];
        let mut buf = ReadBuf::new(&mut chunk);
        let io = &mut self.io;
        ready!(
            self.readable
                .poll(cx, |cx| Pin::new(io).poll_read(cx, &mut buf))
        )?;
        if buf.filled().is_empty() {
            return Poll::Ready(Err(RecvError::Eof));
        }
        self.inbuf.extend_from_slice(buf.filled());
        Poll::Ready(Ok(()))
    }

    /// Writes `frame` (a whole encoded frame), after what is left of an abandoned one.
    pub async fn send(&mut self, frame: Bytes) -> std::io::Result<()> {
        self.flush().await?;
        self.unsent = Some(frame);
        self.flush().await
    }

    /// Makes `frame` the one being written; [`flush`](Self::flush) writes it. The previous
    /// frame must have been flushed.
    pub fn queue(&mut self, frame: Bytes) {
        debug_assert!(self.unsent.is_none(), "the previous frame is flushed first");
        self.unsent = Some(frame);
    }

    /// Bytes of the frame being written that the kernel has not taken yet.
    pub fn unsent_len(&self) -> usize {
        self.unsent.as_ref().map_or(0, Bytes::len)
    }

    /// Finishes writing the current frame. Cancel-safe: what is not written stays unsent.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        poll_fn(|cx| self.poll_write_unsent(cx)).await
    }

    fn poll_write_unsent(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while let Some(frame) = &mut self.unsent {
            let written = ready!(Pin::new(&mut self.io).poll_write(cx, frame))?;
            if written == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            frame.advance(written);
            if frame.is_empty() {
                self.unsent = None;
            }
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// The closing handshake, each step bounded by a second: our close frame (the peer's own code
    /// echoed if it closed first), the peer's reply (what it still sends is discarded: closing
    /// with unread data would reset the connection and could lose our frame), then shutdown.
    pub async fn close(&mut self, code: u16, reason: &str) {
        let code = match self.peer_closed {
            Some(peer) => peer.unwrap_or(1000),
            None => code,
        };
        if !self.close_sent {
            self.close_sent = true;
            let sent = tokio::time::timeout(CLOSE_STEP, self.send(frame::close(code, reason)));
            if matches!(sent.await, Ok(Ok(()))) && self.peer_closed.is_none() {
                let _ = tokio::time::timeout(CLOSE_STEP, self.await_close()).await;
            }
        }
        let _ = tokio::time::timeout(
            CLOSE_STEP,
            poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)),
        )
        .await;
    }

    /// Reads until the client's close frame (or the end of the stream).
    async fn await_close(&mut self) {
        loop {
            match self.recv().await {
                Ok(Incoming::Close(_)) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }

    /// Whether the client already sent its close frame.
    pub fn peer_closed(&self) -> bool {
        self.peer_closed.is_some()
    }
}

#[cfg(test)]
mod tests;
