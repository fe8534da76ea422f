//! Clients and client roles. Clients are addressed by their internal id (UUID), as in Keycloak.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{admin_url, bad_request, conflict, created, error, parse_body, require_admin};
use crate::http::RequestInfo;
use crate::import::{apply_client_rep, ensure_service_account_users, role_from_rep};
use crate::model::Client;
use crate::representations::{
    client_rep, role_rep, user_rep, ClientRepresentation, RoleRepresentation,
};
use crate::state::Shared;
use crate::util::form_decode;

macro_rules! admin {
    ($state:expr, $info:expr) => {
        if let Err(response) = require_admin(&$state, &$info) {
            return response;
        }
    };
}

fn not_found_realm() -> Response {
    error(StatusCode::NOT_FOUND, "Realm not found.")
}

fn not_found_client() -> Response {
    error(StatusCode::NOT_FOUND, "Could not find client")
}

pub async fn list(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let params = form_decode(query.as_deref().unwrap_or_default());
    let wanted = params
        .iter()
        .find(|(k, _)| k == "clientId")
        .map(|(_, v)| v.clone());
    let search = params.iter().any(|(k, v)| k == "search" && v == "true");
    let realms = state.realms();
    let Some(realm) = realms.get(&realm) else {
        return not_found_realm();
    };
    let list: Vec<Value> = realm
        .clients
        .iter()
        .filter(|c| match &wanted {
            Some(w) if search => c.client_id.contains(w.as_str()),
            Some(w) => c.client_id == *w,
            None => true,
        })
        .map(client_rep)
        .collect();
    Json(list).into_response()
}

pub async fn create(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    admin!(state, info);
    let rep: ClientRepresentation = match parse_body(&body) {
        Ok(rep) => rep,
        Err(response) => return response,
    };
    let Some(client_id) = rep.client_id.clone().filter(|c| !c.is_empty()) else {
        return bad_request("Client id is missing");
    };
    let now_ms = state.now_ms();
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    if realm.client(&client_id).is_some() {
        return conflict(&format!("Client {client_id} already exists"));
    }
    let mut client = Client::new(&client_id);
    if let Some(id) = rep.id.clone().filter(|id| !id.is_empty()) {
        client.id = id;
    }
    apply_client_rep(&mut client, &rep);
    let location = format!("{}/clients/{}", admin_url(&info, &realm_name), client.id);
    realm.clients.push(client);
    ensure_service_account_users(realm, now_ms);
    created(&location)
}

pub async fn get_one(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let realms = state.realms();
    let Some(realm) = realms.get(&realm) else {
        return not_found_realm();
    };
    match realm.client_by_uuid(&id) {
        Some(client) => Json(client_rep(client)).into_response(),
        None => not_found_client(),
    }
}

pub async fn update(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Response {
    admin!(state, info);
    let rep: ClientRepresentation = match parse_body(&body) {
        Ok(rep) => rep,
        Err(response) => return response,
    };
    let now_ms = state.now_ms();
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    let Some(client) = realm.clients.iter_mut().find(|c| c.id == id) else {
        return not_found_client();
    };
    if let Some(new_id) = rep.client_id.as_deref() {
        if new_id != client.client_id {
            return bad_request("Renaming a client is not supported by devserver");
        }
    }
    apply_client_rep(client, &rep);
    ensure_service_account_users(realm, now_ms);
    StatusCode::NO_CONTENT.into_response()
}

pub async fn remove(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    let Some(client) = realm.client_by_uuid(&id).cloned() else {
        return not_found_client();
    };
    realm.clients.retain(|c| c.id != id);
    realm
        .users
        .retain(|u| u.service_account_client.as_deref() != Some(client.client_id.as_str()));
    for user in &mut realm.users {
        user.client_roles.remove(&client.client_id);
    }
    StatusCode::NO_CONTENT.into_response()
}

pub async fn secret(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let realms = state.realms();
    let Some(realm) = realms.get(&realm) else {
        return not_found_realm();
    };
    match realm.client_by_uuid(&id) {
        Some(client) => Json(json!({ "type": "secret", "value": client.secret })).into_response(),
        None => not_found_client(),
    }
}

pub async fn service_account_user(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let realms = state.realms();
    let Some(realm) = realms.get(&realm) else {
        return not_found_realm();
    };
    let Some(client) = realm.client_by_uuid(&id) else {
        return not_found_client();
    };
    match realm
        .users
        .iter()
        .find(|u| u.service_account_client.as_deref() == Some(client.client_id.as_str()))
    {
        Some(user) => Json(user_rep(user)).into_response(),
        None => bad_request("Service account not enabled for the client"),
    }
}

pub async fn list_roles(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let realms = state.realms();
    let Some(realm) = realms.get(&realm) else {
        return not_found_realm();
    };
    match realm.client_by_uuid(&id) {
        Some(client) => Json(
            client
                .roles
                .iter()
                .map(|r| role_rep(r, true, &client.id))
                .collect::<Vec<Value>>(),
        )
        .into_response(),
        None => not_found_client(),
    }
}

pub async fn create_role(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Response {
    admin!(state, info);
    let rep: RoleRepresentation = match parse_body(&body) {
        Ok(rep) => rep,
        Err(response) => return response,
    };
    let role = match role_from_rep(&rep) {
        Ok(role) => role,
        Err(message) => return bad_request(message.as_str()),
    };
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    let Some(client) = realm.clients.iter_mut().find(|c| c.id == id) else {
        return not_found_client();
    };
    if client.role(&role.name).is_some() {
        return conflict(&format!("Role with name {} already exists", role.name));
    }
    let location = format!(
        "{}/clients/{}/roles/{}",
        admin_url(&info, &realm_name),
        id,
        role.name
    );
    client.roles.push(role);
    created(&location)
}

pub async fn get_role(
    State(state): State<Shared>,
    Path((realm, id, name)): Path<(String, String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let realms = state.realms();
    let Some(realm) = realms.get(&realm) else {
        return not_found_realm();
    };
    let Some(client) = realm.client_by_uuid(&id) else {
        return not_found_client();
    };
    match client.role(&name) {
        Some(role) => Json(role_rep(role, true, &client.id)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Could not find role"),
    }
}

pub async fn delete_role(
    State(state): State<Shared>,
    Path((realm_name, id, name)): Path<(String, String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    let Some(client) = realm.clients.iter_mut().find(|c| c.id == id) else {
        return not_found_client();
    };
    let before = client.roles.len();
    client.roles.retain(|r| r.name != name);
    if client.roles.len() == before {
        return error(StatusCode::NOT_FOUND, "Could not find role");
    }
    let client_id = client.client_id.clone();
    for user in &mut realm.users {
        if let Some(set) = user.client_roles.get_mut(&client_id) {
            set.remove(&name);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}
