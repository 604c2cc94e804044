//! `kubecast-healthcheck [URL]`: exits 0 when `URL` (default `http://127.0.0.1:8080/healthz`)
//! answers 2xx within 3 s, 1 otherwise (with the reason on stderr). For container HEALTHCHECKs
//! in images without a shell or curl.

use kubecast_shared::healthcheck::probe;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8080/healthz".into());
    match probe(&url, Duration::from_secs(3)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kubecast-healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}
