//! The Admin REST API subset (`/admin/realms/...`) that test fixtures need, compatible with
//! `@keycloak/keycloak-admin-client`, and devserver's own fault knobs under `/admin/devserver`.
//! Every call needs a bearer token of a master-realm user with the `admin` realm role.

mod clients;
mod knobs;
mod realms;
mod roles;
mod users;

use std::collections::BTreeMap;

use axum::http::header::WWW_AUTHENTICATE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::events::EventBuilder;
use crate::http::{add_header, RequestInfo};
use crate::model::builtins;
use crate::model::{Realm, Role, User};
use crate::oidc::verify_access_token;
use crate::sessions::UserSession;
use crate::state::{AppState, Shared};

pub const MASTER: &str = crate::model::builtins::MASTER_REALM;

/// What an admin handler answers. The error side is a finished Keycloak-style response, so that
/// the admin check, body parsing and lookups can all use `?`.
pub type Reply = Result<Response, Response>;

pub fn routes() -> Router<Shared> {
    let r = "/admin/realms/{realm}";
    Router::new()
        .route("/admin/realms", get(realms::list).post(realms::create))
        .route(
            r,
            get(realms::get_one)
                .put(realms::update)
                .delete(realms::remove),
        )
        .route(
            &format!("{r}/events"),
            get(realms::events).delete(realms::clear_events),
        )
        .route(
            &format!("{r}/sessions/{{session}}"),
            delete(users::delete_session),
        )
        .route(
            &format!("{r}/roles"),
            get(realms::list_roles).post(realms::create_role),
        )
        .route(
            &format!("{r}/roles/{{name}}"),
            get(realms::get_role).delete(realms::delete_role),
        )
        .route(
            &format!("{r}/roles/{{name}}/composites"),
            get(roles::realm_role_composites)
                .post(roles::add_realm_role_composites)
                .delete(roles::remove_realm_role_composites),
        )
        .route(
            &format!("{r}/roles/{{name}}/users"),
            get(roles::realm_role_users),
        )
        .route(&format!("{r}/roles-by-id/{{id}}"), get(roles::by_id))
        .route(
            &format!("{r}/roles-by-id/{{id}}/composites"),
            get(roles::by_id_composites)
                .post(roles::add_by_id_composites)
                .delete(roles::remove_by_id_composites),
        )
        .route(&format!("{r}/users"), get(users::list).post(users::create))
        .route(&format!("{r}/users/count"), get(users::count))
        .route(
            &format!("{r}/users/{{id}}"),
            get(users::get_one).put(users::update).delete(users::remove),
        )
        .route(
            &format!("{r}/users/{{id}}/reset-password"),
            put(users::reset_password),
        )
        .route(&format!("{r}/users/{{id}}/sessions"), get(users::sessions))
        .route(&format!("{r}/users/{{id}}/logout"), post(users::logout))
        .route(
            &format!("{r}/users/{{id}}/role-mappings"),
            get(users::role_mappings),
        )
        .route(
            &format!("{r}/users/{{id}}/role-mappings/realm"),
            get(users::realm_mappings)
                .post(users::add_realm_mappings)
                .delete(users::remove_realm_mappings),
        )
        .route(
            &format!("{r}/users/{{id}}/role-mappings/realm/composite"),
            get(users::effective_realm_mappings),
        )
        .route(
            &format!("{r}/users/{{id}}/role-mappings/clients/{{client}}"),
            get(users::client_mappings)
                .post(users::add_client_mappings)
                .delete(users::remove_client_mappings),
        )
        .route(
            &format!("{r}/users/{{id}}/role-mappings/clients/{{client}}/composite"),
            get(users::effective_client_mappings),
        )
        .route(
            &format!("{r}/clients"),
            get(clients::list).post(clients::create),
        )
        .route(
            &format!("{r}/clients/{{id}}"),
            get(clients::get_one)
                .put(clients::update)
                .delete(clients::remove),
        )
        .route(
            &format!("{r}/clients/{{id}}/client-secret"),
            get(clients::secret).post(clients::regenerate_secret),
        )
        .route(
            &format!("{r}/clients/{{id}}/service-account-user"),
            get(clients::service_account_user),
        )
        .route(
            &format!("{r}/clients/{{id}}/roles"),
            get(clients::list_roles).post(clients::create_role),
        )
        .route(
            &format!("{r}/clients/{{id}}/roles/{{name}}"),
            get(clients::get_role).delete(clients::delete_role),
        )
        .route(
            &format!("{r}/clients/{{id}}/roles/{{name}}/users"),
            get(roles::client_role_users),
        )
        .route(
            &format!("{r}/clients/{{id}}/roles/{{name}}/composites"),
            get(roles::client_role_composites)
                .post(roles::add_client_role_composites)
                .delete(roles::remove_client_role_composites),
        )
        .merge(knobs::routes())
}

/// Keycloak's admin error bodies.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

pub fn conflict(message: &str) -> Response {
    (
        StatusCode::CONFLICT,
        Json(json!({ "errorMessage": message })),
    )
        .into_response()
}

pub fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "errorMessage": message })),
    )
        .into_response()
}

pub fn created(location: &str) -> Response {
    let mut response = StatusCode::CREATED.into_response();
    add_header(&mut response, axum::http::header::LOCATION, location);
    response
}

fn unauthorized() -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, "HTTP 401 Unauthorized");
    add_header(&mut response, WWW_AUTHENTICATE, "Bearer");
    response
}

