//! Realms, realm roles and events.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::{admin_url, conflict, created, error, parse_body, require_admin};
use crate::http::RequestInfo;
use crate::import::{apply_realm_settings, realm_from_rep, role_from_rep};
use crate::representations::{realm_rep, role_rep, RealmRepresentation, RoleRepresentation};
use crate::state::Shared;
use crate::util::form_decode;

pub async fn list(State(state): State<Shared>, info: RequestInfo) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    let realms = state.realms();
    Json(realms.values().map(realm_rep).collect::<Vec<Value>>()).into_response()
}

pub async fn create(State(state): State<Shared>, info: RequestInfo, body: String) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    let rep: RealmRepresentation = match parse_body(&body) {
        Ok(rep) => rep,
        Err(response) => return response,
    };
    let realm = match realm_from_rep(rep, state.now_ms()) {
        Ok(realm) => realm,
        Err(message) => return super::bad_request(&message),
    };
    let mut realms = state.realms();
    if realms.contains_key(&realm.name) {
        return conflict("Conflict detected. See logs for details");
    }
    let name = realm.name.clone();
    realms.insert(name.clone(), realm);
    created(&admin_url(&info, &name))
}

pub async fn get_one(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    match state.realms().get(&realm) {
        Some(realm) => Json(realm_rep(realm)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Realm not found."),
    }
}

pub async fn update(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    let rep: RealmRepresentation = match parse_body(&body) {
        Ok(rep) => rep,
        Err(response) => return response,
    };
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return error(StatusCode::NOT_FOUND, "Realm not found.");
    };
    if rep.realm.as_deref().is_some_and(|n| n != realm_name) {
        return super::bad_request("Renaming a realm is not supported by devserver");
    }
    apply_realm_settings(realm, &rep);
    StatusCode::NO_CONTENT.into_response()
}

pub async fn remove(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    if realm == super::MASTER {
        return super::bad_request("The master realm cannot be removed");
    }
    match state.realms().remove(&realm) {
        Some(_) => {
            state.events.clear(&realm);
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(StatusCode::NOT_FOUND, "Realm not found."),
    }
}

/// Keycloak's event query: `type` (repeatable), `client`, `user`, `first`, `max` (default 100).
pub async fn events(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    if !state.realms().contains_key(&realm) {
        return error(StatusCode::NOT_FOUND, "Realm not found.");
    }
    let params = form_decode(query.as_deref().unwrap_or_default());
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let types: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "type")
        .map(|(_, v)| v.as_str())
        .collect();
    let first: usize = get("first").and_then(|v| v.parse().ok()).unwrap_or(0);
    let max: usize = get("max").and_then(|v| v.parse().ok()).unwrap_or(100);
    let client = get("client");
    let user = get("user");
    let list: Vec<_> = state
        .events
        .recent(&realm)
        .into_iter()
        .filter(|e| types.is_empty() || types.contains(&e.kind.as_str()))
        .filter(|e| client.is_none() || e.client_id == client)
        .filter(|e| user.is_none() || e.user_id == user)
        .skip(first)
        .take(max)
        .collect();
    Json(list).into_response()
}

pub async fn clear_events(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    state.events.clear(&realm);
    StatusCode::NO_CONTENT.into_response()
}

pub async fn list_roles(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    let realms = state.realms();
    let Some(realm) = realms.get(&realm) else {
        return error(StatusCode::NOT_FOUND, "Realm not found.");
    };
    let roles: Vec<Value> = realm
        .roles
        .iter()
        .map(|r| role_rep(r, false, &realm.id))
        .collect();
    Json(roles).into_response()
}

pub async fn create_role(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    let rep: RoleRepresentation = match parse_body(&body) {
        Ok(rep) => rep,
        Err(response) => return response,
    };
    let role = match role_from_rep(&rep) {
        Ok(role) => role,
        Err(message) => return super::bad_request(message.as_str()),
    };
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return error(StatusCode::NOT_FOUND, "Realm not found.");
    };
    if realm.role(&role.name).is_some() {
        return conflict(&format!("Role with name {} already exists", role.name));
    }
    let location = format!("{}/roles/{}", admin_url(&info, &realm_name), role.name);
    realm.roles.push(role);
    created(&location)
}

pub async fn get_role(
    State(state): State<Shared>,
    Path((realm, name)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    let realms = state.realms();
    let Some(realm) = realms.get(&realm) else {
        return error(StatusCode::NOT_FOUND, "Realm not found.");
    };
    match realm.role(&name) {
        Some(role) => Json(role_rep(role, false, &realm.id)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Could not find role"),
    }
}

pub async fn delete_role(
    State(state): State<Shared>,
    Path((realm, name)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    if let Err(response) = require_admin(&state, &info) {
        return response;
    }
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm) else {
        return error(StatusCode::NOT_FOUND, "Realm not found.");
    };
    let before = realm.roles.len();
    realm.roles.retain(|r| r.name != name);
    if realm.roles.len() == before {
        return error(StatusCode::NOT_FOUND, "Could not find role");
    }
    for user in &mut realm.users {
        user.realm_roles.remove(&name);
    }
    StatusCode::NO_CONTENT.into_response()
}
