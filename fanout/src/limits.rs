//! Admission and abuse limits (DESIGN §6): a cap on WebSocket connections per replica and per
//! client IP, a message-rate limit per connection, and a bound on how many sessions catch up
//! (snapshot or replay) at once, so a reconnect storm queues instead of exhausting memory.
//!
//! The client IP is the TCP peer, unless the peer is a configured trusted proxy: then it is the
//! right-most `X-Forwarded-For` address that is not itself a trusted proxy (addresses further
//! left were written by the client and prove nothing).

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// An address block (`10.0.0.0/8`, `::1/128`, or a single address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0–{max}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn same_prefix(a: u128, b: u128, prefix: u8, bits: u32) -> bool {
    let host_bits = bits - u32::from(prefix);
    host_bits >= bits || (a >> host_bits) == (b >> host_bits)
}

/// The TCP peer of a request (`None` when the server was not started with connect info, as in
/// router unit tests).
pub struct PeerAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(Self(info.map(|ConnectInfo(addr)| *addr)))
    }
}

/// The address a request is accounted to (see the module docs).
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(*ip))
        .unwrap_or(peer)
}

/// The limits of a replica.
#[derive(Clone, Debug)]
pub struct LimitsConfig {
    /// WebSocket connections per replica (0: no limit); beyond it, close 1013.
    pub max_connections: usize,
    /// WebSocket connections per client IP (0: no limit); beyond it, close 1008.
    pub max_connections_per_ip: usize,
    /// Client messages per second per connection, with bursts of `message_burst`; beyond them,
    /// close 1008.
    pub messages_per_sec: f64,
    pub message_burst: f64,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<Cidr>,
    /// Sessions catching up (snapshot or replay) at once; others wait up to `join_wait`, then
    /// get 1013.
    pub max_concurrent_joins: usize,
    pub join_wait: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_connections: 0,
            max_connections_per_ip: 0,
            messages_per_sec: 20.0,
            message_burst: 40.0,
            trusted_proxies: Vec::new(),
            max_concurrent_joins: 256,
            join_wait: Duration::from_secs(5),
        }
    }
}

/// Why a connection is not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The replica holds its maximum (close 1013: try again later, maybe elsewhere).
    Full,
    /// This IP holds its maximum (close 1008).
    PerIp,
}

/// Live counts behind the limits.
pub struct Limits {
    pub config: LimitsConfig,
    connections: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    joins: Semaphore,
}

impl Limits {
    pub fn new(config: LimitsConfig) -> Arc<Self> {
        let joins = Semaphore::new(config.max_concurrent_joins.max(1));
        Arc::new(Self {
            config,
            connections: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            joins,
        })
    }

    /// Counts a new connection from `ip`, or refuses it.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Admission, Refusal> {
        let max = self.config.max_connections;
        let total = self.connections.fetch_add(1, Ordering::AcqRel) + 1;
        if max > 0 && total > max {
            self.connections.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Full);
        }
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let count = per_ip.entry(ip).or_insert(0);
        let cap = self.config.max_connections_per_ip;
        if cap > 0 && *count >= cap {
            drop(per_ip);
            self.connections.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::PerIp);
        }
        *count += 1;
        Ok(Admission {
            limits: self.clone(),
            ip,
            tokens: self.config.message_burst,
            refilled: Instant::now(),
        })
    }

    /// Waits (up to `join_wait`) for a catch-up slot; `None` when none freed up in time.
    pub async fn join(&self) -> Option<SemaphorePermit<'_>> {
        tokio::time::timeout(self.config.join_wait, self.joins.acquire())
            .await
            .ok()?
            .ok()
    }

    fn release(&self, ip: IpAddr) {
        self.connections.fetch_sub(1, Ordering::AcqRel);
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = per_ip.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                per_ip.remove(&ip);
            }
        }
    }
}

/// One admitted connection: released when dropped; also its message-rate bucket.
pub struct Admission {
    limits: Arc<Limits>,
    ip: IpAddr,
    tokens: f64,
    refilled: Instant,
}

impl Admission {
    /// Takes one message from the bucket; `false` when the client sends faster than allowed.
    pub fn allow_message(&mut self) -> bool {
        let config = &self.limits.config;
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * config.messages_per_sec;
        self.tokens = (self.tokens + earned).min(config.message_burst);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn limits(&self) -> &Arc<Limits> {
        &self.limits
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.limits.release(self.ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn cidrs_parse_and_match() {
        let net: Cidr = "10.1.0.0/16".parse().expect("cidr");
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(!net.contains(ip("::1")));
        let one: Cidr = "::1".parse().expect("single");
        assert!(one.contains(ip("::1")));
        let all: Cidr = "0.0.0.0/0".parse().expect("all");
        assert!(all.contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<Cidr> = vec!["127.0.0.1".parse().expect("cidr")];
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.7, 127.0.0.1".parse().expect("header"),
        );
        assert_eq!(
            client_ip(Some(ip("127.0.0.1")), &headers, &trusted),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_ip(Some(ip("198.51.100.1")), &headers, &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_ip(Some(ip("127.0.0.1")), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_ip(Some(ip("127.0.0.1")), &headers, &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn connections_are_counted_per_replica_and_per_ip_and_released_on_drop() {
        let limits = Limits::new(LimitsConfig {
            max_connections: 3,
            max_connections_per_ip: 2,
            ..LimitsConfig::default()
        });
        let a1 = limits.admit(ip("10.0.0.1")).expect("first");
        let _a2 = limits.admit(ip("10.0.0.1")).expect("second");
        assert_eq!(limits.admit(ip("10.0.0.1")).err(), Some(Refusal::PerIp));
        let _b1 = limits.admit(ip("10.0.0.2")).expect("other ip");
        assert_eq!(limits.admit(ip("10.0.0.3")).err(), Some(Refusal::Full));
        drop(a1);
        assert!(limits.admit(ip("10.0.0.1")).is_ok(), "released on drop");
    }

    #[tokio::test(start_paused = true)]
    async fn the_message_bucket_allows_bursts_and_refills_over_time() {
        let limits = Limits::new(LimitsConfig {
            messages_per_sec: 10.0,
            message_burst: 3.0,
            ..LimitsConfig::default()
        });
        let mut admission = limits.admit(ip("10.0.0.1")).expect("admitted");
        assert!((0..3).all(|_| admission.allow_message()));
        assert!(!admission.allow_message(), "burst spent");
        tokio::time::advance(Duration::from_millis(250)).await;
        assert!(admission.allow_message() && admission.allow_message());
        assert!(!admission.allow_message());
    }

    #[tokio::test]
    async fn joins_wait_for_a_free_slot_and_give_up_after_the_wait() {
        let limits = Limits::new(LimitsConfig {
            max_concurrent_joins: 1,
            join_wait: Duration::from_millis(50),
            ..LimitsConfig::default()
        });
        let first = limits.join().await.expect("free slot");
        assert!(
            limits.join().await.is_none(),
            "busy: gave up after the wait"
        );
        drop(first);
        assert!(limits.join().await.is_some());
    }
}
