//! A private `redis-server` speaking only TLS, with a fresh self-signed certificate (rcgen), for
//! the conformance tests over `rediss://`.

use crate::testing::free_port;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TlsRedis {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl TlsRedis {
    pub fn spawn() -> Self {
        let dir =
            std::env::temp_dir().join(format!("kubecast-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("tls dir");
        let key = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("self-signed certificate");
        std::fs::write(dir.join("cert.pem"), key.cert.pem()).expect("write cert");
        std::fs::write(dir.join("key.pem"), key.signing_key.serialize_pem()).expect("write key");
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--tls-auth-clients",
                "no",
            ])
            .arg("--tls-cert-file")
            .arg(dir.join("cert.pem"))
            .arg("--tls-key-file")
            .arg(dir.join("key.pem"))
            .arg("--tls-ca-cert-file")
            .arg(dir.join("cert.pem"))
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn redis-server (scripts/test.sh installs it)");
        let server = Self { port, dir, child };
        server.wait_listening();
        server
    }

    /// The URL with verification off (`#insecure`): the certificate is self-signed.
    pub fn insecure_url(&self) -> String {
        format!("rediss://127.0.0.1:{}/#insecure", self.port)
    }

    /// The URL with the default verification against the system's roots.
    pub fn verified_url(&self) -> String {
        format!("rediss://127.0.0.1:{}/", self.port)
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server (TLS) did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
