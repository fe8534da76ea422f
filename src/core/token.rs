//! Tokens: decoding JWT payloads (never verifying them, as keycloak-js), the token set an
//! instance holds, roles, expiry maths and time skew, and the token endpoint's requests and
//! replies.
//!
//! Times: `now_ms` and request times are milliseconds since the epoch (`Date.now()`); `exp`,
//! `iat` and the time skew are seconds, as in the tokens and in keycloak-js.

use crate::prelude::*;

use core::fmt;

use super::base64;
use super::encode::form_encode;
use super::error::{Error, ErrorCode, INVALID_STATUS_MESSAGE};
use super::json::{self, Value};
use super::options::Flow;

/// The `Content-Type` a `URLSearchParams` body is sent with.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded;charset=UTF-8";

fn invalid_token(message: &str) -> Error {
    Error::new(ErrorCode::InvalidToken, message)
}

/// Decodes a JWT's payload (base64url, then UTF-8, else Latin-1 as keycloak-js falls back to,
/// then JSON), with keycloak-js's messages.
pub fn decode_payload(token: &str) -> Result<Value, Error> {
    let payload = super::text::split(token, b'.')
        .nth(1)
        .ok_or_else(|| invalid_token("Unable to decode token, payload not found."))?;
    let bytes = base64::decode(payload).ok_or_else(|| {
        invalid_token("Unable to decode token, payload is not a valid Base64URL value.")
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => e.into_bytes().into_iter().map(char::from).collect(),
    };
    let claims = json::parse(&text)
        .map_err(|_| invalid_token("Unable to decode token, payload is not a valid JSON value."))?;
    if !claims.is_object() {
        return Err(invalid_token(
            "Unable to decode token, payload is not a JSON object.",
        ));
    }
    Ok(claims)
}

/// A token and its decoded claims. `Debug` never prints the token itself.
#[derive(Clone, PartialEq)]
pub struct ParsedToken {
    raw: String,
    claims: Value,
}

impl fmt::Debug for ParsedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedToken")
            .field("raw", &"[redacted]")
            .field("claims", &self.claims)
            .finish()
    }
}

impl ParsedToken {
    pub fn parse(token: &str) -> Result<Self, Error> {
        Ok(ParsedToken {
            raw: token.to_owned(),
            claims: decode_payload(token)?,
        })
    }

    /// The encoded token, as received.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The payload (`tokenParsed`), always an object.
    pub fn claims(&self) -> &Value {
        &self.claims
    }

    pub fn exp(&self) -> Option<f64> {
        self.claims.get_f64("exp")
    }

    pub fn iat(&self) -> Option<f64> {
        self.claims.get_f64("iat")
    }

    pub fn nonce(&self) -> Option<&str> {
        self.claims.get_str("nonce")
    }

    pub fn sid(&self) -> Option<&str> {
        self.claims.get_str("sid")
    }

    pub fn sub(&self) -> Option<&str> {
        self.claims.get_str("sub")
    }

    pub fn session_state(&self) -> Option<&str> {
        self.claims.get_str("session_state")
    }

    /// `aud` as a list, whether the token has one string or an array.
    pub fn audiences(&self) -> Vec<&str> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// `realm_access` (the `realmAccess` property), when it is an object.
    pub fn realm_access(&self) -> Option<&Value> {
        self.claims.get_object("realm_access")
    }

    /// `resource_access` (the `resourceAccess` property), when it is an object.
    pub fn resource_access(&self) -> Option<&Value> {
        self.claims.get_object("resource_access")
    }

    /// `hasRealmRole(role)`: `realm_access.roles` contains `role`.
    pub fn has_realm_role(&self, role: &str) -> bool {
        has_role(self.realm_access(), role)
    }

    /// `hasResourceRole(role, resource)`: `resource_access[resource].roles` contains `role`.
    pub fn has_resource_role(&self, role: &str, resource: &str) -> bool {
        has_role(
            self.resource_access().and_then(|r| r.get_object(resource)),
            role,
        )
    }
}

