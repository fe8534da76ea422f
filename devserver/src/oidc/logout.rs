//! RP-initiated logout (GET and POST), with Keycloak's checks of `id_token_hint`, `client_id` and
//! `post_logout_redirect_uri`, and its confirmation page when there is no valid hint.

use axum::extract::{Path, RawQuery, State};
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::authorize::{error_page, realm_title};
use super::{auth_session_cookie, expired_sso_cookies, sso_session, Sso, AUTH_SESSION_COOKIE};
use crate::events::EventBuilder;
use crate::http::{add_header, html, param, realm_not_found, redirect, RequestInfo};
use crate::model::Realm;
use crate::pages;
use crate::sessions::PendingLogout;
use crate::state::Shared;
use crate::util::{append_query, form_decode, form_encode, random_token};

pub async fn logout_get(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Response {
    logout(
        &state,
        &realm,
        &form_decode(query.as_deref().unwrap_or_default()),
        &info,
    )
    .await
}

pub async fn logout_post(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    logout(&state, &realm, &form_decode(&body), &info).await
}

/// Ends a user session and emits LOGOUT.
fn end_session(
    state: &Shared,
    realm: &mut Realm,
    session_id: &str,
    info: &RequestInfo,
    client_id: Option<&str>,
    redirect_uri: Option<&str>,
) {
    if let Some(session) = realm.sessions.remove(session_id) {
        let mut event = EventBuilder::new("LOGOUT", &realm.id, &realm.name, &info.ip)
            .user(&session.user_id)
            .session(&session.id);
        if let Some(client) = client_id {
            event = event.client(client);
        }
        if let Some(uri) = redirect_uri {
            event = event.detail("redirect_uri", uri);
        }
        state.emit(event);
    }
}

fn finish(
    realm: &Realm,
    info: &RequestInfo,
    redirect_uri: Option<&str>,
    state_param: Option<&str>,
) -> Response {
    let mut response = match redirect_uri {
        Some(uri) => {
            let target = match state_param {
                Some(s) => append_query(uri, &form_encode([("state", s)])),
                None => uri.to_string(),
            };
            redirect(&target)
        }
        None => html(StatusCode::OK, pages::logged_out(&realm_title(realm))),
    };
    for cookie in expired_sso_cookies(realm, info) {
        add_header(&mut response, SET_COOKIE, &cookie);
    }
    response
}

async fn logout(
    state: &Shared,
    realm_name: &str,
    params: &[(String, String)],
    info: &RequestInfo,
) -> Response {
    if let Some(response) = state.faults.inject_page("logout", realm_name).await {
        return response;
    }
    let now = state.now();
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(realm_name) else {
        return realm_not_found();
    };
    let hint = param(params, "id_token_hint");
    let mut client_id = param(params, "client_id");
    let redirect_param = param(params, "post_logout_redirect_uri");
    let state_param = param(params, "state");
    if redirect_param.is_some() && hint.is_none() && client_id.is_none() {
        return error_page(
            realm,
            StatusCode::BAD_REQUEST,
            "Either the parameter client_id or the parameter id_token_hint is required when post_logout_redirect_uri is used.",
        );
    }
    let keys = state.keys();
    let mut hint_session = None;
    if let Some(hint) = &hint {
        let claims = keys.verify(hint).ok().filter(|c| {
            c.get("typ").and_then(Value::as_str) == Some("ID")
                && c.get("iss")
                    .and_then(Value::as_str)
                    .is_some_and(|iss| iss.ends_with(&format!("/realms/{}", realm.name)))
        });
        let Some(claims) = claims else {
            state.emit(
                EventBuilder::new("LOGOUT", &realm.id, &realm.name, &info.ip)
                    .error("invalid_token"),
            );
            return error_page(
                realm,
                StatusCode::BAD_REQUEST,
                "Invalid parameter: id_token_hint",
            );
        };
        let azp = claims
            .get("azp")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if client_id.as_deref().is_some_and(|c| c != azp) {
            return error_page(
                realm,
                StatusCode::BAD_REQUEST,
                "Parameter client_id different than the client from id_token_hint.",
            );
        }
        client_id = Some(azp);
        hint_session = claims
            .get("sid")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let client = match &client_id {
        Some(id) => match realm.client(id) {
            Some(client) => Some(client.clone()),
            None => {
                return error_page(
                    realm,
                    StatusCode::BAD_REQUEST,
                    "Invalid parameter: client_id",
                )
            }
        },
        None => None,
    };
    let redirect_uri = match (&redirect_param, &client) {
        (Some(uri), Some(client)) => {
            match client.verify_post_logout_redirect_uri(uri, &info.server_origin) {
                Some(valid) => Some(valid),
                None => {
                    state.emit(
                        EventBuilder::new("LOGOUT", &realm.id, &realm.name, &info.ip)
                            .client(&client.client_id)
                            .detail("redirect_uri", uri)
                            .error("invalid_redirect_uri"),
                    );
                    return error_page(realm, StatusCode::BAD_REQUEST, "Invalid redirect uri");
                }
            }
        }
        _ => None,
    };

    let cookie_session = match sso_session(realm, &keys, info, now) {
        Sso::Active(sid) => Some(sid),
        _ => None,
    };
    drop(keys);
    // A hint for another session than the browser's (another user's ID token, say) is no proof
    // that this browser's user wants to log out.
    let foreign_hint =
        cookie_session.is_some() && hint_session.is_some() && hint_session != cookie_session;
    let always_confirm = state
        .confirm_logouts
        .load(std::sync::atomic::Ordering::Relaxed);
    if hint.is_none() || foreign_hint || always_confirm {
        // No proof the user wants this: Keycloak asks (and some providers always do).
        let code = random_token(16);
        // Bound to this browser, as a login form is: a page elsewhere that posts the code of
        // a confirmation it asked for itself logs nobody out.
        let (browser, cookie) = match info.cookie(AUTH_SESSION_COOKIE) {
            Some(id) => (id, None),
            None => {
                let id = random_token(32);
                let cookie = auth_session_cookie(realm, info, &id);
                (id, Some(cookie))
            }
        };
        realm.pending_logouts.insert(
            code.clone(),
            PendingLogout {
                created: now,
                redirect_uri,
                state: state_param,
                hinted_session: hint_session,
                browser,
            },
            now,
        );
        let action = format!(
            "/realms/{}/protocol/openid-connect/logout/logout-confirm",
            realm.name
        );
        let mut response = html(
            StatusCode::OK,
            pages::logout_confirm(&realm_title(realm), &action, &code),
        );
        if let Some(cookie) = cookie {
            add_header(&mut response, SET_COOKIE, &cookie);
        }
        return response;
    }
    let client_name = client.as_ref().map(|c| c.client_id.clone());
    for sid in [hint_session, cookie_session].into_iter().flatten() {
        end_session(
            state,
            realm,
            &sid,
            info,
            client_name.as_deref(),
            redirect_uri.as_deref(),
        );
    }
    finish(realm, info, redirect_uri.as_deref(), state_param.as_deref())
}

pub async fn logout_confirm(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    let now = state.now();
    let form = form_decode(&body);
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return realm_not_found();
    };
    let code = param(&form, "session_code").unwrap_or_default();
    let browser = info.cookie(AUTH_SESSION_COOKIE);
    let Some(pending) = realm.pending_logouts.take(&code, browser.as_deref(), now) else {
        return error_page(realm, StatusCode::BAD_REQUEST, "Logout failed");
    };
    let keys = state.keys();
    let cookie_session = match sso_session(realm, &keys, &info, now) {
        Sso::Active(sid) => Some(sid),
        _ => None,
    };
    drop(keys);
    // As Keycloak: the session the hint named if it still lives, else the browser's.
    let hinted = pending
        .hinted_session
        .filter(|sid| realm.sessions.contains_key(sid));
    if let Some(sid) = hinted.or(cookie_session) {
        end_session(
            &state,
            realm,
            &sid,
            &info,
            None,
            pending.redirect_uri.as_deref(),
        );
    }
    finish(
        realm,
        &info,
        pending.redirect_uri.as_deref(),
        pending.state.as_deref(),
    )
}
