//! Every JWT failure mode reaches its documented answer on every authenticated route (401 /
//! 4401, 403 / 4403), and a token granting namespace `a` never yields another namespace's
//! objects, events or summaries through `/ws`, `/events` (ring and log) or `/snapshot`.

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
const RS_PRIVATE: &[u8] = include_bytes!("../../testdata/rs256-private.pem");

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn claims(extra: Value) -> Value {
    let mut c = json!({"exp": now() + 600, "aud": "kubecast", "iss": "https://issuer.example",
                       "namespaces": ["a"]});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(extra.clone());
    }
    c
}

fn signed(alg: Algorithm, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, key).expect("sign")
}

fn hs(extra: Value) -> String {
    signed(
        Algorithm::HS256,
        &claims(extra),
        &EncodingKey::from_secret(SECRET),
    )
}

fn unsigned(header: &str, payload: &Value) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        b64.encode(header),
        b64.encode(payload.to_string())
    )
}

/// `(what, token, 401 or 403)` for every way a token can fail.
fn failures() -> Vec<(&'static str, Option<String>, u16)> {
    let other = EncodingKey::from_secret(b"another-secret-of-32-bytes-or-more!");
    let rsa = EncodingKey::from_rsa_pem(RS_PRIVATE).expect("rsa key");
    let mut no_claim = claims(json!({}));
    no_claim.as_object_mut().map(|c| c.remove("namespaces"));
    let mut no_exp = claims(json!({}));
    no_exp.as_object_mut().map(|c| c.remove("exp"));
    vec![
        ("missing", None, 401),
        ("malformed", Some("garbage".into()), 401),
        ("bad base64", Some("eyJ!!!.e30.c2ln".into()), 401),
        (
            "wrong signature",
            Some(signed(Algorithm::HS256, &claims(json!({})), &other)),
            401,
        ),
        (
            "alg none",
            Some(unsigned(
                r#"{"alg":"none","typ":"JWT"}"#,
                &claims(json!({})),
            )),
            401,
        ),
        (
            "HS384",
            Some(signed(
                Algorithm::HS384,
                &claims(json!({})),
                &EncodingKey::from_secret(SECRET),
            )),
            401,
        ),
        (
            "RS256 (not the configured algorithm)",
            Some(signed(Algorithm::RS256, &claims(json!({})), &rsa)),
            401,
        ),
        ("expired", Some(hs(json!({"exp": now() - 60}))), 401),
        (
            "no exp",
            Some(signed(
                Algorithm::HS256,
                &no_exp,
                &EncodingKey::from_secret(SECRET),
            )),
            401,
        ),
        ("not yet valid", Some(hs(json!({"nbf": now() + 600}))), 401),
        (
            "wrong audience",
            Some(hs(json!({"aud": "someone-else"}))),
            401,
        ),
        (
            "wrong issuer",
            Some(hs(json!({"iss": "https://evil.example"}))),
            401,
        ),
        (
            "no namespace claim",
            Some(signed(
                Algorithm::HS256,
                &no_claim,
                &EncodingKey::from_secret(SECRET),
            )),
            403,
        ),
        (
            "an empty namespace list",
            Some(hs(json!({"namespaces": []}))),
            403,
        ),
        (
            "a namespace claim that is a number",
            Some(hs(json!({"namespaces": 7}))),
            403,
        ),
    ]
}

/// Namespaces `a`, `b`, `c` with pods, a service, their Namespace objects and summaries, plus a
/// cluster-scoped node; the ring holds 2 events, so old cursors are read from the log.
async fn cluster() -> (Fixture, SocketAddr) {
    let auth = Auth::new(&AuthConfig {
        key: Some(KeySource::Hs256(SECRET.to_vec())),
        audience: vec!["kubecast".into()],
        issuer: vec!["https://issuer.example".into()],
        leeway: Duration::ZERO,
        ..AuthConfig::default()
    })
    .expect("auth");
    let config = crate::FanoutConfig {
        auth: Arc::new(auth),
        ring_capacity: 2,
        ..test_config()
    };
    let mut fx = Fixture::start(10_000, config).await;
    fx.append(&[("", "Node", "node-1", Op::Added)]).await;
    for ns in ["a", "b", "c"] {
        fx.append(&[
            (ns, "Namespace", ns, Op::Added),
            (ns, "Pod", "web-1", Op::Added),
            (ns, "Service", "web", Op::Added),
            (ns, "Summary", "Deployment/web", Op::Summary),
        ])
        .await;
    }
    let addr = fx.serve().await;
    (fx, addr)
}

async fn http(addr: SocketAddr, path: &str, bearer: Option<&str>) -> (u16, Value) {
    let (status, body, _head) = super::auth_tests::http(addr, path, bearer).await;
    (status, body)
}

async fn ws(addr: SocketAddr, query: &str, bearer: Option<&str>) -> Ws {
    let mut request = format!("ws://{addr}/ws?{query}")
        .into_client_request()
        .expect("request");
    if let Some(t) = bearer {
        let value = format!("Bearer {t}").parse().expect("header");
        request.headers_mut().insert("authorization", value);
    }
    tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade")
        .0
}

