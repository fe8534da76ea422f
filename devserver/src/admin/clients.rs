//! Clients and client roles. Clients are addressed by their internal id (UUID), as in Keycloak.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{
    admin_url, bad_request, check_composites, conflict, created, error, find_realm, find_realm_mut,
    parse_body, require, role_not_found, Area, Need, Reply,
};
use crate::http::RequestInfo;
use crate::import::{apply_client_rep, ensure_service_account_users, role_from_rep};
use crate::model::{Client, Realm, RoleRef};
use crate::representations::{
    client_rep, role_rep, user_rep, ClientRepresentation, RoleRepresentation,
};
use crate::state::Shared;
use crate::util::{form_decode, pair_value, random_token};

/// The client with this internal id, or Keycloak's 404.
fn find_client<'a>(realm: &'a Realm, id: &str) -> Result<&'a Client, Response> {
    realm.client_by_uuid(id).ok_or_else(client_not_found)
}

fn find_client_mut<'a>(realm: &'a mut Realm, id: &str) -> Result<&'a mut Client, Response> {
    realm
        .clients
        .iter_mut()
        .find(|c| c.id == id)
        .ok_or_else(client_not_found)
}

fn client_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Could not find client")
}

pub async fn list(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::View(Area::Clients))?;
    let params = form_decode(query.as_deref().unwrap_or_default());
    let wanted = pair_value(&params, "clientId");
    let search = params.iter().any(|(k, v)| k == "search" && v == "true");
    let realms = state.realms();
    let realm = find_realm(&realms, &realm)?;
    let number = |name: &str| pair_value(&params, name).and_then(|v| v.parse::<usize>().ok());
    let list: Vec<Value> = realm
        .clients
        .iter()
        .filter(|c| match wanted {
            Some(w) if search => c.client_id.contains(w),
            Some(w) => c.client_id == w,
            None => true,
        })
        .skip(number("first").unwrap_or(0))
        .take(number("max").unwrap_or(usize::MAX))
        .map(client_rep)
        .collect();
    Ok(Json(list).into_response())
}

pub async fn create(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Clients))?;
    let rep: ClientRepresentation = parse_body(&body)?;
    let Some(client_id) = rep.client_id.clone().filter(|c| !c.is_empty()) else {
        return Err(bad_request("Client id is missing"));
    };
    let now_ms = state.now_ms();
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    if realm.client(&client_id).is_some() {
        return Err(conflict(&format!("Client {client_id} already exists")));
    }
    let mut client = Client::new(&client_id);
    if let Some(id) = rep.id.clone().filter(|id| !id.is_empty()) {
        client.id = id;
    }
    apply_client_rep(&mut client, &rep);
    let location = format!("{}/clients/{}", admin_url(&info, &realm_name), client.id);
    realm.clients.push(client);
    ensure_service_account_users(realm, now_ms);
    Ok(created(&location))
}

pub async fn get_one(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::View(Area::Clients))?;
    let realms = state.realms();
    let client = find_client(find_realm(&realms, &realm)?, &id)?;
    Ok(Json(client_rep(client)).into_response())
}

pub async fn update(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Clients))?;
    let rep: ClientRepresentation = parse_body(&body)?;
    let now_ms = state.now_ms();
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    let client = find_client_mut(realm, &id)?;
    if let Some(new_id) = rep.client_id.as_deref() {
        if new_id != client.client_id {
            return Err(bad_request(
                "Renaming a client is not supported by devserver",
            ));
        }
    }
    apply_client_rep(client, &rep);
    ensure_service_account_users(realm, now_ms);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn remove(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Clients))?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    let client_id = find_client(realm, &id)?.client_id.clone();
    realm.clients.retain(|c| c.id != id);
    realm
        .users
        .retain(|u| u.service_account_client.as_deref() != Some(client_id.as_str()));
    realm.forget_client(&client_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn secret(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::Manage(Area::Clients))?;
    let realms = state.realms();
    let client = find_client(find_realm(&realms, &realm)?, &id)?;
    Ok(Json(json!({ "type": "secret", "value": client.secret })).into_response())
}

/// `POST .../client-secret`: a new secret for a confidential client; the old one stops working.
pub async fn regenerate_secret(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Clients))?;
    let mut realms = state.realms();
    let client = find_client_mut(find_realm_mut(&mut realms, &realm_name)?, &id)?;
    if client.public_client {
        return Err(bad_request("Public clients have no secret"));
    }
    let secret = random_token(24);
    client.secret = Some(secret.clone());
    Ok(Json(json!({ "type": "secret", "value": secret })).into_response())
}

pub async fn service_account_user(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::View(Area::Clients))?;
    let realms = state.realms();
    let realm = find_realm(&realms, &realm)?;
    let client = find_client(realm, &id)?;
    let user = realm
        .service_account_user(&client.client_id)
        .ok_or_else(|| bad_request("Service account not enabled for the client"))?;
    Ok(Json(user_rep(user)).into_response())
}

pub async fn list_roles(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::Any)?;
    let realms = state.realms();
    let client = find_client(find_realm(&realms, &realm)?, &id)?;
    let roles: Vec<Value> = client
        .roles
        .iter()
        .map(|r| role_rep(r, true, &client.id))
        .collect();
    Ok(Json(roles).into_response())
}

pub async fn create_role(
    State(state): State<Shared>,
    Path((realm_name, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Clients))?;
    let rep: RoleRepresentation = parse_body(&body)?;
    let role = role_from_rep(&rep).map_err(|message| bad_request(&message))?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    check_composites(realm, &role)?;
    let client = find_client_mut(realm, &id)?;
    if client.role(&role.name).is_some() {
        return Err(conflict(&format!(
            "Role with name {} already exists",
            role.name
        )));
    }
    let location = format!(
        "{}/clients/{}/roles/{}",
        admin_url(&info, &realm_name),
        id,
        role.name
    );
    client.roles.push(role);
    Ok(created(&location))
}

pub async fn get_role(
    State(state): State<Shared>,
    Path((realm, id, name)): Path<(String, String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::Any)?;
    let realms = state.realms();
    let client = find_client(find_realm(&realms, &realm)?, &id)?;
    let role = client.role(&name).ok_or_else(role_not_found)?;
    Ok(Json(role_rep(role, true, &client.id)).into_response())
}

pub async fn delete_role(
    State(state): State<Shared>,
    Path((realm_name, id, name)): Path<(String, String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Clients))?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    let client = find_client_mut(realm, &id)?;
    let before = client.roles.len();
    client.roles.retain(|r| r.name != name);
    if client.roles.len() == before {
        return Err(role_not_found());
    }
    let client_id = client.client_id.clone();
    realm.forget_role(&RoleRef::client(&client_id, &name));
    Ok(StatusCode::NO_CONTENT.into_response())
}