fn has_role(access: Option<&Value>, role: &str) -> bool {
    access
        .and_then(|a| a.get_array("roles"))
        .is_some_and(|roles| roles.iter().any(|r| r.as_str() == Some(role)))
}

/// keycloak-js's time skew: the midpoint of the request, floored to whole seconds, minus the
/// token's `iat`. None when the token has no `iat` (keycloak-js would compute NaN).
pub fn time_skew(request_start_ms: f64, request_end_ms: f64, iat: Option<f64>) -> Option<f64> {
    let midpoint = (request_start_ms + request_end_ms) / 2.0;
    iat.map(|iat| super::number::floor(midpoint / 1000.0) - iat)
}

/// The check `isTokenExpired` starts with: there must be an access token and, except in the
/// implicit flow, a refresh token.
pub fn ensure_authenticated(
    has_token: bool,
    has_refresh_token: bool,
    flow: Flow,
) -> Result<(), Error> {
    if !has_token || (!has_refresh_token && flow != Flow::Implicit) {
        return Err(Error::not_authenticated());
    }
    Ok(())
}

/// `isTokenExpired(minValidity)` once [`ensure_authenticated`] passed: true when the skew is
/// unknown, false when the token has no `exp`, else `exp − ceil(now s) + skew − minValidity < 0`.
pub fn is_token_expired(
    exp: Option<f64>,
    time_skew: Option<f64>,
    min_validity: f64,
    now_ms: f64,
) -> bool {
    let Some(skew) = time_skew else {
        return true;
    };
    let Some(exp) = exp else {
        return false;
    };
    let min_validity = if min_validity.is_nan() {
        0.0
    } else {
        min_validity
    };
    exp - super::number::ceil(now_ms / 1000.0) + skew - min_validity < 0.0
}

/// Milliseconds until `onTokenExpired` should fire: `(exp − now s + skew) × 1000`. Zero or less
/// means at once. None when the skew or `exp` is unknown: no timer.
pub fn expiry_delay_ms(exp: Option<f64>, time_skew: Option<f64>, now_ms: f64) -> Option<f64> {
    Some((exp? - now_ms / 1000.0 + time_skew?) * 1000.0)
}

/// The tokens an instance holds, updated as keycloak-js's `setToken` updates them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TokenSet {
    pub token: Option<ParsedToken>,
    pub refresh_token: Option<ParsedToken>,
    pub id_token: Option<ParsedToken>,
    /// Seconds; None is keycloak-js's `null`.
    pub time_skew: Option<f64>,
    /// The `sid` of the last access token set. Like keycloak-js, clearing the tokens keeps it.
    pub session_id: Option<String>,
}

impl TokenSet {
    /// A token set starting with the time skew given to `init()`.
    pub fn new(time_skew: Option<f64>) -> Self {
        TokenSet {
            time_skew,
            ..TokenSet::default()
        }
    }

    /// Replaces the tokens. A token that is absent (or empty) is dropped, as keycloak-js drops
    /// a refresh or ID token that a response omits. With `request_ms` (start and end of the
    /// request that brought the tokens), the time skew is measured again. Every token is
    /// decoded before anything changes, so a bad token leaves the set as it was.
    pub fn set(
        &mut self,
        token: Option<&str>,
        refresh_token: Option<&str>,
        id_token: Option<&str>,
        request_ms: Option<(f64, f64)>,
    ) -> Result<(), Error> {
        let parse = |t: Option<&str>| {
            t.filter(|t| !t.is_empty())
                .map(ParsedToken::parse)
                .transpose()
        };
        let token = parse(token)?;
        let refresh_token = parse(refresh_token)?;
        let id_token = parse(id_token)?;
        if let Some(access) = &token {
            self.session_id = access.sid().map(str::to_owned);
            if let Some((start, end)) = request_ms {
                self.time_skew = time_skew(start, end, access.iat());
            }
        }
        self.token = token;
        self.refresh_token = refresh_token;
        self.id_token = id_token;
        Ok(())
    }

