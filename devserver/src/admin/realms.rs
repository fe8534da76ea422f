//! Realms, realm roles and events.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::Value;

use super::{
    admin_url, bad_request, check_composites, conflict, created, find_realm, find_realm_mut,
    parse_body, require, require_admin, role_not_found, Area, Need, Reply, MASTER,
};
use crate::http::RequestInfo;
use crate::import::{apply_realm_settings, realm_from_rep, role_from_rep};
use crate::model::RoleRef;
use crate::representations::{realm_rep, role_rep, RealmRepresentation, RoleRepresentation};
use crate::state::Shared;
use crate::util::{form_decode, pair_value};

pub async fn list(State(state): State<Shared>, info: RequestInfo) -> Reply {
    require_admin(&state, &info)?;
    let realms = state.realms();
    Ok(Json(realms.values().map(realm_rep).collect::<Vec<Value>>()).into_response())
}

pub async fn create(State(state): State<Shared>, info: RequestInfo, body: String) -> Reply {
    require_admin(&state, &info)?;
    let rep: RealmRepresentation = parse_body(&body)?;
    let realm = realm_from_rep(rep, state.now_ms()).map_err(|message| bad_request(&message))?;
    let mut realms = state.realms();
    if realms.contains_key(&realm.name) {
        return Err(conflict("Conflict detected. See logs for details"));
    }
    let name = realm.name.clone();
    realms.insert(name.clone(), realm);
    Ok(created(&admin_url(&info, &name)))
}

pub async fn get_one(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::Any)?;
    let realms = state.realms();
    Ok(Json(realm_rep(find_realm(&realms, &realm)?)).into_response())
}

pub async fn update(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Realm))?;
    let rep: RealmRepresentation = parse_body(&body)?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    if rep.realm.as_deref().is_some_and(|n| n != realm_name) {
        return Err(bad_request(
            "Renaming a realm is not supported by devserver",
        ));
    }
    apply_realm_settings(realm, &rep);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn remove(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Reply {
    require_admin(&state, &info)?;
    if realm == MASTER {
        return Err(bad_request("The master realm cannot be removed"));
    }
    let mut realms = state.realms();
    find_realm(&realms, &realm)?;
    realms.remove(&realm);
    state.events.clear(&realm);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Keycloak's event query: `type` (repeatable), `client`, `user`, `first`, `max` (default 100).
pub async fn events(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::View(Area::Events))?;
    find_realm(&state.realms(), &realm)?;
    let params = form_decode(query.as_deref().unwrap_or_default());
    let types: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "type")
        .map(|(_, v)| v.as_str())
        .collect();
    let number = |name: &str| pair_value(&params, name).and_then(|v| v.parse::<usize>().ok());
    let first = number("first").unwrap_or(0);
    let max = number("max").unwrap_or(100);
    let client = pair_value(&params, "client");
    let user = pair_value(&params, "user");
    let list: Vec<_> = state
        .events
        .recent(&realm)
        .into_iter()
        .filter(|e| types.is_empty() || types.contains(&e.kind.as_str()))
        .filter(|e| client.is_none() || e.client_id.as_deref() == client)
        .filter(|e| user.is_none() || e.user_id.as_deref() == user)
        .skip(first)
        .take(max)
        .collect();
    Ok(Json(list).into_response())
}

pub async fn clear_events(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::Manage(Area::Events))?;
    state.events.clear(&realm);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_roles(
    State(state): State<Shared>,
    Path(realm): Path<String>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::Any)?;
    let realms = state.realms();
    let realm = find_realm(&realms, &realm)?;
    let roles: Vec<Value> = realm
        .roles
        .iter()
        .map(|r| role_rep(r, false, &realm.id))
        .collect();
    Ok(Json(roles).into_response())
}

pub async fn create_role(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
    body: String,
) -> Reply {
    require(&state, &info, &realm_name, Need::Manage(Area::Realm))?;
    let rep: RoleRepresentation = parse_body(&body)?;
    let role = role_from_rep(&rep).map_err(|message| bad_request(&message))?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    check_composites(realm, &role)?;
    if realm.role(&role.name).is_some() {
        return Err(conflict(&format!(
            "Role with name {} already exists",
            role.name
        )));
    }
    let location = format!("{}/roles/{}", admin_url(&info, &realm_name), role.name);
    realm.roles.push(role);
    Ok(created(&location))
}

pub async fn get_role(
    State(state): State<Shared>,
    Path((realm, name)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::Any)?;
    let realms = state.realms();
    let realm = find_realm(&realms, &realm)?;
    let role = realm.role(&name).ok_or_else(role_not_found)?;
    Ok(Json(role_rep(role, false, &realm.id)).into_response())
}

pub async fn delete_role(
    State(state): State<Shared>,
    Path((realm, name)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::Manage(Area::Realm))?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm)?;
    let before = realm.roles.len();
    realm.roles.retain(|r| r.name != name);
    if realm.roles.len() == before {
        return Err(role_not_found());
    }
    realm.forget_role(&RoleRef::Realm(name));
    Ok(StatusCode::NO_CONTENT.into_response())
}
