//! Authentication end to end on a real socket: HTTP routes answer 401/403, WebSockets get an
//! `error` frame and close 4401/4403, grants filter every output, expiry closes live sockets.

use crate::auth::{Auth, AuthConfig, KeySource};
use crate::testkit::{Fixture, test_config};
use futures::{SinkExt, StreamExt};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kubecast_shared::Op;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SECRET: &[u8] = b"an-hs256-secret-of-32-bytes-or-more";

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn token(namespaces: Value, expires_in: i64) -> String {
    let exp = jsonwebtoken::get_current_timestamp() as i64 + expires_in;
    let claims = json!({"sub": "t", "exp": exp, "namespaces": namespaces});
    let key = EncodingKey::from_secret(SECRET);
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).expect("sign")
}

/// A replica requiring HS256 tokens (no leeway, so expiry is exact), with pods in `shop` and
/// `web`, and only `https://dash.example` as an allowed origin.
async fn secured() -> (Fixture, SocketAddr) {
    let auth = Auth::new(&AuthConfig {
        key: Some(KeySource::Hs256(SECRET.to_vec())),
        leeway: Duration::ZERO,
        origins: vec!["https://dash.example".into()],
        ..AuthConfig::default()
    })
    .expect("auth");
    let config = crate::FanoutConfig {
        auth: Arc::new(auth),
        ..test_config()
    };
    let mut fx = Fixture::start(1000, config).await;
    fx.append_pods("shop", 2).await;
    fx.append_pods("web", 2).await;
    let addr = fx.serve().await;
    (fx, addr)
}

pub(super) async fn http(
    addr: SocketAddr,
    path: &str,
    bearer: Option<&str>,
) -> (u16, Value, String) {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    if let Some(t) = bearer {
        request.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
        .await
        .expect("write");
    let mut response = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut response)
        .await
        .expect("read");
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text[9..12].parse().expect("status");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    (
        status,
        serde_json::from_str(body).unwrap_or(Value::Null),
        head.to_string(),
    )
}

async fn ws(addr: SocketAddr, query: &str, protocols: Option<&str>) -> Ws {
    let mut request = format!("ws://{addr}/ws?{query}")
        .into_client_request()
        .expect("request");
    if let Some(p) = protocols {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", p.parse().expect("header"));
    }
    tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade")
        .0
}

/// Text frames (as JSON) until the close frame; returns them and the close code.
async fn until_close(ws: &mut Ws, within: Duration) -> (Vec<Value>, Option<u16>) {
    let mut frames = Vec::new();
    let read = async {
        while let Some(Ok(msg)) = ws.next().await {
            match msg {
                Message::Text(t) => frames.push(serde_json::from_str(t.as_str()).expect("json")),
                Message::Close(c) => return c.map(|c| u16::from(c.code)),
                _ => {}
            }
        }
        None
    };
    let code = tokio::time::timeout(within, read)
        .await
        .expect("closed in time");
    (frames, code)
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("valid");
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).expect("json");
            if v["type"] != "position" {
                return v;
            }
        }
    }
}

fn namespaces_of(objects: &Value) -> Vec<String> {
    let mut ns: Vec<String> = objects
        .as_array()
        .expect("array")
        .iter()
        .map(|o| o["ns"].as_str().expect("ns").to_string())
        .collect();
    ns.dedup();
    ns
}