    /// A time skew the application assigned (the `timeSkew` property): it counts from now on,
    /// as keycloak-js reads the property whenever it needs it. None is `null`.
    pub fn assign_time_skew(&mut self, time_skew: Option<f64>) {
        self.time_skew = time_skew;
    }

    /// `clearToken()`'s effect on the tokens.
    pub fn clear(&mut self) {
        self.token = None;
        self.refresh_token = None;
        self.id_token = None;
    }

    /// The `authenticated` property.
    pub fn authenticated(&self) -> bool {
        self.token.is_some()
    }

    /// The `subject` property.
    pub fn subject(&self) -> Option<&str> {
        self.token.as_ref().and_then(ParsedToken::sub)
    }

    /// `isTokenExpired(minValidity)` on the access token.
    pub fn is_token_expired(
        &self,
        flow: Flow,
        min_validity: f64,
        now_ms: f64,
    ) -> Result<bool, Error> {
        ensure_authenticated(self.token.is_some(), self.refresh_token.is_some(), flow)?;
        Ok(is_token_expired(
            self.token.as_ref().and_then(ParsedToken::exp),
            self.time_skew,
            min_validity,
            now_ms,
        ))
    }

    /// When `onTokenExpired` should fire, in milliseconds from now (see [`expiry_delay_ms`]).
    pub fn expiry_delay_ms(&self, now_ms: f64) -> Option<f64> {
        let token = self.token.as_ref()?;
        expiry_delay_ms(token.exp(), self.time_skew, now_ms)
    }

    pub fn has_realm_role(&self, role: &str) -> bool {
        self.token.as_ref().is_some_and(|t| t.has_realm_role(role))
    }

    pub fn has_resource_role(&self, role: &str, resource: &str) -> bool {
        self.token
            .as_ref()
            .is_some_and(|t| t.has_resource_role(role, resource))
    }
}

/// The body of the authorization-code exchange, in keycloak-js's order.
pub fn authorization_code_body(
    code: &str,
    client_id: &str,
    redirect_uri: &str,
    code_verifier: Option<&str>,
) -> String {
    let mut pairs = vec![
        ("code", code),
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
    ];
    if let Some(verifier) = code_verifier.filter(|v| !v.is_empty()) {
        pairs.push(("code_verifier", verifier));
    }
    form_encode(pairs)
}

/// The body of a refresh.
pub fn refresh_token_body(refresh_token: &str, client_id: &str) -> String {
    form_encode([
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
    ])
}

/// The `Authorization` header value of `loadUserProfile` and `loadUserInfo`.
pub fn bearer_header(token: Option<&str>) -> Result<String, Error> {
    let token = token.filter(|t| !t.is_empty()).ok_or_else(|| {
        Error::new(
            ErrorCode::NotAuthenticated,
            "Unable to build authorization header, token is not set, make sure the user is authenticated.",
        )
    })?;
    let mut header = String::from("bearer ");
    header.push_str(token);
    Ok(header)
}

/// The error for a non-2xx reply: a server error with the OAuth body's `error` and
/// `error_description` when there is one (keycloak-js discards it), else a network error.
/// Both carry the status.
pub fn http_error(status: u16, body: &str) -> Error {
    let parsed = json::parse(body).ok();
    match parsed
        .as_ref()
        .and_then(|v| v.get_str("error").map(|e| (v, e)))
    {
        Some((v, error)) if !error.is_empty() => {
            let mut err = Error::oauth(error, v.get_str("error_description"), Some(status));
            // Keep keycloak-js's words in front for code that logs the message.
            let mut message = String::from(INVALID_STATUS_MESSAGE);
            message.push(' ');
            message.push_str(&err.message);
            err.message = message;
            err
        }
        _ => Error::http_status(status),
    }
}

