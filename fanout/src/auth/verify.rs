//! Token verification with `jsonwebtoken`: one algorithm, one key, strict claims.

use super::{AuthError, Grant};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// The verification key.
#[derive(Clone)]
pub enum KeySource {
    /// HS256 with this shared secret.
    Hs256(Vec<u8>),
    /// RS256 with this PEM public key.
    Rs256Pem(Vec<u8>),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeySource::Hs256(_) => "Hs256(<secret>)",
            KeySource::Rs256Pem(_) => "Rs256Pem(<public key>)",
        })
    }
}

/// What the replica accepts.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// `None`: no tokens required.
    pub key: Option<KeySource>,
    /// Required `aud` (any of), if set.
    pub audience: Vec<String>,
    /// Required `iss` (any of), if set.
    pub issuer: Vec<String>,
    /// The claim listing the granted namespaces.
    pub namespaces_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Allowed WebSocket `Origin`s (empty: any).
    pub origins: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            key: None,
            audience: Vec::new(),
            issuer: Vec::new(),
            namespaces_claim: "namespaces".into(),
            leeway: Duration::from_secs(30),
            origins: Vec::new(),
        }
    }
}

pub(super) struct Verifier {
    key: DecodingKey,
    validation: Validation,
    namespaces_claim: String,
}

impl Verifier {
    pub(super) fn new(key: &KeySource, config: &AuthConfig) -> Result<Self, String> {
        let (key, algorithm) = match key {
            KeySource::Hs256(secret) if secret.len() < 32 => {
                return Err("the HS256 secret must be at least 32 bytes".into());
            }
            KeySource::Hs256(secret) => (DecodingKey::from_secret(secret), Algorithm::HS256),
            KeySource::Rs256Pem(pem) => (
                DecodingKey::from_rsa_pem(pem)
                    .map_err(|e| format!("the RS256 public key is not a PEM RSA key: {e}"))?,
                Algorithm::RS256,
            ),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = config.leeway.as_secs();
        validation.validate_nbf = true;
        validation.validate_aud = !config.audience.is_empty();
        if !config.audience.is_empty() {
            validation.set_audience(&config.audience);
        }
        if !config.issuer.is_empty() {
            validation.set_issuer(&config.issuer);
        }
        Ok(Self {
            key,
            validation,
            namespaces_claim: config.namespaces_claim.clone(),
        })
    }

    pub(super) fn algorithm(&self) -> Algorithm {
        self.validation.algorithms[0]
    }

    pub(super) fn verify(&self, token: &str) -> Result<Grant, AuthError> {
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(
            token,
            &self.key,
            &self.validation,
        )
        .map_err(|e| refusal(e.kind()))?;
        let claims = data.claims;
        let namespaces = granted_namespaces(claims.get(&self.namespaces_claim))
            .map_err(|why| AuthError::Forbidden(format!("{}: {why}", self.namespaces_claim)))?;
        let expires_at = claims
            .get("exp")
            .and_then(seconds)
            .map(|exp| exp.saturating_add(self.validation.leeway));
        Ok(Grant::new(namespaces, expires_at))
    }
}

/// A NumericDate as `jsonwebtoken` validated it: an integer, or a finite non-negative float
/// (rounded). Reading only integers would let a token with `"exp": 1.8e9` pass validation and
/// then never expire on a live socket.
fn seconds(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f.round() as u64)
    })
}

/// The client-facing reason of a verification failure (never the token itself).
fn refusal(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::Invalid("the token is not valid yet".into()),
        ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience".into()),
        ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer".into()),
        ErrorKind::InvalidSignature => AuthError::Invalid("bad signature".into()),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            AuthError::Invalid("algorithm not accepted".into())
        }
        ErrorKind::MissingRequiredClaim(claim) => {
            AuthError::Invalid(format!("the {claim} claim is required"))
        }
        _ => AuthError::Invalid("malformed token".into()),
    }
}

/// The namespaces claim: `"*"` or a list of names (a list containing `"*"` grants all).
fn granted_namespaces(claim: Option<&Value>) -> Result<Option<BTreeSet<String>>, String> {
    let names: Vec<&str> = match claim {
        None => return Err("missing: the token grants no namespace".into()),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().ok_or("every entry must be a string"))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("must be \"*\" or a list of namespaces".into()),
    };
    if names.contains(&"*") {
        return Ok(None);
    }
    if names.is_empty() {
        return Err("empty: the token grants no namespace".into());
    }
    Ok(Some(names.into_iter().map(String::from).collect()))
}
