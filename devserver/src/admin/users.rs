//! Users: CRUD, password reset, sessions and role mappings.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{admin_url, bad_request, conflict, created, error, parse_body, require_admin};
use crate::events::EventBuilder;
use crate::http::RequestInfo;
use crate::import::apply_user_rep;
use crate::model::{Password, Realm, User};
use crate::representations::{
    role_rep, user_rep, CredentialRepresentation, RoleRepresentation, UserRepresentation,
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

fn not_found_user() -> Response {
    error(StatusCode::NOT_FOUND, "User not found")
}

fn matches_query(user: &User, params: &[(String, String)]) -> bool {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_lowercase())
    };
    let exact = get("exact").as_deref() == Some("true");
    let test = |value: Option<&str>, wanted: &str| {
        let value = value.unwrap_or_default().to_lowercase();
        if exact {
            value == wanted
        } else {
            value.contains(wanted)
        }
    };
    if let Some(username) = get("username") {
        if !test(Some(&user.username), &username) {
            return false;
        }
    }
    if let Some(email) = get("email") {
        if !test(user.email.as_deref(), &email) {
            return false;
        }
    }
    if let Some(first) = get("firstName") {
        if !test(user.first_name.as_deref(), &first) {
            return false;
        }
    }
    if let Some(last) = get("lastName") {
        if !test(user.last_name.as_deref(), &last) {
            return false;
        }
    }
    if let Some(search) = get("search") {
        let search = search.trim_matches('*');
        let hit = [
            Some(user.username.as_str()),
            user.email.as_deref(),
            user.first_name.as_deref(),
            user.last_name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|v| v.to_lowercase().contains(search));
        if !hit {
            return false;
        }
    }
    true
}

pub async fn list(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let params = form_decode(query.as_deref().unwrap_or_default());
    let first: usize = params
        .iter()
        .find(|(k, _)| k == "first")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let max: usize = params
        .iter()
        .find(|(k, _)| k == "max")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(100);
    let realms = state.realms();
    let Some(realm) = realms.get(&realm) else {
        return not_found_realm();
    };
    let users: Vec<Value> = realm
        .users
        .iter()
        .filter(|u| u.service_account_client.is_none())
        .filter(|u| matches_query(u, &params))
        .skip(first)
        .take(max)
        .map(user_rep)
        .collect();
    Json(users).into_response()
}

pub async fn count(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let params = form_decode(query.as_deref().unwrap_or_default());
    let realms = state.realms();
    let Some(realm) = realms.get(&realm) else {
        return not_found_realm();
    };
    let n = realm
        .users
        .iter()
        .filter(|u| u.service_account_client.is_none())
        .filter(|u| matches_query(u, &params))
        .count();
    Json(n).into_response()
}