fn forbidden() -> Response {
    error(StatusCode::FORBIDDEN, "unknown_error")
}

/// The user a valid access token of the realm was issued to.
fn token_user<'a>(realm: &'a Realm, state: &AppState, token: &str) -> Option<&'a User> {
    let claims = verify_access_token(realm, &state.keys(), token, state.now()).ok()?;
    claims
        .get("sub")
        .and_then(Value::as_str)
        .and_then(|sub| realm.user(sub))
}

/// Checks the bearer token: a valid master-realm access token of a user with the `admin` role.
/// For what only the master realm's admins may do: the realm list, creating and deleting
/// realms, devserver's knobs.
pub fn require_admin(state: &AppState, info: &RequestInfo) -> Result<(), Response> {
    let token = info.bearer().ok_or_else(unauthorized)?;
    let realms = state.realms();
    let master = realms.get(MASTER).ok_or_else(unauthorized)?;
    let user = token_user(master, state, &token).ok_or_else(unauthorized)?;
    if user.realm_roles.contains("admin") {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// The part of a realm an Admin API call is about.
#[derive(Clone, Copy, Debug)]
pub enum Area {
    Realm,
    Users,
    Clients,
    Events,
}

/// What an Admin API call on a realm needs, in Keycloak's `realm-management` roles.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// Reading roles and the realm itself: any management role.
    Any,
    View(Area),
    Manage(Area),
}

impl Need {
    fn granted_by(self, role: &str) -> bool {
        let allowed: &[&str] = match self {
            Need::Any => return true,
            Need::View(Area::Realm) => &["view-realm", "manage-realm"],
            Need::View(Area::Users) => &["view-users", "manage-users", "query-users"],
            Need::View(Area::Clients) => &["view-clients", "manage-clients", "query-clients"],
            Need::View(Area::Events) => &["view-events", "manage-events"],
            Need::Manage(Area::Realm) => &["manage-realm"],
            Need::Manage(Area::Users) => &["manage-users"],
            Need::Manage(Area::Clients) => &["manage-clients"],
            Need::Manage(Area::Events) => &["manage-events"],
        };
        allowed.contains(&role)
    }
}

/// Checks the bearer token for a call on `realm_name`: a master-realm admin may do anything; a
/// user (or service account) of that realm itself may do what its effective `realm-management`
/// roles grant, as in Keycloak. A token of any other realm is refused.
pub fn require(
    state: &AppState,
    info: &RequestInfo,
    realm_name: &str,
    need: Need,
) -> Result<(), Response> {
    let token = info.bearer().ok_or_else(unauthorized)?;
    let realms = state.realms();
    if let Some(user) = realms
        .get(MASTER)
        .and_then(|master| token_user(master, state, &token))
    {
        return if user.realm_roles.contains("admin") {
            Ok(())
        } else {
            Err(forbidden())
        };
    }
    let realm = realms.get(realm_name).ok_or_else(unauthorized)?;
    let user = token_user(realm, state, &token).ok_or_else(unauthorized)?;
    let management = builtins::management_client_id(&realm.name);
    let granted = realm
        .effective_client_roles(user)
        .get(&management)
        .is_some_and(|roles| roles.iter().any(|role| need.granted_by(role)));
    if granted {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// Parses a JSON body, answering Keycloak-style 400 on failure.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, Response> {
    let mut deserializer = serde_json::Deserializer::from_str(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        bad_request(&format!("Invalid JSON at {path}: {}", err.into_inner()))
    })
}

/// Like [`parse_body`], for calls whose body may be left out: no body means the defaults.
pub fn parse_optional_body<T: serde::de::DeserializeOwned + Default>(
    body: &str,
) -> Result<T, Response> {
    if body.trim().is_empty() {
        Ok(T::default())
    } else {
        parse_body(body)
    }
}

/// The realm named in the path, or Keycloak's 404.
pub fn find_realm<'a>(
    realms: &'a BTreeMap<String, Realm>,
    name: &str,
) -> Result<&'a Realm, Response> {
    realms.get(name).ok_or_else(realm_not_found)
}

pub fn find_realm_mut<'a>(
    realms: &'a mut BTreeMap<String, Realm>,
    name: &str,
) -> Result<&'a mut Realm, Response> {
    realms.get_mut(name).ok_or_else(realm_not_found)
}

fn realm_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Realm not found.")
}

pub fn role_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Could not find role")
}

/// A new role's composites must name roles of the realm.
pub fn check_composites(realm: &Realm, role: &Role) -> Result<(), Response> {
    if role.composites.iter().all(|m| realm.find_role(m).is_some()) {
        Ok(())
    } else {
        Err(error(
            StatusCode::NOT_FOUND,
            "Could not find composite role",
        ))
    }
}

/// Ends the realm's sessions that `filter` picks, with a LOGOUT event each that gives `reason`;
/// returns the ids of the sessions ended.
pub fn end_sessions(
    state: &Shared,
    realm: &mut Realm,
    info: &RequestInfo,
    reason: &str,
    filter: impl Fn(&UserSession) -> bool,
) -> Vec<String> {
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
                    .detail("reason", reason),
            );
        }
    }
    ids
}

/// The location base for created resources.
pub fn admin_url(info: &RequestInfo, realm: &str) -> String {
    format!("{}/admin/realms/{realm}", info.server_origin)
}
