//! Token introspection (RFC 7662) for confidential clients.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::verify_access_token;
use crate::http::{
    authenticate_client, form_field, json_no_store, oauth_error, realm_not_found, ClientAuth,
    RequestInfo,
};
use crate::state::Shared;
use crate::util::form_decode;

pub async fn introspect(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    if let Some(response) = state
        .faults
        .inject_api("introspect", &realm_name, None)
        .await
    {
        return response;
    }
    let now = state.now();
    let form = form_decode(&body);
    let realms = state.realms();
    let Some(realm) = realms.get(&realm_name) else {
        return realm_not_found();
    };
    let client = match authenticate_client(&info, realm, &form) {
        ClientAuth::Ok(client) => client,
        ClientAuth::Failed(response) => return response,
    };
    if client.public_client {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "invalid_request",
            "Client not allowed.",
        );
    }
    let Some(token) = form_field(&form, "token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Token not provided.",
        );
    };
    let keys = state.keys();
    let inactive = || json_no_store(json!({ "active": false }));
    let Ok(mut claims) = keys.verify(token) else {
        return inactive();
    };
    let typ = claims
        .get("typ")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let active = match typ.as_str() {
        "Bearer" => verify_access_token(realm, &keys, token, now).is_ok(),
        "Refresh" | "Offline" => {
            let sid = claims
                .get("sid")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
            exp > now
                && realm
                    .sessions
                    .get(sid)
                    .is_some_and(|s| s.is_active(now, &realm.settings))
        }
        _ => false,
    };
    if !active {
        return inactive();
    }
    let azp = claims.get("azp").cloned().unwrap_or(Value::Null);
    let username = claims
        .get("sub")
        .and_then(Value::as_str)
        .and_then(|sub| realm.user(sub))
        .map(|u| u.username.clone());
    claims.insert("client_id".into(), azp);
    if let Some(username) = username {
        claims.insert("username".into(), json!(username));
    }
    claims.insert("token_type".into(), json!(typ));
    claims.insert("active".into(), json!(true));
    json_no_store(Value::Object(claims))
}
