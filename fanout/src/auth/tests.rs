use super::*;
use axum::http::HeaderValue;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kubecast_shared::Filter;
use serde_json::{Value, json};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const RS_PRIVATE: &[u8] = include_bytes!("../../testdata/rs256-private.pem");
const RS_PUBLIC: &[u8] = include_bytes!("../../testdata/rs256-public.pem");
const RS_OTHER_PRIVATE: &[u8] = include_bytes!("../../testdata/rs256-other-private.pem");

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims(extra: Value) -> Value {
    let mut c = json!({"sub": "alice", "exp": now() + 600, "namespaces": ["shop", "web"]});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    let key = EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("sign")
}

fn rs256(claims: &Value, private: &[u8]) -> String {
    let key = EncodingKey::from_rsa_pem(private).expect("private key");
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).expect("sign")
}

fn auth(key: KeySource) -> Auth {
    let config = AuthConfig {
        key: Some(key),
        audience: vec!["kubecast".into()],
        issuer: vec!["https://issuer.example".into()],
        ..AuthConfig::default()
    };
    Auth::new(&config).expect("valid config")
}

fn hs_auth() -> Auth {
    auth(KeySource::Hs256(SECRET.to_vec()))
}

fn good(extra: Value) -> Value {
    claims(json!({"aud": "kubecast", "iss": "https://issuer.example"}))
        .as_object()
        .cloned()
        .map(|mut c| {
            if let Some(extra) = extra.as_object() {
                c.extend(extra.clone());
            }
            Value::Object(c)
        })
        .expect("object")
}

/// base64url without padding (RFC 4648 §5), for hand-made tokens.
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[test]
fn a_valid_hs256_token_grants_its_namespaces_until_it_expires() {
    let grant = hs_auth()
        .authenticate(Some(&hs256(&good(json!({})), SECRET)))
        .expect("valid");
    let remaining = grant.remaining().expect("expires");
    assert!(
        remaining > std::time::Duration::from_secs(600),
        "{remaining:?} includes the leeway"
    );
    let all = grant.restrict(&Filter::all()).expect("narrowed");
    assert_eq!(
        all.namespaces.map(|n| n.into_iter().collect::<Vec<_>>()),
        Some(vec!["shop".to_string(), "web".to_string()])
    );
}

#[test]
fn a_valid_rs256_token_is_accepted_and_a_star_grants_everything() {
    let auth = auth(KeySource::Rs256Pem(RS_PUBLIC.to_vec()));
    let token = rs256(&good(json!({"namespaces": "*"})), RS_PRIVATE);
    let grant = auth.authenticate(Some(&token)).expect("valid");
    assert_eq!(grant.restrict(&Filter::all()), Ok(Filter::all()));
    let listed = rs256(&good(json!({"namespaces": ["a", "*"]})), RS_PRIVATE);
    let grant = auth.authenticate(Some(&listed)).expect("valid");
    assert_eq!(grant.restrict(&Filter::all()), Ok(Filter::all()));
}

#[test]
fn every_token_failure_is_refused_with_its_reason() {
    let auth = hs_auth();
    let refused = |token: &str| auth.authenticate(Some(token)).expect_err("refused");
    assert_eq!(auth.authenticate(None), Err(AuthError::Missing));
    assert_eq!(
        refused(&hs256(
            &good(json!({})),
            b"another-secret-another-secret-xx"
        )),
        AuthError::Invalid("bad signature".into())
    );
    assert_eq!(
        refused(&hs256(&good(json!({"exp": now() - 120})), SECRET)),
        AuthError::Expired
    );
    assert_eq!(
        refused(&hs256(&good(json!({"nbf": now() + 600})), SECRET)),
        AuthError::Invalid("the token is not valid yet".into())
    );
    assert_eq!(
        refused(&hs256(&good(json!({"aud": "someone-else"})), SECRET)),
        AuthError::Invalid("wrong audience".into())
    );
    assert_eq!(
        refused(&hs256(
            &good(json!({"iss": "https://evil.example"})),
            SECRET
        )),
        AuthError::Invalid("wrong issuer".into())
    );
    let mut no_exp = good(json!({}));
    no_exp.as_object_mut().map(|c| c.remove("exp"));
    assert_eq!(
        refused(&hs256(&no_exp, SECRET)),
        AuthError::Invalid("the exp claim is required".into())
    );
    assert!(matches!(refused("not.a.jwt"), AuthError::Invalid(_)));
    assert!(matches!(refused("garbage"), AuthError::Invalid(_)));
}

