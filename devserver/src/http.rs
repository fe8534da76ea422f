//! HTTP plumbing shared by the endpoints: request context, OAuth error responses, CORS, cookies,
//! client authentication and bearer tokens.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::model::{Client, Realm};
use crate::util::{b64_decode, form_decode, pair_value};

/// Where a request came from and which host it addressed.
#[derive(Clone, Debug)]
pub struct RequestInfo {
    /// `http://host:port` as the client addressed us: the base of the issuer.
    pub server_origin: String,
    pub host: String,
    pub ip: String,
    pub headers: HeaderMap,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_else(|| "localhost".into());
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "127.0.0.1".into());
        Ok(RequestInfo {
            server_origin: format!("http://{host}"),
            host,
            ip,
            headers: parts.headers.clone(),
        })
    }
}

impl RequestInfo {
    pub fn issuer(&self, realm: &str) -> String {
        format!("{}/realms/{realm}", self.server_origin)
    }

    pub fn origin(&self) -> Option<&str> {
        self.headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        cookie(&self.headers, name)
    }

    /// Browsers treat https, localhost and loopback addresses as secure contexts; Keycloak sets
    /// `SameSite=None; Secure` cookies only there (Lax otherwise).
    pub fn is_secure_context(&self) -> bool {
        let host = self
            .host
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map(|(h, _)| h)
            .unwrap_or(&self.host)
            .to_ascii_lowercase();
        host == "localhost"
            || host.ends_with(".localhost")
            || host == "[::1]"
            || host.starts_with("127.")
    }

    pub fn accepts_json(&self) -> bool {
        self.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"))
    }

    pub fn bearer(&self) -> Option<String> {
        let value = self.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// `Authorization: Basic` credentials (form-url-encoded parts, per RFC 6749 2.3.1).
    pub fn basic_credentials(&self) -> Option<(String, String)> {
        let value = self.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(b64_decode(encoded.trim())?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let unescape = |s: &str| {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        Some((unescape(id), unescape(secret)))
    }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// One `Set-Cookie` value shaped like Keycloak's (Version=1, realm path, SameSite by context).
pub fn set_cookie(
    info: &RequestInfo,
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<i64>,
    http_only: bool,
) -> String {
    let mut out = format!("{name}={value}; Version=1; Path={path}");
    if let Some(age) = max_age {
        out.push_str(&format!("; Max-Age={age}"));
        if age <= 0 {
            out.push_str("; Expires=Thu, 01 Jan 1970 00:00:10 GMT");
        }
    }
    if info.is_secure_context() {
        out.push_str("; SameSite=None; Secure");
    } else {
        out.push_str("; SameSite=Lax");
    }
    if http_only {
        out.push_str("; HttpOnly");
    }
    out
}

/// An OAuth error as Keycloak sends it: JSON, no-store.
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("error".into(), json!(error));
    if !description.is_empty() {
        body.insert("error_description".into(), json!(description));
    }
    let mut response = (status, Json(Value::Object(body))).into_response();
    no_store(&mut response);
    response
}

pub fn realm_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "Realm does not exist" })),
    )
        .into_response()
}

pub fn json_no_store(value: Value) -> Response {
    let mut response = Json(value).into_response();
    no_store(&mut response);
    response
}

pub fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// A page of devserver's own (login, errors, logout, account): framable by its own origin only.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, must-revalidate, max-age=0"),
    );
    browser_security_headers(&mut response, Framing::SameOrigin);
    response
}

/// Which sites may show a page in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Only pages of the same origin (clickjacking protection for forms).
    SameOrigin,
    /// Any site: the pages that adapters embed in hidden iframes.
    AnySite,
}

/// The browser security headers of Keycloak's realm defaults (`browserSecurityHeaders`), as it
/// sends them on HTML pages. For iframe pages Keycloak drops `X-Frame-Options` and the default
/// `frame-ancestors`. `Strict-Transport-Security` is left out: devserver speaks plain HTTP.
pub fn browser_security_headers(response: &mut Response, framing: Framing) {
    let headers = response.headers_mut();
    let policy = match framing {
        Framing::SameOrigin => {
            headers.insert(
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("SAMEORIGIN"),
            );
            "frame-src 'self'; frame-ancestors 'self'; object-src 'none';"
        }
        Framing::AnySite => "frame-src 'self'; object-src 'none';",
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("none"),
    );
}

pub fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

pub fn add_header(response: &mut Response, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(name, value);
    }
}

/// Keycloak's CORS for an actual request: echo the origin with credentials when allowed.
pub fn cors(response: &mut Response, origin: Option<&str>, allowed: bool) {
    if let (Some(origin), true) = (origin, allowed) {
        add_header(response, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        add_header(response, header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        add_header(response, header::VARY, "Origin");
    }
}

/// Keycloak answers preflights for any origin; the actual request is checked.
pub fn preflight(info: &RequestInfo, methods: &str) -> Response {
    let mut response = StatusCode::OK.into_response();
    if let Some(origin) = info.origin() {
        add_header(&mut response, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        add_header(
            &mut response,
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            "true",
        );
        add_header(&mut response, header::ACCESS_CONTROL_ALLOW_METHODS, methods);
        add_header(
            &mut response,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers, DPoP, Authorization",
        );
        add_header(&mut response, header::ACCESS_CONTROL_MAX_AGE, "3600");
        add_header(&mut response, header::VARY, "Origin");
    }
    response
}

/// The origins a token grants CORS to (its `allowed-origins` claim).
pub fn token_allows_origin(claims: &serde_json::Map<String, Value>, origin: &str) -> bool {
    claims
        .get("allowed-origins")
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(|o| o == "*" || o.as_str() == Some(origin)))
}

/// The outcome of client authentication at the token, revocation and introspection endpoints.
pub enum ClientAuth {
    Ok(Client),
    Failed(Response),
}

/// Authenticates the client of a back-channel request: client_id from the form or Basic
/// credentials; confidential clients must present their secret. Errors as Keycloak words them.
pub fn authenticate_client(
    info: &RequestInfo,
    realm: &Realm,
    form: &[(String, String)],
) -> ClientAuth {
    let field = |name: &str| pair_value(form, name).map(str::to_string);
    let basic = info.basic_credentials();
    let client_id = basic
        .as_ref()
        .map(|(id, _)| id.clone())
        .or_else(|| field("client_id"));
    let secret = basic.map(|(_, s)| s).or_else(|| field("client_secret"));
    let Some(client_id) = client_id.filter(|c| !c.is_empty()) else {
        return ClientAuth::Failed(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "Missing client_id parameter",
        ));
    };
    let invalid = |error: &str| {
        ClientAuth::Failed(oauth_error(
            StatusCode::UNAUTHORIZED,
            error,
            "Invalid client or Invalid client credentials",
        ))
    };
    let Some(client) = realm.client(&client_id) else {
        return invalid("invalid_client");
    };
    if !client.enabled {
        return invalid("invalid_client");
    }
    if !client.public_client && !client.check_secret(secret.as_deref()) {
        return invalid("unauthorized_client");
    }
    ClientAuth::Ok(client.clone())
}

/// One parameter of a decoded query or form; an empty value counts as absent.
pub fn form_field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pair_value(form, name).filter(|v| !v.is_empty())
}

/// Like [`form_field`], owned.
pub fn param(params: &[(String, String)], name: &str) -> Option<String> {
    form_field(params, name).map(str::to_string)
}

/// One field of a form body.
pub fn form_decode_body(body: &str, name: &str) -> Option<String> {
    param(&form_decode(body), name)
}