/// A JSON reply (configuration, metadata, profile, userinfo): the parsed body of a 2xx reply,
/// else [`http_error`].
pub fn parse_json_reply(status: u16, body: &str) -> Result<Value, Error> {
    if !(200..300).contains(&status) {
        return Err(http_error(status, body));
    }
    json::parse(body).map_err(|e| {
        let mut message = String::from("The server's reply is not valid JSON: ");
        message.push_str(&e.message());
        Error::new(ErrorCode::InvalidResponse, message).with_status(status)
    })
}

/// A successful token endpoint reply.
#[derive(Clone, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub token_type: Option<String>,
    /// Seconds.
    pub expires_in: Option<f64>,
    pub scope: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The token endpoint's reply, from its status and body.
pub fn parse_token_response(status: u16, body: &str) -> Result<TokenResponse, Error> {
    let v = parse_json_reply(status, body)?;
    let text = |name: &str| v.get_str(name).filter(|s| !s.is_empty()).map(str::to_owned);
    let access_token = text("access_token").ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidResponse,
            "The token endpoint's reply has no access_token.",
        )
        .with_status(status)
    })?;
    Ok(TokenResponse {
        access_token,
        refresh_token: text("refresh_token"),
        id_token: text("id_token"),
        token_type: text("token_type"),
        expires_in: v.get_f64("expires_in"),
        scope: text("scope"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JWT with the given payload JSON (header and signature are never looked at).
    fn jwt(payload: &str) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            base64::encode_url(payload.as_bytes())
        )
    }

    const ACCESS: &str = r#"{"exp":1000,"iat":700,"sub":"user-1","sid":"sid-1","session_state":"ss","nonce":"n","aud":["api","account"],"realm_access":{"roles":["user","admin"]},"resource_access":{"web":{"roles":["viewer"]},"api":{"roles":["writer"]}}}"#;

    #[test]
    fn decodes_payloads() {
        let claims = decode_payload(&jwt(r#"{"sub":"é€😀","n":1}"#)).unwrap();
        assert_eq!(claims.get_str("sub"), Some("é€😀"));
        // Standard-alphabet and padded payloads work too.
        let padded = format!("h.{}.s", "eyJhIjoxfQ==");
        assert_eq!(decode_payload(&padded).unwrap().get_f64("a"), Some(1.0));
        // Only two parts are needed.
        assert!(decode_payload("h.eyJhIjoxfQ").is_ok());
    }

    #[test]
    fn latin1_payloads_are_read_as_keycloak_js_reads_them() {
        // {"n":"<0xE9>"}: not UTF-8; atob's Latin-1 reading gives "é".
        let token = format!("h.{}.s", base64::encode_url(b"{\"n\":\"\xe9\"}"));
        assert_eq!(decode_payload(&token).unwrap().get_str("n"), Some("é"));
    }

    #[test]
    fn malformed_tokens_give_keycloak_js_messages() {
        let cases = [
            ("", "Unable to decode token, payload not found."),
            ("nodots", "Unable to decode token, payload not found."),
            (
                "h.a.s",
                "Unable to decode token, payload is not a valid Base64URL value.",
            ),
            (
                "h.e!30.s",
                "Unable to decode token, payload is not a valid Base64URL value.",
            ),
            (
                "h..s",
                "Unable to decode token, payload is not a valid JSON value.",
            ),
            (
                "h.bm90IGpzb24.s",
                "Unable to decode token, payload is not a valid JSON value.",
            ),
            (
                "h.WzFd.s",
                "Unable to decode token, payload is not a JSON object.",
            ),
        ];
        for (token, message) in cases {
            let err = decode_payload(token).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidToken, "{token}");
            assert_eq!(err.message, message, "{token}");
        }
    }

    #[test]
    fn truncated_tokens_never_panic() {
        let token = jwt(ACCESS);
        for end in 0..=token.len() {
            let _ = decode_payload(&token[..end]);
            let _ = decode_payload(&token[end..]);
        }
    }

    #[test]
    fn typed_claims() {
        let t = ParsedToken::parse(&jwt(ACCESS)).unwrap();
        assert_eq!(t.exp(), Some(1000.0));
        assert_eq!(t.iat(), Some(700.0));
        assert_eq!(t.sub(), Some("user-1"));
        assert_eq!(t.sid(), Some("sid-1"));
        assert_eq!(t.session_state(), Some("ss"));
        assert_eq!(t.nonce(), Some("n"));
        assert_eq!(t.audiences(), ["api", "account"]);
        assert_eq!(t.raw(), jwt(ACCESS));
        assert_eq!(t.claims().get_str("sub"), Some("user-1"));
        assert!(t.realm_access().is_some());
        assert!(t.resource_access().is_some());

        let single = ParsedToken::parse(&jwt(r#"{"aud":"web","exp":"soon"}"#)).unwrap();
        assert_eq!(single.audiences(), ["web"]);
        assert_eq!(single.exp(), None);
        assert!(ParsedToken::parse(&jwt("{}"))
            .unwrap()
            .audiences()
            .is_empty());
    }

    #[test]
    fn debug_never_prints_the_token() {
        let t = ParsedToken::parse(&jwt(ACCESS)).unwrap();
        let text = format!("{t:?}");
        assert!(text.contains("[redacted]"));
        assert!(!text.contains(&jwt(ACCESS)));
        let r = parse_token_response(
            200,
            r#"{"access_token":"secret-at","refresh_token":"secret-rt"}"#,
        )
        .unwrap();
        assert!(!format!("{r:?}").contains("secret"));
    }

    #[test]
    fn roles() {
        let t = ParsedToken::parse(&jwt(ACCESS)).unwrap();
        assert!(t.has_realm_role("admin"));
        assert!(!t.has_realm_role("root"));
        assert!(t.has_resource_role("viewer", "web"));
        assert!(t.has_resource_role("writer", "api"));
        assert!(!t.has_resource_role("writer", "web"));
        assert!(!t.has_resource_role("viewer", "other"));

        let odd = ParsedToken::parse(&jwt(
            r#"{"realm_access":{"roles":"admin"},"resource_access":{"web":{"roles":[1,"x"]}}}"#,
        ))
        .unwrap();
        assert!(!odd.has_realm_role("admin"));
        assert!(odd.has_resource_role("x", "web"));
        assert!(!odd.has_resource_role("1", "web"));
        let none = ParsedToken::parse(&jwt("{}")).unwrap();
        assert!(!none.has_realm_role("user"));
        assert!(!none.has_resource_role("user", "web"));
    }

    #[test]
    fn time_skew_uses_the_floored_midpoint() {
        // Midpoint 1_000_500 ms -> 1000 s; iat 990 -> skew 10.
        assert_eq!(time_skew(1_000_000.0, 1_001_000.0, Some(990.0)), Some(10.0));
        // Midpoint 1_000_999.5 ms floors to 1000 s.
        assert_eq!(time_skew(1_000_999.0, 1_001_000.0, Some(1000.0)), Some(0.0));
        // Server clock ahead: negative skew.
        assert_eq!(time_skew(5_000.0, 5_000.0, Some(7.0)), Some(-2.0));
        assert_eq!(time_skew(5_000.0, 5_000.0, None), None);
    }

    #[test]
    fn is_token_expired_maths() {
        // exp 1000, skew 0, now 990.0 s: 10 s left.
        assert!(!is_token_expired(Some(1000.0), Some(0.0), 0.0, 990_000.0));
        assert!(!is_token_expired(Some(1000.0), Some(0.0), 10.0, 990_000.0));
        assert!(is_token_expired(Some(1000.0), Some(0.0), 11.0, 990_000.0));
        // now is rounded up: 999.001 s counts as 1000 s, still not expired; 1000.001 is.
        assert!(!is_token_expired(Some(1000.0), Some(0.0), 0.0, 999_001.0));
        assert!(!is_token_expired(Some(1000.0), Some(0.0), 0.0, 1_000_000.0));
        assert!(is_token_expired(Some(1000.0), Some(0.0), 0.0, 1_000_001.0));
        // The skew is added: a server 5 s ahead.
        assert!(!is_token_expired(Some(1000.0), Some(5.0), 0.0, 1_004_000.0));
        assert!(is_token_expired(Some(1000.0), Some(5.0), 0.0, 1_006_000.0));
        // Unknown skew: expired. No exp: never expired.
        assert!(is_token_expired(Some(1000.0), None, 0.0, 0.0));
        assert!(!is_token_expired(None, Some(0.0), 1e9, 1e12));
        // NaN minValidity is ignored, as `if (minValidity)` ignores it.
        assert!(!is_token_expired(
            Some(1000.0),
            Some(0.0),
            f64::NAN,
            990_000.0
        ));
        // Negative minValidity extends the validity.
        assert!(!is_token_expired(
            Some(1000.0),
            Some(0.0),
            -5.0,
            1_004_000.0
        ));
    }

    #[test]
    fn authentication_check() {
        assert!(ensure_authenticated(true, true, Flow::Standard).is_ok());
        assert!(ensure_authenticated(true, false, Flow::Implicit).is_ok());
        for (t, r, flow) in [
            (false, true, Flow::Standard),
            (true, false, Flow::Standard),
            (true, false, Flow::Hybrid),
            (false, false, Flow::Implicit),
        ] {
            let err = ensure_authenticated(t, r, flow).unwrap_err();
            assert_eq!(err.message, "Not authenticated");
            assert_eq!(err.code, ErrorCode::NotAuthenticated);
        }
    }

    #[test]
    fn expiry_delay() {
        assert_eq!(
            expiry_delay_ms(Some(1000.0), Some(0.0), 990_000.0),
            Some(10_000.0)
        );
        assert_eq!(
            expiry_delay_ms(Some(1000.0), Some(2.0), 990_500.0),
            Some(11_500.0)
        );
        assert_eq!(
            expiry_delay_ms(Some(1000.0), Some(0.0), 1_001_000.0),
            Some(-1_000.0)
        );
        assert_eq!(expiry_delay_ms(Some(1000.0), None, 0.0), None);
        assert_eq!(expiry_delay_ms(None, Some(0.0), 0.0), None);
    }

    #[test]
    fn token_set_follows_set_token() {
        let mut set = TokenSet::new(None);
        assert!(!set.authenticated());
        let access = jwt(ACCESS);
        let refresh = jwt(r#"{"exp":2000,"typ":"Refresh"}"#);
        let id = jwt(r#"{"nonce":"n","sub":"user-1"}"#);
        set.set(
            Some(&access),
            Some(&refresh),
            Some(&id),
            Some((699_000.0, 701_000.0)),
        )
        .unwrap();
        assert!(set.authenticated());
        assert_eq!(set.subject(), Some("user-1"));
        assert_eq!(set.session_id.as_deref(), Some("sid-1"));
        assert_eq!(set.time_skew, Some(0.0));
        assert!(set.has_realm_role("user"));
        assert!(set.has_resource_role("viewer", "web"));
        assert_eq!(set.refresh_token.as_ref().unwrap().exp(), Some(2000.0));
        assert_eq!(set.id_token.as_ref().unwrap().nonce(), Some("n"));
        assert!(!set
            .is_token_expired(Flow::Standard, 0.0, 990_000.0)
            .unwrap());
        assert!(set
            .is_token_expired(Flow::Standard, 0.0, 1_000_001.0)
            .unwrap());
        assert_eq!(set.expiry_delay_ms(990_000.0), Some(10_000.0));

        // A refresh reply without an ID token drops the stored one; no request times keep
        // the skew.
        set.set(Some(&access), Some(&refresh), None, None).unwrap();
        assert_eq!(set.id_token, None);
        assert_eq!(set.time_skew, Some(0.0));

        // A bad token changes nothing.
        let before = set.clone();
        assert_eq!(
            set.set(Some(&access), Some("bad"), None, Some((0.0, 0.0)))
                .unwrap_err()
                .code,
            ErrorCode::InvalidToken
        );
        assert_eq!(set, before);

        set.clear();
        assert!(!set.authenticated());
        assert_eq!(set.subject(), None);
        assert!(!set.has_realm_role("user"));
        assert_eq!(set.expiry_delay_ms(0.0), None);
        // keycloak-js keeps sessionId and timeSkew after clearToken.
        assert_eq!(set.session_id.as_deref(), Some("sid-1"));
        assert_eq!(set.time_skew, Some(0.0));
        assert_eq!(
            set.is_token_expired(Flow::Standard, 0.0, 0.0)
                .unwrap_err()
                .message,
            "Not authenticated"
        );
    }

    #[test]
    fn token_set_implicit_and_init_tokens() {
        // init({ token, refreshToken, timeSkew }) keeps the given skew.
        let mut set = TokenSet::new(Some(3.0));
        set.set(Some(&jwt(ACCESS)), Some(&jwt("{}")), None, None)
            .unwrap();
        assert_eq!(set.time_skew, Some(3.0));
        // Implicit: no refresh token, still authenticated for isTokenExpired.
        let mut implicit = TokenSet::new(None);
        implicit
            .set(
                Some(&jwt(ACCESS)),
                None,
                Some(""),
                Some((700_000.0, 700_000.0)),
            )
            .unwrap();
        assert_eq!(implicit.id_token, None);
        assert!(implicit.is_token_expired(Flow::Implicit, 0.0, 0.0).is_ok());
        assert!(implicit.is_token_expired(Flow::Standard, 0.0, 0.0).is_err());
        // A token without iat leaves the skew unknown.
        let mut no_iat = TokenSet::new(None);
        no_iat
            .set(Some(&jwt(r#"{"exp":5}"#)), None, None, Some((1.0, 2.0)))
            .unwrap();
        assert_eq!(no_iat.time_skew, None);
        assert_eq!(no_iat.session_id, None);
    }

    #[test]
    fn an_assigned_time_skew_counts_at_once() {
        let mut set = TokenSet::new(None);
        let access = jwt(r#"{"iat":1000,"exp":1300}"#);
        let refresh = jwt(r#"{"typ":"Refresh"}"#);
        set.set(
            Some(&access),
            Some(&refresh),
            None,
            Some((1_000_000.0, 1_000_000.0)),
        )
        .unwrap();
        assert_eq!(set.time_skew, Some(0.0));
        // 100 s after the token was issued: 200 s left.
        let now = 1_100_000.0;
        assert_eq!(set.is_token_expired(Flow::Standard, 30.0, now), Ok(false));
        assert_eq!(set.expiry_delay_ms(now), Some(200_000.0));
        // A clock 150 s ahead: 50 s left, under the 60 asked for.
        set.assign_time_skew(Some(-150.0));
        assert_eq!(set.is_token_expired(Flow::Standard, 30.0, now), Ok(false));
        assert_eq!(set.is_token_expired(Flow::Standard, 60.0, now), Ok(true));
        assert_eq!(set.expiry_delay_ms(now), Some(50_000.0));
        set.assign_time_skew(Some(1000.0));
        assert_eq!(set.is_token_expired(Flow::Standard, 1000.0, now), Ok(false));
        set.assign_time_skew(None);
        assert_eq!(set.is_token_expired(Flow::Standard, 0.0, now), Ok(true));
        assert_eq!(set.expiry_delay_ms(now), None);
    }

    #[test]
    fn request_bodies() {
        assert_eq!(
            authorization_code_body(
                "c/1",
                "web app",
                "http://app/p?x=1",
                Some("v".repeat(3).as_str())
            ),
            "code=c%2F1&grant_type=authorization_code&client_id=web+app\
             &redirect_uri=http%3A%2F%2Fapp%2Fp%3Fx%3D1&code_verifier=vvv"
        );
        assert_eq!(
            authorization_code_body("c", "web", "http://app/", None),
            "code=c&grant_type=authorization_code&client_id=web&redirect_uri=http%3A%2F%2Fapp%2F"
        );
        assert_eq!(
            refresh_token_body("a.b.c", "web"),
            "grant_type=refresh_token&refresh_token=a.b.c&client_id=web"
        );
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer_header(Some("t")).unwrap(), "bearer t");
        for missing in [None, Some("")] {
            let err = bearer_header(missing).unwrap_err();
            assert_eq!(
                err.message,
                "Unable to build authorization header, token is not set, make sure the user is authenticated."
            );
        }
    }

    #[test]
    fn token_responses() {
        let r = parse_token_response(
            200,
            r#"{"access_token":"at","expires_in":300,"refresh_expires_in":1800,"refresh_token":"rt","token_type":"Bearer","id_token":"it","not-before-policy":0,"session_state":"s","scope":"openid email"}"#,
        )
        .unwrap();
        assert_eq!(r.access_token, "at");
        assert_eq!(r.refresh_token.as_deref(), Some("rt"));
        assert_eq!(r.id_token.as_deref(), Some("it"));
        assert_eq!(r.token_type.as_deref(), Some("Bearer"));
        assert_eq!(r.expires_in, Some(300.0));
        assert_eq!(r.scope.as_deref(), Some("openid email"));

        let minimal =
            parse_token_response(200, r#"{"access_token":"at","refresh_token":""}"#).unwrap();
        assert_eq!(minimal.refresh_token, None);
        assert_eq!(minimal.id_token, None);

        let err = parse_token_response(200, r#"{"token_type":"Bearer"}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidResponse);
        let err = parse_token_response(200, "<html>").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidResponse);
        assert_eq!(err.status, Some(200));
        assert!(err
            .message
            .starts_with("The server's reply is not valid JSON: "));
    }

    #[test]
    fn oauth_error_replies_are_parsed() {
        let err = parse_token_response(
            400,
            r#"{"error":"invalid_grant","error_description":"Token is not active"}"#,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ServerError);
        assert_eq!(err.status, Some(400));
        assert_eq!(err.error.as_deref(), Some("invalid_grant"));
        assert_eq!(
            err.error_description.as_deref(),
            Some("Token is not active")
        );
        assert_eq!(
            err.message,
            "Server responded with an invalid status. Token is not active"
        );

        let bare = http_error(401, r#"{"error":"invalid_client"}"#);
        assert_eq!(bare.error_description, None);
        assert_eq!(
            bare.message,
            "Server responded with an invalid status. invalid_client"
        );

        for body in [
            "",
            "Bad Gateway",
            r#"{"message":"x"}"#,
            r#"{"error":""}"#,
            r#"{"error":5}"#,
        ] {
            let err = http_error(502, body);
            assert_eq!(err.code, ErrorCode::NetworkError, "{body}");
            assert_eq!(err.message, "Server responded with an invalid status.");
            assert_eq!(err.status, Some(502));
            assert_eq!(err.error, None);
        }
    }

    #[test]
    fn json_replies() {
        assert_eq!(
            parse_json_reply(200, r#"{"sub":"u"}"#)
                .unwrap()
                .get_str("sub"),
            Some("u")
        );
        assert_eq!(parse_json_reply(204, "null").unwrap(), Value::Null);
        let err = parse_json_reply(401, "").unwrap_err();
        assert_eq!(err.code, ErrorCode::NetworkError);
        assert_eq!(err.status, Some(401));
        let err = parse_json_reply(302, "{}").unwrap_err();
        assert_eq!(err.status, Some(302));
    }
}
