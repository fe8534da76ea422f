//! The token endpoint: authorization_code, refresh_token, password and client_credentials, with
//! Keycloak's error codes and descriptions, and CORS for the client's web origins.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::{attach_client, new_user_session};
use crate::events::EventBuilder;
use crate::http::{
    authenticate_client, cors, form_field, json_no_store, oauth_error, preflight as cors_preflight,
    realm_not_found, ClientAuth, RequestInfo,
};
use crate::model::{Client, Realm, User};
use crate::sessions::UserSession;
use crate::state::Shared;
use crate::tokens::{issue, resolve_scopes, token_response, IssuedTokens, TokenRequest};
use crate::util::{form_decode, sha256_b64url, uuid};

pub async fn preflight(info: RequestInfo) -> Response {
    cors_preflight(&info, "POST, OPTIONS")
}

/// An error body plus whether CORS applies (client auth failures echo any origin, like Keycloak).
struct Failure {
    response: Response,
}

fn fail(status: StatusCode, error: &str, description: &str) -> Failure {
    Failure {
        response: oauth_error(status, error, description),
    }
}

pub async fn token(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    let form = form_decode(&body);
    let grant_type = form_field(&form, "grant_type").map(str::to_string);
    if let Some(mut response) = state
        .faults
        .inject_api("token", &realm_name, grant_type.as_deref())
        .await
    {
        cors(&mut response, info.origin(), true);
        return response;
    }
    let origin = info.origin().map(str::to_string);
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return realm_not_found();
    };
    let Some(grant_type) = grant_type else {
        let mut response = oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing form parameter: grant_type",
        );
        cors(&mut response, origin.as_deref(), true);
        return response;
    };
    let client = match authenticate_client(&info, realm, &form) {
        ClientAuth::Ok(client) => client,
        ClientAuth::Failed(mut response) => {
            cors(&mut response, origin.as_deref(), true);
            return response;
        }
    };
    let allowed = origin.as_deref().is_some_and(|o| client.allows_origin(o));
    let result = match grant_type.as_str() {
        "authorization_code" => authorization_code(&state, realm, &client, &form, &info),
        "refresh_token" => refresh_token(&state, realm, &client, &form, &info),
        "password" => password(&state, realm, &client, &form, &info),
        "client_credentials" => client_credentials(&state, realm, &client, &form, &info),
        _ => Err(fail(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant_type",
        )),
    };
    let mut response = match result {
        Ok(body) => json_no_store(body),
        Err(failure) => failure.response,
    };
    cors(&mut response, origin.as_deref(), allowed);
    response
}

fn event(realm: &Realm, kind: &str, client: &Client, info: &RequestInfo) -> EventBuilder {
    EventBuilder::new(kind, &realm.id, &realm.name, &info.ip).client(&client.client_id)
}

fn access_lifespan(realm: &Realm, client: &Client, session: Option<&UserSession>, now: u64) -> u64 {
    let lifespan = client
        .access_token_lifespan()
        .unwrap_or(realm.settings.access_token_lifespan);
    // Keycloak never lets an access token outlive the SSO session.
    match session {
        Some(s) if !s.transient => {
            lifespan.min((s.started + realm.settings.sso_session_max_lifespan).saturating_sub(now))
        }
        _ => lifespan,
    }
}

/// Records the grant's error event and answers 400 with the OAuth error.
fn rejected(
    state: &Shared,
    event: EventBuilder,
    event_error: &str,
    error: &str,
    description: &str,
) -> Failure {
    state.emit(event.error(event_error));
    fail(StatusCode::BAD_REQUEST, error, description)
}

/// The scopes a password or client-credentials request asks for in its `scope` field. An unknown
/// one is an `invalid_scope` error, recorded on the grant's event as `invalid_request`.
fn requested_scopes(
    state: &Shared,
    client: &Client,
    form: &[(String, String)],
    event: &EventBuilder,
) -> Result<Vec<String>, Failure> {
    let scope = form_field(form, "scope").unwrap_or_default();
    resolve_scopes(client, scope).map_err(|message| {
        rejected(
            state,
            event.clone(),
            "invalid_request",
            "invalid_scope",
            &message,
        )
    })
}

/// What a grant hands out tokens for.
struct Granted<'a> {
    user: &'a User,
    /// The SSO session; none for a service account (and then no refresh token either).
    session: Option<&'a UserSession>,
    nonce: Option<&'a str>,
    scopes: &'a [String],
}

