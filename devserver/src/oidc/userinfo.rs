//! The userinfo endpoint: the profile claims of a valid access token, CORS by its allowed origins.

use axum::extract::{Path, State};
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::verify_access_token;
use crate::http::{
    add_header, cors, form_decode_body, json_no_store, oauth_error, preflight as cors_preflight,
    realm_not_found, token_allows_origin, RequestInfo,
};
use crate::state::Shared;
use crate::tokens::{resolve_scopes, userinfo_claims};

pub async fn preflight(info: RequestInfo) -> Response {
    cors_preflight(&info, "GET, POST, OPTIONS")
}

pub async fn userinfo_get(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Response {
    userinfo(&state, &realm, &info, None).await
}

pub async fn userinfo_post(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    let token = form_decode_body(&body, "access_token");
    userinfo(&state, &realm, &info, token).await
}

fn unauthorized(realm: &str, error: &str, description: &str) -> Response {
    let mut response = oauth_error(StatusCode::UNAUTHORIZED, error, description);
    add_header(
        &mut response,
        WWW_AUTHENTICATE,
        &format!(
            "Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{description}\""
        ),
    );
    response
}

async fn userinfo(
    state: &Shared,
    realm_name: &str,
    info: &RequestInfo,
    form_token: Option<String>,
) -> Response {
    if let Some(mut response) = state.faults.inject_api("userinfo", realm_name, None).await {
        cors(&mut response, info.origin(), true);
        return response;
    }
    let now = state.now();
    let realms = state.realms();
    let Some(realm) = realms.get(realm_name) else {
        return realm_not_found();
    };
    let Some(token) = info.bearer().or(form_token) else {
        let mut response = unauthorized(realm_name, "invalid_request", "Token not provided");
        cors(&mut response, info.origin(), true);
        return response;
    };
    let claims = match verify_access_token(realm, &state.keys(), &token, now) {
        Ok(claims) => claims,
        Err(description) => {
            let mut response = unauthorized(realm_name, "invalid_token", description);
            cors(&mut response, info.origin(), true);
            return response;
        }
    };
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let azp = claims
        .get("azp")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (Some(user), Some(client)) = (realm.user(sub), realm.client(azp)) else {
        return unauthorized(realm_name, "invalid_token", "Token verification failed");
    };
    let scope = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let scopes = resolve_scopes(client, scope).unwrap_or_default();
    let mut response = json_no_store(Value::Object(userinfo_claims(user, &scopes)));
    let allowed = info
        .origin()
        .is_some_and(|o| token_allows_origin(&claims, o));
    cors(&mut response, info.origin(), allowed);
    response
}
