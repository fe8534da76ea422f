//! Users: CRUD, password reset, sessions and role mappings.

use std::collections::BTreeSet;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{
    admin_url, bad_request, conflict, created, end_sessions, error, find_realm, find_realm_mut,
    parse_body, require, Area, Need, Reply,
};
use crate::http::RequestInfo;
use crate::import::apply_user_rep;
use crate::model::{is_reserved_username, Client, Password, Realm, Role, RoleRef, User};
use crate::representations::{
    role_ref_rep, role_rep, user_rep, CredentialRepresentation, RoleRepresentation,
    UserRepresentation,
};
use crate::state::Shared;
use crate::util::{form_decode, pair_value};

/// The user with this id, or Keycloak's 404.
fn find_user<'a>(realm: &'a Realm, id: &str) -> Result<&'a User, Response> {
    realm.user(id).ok_or_else(user_not_found)
}

fn find_user_mut<'a>(realm: &'a mut Realm, id: &str) -> Result<&'a mut User, Response> {
    realm
        .users
        .iter_mut()
        .find(|u| u.id == id)
        .ok_or_else(user_not_found)
}

fn user_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "User not found")
}

/// A client addressed by its internal id in a role-mapping path.
fn find_mapped_client<'a>(realm: &'a Realm, id: &str) -> Result<&'a Client, Response> {
    realm
        .client_by_uuid(id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "Client not found"))
}

fn matches_query(user: &User, params: &[(String, String)]) -> bool {
    let get = |name: &str| pair_value(params, name).map(str::to_lowercase);
    let exact = get("exact").as_deref() == Some("true");
    let test = |value: Option<&str>, wanted: &str| {
        let value = value.unwrap_or_default().to_lowercase();
        if exact {
            value == wanted
        } else {
            value.contains(wanted)
        }
    };
    let fields = [
        ("username", Some(user.username.as_str())),
        ("email", user.email.as_deref()),
        ("firstName", user.first_name.as_deref()),
        ("lastName", user.last_name.as_deref()),
    ];
    for (name, value) in fields {
        if let Some(wanted) = get(name) {
            if !test(value, &wanted) {
                return false;
            }
        }
    }
    for (name, value) in [
        ("enabled", user.enabled),
        ("emailVerified", user.email_verified),
    ] {
        if let Some(wanted) = get(name) {
            if wanted != value.to_string() {
                return false;
            }
        }
    }
    // `q=name:value name:value`: custom attributes, each matched exactly.
    if let Some(q) = pair_value(params, "q") {
        for condition in q.split_whitespace() {
            let (name, wanted) = condition.split_once(':').unwrap_or((condition, ""));
            let has = user
                .attributes
                .get(name)
                .is_some_and(|values| values.iter().any(|v| v == wanted));
            if !has {
                return false;
            }
        }
    }
    if let Some(search) = get("search") {
        let search = search.trim_matches('*');
        let hit = fields
            .into_iter()
            .filter_map(|(_, value)| value)
            .any(|v| v.to_lowercase().contains(search));
        if !hit {
            return false;
        }
    }
    true
}

/// The realm's users (service accounts aside) that the search parameters select.
fn matching_users<'a>(
    realm: &'a Realm,
    params: &'a [(String, String)],
) -> impl Iterator<Item = &'a User> {
    realm
        .users
        .iter()
        .filter(|u| u.service_account_client.is_none())
        .filter(|u| matches_query(u, params))
}

pub async fn list(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::View(Area::Users))?;
    let params = form_decode(query.as_deref().unwrap_or_default());
    let number = |name: &str| pair_value(&params, name).and_then(|v| v.parse::<usize>().ok());
    let first = number("first").unwrap_or(0);
    let max = number("max").unwrap_or(100);
    let realms = state.realms();
    let realm = find_realm(&realms, &realm)?;
    let users: Vec<Value> = matching_users(realm, &params)
        .skip(first)
        .take(max)
        .map(user_rep)
        .collect();
    Ok(Json(users).into_response())
}

pub async fn count(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::View(Area::Users))?;
    let params = form_decode(query.as_deref().unwrap_or_default());
    let realms = state.realms();
    let realm = find_realm(&realms, &realm)?;
    Ok(Json(matching_users(realm, &params).count()).into_response())
}

