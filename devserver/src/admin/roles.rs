//! Composite roles (`.../composites` of realm and client roles) and roles addressed by id
//! (`/roles-by-id/{id}`), as `roles.createComposite` and `roles.getCompositeRoles` call them.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::{
    error, find_realm, find_realm_mut, parse_body, require, role_not_found, Area, Need, Reply,
};
use crate::http::RequestInfo;
use crate::model::{Realm, RoleRef};
use crate::representations::{role_ref_rep, user_rep, RoleRepresentation};
use crate::state::Shared;
use crate::util::{form_decode, pair_value};

/// How a path names a role.
enum Addressed {
    Realm(String),
    Client { uuid: String, name: String },
    Id(String),
}

/// The role the path names, or Keycloak's 404.
fn resolve(realm: &Realm, addressed: &Addressed) -> Result<RoleRef, Response> {
    let found = match addressed {
        Addressed::Realm(name) => realm.role(name).map(|_| RoleRef::Realm(name.clone())),
        Addressed::Client { uuid, name } => {
            let client = realm
                .client_by_uuid(uuid)
                .ok_or_else(|| error(StatusCode::NOT_FOUND, "Could not find client"))?;
            client
                .role(name)
                .map(|_| RoleRef::client(&client.client_id, name))
        }
        Addressed::Id(id) => realm.role_by_id(id),
    };
    found.ok_or_else(role_not_found)
}

/// The roles a composites body lists; as in Keycloak, each is named by its id.
fn composite_members(realm: &Realm, reps: &[RoleRepresentation]) -> Result<Vec<RoleRef>, Response> {
    reps.iter()
        .map(|rep| {
            rep.id
                .as_deref()
                .and_then(|id| realm.role_by_id(id))
                .ok_or_else(|| error(StatusCode::NOT_FOUND, "Could not find composite role"))
        })
        .collect()
}

fn list_composites(state: &Shared, info: &RequestInfo, realm: &str, addressed: Addressed) -> Reply {
    require(state, info, realm, Need::Any)?;
    let realms = state.realms();
    let realm = find_realm(&realms, realm)?;
    let role = resolve(realm, &addressed)?;
    let members: Vec<Value> = realm
        .find_role(&role)
        .map(|r| {
            r.composites
                .iter()
                .filter_map(|m| role_ref_rep(realm, m))
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(members).into_response())
}

fn change_composites(
    state: &Shared,
    info: &RequestInfo,
    realm: &str,
    addressed: Addressed,
    body: &str,
    add: bool,
) -> Reply {
    // Changing a client's roles is managing clients; realm roles belong to the realm.
    let need = match addressed {
        Addressed::Client { .. } => Need::Manage(Area::Clients),
        Addressed::Realm(_) | Addressed::Id(_) => Need::Manage(Area::Realm),
    };
    require(state, info, realm, need)?;
    let reps: Vec<RoleRepresentation> = parse_body(body)?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, realm)?;
    let role = resolve(realm, &addressed)?;
    let members = composite_members(realm, &reps)?;
    if let Some(role) = realm.find_role_mut(&role) {
        for member in members {
            if add {
                role.composites.insert(member);
            } else {
                role.composites.remove(&member);
            }
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn realm_role_composites(
    State(state): State<Shared>,
    Path((realm, name)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    list_composites(&state, &info, &realm, Addressed::Realm(name))
}

pub async fn add_realm_role_composites(
    State(state): State<Shared>,
    Path((realm, name)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    change_composites(&state, &info, &realm, Addressed::Realm(name), &body, true)
}

pub async fn remove_realm_role_composites(
    State(state): State<Shared>,
    Path((realm, name)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    change_composites(&state, &info, &realm, Addressed::Realm(name), &body, false)
}

pub async fn client_role_composites(
    State(state): State<Shared>,
    Path((realm, uuid, name)): Path<(String, String, String)>,
    info: RequestInfo,
) -> Reply {
    list_composites(&state, &info, &realm, Addressed::Client { uuid, name })
}

pub async fn add_client_role_composites(
    State(state): State<Shared>,
    Path((realm, uuid, name)): Path<(String, String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    let addressed = Addressed::Client { uuid, name };
    change_composites(&state, &info, &realm, addressed, &body, true)
}

pub async fn remove_client_role_composites(
    State(state): State<Shared>,
    Path((realm, uuid, name)): Path<(String, String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    let addressed = Addressed::Client { uuid, name };
    change_composites(&state, &info, &realm, addressed, &body, false)
}

/// `GET /roles-by-id/{id}`: a realm or client role.
pub async fn by_id(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require(&state, &info, &realm, Need::Any)?;
    let realms = state.realms();
    let realm = find_realm(&realms, &realm)?;
    let role = resolve(realm, &Addressed::Id(id))?;
    let rep = role_ref_rep(realm, &role).ok_or_else(role_not_found)?;
    Ok(Json(rep).into_response())
}

pub async fn by_id_composites(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    list_composites(&state, &info, &realm, Addressed::Id(id))
}

pub async fn add_by_id_composites(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    change_composites(&state, &info, &realm, Addressed::Id(id), &body, true)
}

pub async fn remove_by_id_composites(
    State(state): State<Shared>,
    Path((realm, id)): Path<(String, String)>,
    info: RequestInfo,
    body: String,
) -> Reply {
    change_composites(&state, &info, &realm, Addressed::Id(id), &body, false)
}

/// The users the role is mapped to directly (`first`, `max`: paging, 100 by default).
fn role_users(
    state: &Shared,
    info: &RequestInfo,
    realm: &str,
    addressed: Addressed,
    query: Option<&str>,
) -> Reply {
    require(state, info, realm, Need::View(Area::Users))?;
    let params = form_decode(query.unwrap_or_default());
    let number = |name: &str| pair_value(&params, name).and_then(|v| v.parse::<usize>().ok());
    let realms = state.realms();
    let realm = find_realm(&realms, realm)?;
    let role = resolve(realm, &addressed)?;
    let users: Vec<Value> = realm
        .users
        .iter()
        .filter(|user| realm.mapped_roles(user).contains(&role))
        .skip(number("first").unwrap_or(0))
        .take(number("max").unwrap_or(100))
        .map(user_rep)
        .collect();
    Ok(Json(users).into_response())
}

pub async fn realm_role_users(
    State(state): State<Shared>,
    Path((realm, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Reply {
    role_users(
        &state,
        &info,
        &realm,
        Addressed::Realm(name),
        query.as_deref(),
    )
}

pub async fn client_role_users(
    State(state): State<Shared>,
    Path((realm, uuid, name)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Reply {
    let addressed = Addressed::Client { uuid, name };
    role_users(&state, &info, &realm, addressed, query.as_deref())
}
