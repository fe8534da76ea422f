//! Token revocation (RFC 7009) as Keycloak does it: a refresh token ends the client's part of the
//! session (and the session when no client is left); an access token is blacklisted.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::events::EventBuilder;
use crate::http::{
    authenticate_client, cors, form_field, oauth_error, preflight as cors_preflight,
    realm_not_found, ClientAuth, RequestInfo,
};
use crate::state::Shared;
use crate::util::form_decode;

pub async fn preflight(info: RequestInfo) -> Response {
    cors_preflight(&info, "POST, OPTIONS")
}

pub async fn revoke(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    if let Some(mut response) = state.faults.inject_api("revoke", &realm_name, None).await {
        cors(&mut response, info.origin(), true);
        return response;
    }
    let form = form_decode(&body);
    let origin = info.origin().map(str::to_string);
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return realm_not_found();
    };
    let client = match authenticate_client(&info, realm, &form) {
        ClientAuth::Ok(client) => client,
        ClientAuth::Failed(mut response) => {
            cors(&mut response, origin.as_deref(), true);
            return response;
        }
    };
    let allowed = origin.as_deref().is_some_and(|o| client.allows_origin(o));
    let respond = |mut response: Response| {
        cors(&mut response, origin.as_deref(), allowed);
        response
    };
    let Some(token) = form_field(&form, "token") else {
        return respond(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Token not provided",
        ));
    };
    // Unknown, foreign or expired tokens are not an error (RFC 7009 2.2).
    let Ok(claims) = state.keys().verify(token) else {
        return respond(StatusCode::OK.into_response());
    };
    let claim = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if claim("azp") != client.client_id {
        return respond(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Unmatching clients",
        ));
    }
    let sid = claim("sid");
    match claim("typ").as_str() {
        "Refresh" | "Offline" => {
            let mut ended = false;
            if let Some(session) = realm.sessions.get_mut(&sid) {
                session.clients.remove(&client.client_id);
                ended = session.clients.is_empty();
            }
            if ended {
                realm.sessions.remove(&sid);
            }
        }
        _ => {
            realm.revoked.insert(claim("jti"));
        }
    }
    state.emit(
        EventBuilder::new("REVOKE_GRANT", &realm.id, &realm.name, &info.ip)
            .client(&client.client_id)
            .user(&claim("sub"))
            .session(&sid)
            .detail("token_id", &claim("jti")),
    );
    respond(StatusCode::OK.into_response())
}
