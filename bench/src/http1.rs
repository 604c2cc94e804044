//! A minimal keep-alive HTTP/1.1 GET client over one `TcpStream` (the benchmark needs exact
//! control over connections: one per worker, reused for every request). Bodies must come with
//! `Content-Length`, which is what the fanout sends.

use anyhow::{Context, bail};
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

/// One HTTP/1.1 connection.
pub struct Http1 {
    stream: BufReader<TcpStream>,
    host: String,
    line: String,
}

impl Http1 {
    pub async fn connect(addr: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        Self::over(stream, addr.to_string())
    }

    /// A connection to `addr` from the source address `src` (a load generator spreads its
    /// clients over several).
    pub async fn connect_from(src: IpAddr, addr: SocketAddr) -> anyhow::Result<Self> {
        let socket = match addr {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(src, 0))?;
        let stream = socket.connect(addr).await?;
        Self::over(stream, addr.to_string())
    }

    fn over(stream: TcpStream, host: String) -> anyhow::Result<Self> {
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
            host,
            line: String::new(),
        })
    }

    /// Sends `GET path` and reads the whole response into `body`; returns the status code.
    pub async fn get(&mut self, path: &str, body: &mut Vec<u8>) -> anyhow::Result<u16> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        self.stream.get_mut().write_all(req.as_bytes()).await?;
        let status = self.read_line().await?;
        let code: u16 = status
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .with_context(|| format!("bad status line {status:?}"))?;
        let mut length = None;
        loop {
            let header = self.read_line().await?;
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse::<usize>()?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                bail!("chunked responses are not supported by this client");
            }
        }
        let length = length.context("response without Content-Length")?;
        body.clear();
        body.resize(length, 0);
        self.stream.read_exact(body).await?;
        Ok(code)
    }

    async fn read_line(&mut self) -> anyhow::Result<String> {
        self.line.clear();
        if self.stream.read_line(&mut self.line).await? == 0 {
            bail!("connection closed by the server");
        }
        Ok(self.line.trim_end().to_string())
    }
}

/// One GET on a fresh connection.
pub async fn get_once(addr: &str, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut body = Vec::new();
    let code = Http1::connect(addr).await?.get(path, &mut body).await?;
    Ok((code, body))
}