pub async fn create(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Users))?;
    let rep: UserRepresentation = parse_body(&body)?;
    let Some(username) = rep.username.clone().filter(|u| !u.trim().is_empty()) else {
        return Err(bad_request("User name is missing"));
    };
    let now_ms = state.now_ms();
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    if realm.user_by_username(&username).is_some() || is_reserved_username(&username) {
        return Err(conflict("User exists with same username"));
    }
    if let Some(email) = rep.email.as_deref().filter(|e| !e.is_empty()) {
        if realm.user_by_email(email).is_some() {
            return Err(conflict("User exists with same email"));
        }
    }
    // As in Keycloak, the representation's role lists are not mapped: only the default roles.
    let mut user = realm.new_user(username.trim(), now_ms);
    apply_user_rep(&mut user, &rep).map_err(|message| bad_request(&message))?;
    let location = format!("{}/users/{}", admin_url(&info, &realm_name), user.id);
    realm.users.push(user);
    Ok(created(&location))
}

pub async fn get_one(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::View(Area::Users))?;
    let realms = state.realms();
    let user = find_user(find_realm(&realms, &realm)?, &id)?;
    Ok(Json(user_rep(user)).into_response())
}

pub async fn update(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Users))?;
    let rep: UserRepresentation = parse_body(&body)?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    // Changed on a copy, so that a refused update leaves the user as it was.
    let mut user = find_user(realm, &id)?.clone();
    if let Some(username) = rep.username.as_deref() {
        if username.to_lowercase() != user.username {
            return Err(bad_request("error-user-attribute-read-only"));
        }
    }
    apply_user_rep(&mut user, &rep).map_err(|message| bad_request(&message))?;
    *find_user_mut(realm, &id)? = user;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn remove(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Users))?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    let before = realm.users.len();
    realm.users.retain(|u| u.id != id);
    if realm.users.len() == before {
        return Err(user_not_found());
    }
    realm.sessions.retain(|_, s| s.user_id != id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn reset_password(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Users))?;
    let rep: CredentialRepresentation = parse_body(&body)?;
    let Some(value) = rep.value.filter(|v| !v.is_empty()) else {
        return Err(bad_request("Password must not be empty"));
    };
    let mut realms = state.realms();
    let user = find_user_mut(find_realm_mut(&mut realms, &realm_name)?, &id)?;
    user.password = Some(Password::new(&value));
    if rep.temporary == Some(true) && !user.required_actions.iter().any(|a| a == "UPDATE_PASSWORD")
    {
        user.required_actions.push("UPDATE_PASSWORD".into());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn sessions(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::View(Area::Users))?;
    let now = state.now();
    let realms = state.realms();
    let realm = find_realm(&realms, &realm_name)?;
    let user = find_user(realm, &id)?;
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
    Ok(Json(list).into_response())
}

