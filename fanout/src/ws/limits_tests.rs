//! Limits on a real socket: connections per address (honouring X-Forwarded-For only from
//! trusted proxies), connections per replica, and the client message rate.

use crate::limits::LimitsConfig;
use crate::testkit::{Fixture, test_config};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn served(limits: LimitsConfig) -> (Fixture, SocketAddr) {
    let config = crate::FanoutConfig {
        limits,
        ..test_config()
    };
    let fx = Fixture::start(100, config).await;
    let addr = fx.serve().await;
    (fx, addr)
}

async fn connect(addr: SocketAddr, forwarded_for: Option<&str>) -> Ws {
    let mut request = format!("ws://{addr}/ws")
        .into_client_request()
        .expect("request");
    if let Some(xff) = forwarded_for {
        request
            .headers_mut()
            .insert("x-forwarded-for", xff.parse().expect("header"));
    }
    tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade")
        .0
}

/// The first frame's type, and the close code if the server closes within a short while.
async fn outcome(ws: &mut Ws) -> (String, Option<u16>) {
    let mut first = String::new();
    let mut close = None;
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        while let Some(Ok(msg)) = ws.next().await {
            match msg {
                Message::Text(t) if first.is_empty() => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("json");
                    first = v["type"].as_str().unwrap_or_default().to_string();
                }
                Message::Close(c) => {
                    close = c.map(|c| u16::from(c.code));
                    return;
                }
                _ => {}
            }
        }
    })
    .await;
    (first, close)
}

#[tokio::test]
async fn connections_per_address_are_capped_and_trusted_proxies_name_the_client() {
    let (_fx, addr) = served(LimitsConfig {
        max_connections_per_ip: 2,
        trusted_proxies: vec!["127.0.0.1".parse().expect("cidr")],
        ..LimitsConfig::default()
    })
    .await;
    let mut kept = Vec::new();
    for _ in 0..2 {
        let mut ws = connect(addr, Some("203.0.113.1")).await;
        assert_eq!(outcome(&mut ws).await, ("hello".into(), None));
        kept.push(ws);
    }
    let mut third = connect(addr, Some("203.0.113.1")).await;
    assert_eq!(
        outcome(&mut third).await,
        ("error".into(), Some(crate::ws::CLOSE_POLICY))
    );
    let mut other = connect(addr, Some("203.0.113.2")).await;
    assert_eq!(
        outcome(&mut other).await,
        ("hello".into(), None),
        "another client"
    );
    drop(kept.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = connect(addr, Some("203.0.113.1")).await;
    assert_eq!(
        outcome(&mut again).await,
        ("hello".into(), None),
        "released on close"
    );
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let (_fx, addr) = served(LimitsConfig {
        max_connections_per_ip: 1,
        ..LimitsConfig::default()
    })
    .await;
    let mut first = connect(addr, Some("203.0.113.1")).await;
    assert_eq!(outcome(&mut first).await, ("hello".into(), None));
    let mut spoofed = connect(addr, Some("203.0.113.99")).await;
    assert_eq!(
        outcome(&mut spoofed).await,
        ("error".into(), Some(crate::ws::CLOSE_POLICY)),
        "both count as 127.0.0.1"
    );
}

#[tokio::test]
async fn a_full_replica_answers_1013() {
    let (fx, addr) = served(LimitsConfig {
        max_connections: 1,
        ..LimitsConfig::default()
    })
    .await;
    let mut first = connect(addr, None).await;
    assert_eq!(outcome(&mut first).await, ("hello".into(), None));
    let mut second = connect(addr, None).await;
    assert_eq!(
        outcome(&mut second).await,
        ("error".into(), Some(crate::ws::CLOSE_TRY_LATER))
    );
    let full = crate::metrics::Reason { reason: "full" };
    assert_eq!(fx.app.metrics.refused.get_or_create(&full).get(), 1);
}

#[tokio::test]
async fn a_client_flooding_messages_is_closed_with_1008() {
    let (_fx, addr) = served(LimitsConfig {
        messages_per_sec: 5.0,
        message_burst: 10.0,
        ..LimitsConfig::default()
    })
    .await;
    let mut polite = connect(addr, None).await;
    let mut flood = connect(addr, None).await;
    for _ in 0..5 {
        polite
            .send(Message::Text(r#"{"type":"ping"}"#.into()))
            .await
            .expect("send");
    }
    for _ in 0..50 {
        if flood
            .send(Message::Text(r#"{"type":"ping"}"#.into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let mut close = None;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(msg)) = flood.next().await {
            if let Message::Close(c) = msg {
                close = c.map(|c| u16::from(c.code));
                return;
            }
        }
    })
    .await;
    assert_eq!(close, Some(crate::ws::CLOSE_POLICY));
    let (_, polite_close) = outcome(&mut polite).await;
    assert_eq!(polite_close, None, "a client within the rate stays");
}