pub async fn create(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Response {
    admin!(state, info);
    let rep: UserRepresentation = match parse_body(&body) {
        Ok(rep) => rep,
        Err(response) => return response,
    };
    let Some(username) = rep.username.clone().filter(|u| !u.trim().is_empty()) else {
        return bad_request("User name is missing");
    };
    let now_ms = state.now_ms();
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    if realm.user_by_username(&username).is_some() {
        return conflict("User exists with same username");
    }
    if let Some(email) = rep.email.as_deref().filter(|e| !e.is_empty()) {
        let lower = email.to_lowercase();
        if realm
            .users
            .iter()
            .any(|u| u.email.as_deref() == Some(lower.as_str()))
        {
            return conflict("User exists with same email");
        }
    }
    let mut user = User::new(username.trim(), now_ms);
    if let Err(message) = apply_user_rep(realm, &mut user, &rep) {
        return bad_request(&message);
    }
    let location = format!("{}/users/{}", admin_url(&info, &realm_name), user.id);
    realm.users.push(user);
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
    match realm.user(&id) {
        Some(user) => Json(user_rep(user)).into_response(),
        None => not_found_user(),
    }
}

pub async fn update(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Response {
    admin!(state, info);
    let rep: UserRepresentation = match parse_body(&body) {
        Ok(rep) => rep,
        Err(response) => return response,
    };
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    let Some(index) = realm.users.iter().position(|u| u.id == id) else {
        return not_found_user();
    };
    let Some(mut user) = realm.users.get(index).cloned() else {
        return not_found_user();
    };
    if let Some(username) = rep.username.as_deref() {
        if username.to_lowercase() != user.username {
            return bad_request("error-user-attribute-read-only");
        }
    }
    if let Err(message) = apply_user_rep(realm, &mut user, &rep) {
        return bad_request(&message);
    }
    if let Some(slot) = realm.users.get_mut(index) {
        *slot = user;
    }
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
    let before = realm.users.len();
    realm.users.retain(|u| u.id != id);
    if realm.users.len() == before {
        return not_found_user();
    }
    realm.sessions.retain(|_, s| s.user_id != id);
    StatusCode::NO_CONTENT.into_response()
}

pub async fn reset_password(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Response {
    admin!(state, info);
    let rep: CredentialRepresentation = match parse_body(&body) {
        Ok(rep) => rep,
        Err(response) => return response,
    };
    let Some(value) = rep.value.filter(|v| !v.is_empty()) else {
        return bad_request("Password must not be empty");
    };
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    let Some(user) = realm.users.iter_mut().find(|u| u.id == id) else {
        return not_found_user();
    };
    user.password = Some(Password::new(&value));
    if rep.temporary == Some(true) && !user.required_actions.iter().any(|a| a == "UPDATE_PASSWORD")
    {
        user.required_actions.push("UPDATE_PASSWORD".into());
    }
    StatusCode::NO_CONTENT.into_response()
}

pub async fn sessions(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let now = state.now();
    let realms = state.realms();
    let Some(realm) = realms.get(&realm_name) else {
        return not_found_realm();
    };
    let Some(user) = realm.user(&id) else {
        return not_found_user();
    };
    let list: Vec<Value> = realm
        .sessions
        .values()
        .filter(|s| s.user_id == id && !s.transient && s.is_active(now, &realm.settings))
        .map(|s| {
            let clients: serde_json::Map<String, Value> = s
                .clients
                .keys()
                .filter_map(|c| realm.client(c).map(|client| (client.id.clone(), json!(c))))
                .collect();
            json!({
                "id": s.id,
                "username": user.username,
                "userId": user.id,
                "ipAddress": s.ip_address,
                "start": s.started * 1000,
                "lastAccess": s.last_refresh * 1000,
                "rememberMe": false,
                "clients": clients,
                "transientUser": false,
            })
        })
        .collect();
    Json(list).into_response()
}

fn end_sessions(
    state: &Shared,
    realm: &mut Realm,
    info: &RequestInfo,
    filter: impl Fn(&crate::sessions::UserSession) -> bool,
) -> usize {
    let ids: Vec<String> = realm
        .sessions
        .values()
        .filter(|s| filter(s))
        .map(|s| s.id.clone())
        .collect();
    for id in &ids {
        if let Some(session) = realm.sessions.remove(id) {
            state.emit(
                EventBuilder::new("LOGOUT", &realm.id, &realm.name, &info.ip)
                    .user(&session.user_id)
                    .session(&session.id)
                    .detail("reason", "admin"),
            );
        }
    }
    ids.len()
}

/// `POST /users/{id}/logout`: ends all of the user's sessions.
pub async fn logout(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    if realm.user(&id).is_none() {
        return not_found_user();
    }
    end_sessions(&state, realm, &info, |s| s.user_id == id);
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /admin/realms/{realm}/sessions/{session}`: ends one session.
pub async fn delete_session(
    State(state): State<Shared>,
    Path((realm_name, session)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    if end_sessions(&state, realm, &info, |s| s.id == session) == 0 {
        return error(StatusCode::NOT_FOUND, "Sesssion not found");
    }
    StatusCode::NO_CONTENT.into_response()
}

pub async fn role_mappings(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let realms = state.realms();
    let Some(realm) = realms.get(&realm_name) else {
        return not_found_realm();
    };
    let Some(user) = realm.user(&id) else {
        return not_found_user();
    };
    let realm_mappings: Vec<Value> = user
        .realm_roles
        .iter()
        .filter_map(|name| realm.role(name))
        .map(|r| role_rep(r, false, &realm.id))
        .collect();
    let mut client_mappings = serde_json::Map::new();
    for (client_id, roles) in &user.client_roles {
        let Some(client) = realm.client(client_id) else {
            continue;
        };
        let mappings: Vec<Value> = roles
            .iter()
            .filter_map(|name| client.role(name))
            .map(|r| role_rep(r, true, &client.id))
            .collect();
        client_mappings.insert(
            client_id.clone(),
            json!({ "id": client.id, "client": client.client_id, "mappings": mappings }),
        );
    }
    let mut body = serde_json::Map::new();
    body.insert("realmMappings".into(), json!(realm_mappings));
    if !client_mappings.is_empty() {
        body.insert("clientMappings".into(), Value::Object(client_mappings));
    }
    let body = Value::Object(body);
    Json(body).into_response()
}

pub async fn realm_mappings(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let realms = state.realms();
    let Some(realm) = realms.get(&realm_name) else {
        return not_found_realm();
    };
    let Some(user) = realm.user(&id) else {
        return not_found_user();
    };
    let list: Vec<Value> = user
        .realm_roles
        .iter()
        .filter_map(|name| realm.role(name))
        .map(|r| role_rep(r, false, &realm.id))
        .collect();
    Json(list).into_response()
}

fn role_names(body: &str) -> Result<Vec<RoleRepresentation>, Response> {
    parse_body::<Vec<RoleRepresentation>>(body)
}

async fn change_realm_mappings(
    state: Shared,
    realm_name: String,
    id: String,
    info: RequestInfo,
    body: String,
    add: bool,
) -> Response {
    admin!(state, info);
    let reps = match role_names(&body) {
        Ok(reps) => reps,
        Err(response) => return response,
    };
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    let mut names = Vec::new();
    for rep in &reps {
        let role = realm.roles.iter().find(|r| {
            rep.id.as_deref() == Some(r.id.as_str()) || rep.name.as_deref() == Some(r.name.as_str())
        });
        match role {
            Some(role) => names.push(role.name.clone()),
            None => return error(StatusCode::NOT_FOUND, "Could not find role"),
        }
    }
    let Some(user) = realm.users.iter_mut().find(|u| u.id == id) else {
        return not_found_user();
    };
    for name in names {
        if add {
            user.realm_roles.insert(name);
        } else {
            user.realm_roles.remove(&name);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

pub async fn add_realm_mappings(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Response {
    change_realm_mappings(state, realm, id, info, body, true).await
}

pub async fn remove_realm_mappings(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Response {
    change_realm_mappings(state, realm, id, info, body, false).await
}

pub async fn client_mappings(
    State(state): State<Shared>,
    Path((realm_name, id, client_uuid)): Path<(String, String, String)>,
    info: RequestInfo,
) -> Response {
    admin!(state, info);
    let realms = state.realms();
    let Some(realm) = realms.get(&realm_name) else {
        return not_found_realm();
    };
    let Some(user) = realm.user(&id) else {
        return not_found_user();
    };
    let Some(client) = realm.client_by_uuid(&client_uuid) else {
        return error(StatusCode::NOT_FOUND, "Client not found");
    };
    let list: Vec<Value> = user
        .client_roles
        .get(&client.client_id)
        .into_iter()
        .flatten()
        .filter_map(|name| client.role(name))
        .map(|r| role_rep(r, true, &client.id))
        .collect();
    Json(list).into_response()
}

async fn change_client_mappings(
    state: Shared,
    (realm_name, id, client_uuid): (String, String, String),
    info: RequestInfo,
    body: String,
    add: bool,
) -> Response {
    admin!(state, info);
    let reps = match role_names(&body) {
        Ok(reps) => reps,
        Err(response) => return response,
    };
    let mut realms = state.realms();
    let Some(realm) = realms.get_mut(&realm_name) else {
        return not_found_realm();
    };
    let Some(client) = realm.client_by_uuid(&client_uuid) else {
        return error(StatusCode::NOT_FOUND, "Client not found");
    };
    let client_id = client.client_id.clone();
    let mut names = Vec::new();
    for rep in &reps {
        let role = client.roles.iter().find(|r| {
            rep.id.as_deref() == Some(r.id.as_str()) || rep.name.as_deref() == Some(r.name.as_str())
        });
        match role {
            Some(role) => names.push(role.name.clone()),
            None => return error(StatusCode::NOT_FOUND, "Could not find role"),
        }
    }
    let Some(user) = realm.users.iter_mut().find(|u| u.id == id) else {
        return not_found_user();
    };
    let set = user.client_roles.entry(client_id).or_default();
    for name in names {
        if add {
            set.insert(name);
        } else {
            set.remove(&name);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

pub async fn add_client_mappings(
    State(state): State<Shared>,
    Path(path): Path<(String, String, String)>,
    info: RequestInfo,
    body: String,
) -> Response {
    change_client_mappings(state, path, info, body, true).await
}

pub async fn remove_client_mappings(
    State(state): State<Shared>,
    Path(path): Path<(String, String, String)>,
    info: RequestInfo,
    body: String,
) -> Response {
    change_client_mappings(state, path, info, body, false).await
}