#[tokio::test]
async fn http_routes_require_a_token_and_serve_only_the_granted_namespaces() {
    let (_fx, addr) = secured().await;
    let (status, body, head) = http(addr, "/events", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert!(
        head.to_ascii_lowercase()
            .contains("www-authenticate: bearer"),
        "{head}"
    );
    assert_eq!(http(addr, "/events", Some("not-a-jwt")).await.0, 401);
    let expired = token(json!(["shop"]), -10);
    assert_eq!(http(addr, "/snapshot", Some(&expired)).await.0, 401);

    let shop = token(json!(["shop"]), 600);
    let (status, page, _) = http(addr, "/events", Some(&shop)).await;
    assert_eq!(status, 200);
    assert_eq!(namespaces_of(&page["events"]), ["shop"]);
    assert_eq!(
        page["next"], 4,
        "the cursor still advances past other namespaces"
    );
    let (status, snap, _) = http(addr, &format!("/snapshot?token={shop}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(namespaces_of(&snap["objects"]), ["shop"]);
    let (status, body, _) = http(addr, "/events?ns=web", Some(&shop)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let everything = token(json!("*"), 600);
    let (_, snap, _) = http(addr, "/snapshot", Some(&everything)).await;
    assert_eq!(namespaces_of(&snap["objects"]), ["shop", "web"]);
}

#[tokio::test]
async fn a_websocket_without_a_valid_token_gets_an_error_and_4401() {
    let (_fx, addr) = secured().await;
    for query in [
        String::new(),
        "token=garbage".into(),
        format!("token={}", token(json!("*"), -5)),
    ] {
        let mut ws = ws(addr, &query, None).await;
        let (frames, code) = until_close(&mut ws, Duration::from_secs(5)).await;
        assert_eq!(code, Some(crate::ws::CLOSE_UNAUTHENTICATED), "{query}");
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert_eq!(frames[0]["type"], "error");
        assert_eq!(frames[0]["code"], "unauthenticated");
    }
}

#[tokio::test]
async fn a_websocket_sees_only_its_grant_and_cannot_subscribe_outside_it() {
    let (mut fx, addr) = secured().await;
    let shop = token(json!(["shop"]), 600);
    let mut forbidden = ws(addr, &format!("ns=web&token={shop}"), None).await;
    let (frames, code) = until_close(&mut forbidden, Duration::from_secs(5)).await;
    assert_eq!(code, Some(crate::ws::CLOSE_FORBIDDEN));
    assert_eq!(frames[0]["code"], "forbidden");

    let offered = format!("kubecast.v1, bearer.{shop}");
    let mut ws = ws(addr, "", Some(&offered)).await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    let snap = next_json(&mut ws).await;
    assert_eq!(namespaces_of(&snap["objects"]), ["shop"]);
    fx.append_pods("web", 1).await;
    fx.append_pods("shop", 1).await;
    let live = next_json(&mut ws).await;
    assert_eq!(live["type"], "events");
    assert_eq!(namespaces_of(&live["events"]), ["shop"]);
    ws.send(Message::Text(r#"{"type":"subscribe","ns":["web"]}"#.into()))
        .await
        .expect("send");
    let refused = next_json(&mut ws).await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("forbidden"))
    );
    fx.append(&[
        ("web", "Pod", "w9", Op::Added),
        ("shop", "Pod", "s9", Op::Added),
    ])
    .await;
    let live = next_json(&mut ws).await;
    assert_eq!(
        namespaces_of(&live["events"]),
        ["shop"],
        "the old subscription stands"
    );
}

#[tokio::test]
async fn the_subprotocol_is_selected_and_a_foreign_origin_is_refused_before_upgrading() {
    let (_fx, addr) = secured().await;
    let offered = format!("kubecast.v1, bearer.{}", token(json!("*"), 600));
    let mut request = format!("ws://{addr}/ws")
        .into_client_request()
        .expect("request");
    let headers = request.headers_mut();
    headers.insert("sec-websocket-protocol", offered.parse().expect("header"));
    headers.insert("origin", "https://dash.example".parse().expect("header"));
    let (_, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.as_bytes()),
        Some(&b"kubecast.v1"[..])
    );
    let mut evil = format!("ws://{addr}/ws")
        .into_client_request()
        .expect("request");
    evil.headers_mut()
        .insert("origin", "https://evil.example".parse().expect("header"));
    match tokio_tungstenite::connect_async(evil).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!("expected a 403, got {other:?}"),
    }
}

#[tokio::test]
async fn expiry_closes_a_live_socket_unless_the_token_is_refreshed() {
    let (_fx, addr) = secured().await;
    let mut stays = ws(addr, &format!("token={}", token(json!("*"), 3)), None).await;
    let mut expires = ws(addr, &format!("token={}", token(json!("*"), 3)), None).await;
    for ws in [&mut stays, &mut expires] {
        assert_eq!(next_json(ws).await["type"], "hello");
        assert_eq!(next_json(ws).await["type"], "snapshot");
    }
    let refresh = json!({"type": "auth", "token": token(json!("*"), 600)}).to_string();
    stays
        .send(Message::Text(refresh.into()))
        .await
        .expect("send");
    let (_, code) = until_close(&mut expires, Duration::from_secs(5)).await;
    assert_eq!(code, Some(crate::ws::CLOSE_UNAUTHENTICATED));
    let still_open = tokio::time::timeout(Duration::from_secs(2), stays.next()).await;
    match still_open {
        Err(_) => {}
        Ok(Some(Ok(Message::Text(t)))) => assert!(t.as_str().contains("position"), "{t}"),
        Ok(other) => panic!("the refreshed socket should stay open, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_refresh_keeps_the_old_grant_and_a_narrower_one_closes_with_4403() {
    let (_fx, addr) = secured().await;
    let mut ws = ws(
        addr,
        &format!("ns=web&token={}", token(json!("*"), 600)),
        None,
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");
    let garbage = json!({"type": "auth", "token": "garbage"}).to_string();
    ws.send(Message::Text(garbage.into())).await.expect("send");
    let refused = next_json(&mut ws).await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("unauthenticated"))
    );
    ws.send(Message::Text(r#"{"type":"ping"}"#.into()))
        .await
        .expect("send");
    assert_eq!(next_json(&mut ws).await["type"], "pong", "still connected");
    let narrower = json!({"type": "auth", "token": token(json!(["shop"]), 600)}).to_string();
    ws.send(Message::Text(narrower.into())).await.expect("send");
    let (_, code) = until_close(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(code, Some(crate::ws::CLOSE_FORBIDDEN));
}