/// `POST /users/{id}/logout`: ends all of the user's sessions.
pub async fn logout(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Users))?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    find_user(realm, &id)?;
    end_sessions(&state, realm, &info, "admin", |s| s.user_id == id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /admin/realms/{realm}/sessions/{session}`: ends one session.
pub async fn delete_session(
    State(state): State<Shared>,
    Path((realm_name, session)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Users))?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    if end_sessions(&state, realm, &info, "admin", |s| s.id == session).is_empty() {
        return Err(error(StatusCode::NOT_FOUND, "Sesssion not found"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn realm_role_reps(realm: &Realm, user: &User) -> Vec<Value> {
    user.realm_roles
        .iter()
        .filter_map(|name| realm.role(name))
        .map(|r| role_rep(r, false, &realm.id))
        .collect()
}

fn client_role_reps(client: &Client, names: &BTreeSet<String>) -> Vec<Value> {
    names
        .iter()
        .filter_map(|name| client.role(name))
        .map(|r| role_rep(r, true, &client.id))
        .collect()
}

/// The user's effective roles (mapped ones and what their composites hold) that `keep` picks.
fn effective_role_reps(realm: &Realm, user: &User, keep: impl Fn(&RoleRef) -> bool) -> Vec<Value> {
    realm
        .expand_roles(realm.mapped_roles(user))
        .iter()
        .filter(|role| keep(role))
        .filter_map(|role| role_ref_rep(realm, role))
        .collect()
}

pub async fn role_mappings(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::View(Area::Users))?;
    let realms = state.realms();
    let realm = find_realm(&realms, &realm_name)?;
    let user = find_user(realm, &id)?;
    let mut client_mappings = serde_json::Map::new();
    for (client_id, roles) in &user.client_roles {
        let Some(client) = realm.client(client_id) else {
            continue;
        };
        let mappings = client_role_reps(client, roles);
        if mappings.is_empty() {
            continue;
        }
        client_mappings.insert(
            client_id.clone(),
            json!({
                "id": client.id,
                "client": client.client_id,
                "mappings": mappings,
            }),
        );
    }
    // Keycloak leaves out the parts that have no roles.
    let mut body = serde_json::Map::new();
    let realm_mappings = realm_role_reps(realm, user);
    if !realm_mappings.is_empty() {
        body.insert("realmMappings".into(), json!(realm_mappings));
    }
    if !client_mappings.is_empty() {
        body.insert("clientMappings".into(), Value::Object(client_mappings));
    }
    Ok(Json(Value::Object(body)).into_response())
}

pub async fn realm_mappings(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::View(Area::Users))?;
    let realms = state.realms();
    let realm = find_realm(&realms, &realm_name)?;
    let user = find_user(realm, &id)?;
    Ok(Json(realm_role_reps(realm, user)).into_response())
}

/// `GET .../role-mappings/realm/composite`: the user's effective realm roles.
pub async fn effective_realm_mappings(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::View(Area::Users))?;
    let realms = state.realms();
    let realm = find_realm(&realms, &realm_name)?;
    let user = find_user(realm, &id)?;
    let list = effective_role_reps(realm, user, |role| matches!(role, RoleRef::Realm(_)));
    Ok(Json(list).into_response())
}

/// The names of the roles a role-mapping body lists; as in Keycloak, each must give the name
/// and the id of one of `roles`.
fn mapped_role_names(reps: &[RoleRepresentation], roles: &[Role]) -> Result<Vec<String>, Response> {
    reps.iter()
        .map(|rep| {
            roles
                .iter()
                .find(|r| rep.name.as_deref() == Some(r.name.as_str()))
                .filter(|r| rep.id.as_deref() == Some(r.id.as_str()))
                .map(|role| role.name.clone())
                .ok_or_else(|| error(StatusCode::NOT_FOUND, "Role not found"))
        })
        .collect()
}

/// Adds the roles to one of a user's role sets, or removes them.
fn change_roles(set: &mut BTreeSet<String>, names: Vec<String>, add: bool) {
    for name in names {
        if add {
            set.insert(name);
        } else {
            set.remove(&name);
        }
    }
}

async fn change_realm_mappings(
    state: Shared,
    realm_name: String,
    id: String,
    info: RequestInfo,
    body: String,
    add: bool,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Users))?;
    let reps: Vec<RoleRepresentation> = parse_body(&body)?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    let names = mapped_role_names(&reps, &realm.roles)?;
    let user = find_user_mut(realm, &id)?;
    change_roles(&mut user.realm_roles, names, add);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn add_realm_mappings(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    change_realm_mappings(state, realm, id, info, body, true).await
}

pub async fn remove_realm_mappings(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    change_realm_mappings(state, realm, id, info, body, false).await
}

pub async fn client_mappings(
    State(state): State<Shared>,
    Path((realm_name, id, client_uuid)): Path<(String, String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::View(Area::Users))?;
    let realms = state.realms();
    let realm = find_realm(&realms, &realm_name)?;
    let user = find_user(realm, &id)?;
    let client = find_mapped_client(realm, &client_uuid)?;
    let list = user
        .client_roles
        .get(&client.client_id)
        .map(|names| client_role_reps(client, names))
        .unwrap_or_default();
    Ok(Json(list).into_response())
}

/// `GET .../role-mappings/clients/{client}/composite`: the user's effective roles of the client.
pub async fn effective_client_mappings(
    State(state): State<Shared>,
    Path((realm_name, id, client_uuid)): Path<(String, String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::View(Area::Users))?;
    let realms = state.realms();
    let realm = find_realm(&realms, &realm_name)?;
    let user = find_user(realm, &id)?;
    let client_id = find_mapped_client(realm, &client_uuid)?.client_id.clone();
    let list = effective_role_reps(
        realm,
        user,
        |role| matches!(role, RoleRef::Client { client_id: c, .. } if *c == client_id),
    );
    Ok(Json(list).into_response())
}

async fn change_client_mappings(
    state: Shared,
    (realm_name, id, client_uuid): (String, String, String),
    info: RequestInfo,
    body: String,
    add: bool,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Users))?;
    let reps: Vec<RoleRepresentation> = parse_body(&body)?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    let client = find_mapped_client(realm, &client_uuid)?;
    let client_id = client.client_id.clone();
    let names = mapped_role_names(&reps, &client.roles)?;
    let user = find_user_mut(realm, &id)?;
    change_roles(user.client_roles.entry(client_id).or_default(), names, add);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn add_client_mappings(
    State(state): State<Shared>,
    Path(path): Path<(String, String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    change_client_mappings(state, path, info, body, true).await
}

pub async fn remove_client_mappings(
    State(state): State<Shared>,
    Path(path): Path<(String, String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    change_client_mappings(state, path, info, body, false).await
}
