//! Keycloak's JSON representations (realm export, Admin REST API), limited to the keys devserver
//! understands. Unknown keys are ignored so that a real export imports; every key used here is
//! a real key of Keycloak's format, so our files import into a real Keycloak too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::model::{Client, Realm, Role, RoleRef, User};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RealmRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_lifespan: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_lifespan_for_implicit_flow: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_code_lifespan: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_code_lifespan_login: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_session_idle_timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_session_max_lifespan: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke_refresh_token: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_max_reuse: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_with_email_allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<RolesRepresentation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<Vec<ClientRepresentation>>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolesRepresentation {
    #[serde(default)]
    pub realm: Vec<RoleRepresentation>,
    #[serde(default)]
    pub client: BTreeMap<String, Vec<RoleRepresentation>>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composite: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_role: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composites: Option<RoleCompositesRepresentation>,
}

/// The members of a composite role in a realm file: realm role names, and role names by clientId.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleCompositesRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRepresentation {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_data: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_timestamp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<CredentialRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm_roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_actions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_client_id: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_client: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_flow_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implicit_flow_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_access_grants_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_accounts_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_client_scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional_client_scopes: Option<Vec<String>>,
}

pub fn role_rep(role: &Role, client_role: bool, container_id: &str) -> Value {
    let mut out = json!({
        "id": role.id,
        "name": role.name,
        "composite": role.is_composite(),
        "clientRole": client_role,
        "containerId": container_id,
        "attributes": {},
    });
    // Keycloak leaves out what is not set.
    if let (Some(obj), Some(description)) = (out.as_object_mut(), &role.description) {
        obj.insert("description".into(), json!(description));
    }
    out
}

/// A role a reference names, as the Admin API shows it (None if it no longer exists).
pub fn role_ref_rep(realm: &Realm, role: &RoleRef) -> Option<Value> {
    match role {
        RoleRef::Realm(name) => realm.role(name).map(|r| role_rep(r, false, &realm.id)),
        RoleRef::Client { client_id, role } => {
            let client = realm.client(client_id)?;
            client.role(role).map(|r| role_rep(r, true, &client.id))
        }
    }
}

pub fn user_rep(user: &User) -> Value {
    let mut out = json!({
        "id": user.id,
        "username": user.username,
        "enabled": user.enabled,
        "emailVerified": user.email_verified,
        "createdTimestamp": user.created_timestamp,
        "totp": false,
        "disableableCredentialTypes": [],
        "requiredActions": user.required_actions,
        "notBefore": 0,
        "access": {"manageGroupMembership": true, "view": true, "mapRoles": true, "impersonate": true, "manage": true},
    });
    if let Some(obj) = out.as_object_mut() {
        if let Some(v) = &user.email {
            obj.insert("email".into(), json!(v));
        }
        if let Some(v) = &user.first_name {
            obj.insert("firstName".into(), json!(v));
        }
        if let Some(v) = &user.last_name {
            obj.insert("lastName".into(), json!(v));
        }
        if !user.attributes.is_empty() {
            obj.insert("attributes".into(), json!(user.attributes));
        }
        if let Some(client) = &user.service_account_client {
            obj.insert("serviceAccountClientId".into(), json!(client));
        }
    }
    out
}

/// Keycloak leaves out the fields that are not set rather than sending `null`.
fn without_nulls(mut value: Value) -> Value {
    if let Some(obj) = value.as_object_mut() {
        obj.retain(|_, v| !v.is_null());
    }
    value
}

pub fn client_rep(client: &Client) -> Value {
    without_nulls(json!({
        "id": client.id,
        "clientId": client.client_id,
        "name": client.name,
        "rootUrl": client.root_url,
        "baseUrl": client.base_url,
        "enabled": client.enabled,
        "clientAuthenticatorType": "client-secret",
        "secret": client.secret,
        "redirectUris": client.redirect_uris,
        "webOrigins": client.web_origins,
        "notBefore": 0,
        "bearerOnly": client.bearer_only,
        "consentRequired": false,
        "standardFlowEnabled": client.standard_flow,
        "implicitFlowEnabled": client.implicit_flow,
        "directAccessGrantsEnabled": client.direct_access_grants,
        "serviceAccountsEnabled": client.service_accounts,
        "publicClient": client.public_client,
        "frontchannelLogout": true,
        "protocol": "openid-connect",
        "attributes": client.attributes,
        "fullScopeAllowed": true,
        "defaultClientScopes": client.default_scopes,
        "optionalClientScopes": client.optional_scopes,
        "access": {"view": true, "configure": true, "manage": true},
    }))
}

pub fn realm_rep(realm: &Realm) -> Value {
    let s = &realm.settings;
    let default_role = realm
        .role(&realm.default_role_name())
        .map(|r| role_rep(r, false, &realm.id));
    without_nulls(json!({
        "id": realm.id,
        "realm": realm.name,
        "displayName": s.display_name,
        "enabled": s.enabled,
        "notBefore": realm.not_before,
        "accessTokenLifespan": s.access_token_lifespan,
        "accessTokenLifespanForImplicitFlow": s.access_token_lifespan_for_implicit_flow,
        "accessCodeLifespan": s.access_code_lifespan,
        "accessCodeLifespanLogin": s.access_code_lifespan_login,
        "ssoSessionIdleTimeout": s.sso_session_idle_timeout,
        "ssoSessionMaxLifespan": s.sso_session_max_lifespan,
        "revokeRefreshToken": s.revoke_refresh_token,
        "refreshTokenMaxReuse": s.refresh_token_max_reuse,
        "registrationAllowed": s.registration_allowed,
        "loginWithEmailAllowed": s.login_with_email_allowed,
        "eventsEnabled": s.events_enabled,
        "sslRequired": "external",
        "defaultSignatureAlgorithm": "RS256",
        "defaultRole": default_role,
    }))
}

/// A client attribute value as Keycloak stores it: always a string.
pub fn attribute_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