/// The tokens of a grant, for the issuer the client addressed.
fn issue_tokens(
    state: &Shared,
    realm: &Realm,
    client: &Client,
    info: &RequestInfo,
    granted: Granted<'_>,
    now: u64,
) -> IssuedTokens {
    let Granted {
        user,
        session,
        nonce,
        scopes,
    } = granted;
    let issuer = info.issuer(&realm.name);
    issue(
        realm,
        &state.keys(),
        &TokenRequest {
            issuer: &issuer,
            client,
            user,
            session_id: session.map(|s| s.id.as_str()),
            auth_time: session.map_or(now, |s| s.auth_time),
            nonce,
            scopes,
            now,
            access_lifespan: access_lifespan(realm, client, session, now),
            refresh_expiry: session.map(|s| s.refresh_expiry(now, &realm.settings)),
            include_id_token: scopes.iter().any(|s| s == "openid"),
            code: None,
            acr: "1",
        },
    )
}

/// The details Keycloak records when a code exchange or a refresh succeeds; `refresh_id` names
/// the detail that holds the new refresh token's id.
fn refreshed_details(event: EventBuilder, tokens: &IssuedTokens, refresh_id: &str) -> EventBuilder {
    event
        .detail("token_id", &tokens.access_jti)
        .detail(
            refresh_id,
            tokens.refresh_jti.as_deref().unwrap_or_default(),
        )
        .detail("refresh_token_type", "Refresh")
        .detail("scope", &tokens.scope)
        .detail("client_auth_method", "client-secret")
}

fn authorization_code(
    state: &Shared,
    realm: &mut Realm,
    client: &Client,
    form: &[(String, String)],
    info: &RequestInfo,
) -> Result<Value, Failure> {
    let now = state.now();
    let base =
        event(realm, "CODE_TO_TOKEN", client, info).detail("grant_type", "authorization_code");
    let Some(code) = form_field(form, "code") else {
        return Err(rejected(
            state,
            base,
            "invalid_code",
            "invalid_request",
            "Missing parameter: code",
        ));
    };
    if !client.standard_flow {
        return Err(rejected(
            state,
            base,
            "not_allowed",
            "unauthorized_client",
            "Client not allowed to exchange code",
        ));
    }
    let Some(stored) = realm.codes.get(code).cloned() else {
        return Err(rejected(
            state,
            base,
            "invalid_code",
            "invalid_grant",
            "Code not valid",
        ));
    };
    let base = base
        .session(&stored.session_id)
        .detail("code_id", &stored.session_id);
    if stored.used {
        // Keycloak treats a replayed code as an attack: the session it came from is ended.
        realm.sessions.remove(&stored.session_id);
        return Err(rejected(
            state,
            base,
            "invalid_code",
            "invalid_grant",
            "Code not valid",
        ));
    }
    if let Some(c) = realm.codes.get_mut(code) {
        c.used = true;
    }
    if stored.expires <= now {
        return Err(rejected(
            state,
            base,
            "expired_code",
            "invalid_grant",
            "Code is expired",
        ));
    }
    if stored.client_id != client.client_id {
        return Err(rejected(
            state,
            base,
            "invalid_client_credentials",
            "invalid_grant",
            "Auth error",
        ));
    }
    let Some(session) = realm
        .sessions
        .get(&stored.session_id)
        .filter(|s| s.is_active(now, &realm.settings))
        .cloned()
    else {
        return Err(rejected(
            state,
            base,
            "user_session_not_found",
            "invalid_grant",
            "User session not found",
        ));
    };
    let base = base.user(&session.user_id);
    if form_field(form, "redirect_uri") != Some(stored.redirect_uri.as_str()) {
        return Err(rejected(
            state,
            base,
            "invalid_code",
            "invalid_grant",
            "Incorrect redirect_uri",
        ));
    }
    let verifier = form_field(form, "code_verifier");
    match (&stored.code_challenge, verifier) {
        (Some(_), None) => {
            return Err(rejected(
                state,
                base,
                "invalid_code_verifier",
                "invalid_grant",
                "PKCE code verifier not specified",
            ));
        }
        (Some(challenge), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'));
            if !well_formed {
                return Err(rejected(
                    state,
                    base,
                    "invalid_code_verifier",
                    "invalid_grant",
                    "PKCE invalid code verifier",
                ));
            }
            let computed = if stored.code_challenge_method.as_deref() == Some("plain") {
                verifier.to_string()
            } else {
                sha256_b64url(verifier)
            };
            if !crate::util::same(&computed, challenge) {
                return Err(rejected(
                    state,
                    base,
                    "pkce_verification_failed",
                    "invalid_grant",
                    "PKCE verification failed: Code mismatch",
                ));
            }
        }
        (None, Some(_)) => {
            return Err(rejected(
                state,
                base,
                "invalid_code_verifier",
                "invalid_grant",
                "PKCE code verifier specified but challenge not present in authorization",
            ));
        }
        (None, None) => {}
    }
    let Some(user) = realm.user(&session.user_id).cloned().filter(|u| u.enabled) else {
        return Err(rejected(
            state,
            base,
            "user_disabled",
            "invalid_grant",
            "User disabled",
        ));
    };
    let scopes = resolve_scopes(client, &stored.scope).unwrap_or_default();
    let granted = Granted {
        user: &user,
        session: Some(&session),
        nonce: stored.nonce.as_deref(),
        scopes: &scopes,
    };
    let tokens = issue_tokens(state, realm, client, info, granted, now);
    state.emit(refreshed_details(base, &tokens, "refresh_token_id"));
    Ok(token_response(&tokens, Some(&session.id)))
}

