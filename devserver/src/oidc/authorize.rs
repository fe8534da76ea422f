//! The authorization endpoint (and `registrations`): validates the request like Keycloak's
//! AuthorizationEndpointChecker, then answers from the SSO session, with `login_required`, or with
//! the login / registration form.

use axum::extract::{Path, RawQuery, State};
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::response::Response;

use super::{
    attach_client, auth_session_cookie, expired_sso_cookies, sso_cookies, sso_session, Sso,
    AUTH_SESSION_COOKIE,
};
use crate::events::EventBuilder;
use crate::http::{add_header, html, param, realm_not_found, redirect, RequestInfo};
use crate::keys::KeySet;
use crate::model::Realm;
use crate::pages;
use crate::sessions::{AuthCode, AuthRequest, AuthSession};
use crate::state::{AppState, Shared};
use crate::tokens::{issue, resolve_scopes, TokenRequest};
use crate::util::{append_fragment, append_query, form_decode, form_encode, uuid};

pub async fn authorize_get(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Response {
    let params = form_decode(query.as_deref().unwrap_or_default());
    authorize(&state, &realm, &params, &info, false).await
}

pub async fn authorize_post(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    authorize(&state, &realm, &form_decode(&body), &info, false).await
}

pub async fn registrations(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Response {
    let params = form_decode(query.as_deref().unwrap_or_default());
    authorize(&state, &realm, &params, &info, true).await
}

pub fn realm_title(realm: &Realm) -> String {
    realm
        .settings
        .display_name
        .clone()
        .unwrap_or_else(|| realm.name.clone())
}

/// An error shown to the user instead of redirecting (the client cannot be trusted yet).
pub fn error_page(realm: &Realm, status: StatusCode, message: &str) -> Response {
    html(status, pages::error(&realm_title(realm), message))
}

/// Sends the authorization response (or error) to the client as its response_mode says.
pub fn respond(request: &AuthRequest, params: Vec<(&str, String)>) -> Response {
    if request.response_mode == "form_post" {
        return html(
            StatusCode::OK,
            pages::form_post(&request.redirect_uri, &params),
        );
    }
    let encoded = form_encode(params.iter().map(|(k, v)| (*k, v.as_str())));
    if request.response_mode == "query" {
        redirect(&append_query(&request.redirect_uri, &encoded))
    } else {
        redirect(&append_fragment(&request.redirect_uri, &encoded))
    }
}

pub fn error_response(
    request: &AuthRequest,
    issuer: &str,
    error: &str,
    description: Option<&str>,
) -> Response {
    let mut params: Vec<(&str, String)> = vec![("error", error.to_string())];
    if let Some(d) = description {
        params.push(("error_description", d.to_string()));
    }
    if let Some(state) = &request.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", issuer.to_string()));
    respond(request, params)
}

fn is_valid_pkce_challenge(challenge: &str) -> bool {
    (43..=128).contains(&challenge.len())
        && challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

/// Where an error about the response type goes: the response mode asked for when it is one
/// devserver speaks, else the query (Keycloak's rule while the flow is unknown).
fn mode_for_a_bad_response_type(params: &[(String, String)]) -> String {
    match param(params, "response_mode").as_deref() {
        Some(mode @ ("fragment" | "form_post")) => mode.to_string(),
        _ => "query".to_string(),
    }
}

/// The request's errors that Keycloak reports by redirecting to the client: (error, description).
fn check_request(
    realm: &Realm,
    request: &mut AuthRequest,
    params: &[(String, String)],
) -> Result<(), (String, Option<String>)> {
    let err =
        |e: &str, d: &str| Err((e.to_string(), Some(d.to_string()).filter(|d| !d.is_empty())));
    let Some(client) = realm.client(&request.client_id) else {
        return err("unauthorized_client", "Client not found");
    };
    let Some(response_type) = param(params, "response_type") else {
        request.response_mode = mode_for_a_bad_response_type(params);
        return err("invalid_request", "Missing parameter: response_type");
    };
    let mut types: Vec<&str> = response_type.split_whitespace().collect();
    types.sort_unstable();
    let valid_types = [
        vec!["code"],
        vec!["none"],
        vec!["id_token"],
        vec!["token"],
        vec!["id_token", "token"],
        vec!["code", "id_token"],
        vec!["code", "token"],
        vec!["code", "id_token", "token"],
    ];
    if !valid_types.contains(&types) {
        request.response_mode = mode_for_a_bad_response_type(params);
        return err("unsupported_response_type", "");
    }
    request.response_type = response_type;
    let implicit_or_hybrid = request.is_implicit_or_hybrid();
    let default_mode = if implicit_or_hybrid {
        "fragment"
    } else {
        "query"
    };
    let mode = param(params, "response_mode").unwrap_or_else(|| default_mode.to_string());
    if !matches!(mode.as_str(), "query" | "fragment" | "form_post") {
        // Keycloak answers a response mode it cannot parse through the query.
        request.response_mode = "query".into();
        return err("invalid_request", "Invalid parameter: response_mode");
    }
    request.response_mode = mode;
    // Refused through the query itself, the mode asked for, as Keycloak does: an adapter that
    // asked for it reads the error there.
    if implicit_or_hybrid && request.response_mode == "query" {
        return err(
            "invalid_request",
            "Response_mode 'query' not allowed for implicit or hybrid flow",
        );
    }
    if (request.has_response_type("code") || request.has_response_type("none"))
        && !client.standard_flow
    {
        return err(
            "unauthorized_client",
            "Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client.",
        );
    }
    if implicit_or_hybrid && !client.implicit_flow {
        return err(
            "unauthorized_client",
            "Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client.",
        );
    }
    if let Err(message) = resolve_scopes(client, &request.scope) {
        return err("invalid_scope", &message);
    }
    let is_oidc = request.scope.split_whitespace().any(|s| s == "openid");
    let token_only = request.response_type == "token";
    if request.has_response_type("id_token") && request.nonce.is_none() && (is_oidc || !token_only)
    {
        return err("invalid_request", "Missing parameter: nonce");
    }
    // PKCE applies to flows that return a code.
    if request.has_response_type("code") {
        let challenge = request.code_challenge.as_deref();
        let method = request.code_challenge_method.as_deref();
        if let Some(required) = client.pkce_method() {
            let Some(method) = method else {
                return err(
                    "invalid_request",
                    "Missing parameter: code_challenge_method",
                );
            };
            if method != required {
                return err(
                    "invalid_request",
                    "Invalid parameter: code challenge method is not matching the configured one",
                );
            }
            let Some(challenge) = challenge else {
                return err("invalid_request", "Missing parameter: code_challenge");
            };
            if !is_valid_pkce_challenge(challenge) {
                return err("invalid_request", "Invalid parameter: code_challenge");
            }
        } else if let Some(challenge) = challenge {
            if let Some(method) = method {
                if method != "S256" && method != "plain" {
                    return err(
                        "invalid_request",
                        "Invalid parameter: code_challenge_method",
                    );
                }
            } else {
                request.code_challenge_method = Some("plain".into());
            }
            if !is_valid_pkce_challenge(challenge) {
                return err("invalid_request", "Invalid parameter: code_challenge");
            }
        } else if method.is_some() {
            return err("invalid_request", "Missing parameter: code_challenge");
        }
    }
    Ok(())
}

async fn authorize(
    state: &Shared,
    realm_name: &str,
    params: &[(String, String)],
    info: &RequestInfo,
    registration: bool,
) -> Response {
    if let Some(response) = state.faults.inject_page("auth", realm_name).await {
        return response;
    }
    let now = state.now();
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(realm_name) else {
        return realm_not_found();
    };
    if !realm.settings.enabled {
        return error_page(realm, StatusCode::FORBIDDEN, "Realm not enabled.");
    }
    let Some(client_id) = param(params, "client_id") else {
        return error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "Missing parameter: client_id",
        );
    };
    let Some(client) = realm.client(&client_id).cloned() else {
        return error_page(realm, StatusCode::BAD_REQUEST, "Client not found.");
    };
    if !client.enabled {
        return error_page(realm, StatusCode::BAD_REQUEST, "Client disabled.");
    }
    let Some(redirect_uri) = param(params, "redirect_uri")
        .and_then(|uri| client.verify_redirect_uri(&uri, &info.server_origin))
    else {
        state.emit(
            EventBuilder::new("LOGIN", &realm.id, &realm.name, &info.ip)
                .client(&client_id)
                .detail(
                    "redirect_uri",
                    &param(params, "redirect_uri").unwrap_or_default(),
                )
                .error("invalid_redirect_uri"),
        );
        return error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "Invalid parameter: redirect_uri",
        );
    };
    let mut request = AuthRequest {
        client_id: client_id.clone(),
        redirect_uri,
        response_type: String::new(),
        response_mode: "fragment".into(),
        state: param(params, "state"),
        nonce: param(params, "nonce"),
        scope: param(params, "scope").unwrap_or_default(),
        code_challenge: param(params, "code_challenge"),
        code_challenge_method: param(params, "code_challenge_method"),
        prompt: param(params, "prompt"),
        max_age: param(params, "max_age").and_then(|v| v.parse().ok()),
        login_hint: param(params, "login_hint"),
        kc_action: param(params, "kc_action"),
        ui_locales: param(params, "ui_locales"),
    };
    let issuer = info.issuer(&realm.name);
    if let Err((error, description)) = check_request(realm, &mut request, params) {
        state.emit(
            EventBuilder::new("LOGIN", &realm.id, &realm.name, &info.ip)
                .client(&client_id)
                .detail("redirect_uri", &request.redirect_uri)
                .detail("reason", description.as_deref().unwrap_or(&error))
                .error(&error),
        );
        return error_response(&request, &issuer, &error, description.as_deref());
    }
    if registration && !realm.settings.registration_allowed {
        return error_page(realm, StatusCode::FORBIDDEN, "Registration not allowed");
    }

    let keys = state.keys();
    let sso = sso_session(realm, &keys, info, now);
    let prompt = request.prompt.clone().unwrap_or_default();
    let prompts: Vec<&str> = prompt.split_whitespace().collect();
    let max_age_ok = |session_id: &str, realm: &Realm| match request.max_age {
        Some(max_age) => realm
            .sessions
            .get(session_id)
            .is_some_and(|s| now < s.auth_time + max_age),
        None => true,
    };

    if prompts.contains(&"none") {
        return match &sso {
            Sso::Active(sid) if max_age_ok(sid, realm) && !registration => {
                let sid = sid.clone();
                complete_login(state, realm, &keys, info, &request, &sid, false, None)
            }
            _ => {
                state.emit(
                    EventBuilder::new("LOGIN", &realm.id, &realm.name, &info.ip)
                        .client(&client_id)
                        .detail("redirect_uri", &request.redirect_uri)
                        .error("login_required"),
                );
                let mut response = error_response(&request, &issuer, "login_required", None);
                if matches!(sso, Sso::Stale) {
                    for cookie in expired_sso_cookies(realm, info) {
                        add_header(&mut response, SET_COOKIE, &cookie);
                    }
                }
                response
            }
        };
    }

    if let Sso::Active(sid) = &sso {
        if !registration && !prompts.contains(&"login") && max_age_ok(sid, realm) {
            let sid = sid.clone();
            if request.kc_action.is_some() {
                let (tab_id, cookie) = new_auth_session(realm, info, request, now, Some(sid));
                let mut response = required_action_page(realm, &tab_id, &client_id);
                if let Some(cookie) = cookie {
                    add_header(&mut response, SET_COOKIE, &cookie);
                }
                return response;
            }
            return complete_login(state, realm, &keys, info, &request, &sid, false, None);
        }
    }

    let login_hint = request.login_hint.clone().unwrap_or_default();
    let lang = request
        .ui_locales
        .as_deref()
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("en")
        .to_string();
    let (tab_id, cookie) = new_auth_session(realm, info, request, now, None);
    let mut response = if registration {
        registration_page(realm, &tab_id, &client_id, &lang, ["", "", "", ""], None)
    } else {
        login_page(realm, &tab_id, &client_id, &lang, &login_hint, None)
    };
    if let Some(cookie) = cookie {
        add_header(&mut response, SET_COOKIE, &cookie);
    }
    if matches!(sso, Sso::Stale) {
        for cookie in expired_sso_cookies(realm, info) {
            add_header(&mut response, SET_COOKIE, &cookie);
        }
    }
    response
}

/// Opens a login form in this browser's authentication session (started here, with the cookie
/// to set, when the browser has none that devserver knows). Returns the form's tab.
fn new_auth_session(
    realm: &mut Realm,
    info: &RequestInfo,
    request: AuthRequest,
    now: u64,
    authenticated: Option<String>,
) -> (String, Option<String>) {
    // Forget logins abandoned long ago; keep expired ones a while so that a late form post can
    // still be answered with `authentication_expired`.
    let keep = realm.settings.access_code_lifespan_login * 2;
    realm.auth_sessions.retain(|_, s| now < s.created + keep);
    let known = info
        .cookie(AUTH_SESSION_COOKIE)
        .filter(|id| realm.auth_sessions.values().any(|s| s.browser == *id));
    let (browser, cookie) = match known {
        Some(id) => (id, None),
        None => {
            let id = crate::util::random_token(32);
            let cookie = auth_session_cookie(realm, info, &id);
            (id, Some(cookie))
        }
    };
    let tab_id = crate::util::random_token(8);
    realm.auth_sessions.insert(
        tab_id.clone(),
        AuthSession {
            tab_id: tab_id.clone(),
            browser,
            request,
            created: now,
            authenticated_session: authenticated,
            expired: false,
        },
    );
    (tab_id, cookie)
}

pub fn action_url(realm: &Realm, action: &str, tab_id: &str, client_id: &str) -> String {
    format!(
        "/realms/{}/login-actions/{action}?{}",
        realm.name,
        form_encode([
            ("session_code", tab_id),
            ("execution", "auth-username-password-form"),
            ("client_id", client_id),
            ("tab_id", tab_id),
        ])
    )
}

pub fn login_page(
    realm: &Realm,
    tab_id: &str,
    client_id: &str,
    lang: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let action = action_url(realm, "authenticate", tab_id, client_id);
    let registration = realm
        .settings
        .registration_allowed
        .then(|| action_url(realm, "registration", tab_id, client_id));
    let title = realm_title(realm);
    html(
        StatusCode::OK,
        pages::login(&pages::LoginPage {
            lang,
            realm_title: &title,
            action: &action,
            username,
            error,
            registration_url: registration.as_deref(),
        }),
    )
}

pub fn registration_page(
    realm: &Realm,
    tab_id: &str,
    client_id: &str,
    lang: &str,
    values: [&str; 4],
    error: Option<&str>,
) -> Response {
    let action = action_url(realm, "registration", tab_id, client_id);
    let login_url = action_url(realm, "authenticate", tab_id, client_id);
    let title = realm_title(realm);
    html(
        StatusCode::OK,
        pages::register(&pages::RegisterPage {
            lang,
            realm_title: &title,
            action: &action,
            login_url: &login_url,
            values,
            error,
        }),
    )
}

pub fn required_action_page(realm: &Realm, tab_id: &str, client_id: &str) -> Response {
    let action_name = realm
        .auth_sessions
        .get(tab_id)
        .and_then(|s| s.request.kc_action.clone())
        .unwrap_or_default();
    let form_action = action_url(realm, "required-action", tab_id, client_id);
    html(
        StatusCode::OK,
        pages::required_action("en", &realm_title(realm), &action_name, &form_action),
    )
}

/// The user is authenticated (fresh or by SSO): attach the client to the session, issue what the
/// response_type asks for, refresh the SSO cookies, emit LOGIN and redirect to the client.
#[allow(clippy::too_many_arguments)]
pub fn complete_login(
    state: &AppState,
    realm: &mut Realm,
    keys: &KeySet,
    info: &RequestInfo,
    request: &AuthRequest,
    session_id: &str,
    fresh_login: bool,
    action_status: Option<(&str, &str)>,
) -> Response {
    let now = state.now();
    let issuer = info.issuer(&realm.name);
    let Some(client) = realm.client(&request.client_id).cloned() else {
        return error_page(realm, StatusCode::BAD_REQUEST, "Client not found.");
    };
    let scopes = match resolve_scopes(&client, &request.scope) {
        Ok(scopes) => scopes,
        Err(message) => return error_response(request, &issuer, "invalid_scope", Some(&message)),
    };
    attach_client(realm, session_id, &client.client_id, &scopes.join(" "));
    let Some(session) = realm.sessions.get_mut(session_id) else {
        return error_page(realm, StatusCode::BAD_REQUEST, "Session not found.");
    };
    session.last_refresh = now;
    if fresh_login {
        session.auth_time = now;
    }
    let session = session.clone();
    let Some(user) = realm.user(&session.user_id).cloned() else {
        return error_page(realm, StatusCode::BAD_REQUEST, "User not found.");
    };

    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(s) = &request.state {
        params.push(("state", s.clone()));
    }
    params.push(("session_state", session.id.clone()));
    params.push(("iss", issuer.clone()));
    if let Some((status, action)) = action_status {
        params.push(("kc_action_status", status.to_string()));
        params.push(("kc_action", action.to_string()));
    }
    let mut code_value = None;
    if request.has_response_type("code") {
        let code = format!("{}.{}.{}", uuid(), session.id, client.id);
        realm.codes.retain(|_, c| c.expires > now && !c.used);
        realm.codes.insert(
            code.clone(),
            AuthCode {
                code: code.clone(),
                client_id: client.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                session_id: session.id.clone(),
                nonce: request.nonce.clone(),
                scope: request.scope.clone(),
                code_challenge: request.code_challenge.clone(),
                code_challenge_method: request.code_challenge_method.clone(),
                expires: now + realm.settings.access_code_lifespan,
                used: false,
            },
        );
        params.push(("code", code.clone()));
        code_value = Some(code);
    }
    let wants_token = request.has_response_type("token");
    let wants_id_token = request.has_response_type("id_token");
    if wants_token || wants_id_token {
        let lifespan = client
            .access_token_lifespan()
            .unwrap_or(realm.settings.access_token_lifespan_for_implicit_flow);
        let tokens = issue(
            realm,
            keys,
            &TokenRequest {
                issuer: &issuer,
                client: &client,
                user: &user,
                session_id: Some(&session.id),
                auth_time: session.auth_time,
                nonce: request.nonce.as_deref(),
                scopes: &scopes,
                now,
                access_lifespan: lifespan,
                refresh_expiry: None,
                include_id_token: wants_id_token,
                code: code_value.as_deref(),
                acr: if fresh_login { "1" } else { "0" },
            },
        );
        if wants_token {
            params.push(("access_token", tokens.access_token.clone()));
            params.push(("token_type", "Bearer".into()));
        }
        if let Some(id_token) = tokens.id_token {
            params.push(("id_token", id_token));
        }
        if wants_token {
            params.push(("expires_in", tokens.expires_in.to_string()));
        }
    }

    let mut event = EventBuilder::new("LOGIN", &realm.id, &realm.name, &info.ip)
        .client(&client.client_id)
        .user(&user.id)
        .session(&session.id)
        .detail("auth_method", "openid-connect")
        .detail("auth_type", request.auth_type())
        .detail("response_type", &request.response_type)
        .detail("redirect_uri", &request.redirect_uri)
        .detail("consent", "no_consent_required")
        .detail("code_id", &session.id)
        .detail("username", &user.username)
        .detail("response_mode", &request.response_mode);
    if !fresh_login {
        event = event.detail("authSessionParentId", &session.id);
    }
    state.emit(event);

    let mut response = respond(request, params);
    for cookie in sso_cookies(realm, keys, info, &session, now) {
        add_header(&mut response, SET_COOKIE, &cookie);
    }
    response
}
