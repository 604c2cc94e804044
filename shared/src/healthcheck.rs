//! A dependency-free HTTP health probe for container images without a shell or curl
//! (`kubecast-healthcheck http://127.0.0.1:8080/healthz`, used by the Dockerfiles' HEALTHCHECK).
//! It sends one `GET` and succeeds on a 2xx status line.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Why a probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("not an http://host:port/path URL: {0}")]
    BadUrl(String),
    #[error("cannot reach {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("no HTTP answer from {0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0} answered {1:?}")]
    Status(String, String),
}

/// `http://host:port/path` split into the address and the path (port 80 when absent).
pub fn parse_url(url: &str) -> Result<(String, String), ProbeError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| ProbeError::BadUrl(url.into()))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.is_empty() {
        return Err(ProbeError::BadUrl(url.into()));
    }
    let address = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let path = if path.is_empty() { "/" } else { path };
    Ok((address, path.to_string()))
}

/// GETs `url` within `timeout`; Ok with the status line when it is 2xx.
pub fn probe(url: &str, timeout: Duration) -> Result<String, ProbeError> {
    let (address, path) = parse_url(url)?;
    let connect = |e| ProbeError::Connect(address.clone(), e);
    let socket = address.to_socket_addrs().map_err(connect)?.next();
    let socket = socket.ok_or_else(|| connect(std::io::ErrorKind::NotFound.into()))?;
    let mut stream = TcpStream::connect_timeout(&socket, timeout).map_err(connect)?;
    let io = |e| ProbeError::Io(address.clone(), e);
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut head = [0u8; 256];
    let n = stream.read(&mut head).map_err(io)?;
    let text = String::from_utf8_lossy(&head[..n]);
    let status = text.lines().next().unwrap_or_default().to_string();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    if code.len() == 3 && code.starts_with('2') {
        Ok(status)
    } else {
        Err(ProbeError::Status(url.into(), status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot server answering `answer` to the first request; returns its base URL.
    fn serve_once(answer: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(answer.as_bytes());
        });
        url
    }

    #[test]
    fn urls_split_into_address_and_path() {
        let parsed = |u| parse_url(u).expect("valid");
        assert_eq!(
            parsed("http://127.0.0.1:8080/healthz"),
            ("127.0.0.1:8080".into(), "/healthz".into())
        );
        assert_eq!(
            parsed("http://localhost"),
            ("localhost:80".into(), "/".into())
        );
        assert_eq!(
            parsed("http://[::1]:9090/readyz"),
            ("[::1]:9090".into(), "/readyz".into())
        );
        for bad in ["https://x/", "127.0.0.1:8080/healthz", "http:///x"] {
            assert!(
                matches!(parse_url(bad), Err(ProbeError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_2xx_answer_passes_and_anything_else_fails() {
        let ok = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        let status = probe(&format!("{ok}/healthz"), Duration::from_secs(5)).expect("healthy");
        assert_eq!(status, "HTTP/1.1 200 OK");
        let draining = serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        let err = probe(&format!("{draining}/readyz"), Duration::from_secs(5)).expect_err("503");
        assert!(err.to_string().contains("503"), "{err}");
    }

    #[test]
    fn nothing_listening_is_a_connect_error() {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let err = probe(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(2))
            .expect_err("refused");
        assert!(matches!(err, ProbeError::Connect(..)), "{err}");
    }
}