fn refresh_token(
    state: &Shared,
    realm: &mut Realm,
    client: &Client,
    form: &[(String, String)],
    info: &RequestInfo,
) -> Result<Value, Failure> {
    let now = state.now();
    let base = event(realm, "REFRESH_TOKEN", client, info).detail("grant_type", "refresh_token");
    let error = |event: EventBuilder, event_error: &str, description: &str| {
        rejected(state, event, event_error, "invalid_grant", description)
    };
    let Some(token) = form_field(form, "refresh_token") else {
        return Err(rejected(
            state,
            base,
            "invalid_token",
            "invalid_request",
            "Missing form parameter: refresh_token",
        ));
    };
    let claims = match state.keys().verify(token) {
        Ok(claims) => claims,
        Err(_) => return Err(error(base, "invalid_token", "Invalid refresh token")),
    };
    let claim = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let typ = claim("typ");
    if typ != "Refresh" && typ != "Offline" {
        return Err(error(base, "invalid_token", "Invalid refresh token"));
    }
    if !claim("iss").ends_with(&format!("/realms/{}", realm.name)) {
        return Err(error(base, "invalid_token", "Invalid refresh token"));
    }
    if claims.get("exp").and_then(Value::as_u64).unwrap_or(0) <= now {
        return Err(error(base, "invalid_token", "Token is not active"));
    }
    if claims.get("iat").and_then(Value::as_u64).unwrap_or(0) < realm.not_before {
        return Err(error(base, "invalid_token", "Stale token"));
    }
    if claim("azp") != client.client_id {
        return Err(error(
            base,
            "invalid_token",
            "Invalid refresh token. Token client and authorized client don't match",
        ));
    }
    let sid = claim("sid");
    let jti = claim("jti");
    let base = base
        .session(&sid)
        .user(&claim("sub"))
        .detail("refresh_token_id", &jti);
    let Some(session) = realm
        .sessions
        .get(&sid)
        .filter(|s| s.is_active(now, &realm.settings))
        .cloned()
    else {
        return Err(error(base, "invalid_token", "Session not active"));
    };
    let Some(client_session) = session.clients.get(&client.client_id).cloned() else {
        return Err(error(
            base,
            "invalid_token",
            "Session doesn't have required client",
        ));
    };
    let Some(user) = realm.user(&session.user_id).cloned().filter(|u| u.enabled) else {
        return Err(error(base, "user_disabled", "User disabled"));
    };
    if realm.settings.revoke_refresh_token {
        let iat = claims.get("iat").and_then(Value::as_u64).unwrap_or(0);
        let mut tracked = client_session.current_refresh_jti.clone();
        let mut count = client_session.refresh_reuse_count;
        if let Some(current) = &tracked {
            if *current != jti && iat < client_session.last_refresh {
                return Err(error(base, "invalid_token", "Stale token"));
            }
        }
        if tracked.as_deref() != Some(jti.as_str()) {
            tracked = Some(jti.clone());
            count = 0;
        }
        if count > realm.settings.refresh_token_max_reuse {
            return Err(error(
                base,
                "invalid_token",
                "Maximum allowed refresh token reuse exceeded",
            ));
        }
        if let Some(cs) = realm
            .sessions
            .get_mut(&sid)
            .and_then(|s| s.clients.get_mut(&client.client_id))
        {
            cs.current_refresh_jti = tracked;
            cs.refresh_reuse_count = count + 1;
        }
    }
    let requested = claim("scope");
    let scopes = resolve_scopes(client, &requested).unwrap_or_default();
    let nonce = claims
        .get("nonce")
        .and_then(Value::as_str)
        .map(str::to_string);
    let granted = Granted {
        user: &user,
        session: Some(&session),
        nonce: nonce.as_deref(),
        scopes: &scopes,
    };
    let tokens = issue_tokens(state, realm, client, info, granted, now);
    if let Some(s) = realm.sessions.get_mut(&session.id) {
        s.last_refresh = now;
        if let Some(cs) = s.clients.get_mut(&client.client_id) {
            cs.last_refresh = now;
        }
    }
    state.emit(refreshed_details(base, &tokens, "updated_refresh_token_id"));
    Ok(token_response(&tokens, Some(&session.id)))
}