#[test]
fn alg_none_and_algorithm_confusion_are_refused() {
    let payload = b64(good(json!({})).to_string().as_bytes());
    let none = format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
    assert!(matches!(
        hs_auth().authenticate(Some(&none)),
        Err(AuthError::Invalid(_))
    ));
    // An HS256 token whose "secret" is the RS256 public key must not pass an RS256 verifier.
    let rs = auth(KeySource::Rs256Pem(RS_PUBLIC.to_vec()));
    let confused = hs256(&good(json!({})), RS_PUBLIC);
    assert_eq!(
        rs.authenticate(Some(&confused)),
        Err(AuthError::Invalid("algorithm not accepted".into()))
    );
    // Signed by another RSA key.
    let forged = rs256(&good(json!({})), RS_OTHER_PRIVATE);
    assert_eq!(
        rs.authenticate(Some(&forged)),
        Err(AuthError::Invalid("bad signature".into()))
    );
}

#[test]
fn namespaces_outside_the_claim_are_forbidden_and_a_missing_claim_grants_nothing() {
    let auth = hs_auth();
    let grant = auth
        .authenticate(Some(&hs256(&good(json!({})), SECRET)))
        .expect("valid");
    let asked = Filter::from_lists(Some("shop,billing"), None).expect("filter");
    assert_eq!(
        grant.restrict(&asked),
        Err(AuthError::Forbidden(
            "the token does not grant namespace(s) billing".into()
        ))
    );
    let inside = Filter::from_lists(Some("web"), Some("Pod")).expect("filter");
    assert_eq!(grant.restrict(&inside), Ok(inside));
    let mut no_claim = good(json!({}));
    no_claim.as_object_mut().map(|c| c.remove("namespaces"));
    assert!(matches!(
        auth.authenticate(Some(&hs256(&no_claim, SECRET))),
        Err(AuthError::Forbidden(_))
    ));
    for bad in [json!([]), json!(42), json!(["shop", 7])] {
        let token = hs256(&good(json!({ "namespaces": bad })), SECRET);
        assert!(
            matches!(
                auth.authenticate(Some(&token)),
                Err(AuthError::Forbidden(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn without_a_key_everyone_gets_everything() {
    let auth = Auth::open();
    assert!(!auth.requires_tokens());
    let grant = auth.authenticate(None).expect("open");
    assert_eq!(grant.remaining(), None);
    assert_eq!(grant.restrict(&Filter::all()), Ok(Filter::all()));
}

#[test]
fn a_short_secret_or_a_bad_public_key_is_a_configuration_error() {
    let short = AuthConfig {
        key: Some(KeySource::Hs256(b"short".to_vec())),
        ..AuthConfig::default()
    };
    assert!(Auth::new(&short).is_err());
    let bad_pem = AuthConfig {
        key: Some(KeySource::Rs256Pem(b"not a pem".to_vec())),
        ..AuthConfig::default()
    };
    assert!(Auth::new(&bad_pem).is_err());
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_str(v).expect("header value"));
    }
    h
}

#[test]
fn tokens_come_from_the_header_then_the_subprotocol_then_the_query() {
    let from = |h: &HeaderMap, q: Option<&str>| bearer_token(h, q).expect("ok");
    assert_eq!(
        from(&headers(&[("authorization", "Bearer aaa")]), Some("ccc")),
        Some(("aaa".into(), TokenSource::Header))
    );
    let offered = headers(&[("sec-websocket-protocol", "kubecast.v1, bearer.bbb")]);
    assert_eq!(
        from(&offered, Some("ccc")),
        Some(("bbb".into(), TokenSource::Subprotocol))
    );
    assert_eq!(
        from(&HeaderMap::new(), Some("ccc")),
        Some(("ccc".into(), TokenSource::Query))
    );
    assert_eq!(from(&HeaderMap::new(), None), None);
    assert!(matches!(
        bearer_token(&headers(&[("authorization", "Basic eHh4")]), None),
        Err(AuthError::Invalid(_))
    ));
    assert_eq!(
        bearer_token(&headers(&[("authorization", "Bearer ")]), None),
        Err(AuthError::Missing)
    );
    let huge = format!("Bearer {}", "x".repeat(10_000));
    assert!(matches!(
        bearer_token(&headers(&[("authorization", &huge)]), None),
        Err(AuthError::Invalid(_))
    ));
}

#[test]
fn the_origin_allow_list_refuses_other_origins_but_not_requests_without_one() {
    let config = AuthConfig {
        origins: vec!["https://dash.example.com/".into()],
        ..AuthConfig::default()
    };
    let auth = Auth::new(&config).expect("config");
    assert!(
        auth.check_origin(&headers(&[("origin", "https://DASH.example.com")]))
            .is_ok()
    );
    assert!(auth.check_origin(&HeaderMap::new()).is_ok());
    assert_eq!(
        auth.check_origin(&headers(&[("origin", "https://evil.example")])),
        Err(AuthError::Origin("https://evil.example".into()))
    );
    assert!(
        Auth::open()
            .check_origin(&headers(&[("origin", "https://evil.example")]))
            .is_ok()
    );
}

#[test]
fn a_fractional_exp_still_bounds_a_live_socket() {
    let token = hs256(&good(json!({"exp": now() as f64 + 600.5})), SECRET);
    let grant = hs_auth().authenticate(Some(&token)).expect("valid");
    let remaining = grant.remaining().expect("a fractional exp still expires");
    assert!(
        remaining <= std::time::Duration::from_secs(700),
        "{remaining:?}"
    );
}

#[test]
fn a_far_future_exp_is_capped_instead_of_overflowing_the_clock() {
    for exp in [
        json!(u64::MAX - 10),
        json!(1.0e19),
        json!(i64::MAX as u64 + 1),
    ] {
        let token = hs256(&good(json!({ "exp": exp })), SECRET);
        let grant = hs_auth().authenticate(Some(&token)).expect("valid");
        assert_eq!(grant.remaining(), Some(grant::MAX_REMAINING), "{exp}");
    }
}

#[test]
fn a_token_that_is_not_three_base64url_parts_or_uses_another_algorithm_is_unauthenticated() {
    let auth = hs_auth();
    let good_token = hs256(&good(json!({})), SECRET);
    let (head, rest) = good_token.split_once('.').expect("three parts");
    let hs384 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS384),
        &good(json!({})),
        &EncodingKey::from_secret(SECRET),
    )
    .expect("sign");
    for bad in [
        format!("{head}!!.{rest}"),
        format!("{head}.{rest}.extra"),
        format!("{}.{rest}", b64(b"not json")),
        "..".to_string(),
        "\u{00e9}.\u{00e9}.\u{00e9}".to_string(),
        hs384,
    ] {
        let refused = auth.authenticate(Some(&bad)).expect_err("refused");
        assert!(refused.is_unauthenticated(), "{bad}: {refused:?}");
        assert!(
            !refused.to_string().contains(&bad),
            "the token is not echoed"
        );
    }
}

#[test]
fn origin_variants_match_exactly_up_to_case_and_a_trailing_slash() {
    let auth = Auth::new(&AuthConfig {
        origins: vec!["https://dash.example.com".into()],
        ..AuthConfig::default()
    })
    .expect("config");
    let check = |values: &[&str]| {
        let pairs: Vec<(&'static str, &str)> = values.iter().map(|v| ("origin", *v)).collect();
        auth.check_origin(&headers(&pairs)).is_ok()
    };
    assert!(check(&["https://dash.example.com"]), "exact");
    assert!(check(&["https://dash.example.com/"]), "trailing slash");
    assert!(check(&["HTTPS://Dash.Example.COM"]), "case");
    assert!(check(&[]), "missing (not a browser)");
    for refused in [
        "http://dash.example.com",
        "https://dash.example.com:8443",
        "https://dash.example.com.evil.example",
        "https://evil.example",
        "null",
        "",
    ] {
        assert!(!check(&[refused]), "{refused:?} should be refused");
    }
    assert!(
        !check(&["https://dash.example.com", "https://evil.example"]),
        "several Origin headers are refused even when the first is allowed"
    );
}
