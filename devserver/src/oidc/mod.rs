//! The OpenID Connect endpoints under `/realms/{realm}`, with Keycloak's paths.

mod account;
mod authorize;
mod discovery;
mod iframes;
mod introspect;
mod login_actions;
mod logout;
mod revoke;
mod token;
mod userinfo;

use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::http::{set_cookie, RequestInfo};
use crate::keys::KeySet;
use crate::model::Realm;
use crate::sessions::{ClientSession, UserSession};
use crate::state::Shared;
use crate::util::{sha256_b64url, uuid};

pub fn routes() -> Router<Shared> {
    let oidc = "/realms/{realm}/protocol/openid-connect";
    Router::new()
        .route("/realms/{realm}", get(discovery::realm_info))
        .route(
            "/realms/{realm}/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            &format!("{oidc}/auth"),
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route(
            &format!("{oidc}/registrations"),
            get(authorize::registrations),
        )
        .route(
            "/realms/{realm}/login-actions/authenticate",
            get(login_actions::show_login).post(login_actions::authenticate),
        )
        .route(
            "/realms/{realm}/login-actions/registration",
            get(login_actions::show_registration).post(login_actions::register),
        )
        .route(
            "/realms/{realm}/login-actions/required-action",
            post(login_actions::required_action),
        )
        .route(
            &format!("{oidc}/token"),
            post(token::token).options(token::preflight),
        )
        .route(&format!("{oidc}/certs"), get(discovery::certs))
        .route(
            &format!("{oidc}/userinfo"),
            get(userinfo::userinfo_get)
                .post(userinfo::userinfo_post)
                .options(userinfo::preflight),
        )
        .route(
            &format!("{oidc}/logout"),
            get(logout::logout_get).post(logout::logout_post),
        )
        .route(
            &format!("{oidc}/logout/logout-confirm"),
            post(logout::logout_confirm),
        )
        .route(
            &format!("{oidc}/revoke"),
            post(revoke::revoke).options(revoke::preflight),
        )
        .route(
            &format!("{oidc}/token/introspect"),
            post(introspect::introspect),
        )
        .route(
            &format!("{oidc}/login-status-iframe.html"),
            get(iframes::login_status_iframe),
        )
        .route(
            &format!("{oidc}/login-status-iframe.html/init"),
            get(iframes::login_status_init),
        )
        .route(
            &format!("{oidc}/3p-cookies/step1.html"),
            get(iframes::step1),
        )
        .route(
            &format!("{oidc}/3p-cookies/step2.html"),
            get(iframes::step2),
        )
        .route(
            "/realms/{realm}/account",
            get(account::account).options(account::preflight),
        )
}

pub const IDENTITY_COOKIE: &str = "KEYCLOAK_IDENTITY";
pub const SESSION_COOKIE: &str = "KEYCLOAK_SESSION";
/// Names the browser's authentication session: a login form answers only to the browser that
/// opened it.
pub const AUTH_SESSION_COOKIE: &str = "AUTH_SESSION_ID";

pub fn cookie_path(realm: &str) -> String {
    format!("/realms/{realm}/")
}

/// The SSO session the browser's identity cookie points to, if it is still valid.
pub enum Sso {
    None,
    /// A cookie was sent but its session is gone: the response should expire the cookies.
    Stale,
    Active(String),
}

pub fn sso_session(realm: &Realm, keys: &KeySet, info: &RequestInfo, now: u64) -> Sso {
    let Some(cookie) = info.cookie(IDENTITY_COOKIE) else {
        return Sso::None;
    };
    let Ok(claims) = keys.verify(&cookie) else {
        return Sso::Stale;
    };
    let issuer_ok = claims
        .get("iss")
        .and_then(Value::as_str)
        .is_some_and(|iss| iss.ends_with(&format!("/realms/{}", realm.name)));
    let exp_ok = claims
        .get("exp")
        .and_then(Value::as_u64)
        .is_some_and(|exp| exp > now);
    let typ_ok = claims.get("typ").and_then(Value::as_str) == Some("Serialized-ID");
    let sid = claims
        .get("sid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !(issuer_ok && exp_ok && typ_ok) {
        return Sso::Stale;
    }
    match realm.sessions.get(sid) {
        Some(session)
            if !session.transient
                && session.is_active(now, &realm.settings)
                && realm.user(&session.user_id).is_some_and(|u| u.enabled) =>
        {
            Sso::Active(sid.to_string())
        }
        _ => Sso::Stale,
    }
}

/// `Set-Cookie` values for a logged-in SSO session, as Keycloak sets them.
pub fn sso_cookies(
    realm: &Realm,
    keys: &KeySet,
    info: &RequestInfo,
    session: &UserSession,
    now: u64,
) -> Vec<String> {
    let issuer = info.issuer(&realm.name);
    let identity = keys.sign_hs512(&json!({
        "exp": session.started + realm.settings.sso_session_max_lifespan,
        "iat": now,
        "jti": uuid(),
        "iss": issuer,
        "sub": session.user_id,
        "typ": "Serialized-ID",
        "sid": session.id,
        "session_state": session.id,
        "state_checker": crate::util::random_token(32),
    }));
    let path = cookie_path(&realm.name);
    vec![
        set_cookie(info, IDENTITY_COOKIE, &identity, &path, None, true),
        set_cookie(
            info,
            SESSION_COOKIE,
            &sha256_b64url(&session.id),
            &path,
            Some(realm.settings.sso_session_max_lifespan as i64),
            false,
        ),
    ]
}

/// `Set-Cookie` for the browser's authentication session, as Keycloak sets it: HttpOnly, realm
/// path, gone when the browser closes.
pub fn auth_session_cookie(realm: &Realm, info: &RequestInfo, id: &str) -> String {
    set_cookie(
        info,
        AUTH_SESSION_COOKIE,
        id,
        &cookie_path(&realm.name),
        None,
        true,
    )
}

pub fn expired_sso_cookies(realm: &Realm, info: &RequestInfo) -> Vec<String> {
    let path = cookie_path(&realm.name);
    vec![
        set_cookie(info, IDENTITY_COOKIE, "", &path, Some(0), true),
        set_cookie(info, SESSION_COOKIE, "", &path, Some(0), false),
    ]
}

pub fn new_user_session(realm: &mut Realm, user_id: &str, ip: &str, now: u64) -> String {
    let session = UserSession {
        id: uuid(),
        user_id: user_id.to_string(),
        started: now,
        last_refresh: now,
        auth_time: now,
        ip_address: ip.to_string(),
        clients: Default::default(),
        transient: false,
    };
    let id = session.id.clone();
    realm.sessions.insert(id.clone(), session);
    id
}

pub fn attach_client(realm: &mut Realm, session_id: &str, client_id: &str, scope: &str) {
    if let Some(session) = realm.sessions.get_mut(session_id) {
        let entry = session
            .clients
            .entry(client_id.to_string())
            .or_insert_with(ClientSession::default);
        entry.scope = scope.to_string();
    }
}

/// Verifies a bearer access token of this realm: signature, type, expiry, not-before, issuer,
/// revocation, and that its session (if any) still lives. Errors use Keycloak's wording.
pub fn verify_access_token(
    realm: &Realm,
    keys: &KeySet,
    token: &str,
    now: u64,
) -> Result<Map<String, Value>, &'static str> {
    let claims = keys
        .verify(token)
        .map_err(|_| "Token verification failed")?;
    if claims.get("typ").and_then(Value::as_str) != Some("Bearer") {
        return Err("Token verification failed");
    }
    let issuer_ok = claims
        .get("iss")
        .and_then(Value::as_str)
        .is_some_and(|iss| iss.ends_with(&format!("/realms/{}", realm.name)));
    if !issuer_ok {
        return Err("Token verification failed");
    }
    let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    let iat = claims.get("iat").and_then(Value::as_u64).unwrap_or(0);
    if exp <= now || iat < realm.not_before {
        return Err("Token verification failed");
    }
    if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
        if realm.revoked.contains(jti) {
            return Err("Token verification failed");
        }
    }
    if let Some(sid) = claims.get("sid").and_then(Value::as_str) {
        let azp = claims
            .get("azp")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let alive = realm
            .sessions
            .get(sid)
            .is_some_and(|s| s.is_active(now, &realm.settings) && s.clients.contains_key(azp));
        if !alive {
            return Err("User session not found or doesn't have client attached on it");
        }
    }
    let user_ok = claims
        .get("sub")
        .and_then(Value::as_str)
        .and_then(|sub| realm.user(sub))
        .is_some_and(|u| u.enabled);
    if !user_ok {
        return Err("User not found");
    }
    Ok(claims)
}