/// The next JSON text frame other than `position`, or the close code.
async fn next(ws: &mut Ws) -> Result<Value, Option<u16>> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("in time");
        match msg {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("json");
                if v["type"] != "position" {
                    return Ok(v);
                }
            }
            Some(Ok(Message::Close(c))) => return Err(c.map(|c| u16::from(c.code))),
            Some(Ok(_)) => {}
            _ => return Err(None),
        }
    }
}

/// Every `ns` in the objects, summaries and events of a frame or page.
fn namespaces(v: &Value) -> Vec<String> {
    ["objects", "summaries", "events"]
        .iter()
        .filter_map(|k| v[*k].as_array())
        .flatten()
        .map(|o| o["ns"].as_str().expect("ns").to_string())
        .collect()
}

fn assert_only_a(v: &Value, what: &str) {
    let seen = namespaces(v);
    assert!(seen.iter().all(|ns| ns == "a"), "{what} leaked: {seen:?}");
}

#[tokio::test]
async fn every_token_failure_gets_its_status_on_http_and_its_close_code_on_the_socket() {
    let (_fx, addr) = cluster().await;
    for (what, token, status) in failures() {
        for path in ["/events", "/snapshot"] {
            let (got, body) = http(addr, path, token.as_deref()).await;
            let code = if status == 401 {
                "unauthenticated"
            } else {
                "forbidden"
            };
            assert_eq!(
                (got, body["error"]["code"].as_str()),
                (status, Some(code)),
                "{what} {path}"
            );
        }
        let mut socket = ws(addr, "", token.as_deref()).await;
        let error = next(&mut socket).await.expect("an error frame first");
        assert_eq!(error["type"], "error", "{what}");
        let close = if status == 401 { 4401 } else { 4403 };
        assert_eq!(next(&mut socket).await.err(), Some(Some(close)), "{what}");
    }
}

#[tokio::test]
async fn the_header_token_wins_over_the_query_token_and_a_bad_header_never_falls_back() {
    let (_fx, addr) = cluster().await;
    let b = hs(json!({"namespaces": ["b"]}));
    let (status, page) = http(addr, &format!("/events?token={b}"), Some(&hs(json!({})))).await;
    assert_eq!(status, 200);
    assert_only_a(&page, "header over query");
    let (status, _) = http(addr, &format!("/snapshot?token={b}"), Some("garbage")).await;
    assert_eq!(
        status, 401,
        "a bad header token is not replaced by a good query token"
    );
}

#[tokio::test]
async fn a_token_granting_a_never_yields_another_namespace_over_http() {
    let (_fx, addr) = cluster().await;
    let a = hs(json!({}));
    for path in [
        "/events",
        "/events?since=0&limit=5000",
        "/events?kinds=Node",
        "/events?since=11",
        "/snapshot",
        "/snapshot?kinds=Node,Namespace",
        "/events?ns=a",
        "/snapshot?ns=a",
    ] {
        let (status, body) = http(addr, path, Some(&a)).await;
        assert_eq!(status, 200, "{path}");
        assert_only_a(&body, path);
    }
    let (_, snap) = http(addr, "/snapshot", Some(&a)).await;
    assert_eq!(
        namespaces(&snap).len(),
        4,
        "a's namespace, pod, service and summary"
    );
    for (path, status) in [
        ("/events?ns=b", 403),
        ("/events?ns=a,b", 403),
        ("/snapshot?ns=A", 403),
        ("/snapshot?ns=", 200),
        ("/events?ns=*", 400),
        ("/snapshot?ns=a%2Cc", 403),
    ] {
        let (got, body) = http(addr, path, Some(&a)).await;
        assert_eq!(got, status, "{path}");
        assert_only_a(&body, path);
    }
}

#[tokio::test]
async fn a_token_granting_a_never_yields_another_namespace_on_a_socket() {
    let (mut fx, addr) = cluster().await;
    let a = hs(json!({}));
    let mut socket = ws(addr, "since=0", Some(&a)).await;
    assert_eq!(next(&mut socket).await.expect("hello")["type"], "hello");
    let replay = next(&mut socket).await.expect("replay from the log");
    assert_eq!(replay["type"], "events");
    assert_only_a(&replay, "replay");
    fx.append(&[
        ("b", "Pod", "web-2", Op::Added),
        ("", "Node", "node-2", Op::Added),
        ("a", "Pod", "web-2", Op::Added),
    ])
    .await;
    let live = next(&mut socket).await.expect("live");
    assert_only_a(&live, "live events");
    for (message, answer) in [
        (json!({"type": "subscribe", "ns": ["b"]}), "error"),
        (json!({"type": "subscribe", "ns": ["a", "c"]}), "error"),
        (json!({"type": "subscribe", "kinds": ["Node"]}), "snapshot"),
        (json!({"type": "subscribe"}), "snapshot"),
        (json!({"type": "get_snapshot"}), "snapshot"),
    ] {
        socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
        let got = loop {
            let got = next(&mut socket).await.expect("answer");
            assert_only_a(&got, &message.to_string());
            if got["type"] != "events" {
                break got;
            }
        };
        assert_eq!(got["type"], answer, "{message}");
    }
    let mut forbidden = ws(addr, "ns=b", Some(&a)).await;
    assert_eq!(
        next(&mut forbidden).await.expect("error")["code"],
        "forbidden"
    );
    assert_eq!(next(&mut forbidden).await.err(), Some(Some(4403)));
}
