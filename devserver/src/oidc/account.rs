//! `/realms/{realm}/account`: the profile JSON keycloak-js' loadUserProfile reads (bearer token,
//! `Accept: application/json`), or a small account page for browsers.

use axum::extract::{Path, RawQuery, State};
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::authorize::realm_title;
use super::{sso_session, verify_access_token, Sso};
use crate::http::{
    add_header, cors, html, json_no_store, oauth_error, preflight as cors_preflight,
    realm_not_found, token_allows_origin, RequestInfo,
};
use crate::model::User;
use crate::pages;
use crate::state::Shared;
use crate::util::{form_decode, pair_value};

pub async fn preflight(info: RequestInfo) -> Response {
    cors_preflight(&info, "GET, POST, OPTIONS")
}

fn profile(user: &User) -> Value {
    let attribute = |name: &str, display: &str, required: bool| {
        json!({
            "name": name,
            "displayName": display,
            "required": required,
            "readOnly": name == "username",
            "validators": {},
            "multivalued": false,
        })
    };
    let mut body = json!({
        "id": user.id,
        "username": user.username,
        "emailVerified": user.email_verified,
        "userProfileMetadata": {
            "attributes": [
                attribute("username", "${username}", true),
                attribute("email", "${email}", true),
                attribute("firstName", "${firstName}", true),
                attribute("lastName", "${lastName}", true),
            ],
            "groups": [],
        },
    });
    if let Some(obj) = body.as_object_mut() {
        if let Some(v) = &user.first_name {
            obj.insert("firstName".into(), json!(v));
        }
        if let Some(v) = &user.last_name {
            obj.insert("lastName".into(), json!(v));
        }
        if let Some(v) = &user.email {
            obj.insert("email".into(), json!(v));
        }
        if !user.attributes.is_empty() {
            obj.insert("attributes".into(), json!(user.attributes));
        }
    }
    body
}

pub async fn account(
    State(state): State<Shared>,
    Path(realm_name): Path<String>,
    RawQuery(query): RawQuery,
    info: RequestInfo,
) -> Response {
    if let Some(mut response) = state.faults.inject_api("account", &realm_name, None).await {
        cors(&mut response, info.origin(), true);
        return response;
    }
    let now = state.now();
    let realms = state.realms();
    let Some(realm) = realms.get(&realm_name) else {
        return realm_not_found();
    };
    let keys = state.keys();
    if !info.accepts_json() {
        let params = form_decode(query.as_deref().unwrap_or_default());
        let get = |name: &str| pair_value(&params, name).map(str::to_string);
        let user = match sso_session(realm, &keys, &info, now) {
            Sso::Active(sid) => realm
                .sessions
                .get(&sid)
                .and_then(|s| realm.user(&s.user_id))
                .map(|u| u.username.clone()),
            _ => None,
        };
        let referrer = match (get("referrer"), get("referrer_uri")) {
            (Some(name), Some(uri)) => realm
                .client(&name)
                .and_then(|c| c.verify_redirect_uri(&uri, &info.server_origin))
                .map(|uri| (name, uri)),
            _ => None,
        };
        return html(
            StatusCode::OK,
            pages::account(
                &realm_title(realm),
                user.as_deref(),
                referrer.as_ref().map(|(n, u)| (n.as_str(), u.as_str())),
            ),
        );
    }
    let unauthorized = |description: &str| {
        let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", description);
        add_header(
            &mut response,
            WWW_AUTHENTICATE,
            &format!("Bearer realm=\"{realm_name}\""),
        );
        cors(&mut response, info.origin(), true);
        response
    };
    let Some(token) = info.bearer() else {
        return unauthorized("Token not provided");
    };
    let claims = match verify_access_token(realm, &keys, &token, now) {
        Ok(claims) => claims,
        Err(description) => return unauthorized(description),
    };
    // The account API needs the account client's view-profile or manage-account role.
    let may_view = claims
        .get("resource_access")
        .and_then(|r| r.get("account"))
        .and_then(|a| a.get("roles"))
        .and_then(Value::as_array)
        .is_some_and(|roles| {
            roles
                .iter()
                .any(|r| r == "view-profile" || r == "manage-account")
        });
    let allowed = info
        .origin()
        .is_some_and(|o| token_allows_origin(&claims, o));
    if !may_view {
        let mut response = oauth_error(StatusCode::FORBIDDEN, "access_denied", "Forbidden");
        cors(&mut response, info.origin(), allowed);
        return response;
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(user) = realm.user(sub) else {
        return unauthorized("User not found");
    };
    let mut response = json_no_store(profile(user));
    cors(&mut response, info.origin(), allowed);
    response
}