fn password(
    state: &Shared,
    realm: &mut Realm,
    client: &Client,
    form: &[(String, String)],
    info: &RequestInfo,
) -> Result<Value, Failure> {
    let now = state.now();
    let username = form_field(form, "username").unwrap_or_default().to_string();
    let base = event(realm, "LOGIN", client, info)
        .detail("auth_method", "openid-connect")
        .detail("grant_type", "password")
        .detail("username", &username);
    if !client.direct_access_grants {
        state.emit(base.error("not_allowed"));
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "Client not allowed for direct access grants",
        ));
    }
    let scopes = requested_scopes(state, client, form, &base)?;
    let password = form_field(form, "password").unwrap_or_default();
    let user = realm.user_for_login(&username).cloned();
    let user = match user {
        None => {
            state.emit(base.error("user_not_found"));
            return Err(fail(
                StatusCode::UNAUTHORIZED,
                "invalid_grant",
                "Invalid user credentials",
            ));
        }
        Some(u) if !u.enabled => {
            state.emit(base.user(&u.id).error("user_disabled"));
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "Account disabled",
            ));
        }
        Some(u) if !u.password.as_ref().is_some_and(|p| p.matches(password)) => {
            state.emit(base.user(&u.id).error("invalid_user_credentials"));
            return Err(fail(
                StatusCode::UNAUTHORIZED,
                "invalid_grant",
                "Invalid user credentials",
            ));
        }
        Some(u) => u,
    };
    let session_id = new_user_session(realm, &user.id, &info.ip, now);
    attach_client(realm, &session_id, &client.client_id, &scopes.join(" "));
    let Some(session) = realm.sessions.get(&session_id).cloned() else {
        return Err(fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "session lost",
        ));
    };
    let granted = Granted {
        user: &user,
        session: Some(&session),
        nonce: None,
        scopes: &scopes,
    };
    let tokens = issue_tokens(state, realm, client, info, granted, now);
    state.emit(
        base.user(&user.id)
            .session(&session_id)
            .detail("token_id", &tokens.access_jti)
            .detail(
                "refresh_token_id",
                tokens.refresh_jti.as_deref().unwrap_or_default(),
            )
            .detail("scope", &tokens.scope),
    );
    Ok(token_response(&tokens, Some(&session_id)))
}

fn client_credentials(
    state: &Shared,
    realm: &mut Realm,
    client: &Client,
    form: &[(String, String)],
    info: &RequestInfo,
) -> Result<Value, Failure> {
    let now = state.now();
    let base =
        event(realm, "CLIENT_LOGIN", client, info).detail("grant_type", "client_credentials");
    if client.public_client {
        state.emit(base.error("invalid_client"));
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "Public client not allowed to retrieve service account",
        ));
    }
    if !client.service_accounts {
        state.emit(base.error("invalid_client"));
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "Client not enabled to retrieve service account",
        ));
    }
    let Some(user) = realm.service_account_user(&client.client_id).cloned() else {
        state.emit(base.error("user_not_found"));
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Service account user not found",
        ));
    };
    let scopes = requested_scopes(state, client, form, &base)?;
    let granted = Granted {
        user: &user,
        session: None,
        nonce: None,
        scopes: &scopes,
    };
    let tokens = issue_tokens(state, realm, client, info, granted, now);
    state.emit(
        base.user(&user.id)
            .session(&uuid())
            .detail("token_id", &tokens.access_jti)
            .detail("username", &user.username)
            .detail("scope", &tokens.scope)
            .detail("client_auth_method", "client-secret"),
    );
    Ok(token_response(&tokens, None))
}
