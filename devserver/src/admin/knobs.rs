//! devserver's fault knobs, for tests of failure paths (master-realm admin token required):
//!
//! - `GET|POST|DELETE /admin/devserver/faults`, `DELETE /admin/devserver/faults/{id}`:
//!   rules that delay, fail or hang the next requests to an endpoint (see `faults::FaultRule`);
//!   `POST /admin/devserver/faults/release` lets the requests hung so far go on.
//! - `POST /admin/devserver/keys/rotate` `{"keepOld": true}`: a new active signing key.
//! - `DELETE /admin/devserver/realms/{realm}/users/{username}/sessions`: drop a user's sessions.
//! - `POST /admin/devserver/realms/{realm}/expire-logins`: pending login forms answer
//!   `authentication_expired` when posted.
//! - `GET|PUT /admin/devserver/clock` `{"offsetSeconds": N}`: shift the server's clock.
//! - `GET|PUT /admin/devserver/logout-confirmation` `{"always": true}`: ask the user to confirm
//!   every logout, also one with a valid `id_token_hint`.
//! - `GET /admin/devserver/hub`: the hub's connections, key sources and counters;
//!   `POST /admin/devserver/hub/restart` `{"downMs": N}` or `{"forever": true}`: close every
//!   `/events` connection with 1012 and refuse new ones for a while; `POST .../hub/start` ends it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering;

use super::{
    bad_request, end_sessions, error, find_realm_mut, parse_body, parse_optional_body,
    require_admin, Reply,
};
use crate::faults::FaultRule;
use crate::http::RequestInfo;
use crate::state::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/admin/devserver/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/admin/devserver/faults/release", post(release_faults))
        .route("/admin/devserver/faults/{id}", delete(remove_fault))
        .route("/admin/devserver/keys/rotate", post(rotate_keys))
        .route(
            "/admin/devserver/realms/{realm}/users/{username}/sessions",
            delete(drop_sessions),
        )
        .route(
            "/admin/devserver/realms/{realm}/expire-logins",
            post(expire_logins),
        )
        .route("/admin/devserver/clock", get(get_clock).put(set_clock))
        .route(
            "/admin/devserver/logout-confirmation",
            get(get_logout_confirmation).put(set_logout_confirmation),
        )
        .route("/admin/devserver/hub", get(hub_status))
        .route("/admin/devserver/hub/restart", post(restart_hub))
        .route("/admin/devserver/hub/start", post(start_hub))
}

async fn list_faults(State(state): State<Shared>, info: RequestInfo) -> Reply {
    require_admin(&state, &info)?;
    Ok(Json(state.faults.list()).into_response())
}

async fn add_fault(State(state): State<Shared>, info: RequestInfo, body: String) -> Reply {
    require_admin(&state, &info)?;
    let rule: FaultRule = parse_body(&body)?;
    match state.faults.add(rule) {
        Ok(rule) => Ok((StatusCode::CREATED, Json(rule)).into_response()),
        Err(message) => Err(bad_request(&message)),
    }
}

