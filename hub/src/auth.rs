//! Validating access tokens as a resource server does: the issuer must be allowed, the RS256
//! signature must verify against the issuer's JWKS fetched over HTTP, and `typ`, `exp`, `nbf`
//! and (when configured) `azp`/`aud` must fit. Refusals carry a close code and a fixed reason
//! that never contains the token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1v15::Signature;
use rsa::signature::Verifier;
use serde_json::{Map, Value};

use crate::log::Level;
use crate::protocol::close;
use crate::Hub;

/// Who a valid token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The issuer as the hub knows it (a host's own realms under one canonical address,
    /// whatever host name the token was issued through): events are routed by it.
    pub issuer: String,
    /// The realm name, for the welcome message.
    pub realm: String,
    pub sub: String,
    pub session_id: Option<String>,
    /// Realm role `admin`: sees every event of the realm.
    pub admin: bool,
    /// Seconds since the epoch.
    pub exp: u64,
    /// The client the token was issued to (`azp`).
    pub client: Option<String>,
    /// The client whose service account the token speaks for: Keycloak's service-account tokens
    /// carry the client's id in `client_id` (`clientId` before Keycloak 20), equal to `azp`.
    pub service_account_of: Option<String>,
}

impl Identity {
    /// Seconds until the token expires, by the host's clock.
    pub fn ttl(&self, now: u64) -> u64 {
        self.exp.saturating_sub(now)
    }
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Unauthorized(&'static str),
    Forbidden(&'static str),
    /// The keys could not be fetched: not the token's fault, retry later.
    KeysUnavailable,
}

impl Refusal {
    pub fn close_code(self) -> u16 {
        match self {
            Refusal::Unauthorized(_) => close::UNAUTHORIZED,
            Refusal::Forbidden(_) => close::FORBIDDEN,
            Refusal::KeysUnavailable => close::TRY_AGAIN_LATER,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Unauthorized(reason) | Refusal::Forbidden(reason) => reason,
            Refusal::KeysUnavailable => "signing keys unavailable",
        }
    }
}

pub const NO_TOKEN: Refusal = Refusal::Unauthorized("unauthorized: no token");
const MALFORMED: Refusal = Refusal::Unauthorized("unauthorized: malformed token");
const BAD_SIGNATURE: Refusal = Refusal::Unauthorized("unauthorized: invalid signature");
const ISSUER: Refusal = Refusal::Unauthorized("unauthorized: issuer not allowed");
const EXPIRED: Refusal = Refusal::Unauthorized("unauthorized: token expired");
const NOT_YET_VALID: Refusal = Refusal::Unauthorized("unauthorized: token not yet valid");
const NOT_BEARER: Refusal = Refusal::Unauthorized("unauthorized: not an access token");
const AUDIENCE: Refusal = Refusal::Forbidden("forbidden: token not issued for this audience");

/// A token longer than this is not looked at (Keycloak's access tokens are a few KB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Where an allowed issuer's keys come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySource {
    /// The issuer events are routed by.
    pub issuer: String,
    pub certs_url: String,
    pub realm: String,
}

pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

fn decode_part(part: &str) -> Option<Map<String, Value>> {
    match serde_json::from_slice(&b64url_decode(part)?) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// The realm name of a Keycloak issuer URL (`…/realms/{name}`), else the whole issuer.
pub fn realm_of_issuer(issuer: &str) -> String {
    match issuer.rsplit_once("/realms/") {
        Some((_, name)) if !name.is_empty() && !name.contains('/') => name.to_string(),
        _ => issuer.to_string(),
    }
}

/// Resolves an issuer against the allow-list: the configured issuers (exact match, trailing
/// slash ignored), then the host's own.
pub fn key_source(hub: &Hub, issuer: &str) -> Option<KeySource> {
    let trimmed = issuer.trim_end_matches('/');
    if hub.config.issuers.iter().any(|allowed| allowed == trimmed) {
        return Some(KeySource {
            issuer: trimmed.to_string(),
            certs_url: format!("{trimmed}/protocol/openid-connect/certs"),
            realm: realm_of_issuer(trimmed),
        });
    }
    hub.host().own_issuer(issuer)
}

fn audience_matches(claims: &Map<String, Value>, audience: &str) -> bool {
    let azp = claims.get("azp").and_then(Value::as_str) == Some(audience);
    let aud = match claims.get("aud") {
        Some(Value::String(one)) => one == audience,
        Some(Value::Array(many)) => many.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    azp || aud
}

fn has_realm_role(claims: &Map<String, Value>, role: &str) -> bool {
    claims
        .get("realm_access")
        .and_then(|r| r.get("roles"))
        .and_then(Value::as_array)
        .is_some_and(|roles| roles.iter().any(|r| r.as_str() == Some(role)))
}

/// Validates an access token. `check_audience` is off for `/ingest`, whose tokens belong to
/// the event-streaming client rather than the browser app.
pub async fn validate(hub: &Hub, token: &str, check_audience: bool) -> Result<Identity, Refusal> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(MALFORMED);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(MALFORMED);
    };
    let header = decode_part(header_b64).ok_or(MALFORMED)?;
    let claims = decode_part(payload_b64).ok_or(MALFORMED)?;
    let signature = b64url_decode(signature_b64).ok_or(MALFORMED)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(BAD_SIGNATURE);
    }
    let issuer = claims.get("iss").and_then(Value::as_str).ok_or(ISSUER)?;
    // Only an allowed issuer's keys are ever fetched.
    let source = key_source(hub, issuer).ok_or(ISSUER)?;
    let kid = header.get("kid").and_then(Value::as_str);
    let keys = hub
        .keys
        .keys_for(&source.certs_url, kid)
        .await
        .map_err(|err| {
            hub.log(
                Level::Warn,
                "signing keys unavailable",
                &[("error", &err.0)],
            );
            Refusal::KeysUnavailable
        })?;
    let signature = Signature::try_from(signature.as_slice()).map_err(|_| MALFORMED)?;
    let input = format!("{header_b64}.{payload_b64}");
    if !keys
        .iter()
        .any(|key| key.verify(input.as_bytes(), &signature).is_ok())
    {
        return Err(BAD_SIGNATURE);
    }
    if claims.get("typ").and_then(Value::as_str) != Some("Bearer") {
        return Err(NOT_BEARER);
    }
    let now = hub.now();
    let exp = claims.get("exp").and_then(Value::as_u64).ok_or(MALFORMED)?;
    if exp <= now {
        return Err(EXPIRED);
    }
    if let Some(nbf) = claims.get("nbf") {
        if nbf.as_u64().is_none_or(|nbf| nbf > now) {
            return Err(NOT_YET_VALID);
        }
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(MALFORMED)?
        .to_string();
    if check_audience {
        if let Some(audience) = &hub.config.audience {
            if !audience_matches(&claims, audience) {
                return Err(AUDIENCE);
            }
        }
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_string);
    let client = text("azp");
    let service_account_of = client
        .clone()
        .filter(|azp| [text("client_id"), text("clientId")].contains(&Some(azp.clone())));
    Ok(Identity {
        issuer: source.issuer,
        realm: source.realm,
        sub,
        session_id: text("sid").or_else(|| text("session_state")),
        admin: has_realm_role(&claims, "admin"),
        exp,
        client,
        service_account_of,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_names_of_issuers() {
        assert_eq!(realm_of_issuer("https://kc.example.com/realms/foo"), "foo");
        assert_eq!(
            realm_of_issuer("https://login.example.com"),
            "https://login.example.com"
        );
    }

    #[test]
    fn audience_by_azp_or_aud() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        assert!(audience_matches(
            &claims(serde_json::json!({"azp": "app"})),
            "app"
        ));
        assert!(audience_matches(
            &claims(serde_json::json!({"azp": "x", "aud": ["account", "app"]})),
            "app"
        ));
        assert!(!audience_matches(
            &claims(serde_json::json!({"azp": "x", "aud": "account"})),
            "app"
        ));
    }

    #[test]
    fn refusals_map_to_close_codes() {
        assert_eq!(NO_TOKEN.close_code(), 4401);
        assert_eq!(AUDIENCE.close_code(), 4403);
        assert_eq!(Refusal::KeysUnavailable.close_code(), 1013);
    }
}
