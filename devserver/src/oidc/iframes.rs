//! The pages keycloak-js embeds in hidden iframes: the session-status iframe (and its `init`
//! check) and the two steps of the third-party-cookie check.

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::{browser_security_headers, realm_not_found, Framing, RequestInfo};
use crate::pages;
use crate::state::Shared;
use crate::util::{form_decode, origin_of, pair_value};

/// An iframe page: framable from anywhere, never cached, with Keycloak's P3P header.
fn iframe_page(body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    browser_security_headers(&mut response, Framing::AnySite);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=utf-8"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    headers.insert(
        HeaderName::from_static("p3p"),
        HeaderValue::from_static("CP=\"This is not a P3P policy!\""),
    );
    response
}

fn realm_exists(state: &Shared, realm: &str) -> bool {
    state.realms().contains_key(realm)
}

pub async fn login_status_iframe(
    State(state): State<Shared>,
    Path(realm): Path<String>,
) -> Response {
    if let Some(response) = state
        .faults
        .inject_page("login-status-iframe", &realm)
        .await
    {
        return response;
    }
    if !realm_exists(&state, &realm) {
        return realm_not_found();
    }
    iframe_page(pages::LOGIN_STATUS_IFRAME)
}

/// 204 when `client_id` may check sessions from `origin` (one of its web origins, or our own
/// origin), 403 otherwise: Keycloak's LoginStatusIframeEndpoint#preCheck.
pub async fn login_status_init(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Response {
    if let Some(response) = state
        .faults
        .inject_page("login-status-iframe-init", &realm_name)
        .await
    {
        return response;
    }
    let params = form_decode(query.as_deref().unwrap_or_default());
    let get = |name: &str| pair_value(&params, name).unwrap_or_default().to_string();
    let (client_id, origin) = (get("client_id"), get("origin"));
    let realms = state.realms();
    let Some(realm) = realms.get(&realm_name) else {
        return realm_not_found();
    };
    let allowed = realm.client(&client_id).is_some_and(|client| {
        client.enabled
            && (client.allows_origin(&origin)
                || origin_of(&info.server_origin).as_deref() == Some(origin.as_str()))
    });
    if allowed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::FORBIDDEN.into_response()
    }
}

pub async fn step1(State(state): State<Shared>, Path(realm): Path<String>) -> Response {
    if let Some(response) = state.faults.inject_page("3p-cookies-step1", &realm).await {
        return response;
    }
    if !realm_exists(&state, &realm) {
        return realm_not_found();
    }
    iframe_page(pages::THIRD_PARTY_COOKIES_STEP1)
}

pub async fn step2(State(state): State<Shared>, Path(realm): Path<String>) -> Response {
    if let Some(response) = state.faults.inject_page("3p-cookies-step2", &realm).await {
        return response;
    }
    if !realm_exists(&state, &realm) {
        return realm_not_found();
    }
    iframe_page(pages::THIRD_PARTY_COOKIES_STEP2)
}