async fn clear_faults(State(state): State<Shared>, info: RequestInfo) -> Reply {
    require_admin(&state, &info)?;
    state.faults.clear();
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn release_faults(State(state): State<Shared>, info: RequestInfo) -> Reply {
    require_admin(&state, &info)?;
    state.faults.release();
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_fault(
    State(state): State<Shared>,
    Path(id): Path<String>,
    info: RequestInfo,
) -> Reply {
    require_admin(&state, &info)?;
    if state.faults.remove(&id) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(error(StatusCode::NOT_FOUND, "No such fault rule"))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RotateRequest {
    #[serde(default = "yes")]
    keep_old: bool,
}

/// No body keeps the old key too.
impl Default for RotateRequest {
    fn default() -> RotateRequest {
        RotateRequest { keep_old: true }
    }
}

fn yes() -> bool {
    true
}

async fn rotate_keys(State(state): State<Shared>, info: RequestInfo, body: String) -> Reply {
    require_admin(&state, &info)?;
    let request: RotateRequest = parse_optional_body(&body)?;
    let key = match tokio::task::spawn_blocking(crate::keys::generate_rsa_key).await {
        Ok(Ok(key)) => key,
        Ok(Err(message)) => return Err(error(StatusCode::INTERNAL_SERVER_ERROR, &message)),
        Err(err) => return Err(error(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string())),
    };
    let kid = state.keys_mut().rotate(key, request.keep_old);
    Ok(Json(json!({ "kid": kid, "keptOld": request.keep_old })).into_response())
}

async fn drop_sessions(
    State(state): State<Shared>,
    Path((realm_name, username)): Path<(String, String)>,
    info: RequestInfo,
) -> Reply {
    require_admin(&state, &info)?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    let Some(user_id) = realm.user_by_username(&username).map(|u| u.id.clone()) else {
        return Err(error(StatusCode::NOT_FOUND, "User not found"));
    };
    let ids = end_sessions(&state, realm, &info, "devserver fault knob", |s| {
        s.user_id == user_id
    });
    Ok(Json(json!({ "dropped": ids })).into_response())
}

async fn expire_logins(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    info: RequestInfo,
) -> Reply {
    require_admin(&state, &info)?;
    let mut realms = state.realms();
    let realm = find_realm_mut(&mut realms, &realm_name)?;
    let mut count = 0;
    for session in realm.auth_sessions.values_mut() {
        session.expired = true;
        count += 1;
    }
    Ok(Json(json!({ "expired": count })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Clock {
    offset_seconds: i64,
}

fn clock_body(state: &Shared) -> serde_json::Value {
    json!({ "offsetSeconds": state.clock_offset(), "now": state.now() })
}

async fn get_clock(State(state): State<Shared>, info: RequestInfo) -> Reply {
    require_admin(&state, &info)?;
    Ok(Json(clock_body(&state)).into_response())
}

async fn set_clock(State(state): State<Shared>, info: RequestInfo, body: String) -> Reply {
    require_admin(&state, &info)?;
    let clock: Clock = parse_body(&body)?;
    state.set_clock_offset(clock.offset_seconds);
    Ok(Json(clock_body(&state)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LogoutConfirmation {
    always: bool,
}

fn logout_confirmation_body(state: &Shared) -> serde_json::Value {
    json!({ "always": state.confirm_logouts.load(Ordering::Relaxed) })
}

async fn get_logout_confirmation(State(state): State<Shared>, info: RequestInfo) -> Reply {
    require_admin(&state, &info)?;
    Ok(Json(logout_confirmation_body(&state)).into_response())
}

async fn set_logout_confirmation(
    State(state): State<Shared>,
    info: RequestInfo,
    body: String,
) -> Reply {
    require_admin(&state, &info)?;
    let request: LogoutConfirmation = parse_body(&body)?;
    state
        .confirm_logouts
        .store(request.always, Ordering::Relaxed);
    Ok(Json(logout_confirmation_body(&state)).into_response())
}

fn hub_status_body(state: &Shared) -> serde_json::Value {
    let down = state.hub.down_for();
    json!({
        "up": down.is_none(),
        "downForMs": down.flatten().map(|d| d.as_millis() as u64),
        "connections": state.hub.connections(),
        "ingestConnections": state.hub.ingest_connections(),
        "keySources": state.hub.key_sources(),
        "stats": state.hub.stats(),
    })
}

async fn hub_status(State(state): State<Shared>, info: RequestInfo) -> Reply {
    require_admin(&state, &info)?;
    Ok(Json(hub_status_body(&state)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Restart {
    /// Refuse new connections for this long (default 0: reconnects are accepted at once).
    #[serde(default)]
    down_ms: Option<u64>,
    /// Refuse new connections until `POST /admin/devserver/hub/start`.
    #[serde(default)]
    forever: bool,
}

async fn restart_hub(State(state): State<Shared>, info: RequestInfo, body: String) -> Reply {
    require_admin(&state, &info)?;
    let request: Restart = parse_optional_body(&body)?;
    if request.forever && request.down_ms.is_some() {
        return Err(bad_request("give either downMs or forever, not both"));
    }
    let down = if request.forever {
        None
    } else {
        Some(std::time::Duration::from_millis(
            request.down_ms.unwrap_or(0),
        ))
    };
    let closed = state.hub.restart(down);
    let mut body = hub_status_body(&state);
    if let Some(fields) = body.as_object_mut() {
        fields.insert("closed".into(), json!(closed));
    }
    Ok(Json(body).into_response())
}

async fn start_hub(State(state): State<Shared>, info: RequestInfo) -> Reply {
    require_admin(&state, &info)?;
    state.hub.start();
    Ok(Json(hub_status_body(&state)).into_response())
}
