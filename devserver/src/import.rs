//! Realm import from Keycloak's realm-export JSON, and the representation→model updates that the
//! Admin REST API shares with it.

use std::path::Path;

use crate::model::builtins;
use crate::model::{Client, Password, Realm, Role, RoleRef, User};
use crate::representations::{
    attribute_string, ClientRepresentation, RealmRepresentation, RoleRepresentation,
    RolesRepresentation, UserRepresentation,
};
use crate::util::{random_token, uuid};

/// Reads and converts one realm file; errors name the file and the place in the JSON.
pub fn load_realm_file(path: &Path, now_ms: u64) -> Result<Realm, String> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|err| format!("{shown}: cannot read: {err}"))?;
    let rep = parse_realm_json(&text).map_err(|err| format!("{shown}: {err}"))?;
    realm_from_rep(rep, now_ms).map_err(|err| format!("{shown}: {err}"))
}

/// Parses realm JSON; the error names the JSON path, line and column.
pub fn parse_realm_json(text: &str) -> Result<RealmRepresentation, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let place = if path == "." || path.is_empty() {
            String::from("the document")
        } else {
            path
        };
        format!(
            "at {place} (line {}, column {}): {inner}",
            inner.line(),
            inner.column()
        )
    })
}

pub fn realm_from_rep(rep: RealmRepresentation, now_ms: u64) -> Result<Realm, String> {
    let name = rep
        .realm
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or("at realm: the realm name is missing")?;
    if name.contains('/') {
        return Err(format!("at realm: '{name}' is not a valid realm name"));
    }
    let mut realm = Realm {
        id: rep
            .id
            .clone()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(uuid),
        name,
        ..Realm::default()
    };
    apply_realm_settings(&mut realm, &rep);

    for (index, client_rep) in rep.clients.iter().flatten().enumerate() {
        let client_id = client_rep
            .client_id
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or(format!("at clients[{index}].clientId: missing"))?;
        if realm.client(&client_id).is_some() {
            return Err(format!(
                "at clients[{index}].clientId: duplicate client '{client_id}'"
            ));
        }
        let mut client = Client::new(&client_id);
        if let Some(id) = client_rep.id.clone().filter(|id| !id.is_empty()) {
            client.id = id;
        }
        apply_client_rep(&mut client, client_rep);
        realm.clients.push(client);
    }
    // Keycloak's own clients and roles, where the file does not give its own.
    builtins::add_missing(&mut realm);
    import_roles(&mut realm, rep.roles.as_ref())?;
    for (index, user_rep) in rep.users.iter().flatten().enumerate() {
        let username = user_rep
            .username
            .clone()
            .filter(|u| !u.trim().is_empty())
            .ok_or(format!("at users[{index}].username: missing"))?;
        if realm.user_by_username(&username).is_some() {
            return Err(format!(
                "at users[{index}].username: duplicate user '{username}'"
            ));
        }
        let mut user = realm.new_user(&username, now_ms);
        if let Some(id) = user_rep.id.clone().filter(|id| !id.is_empty()) {
            user.id = id;
        }
        if let Some(created) = user_rep.created_timestamp {
            user.created_timestamp = created;
        }
        apply_user_rep(&mut user, user_rep).map_err(|e| format!("at users[{index}].{e}"))?;
        apply_user_role_lists(&mut realm, &mut user, user_rep)
            .map_err(|e| format!("at users[{index}].{e}"))?;
        realm.users.push(user);
    }
    ensure_service_account_users(&mut realm, now_ms);
    Ok(realm)
}

pub fn apply_realm_settings(realm: &mut Realm, rep: &RealmRepresentation) {
    let s = &mut realm.settings;
    if rep.display_name.is_some() {
        s.display_name = rep.display_name.clone();
    }
    macro_rules! copy {
        ($($field:ident),*) => { $( if let Some(v) = rep.$field { s.$field = v; } )* };
    }
    copy!(
        enabled,
        access_token_lifespan,
        access_token_lifespan_for_implicit_flow,
        access_code_lifespan,
        access_code_lifespan_login,
        sso_session_idle_timeout,
        sso_session_max_lifespan,
        revoke_refresh_token,
        refresh_token_max_reuse,
        registration_allowed,
        login_with_email_allowed,
        events_enabled
    );
    if let Some(not_before) = rep.not_before {
        realm.not_before = not_before;
    }
}

/// The realm and client roles a file defines. A role that Keycloak would have created anyway is
/// replaced by the file's, so that an export keeps its ids, descriptions and composites.
fn import_roles(realm: &mut Realm, roles: Option<&RolesRepresentation>) -> Result<(), String> {
    let Some(roles) = roles else {
        return Ok(());
    };
    let mut defined: Vec<(String, RoleRef)> = Vec::new();
    for (index, rep) in roles.realm.iter().enumerate() {
        let place = format!("roles.realm[{index}]");
        let role = role_from_rep(rep).map_err(|e| format!("at {place}: {e}"))?;
        defined.push((place, RoleRef::Realm(role.name.clone())));
        replace_role(&mut realm.roles, role);
    }
    for (client_id, list) in &roles.client {
        let client = realm.client_mut(client_id).ok_or(format!(
            "at roles.client.{client_id}: no client with clientId '{client_id}'"
        ))?;
        for (index, rep) in list.iter().enumerate() {
            let place = format!("roles.client.{client_id}[{index}]");
            let role = role_from_rep(rep).map_err(|e| format!("at {place}: {e}"))?;
            defined.push((place, RoleRef::client(client_id, &role.name)));
            replace_role(&mut client.roles, role);
        }
    }
    // Composites may name roles defined further down the file: checked once all are in.
    for (place, role) in defined {
        let members = realm
            .find_role(&role)
            .map(|r| r.composites.clone())
            .unwrap_or_default();
        for member in members {
            if realm.find_role(&member).is_none() {
                return Err(format!("at {place}.composites: no {}", describe(&member)));
            }
        }
    }
    Ok(())
}

fn replace_role(roles: &mut Vec<Role>, role: Role) {
    match roles.iter_mut().find(|r| r.name == role.name) {
        Some(existing) => *existing = role,
        None => roles.push(role),
    }
}

/// How an error message names a role.
fn describe(role: &RoleRef) -> String {
    match role {
        RoleRef::Realm(name) => format!("realm role '{name}'"),
        RoleRef::Client { client_id, role } => format!("role '{role}' in client '{client_id}'"),
    }
}

pub fn role_from_rep(rep: &RoleRepresentation) -> Result<Role, String> {
    let name = rep
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or("the role name is missing")?;
    let mut role = Role::new(name.trim(), rep.description.clone());
    if let Some(id) = rep.id.clone().filter(|id| !id.is_empty()) {
        role.id = id;
    }
    if let Some(composites) = &rep.composites {
        let realm = composites
            .realm
            .iter()
            .flatten()
            .cloned()
            .map(RoleRef::Realm);
        let clients = composites
            .client
            .iter()
            .flatten()
            .flat_map(|(client_id, roles)| {
                roles
                    .iter()
                    .map(move |role| RoleRef::client(client_id, role))
            });
        role.composites = realm.chain(clients).collect();
    }
    Ok(role)
}

/// Applies the keys present in `rep`; absent keys keep their current value (Keycloak's update).
pub fn apply_client_rep(client: &mut Client, rep: &ClientRepresentation) {
    if let Some(v) = &rep.name {
        client.name = Some(v.clone());
    }
    macro_rules! copy {
        ($($from:ident => $to:ident),*) => { $( if let Some(v) = rep.$from { client.$to = v; } )* };
    }
    copy!(
        enabled => enabled,
        public_client => public_client,
        bearer_only => bearer_only,
        standard_flow_enabled => standard_flow,
        implicit_flow_enabled => implicit_flow,
        direct_access_grants_enabled => direct_access_grants,
        service_accounts_enabled => service_accounts
    );
    if let Some(v) = &rep.secret {
        client.secret = Some(v.clone());
    }
    if let Some(v) = &rep.root_url {
        client.root_url = Some(v.clone()).filter(|s| !s.is_empty());
    }
    if let Some(v) = &rep.base_url {
        client.base_url = Some(v.clone()).filter(|s| !s.is_empty());
    }
    if let Some(v) = &rep.redirect_uris {
        client.redirect_uris = v.clone();
    }
    if let Some(v) = &rep.web_origins {
        client.web_origins = v.clone();
    }
    if let Some(attributes) = &rep.attributes {
        for (key, value) in attributes {
            client
                .attributes
                .insert(key.clone(), attribute_string(value));
        }
    }
    if let Some(v) = &rep.default_client_scopes {
        client.default_scopes = v.clone();
    }
    if let Some(v) = &rep.optional_client_scopes {
        client.optional_scopes = v.clone();
    }
    // Keycloak generates a secret for a confidential client that has none.
    if !client.public_client && !client.bearer_only && client.secret.is_none() {
        client.secret = Some(random_token(24));
    }
}

/// Applies a user representation's profile and credentials (what Keycloak's Admin API reads from
/// it); the error starts with the key it is about.
pub fn apply_user_rep(user: &mut User, rep: &UserRepresentation) -> Result<(), String> {
    if let Some(v) = &rep.email {
        user.email = Some(v.to_lowercase()).filter(|e| !e.is_empty());
    }
    if let Some(v) = &rep.first_name {
        user.first_name = Some(v.clone());
    }
    if let Some(v) = &rep.last_name {
        user.last_name = Some(v.clone());
    }
    if let Some(v) = rep.enabled {
        user.enabled = v;
    }
    if let Some(v) = rep.email_verified {
        user.email_verified = v;
    }
    if let Some(v) = &rep.attributes {
        user.attributes = v.clone();
    }
    if let Some(v) = &rep.required_actions {
        user.required_actions = v.clone();
    }
    if let Some(client) = &rep.service_account_client_id {
        user.service_account_client = Some(client.clone());
    }
    for (index, credential) in rep.credentials.iter().flatten().enumerate() {
        let kind = credential.kind.as_deref().unwrap_or("password");
        if kind != "password" {
            continue;
        }
        match &credential.value {
            Some(value) => user.password = Some(Password::new(value)),
            None if credential.secret_data.is_some() => {
                // Hashed credentials from a real export (pbkdf2/argon2) cannot be checked here.
                eprintln!(
                    "devserver: warning: user '{}': credentials[{index}] is a hashed password; \
                     devserver only understands \"value\", so this user cannot log in with a password",
                    user.username
                );
            }
            None => return Err(format!("credentials[{index}].value: missing")),
        }
    }
    Ok(())
}

/// Maps the roles a user of a realm file lists (Keycloak's Admin API ignores these lists). As on
/// import into Keycloak, a role that does not exist yet is created; a client must exist.
pub fn apply_user_role_lists(
    realm: &mut Realm,
    user: &mut User,
    rep: &UserRepresentation,
) -> Result<(), String> {
    for role in rep.realm_roles.iter().flatten() {
        let role = role.trim();
        // Keycloak creates a realm role that a user mapping names but the export does not define.
        if realm.role(role).is_none() {
            realm.roles.push(Role::new(role, None));
        }
        user.realm_roles.insert(role.to_string());
    }
    for (client_id, roles) in rep.client_roles.iter().flatten() {
        let client = realm.client_mut(client_id).ok_or(format!(
            "clientRoles.{client_id}: no client with clientId '{client_id}'"
        ))?;
        for role in roles {
            let role = role.trim();
            if client.role(role).is_none() {
                client.roles.push(Role::new(role, None));
            }
            user.client_roles
                .entry(client_id.clone())
                .or_default()
                .insert(role.to_string());
        }
    }
    Ok(())
}

/// Every client with service accounts enabled has a `service-account-{clientId}` user.
pub fn ensure_service_account_users(realm: &mut Realm, now_ms: u64) {
    let wanted: Vec<String> = realm
        .clients
        .iter()
        .filter(|c| c.service_accounts)
        .map(|c| c.client_id.clone())
        .collect();
    for client_id in wanted {
        if realm.service_account_user(&client_id).is_none() {
            let mut user = realm.new_user(&format!("service-account-{client_id}"), now_ms);
            user.service_account_client = Some(client_id);
            realm.users.push(user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_name_the_json_path_and_position() {
        let err = parse_realm_json(
            r#"{"realm":"x","users":[{"username":"a"},{"username":"b","enabled":"yes"}]}"#,
        )
        .unwrap_err();
        assert!(
            err.starts_with("at users[1].enabled (line 1, column "),
            "{err}"
        );
        assert!(err.contains("expected a boolean"), "{err}");
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let err = parse_realm_json("{\n  \"realm\": \"x\",\n  oops\n}").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn unknown_keys_are_ignored_and_defaults_apply() {
        let rep = parse_realm_json(
            r#"{"realm":"r","smtpServer":{},"clients":[{"clientId":"c","publicClient":true,"frontchannelLogout":true}]}"#,
        )
        .unwrap();
        let realm = realm_from_rep(rep, 0).unwrap();
        assert_eq!(realm.settings.access_token_lifespan, 300);
        let client = realm.client("c").unwrap();
        assert!(client.standard_flow && !client.implicit_flow && client.secret.is_none());
        assert!(realm.client("account").is_some());
    }

    #[test]
    fn user_mappings_to_unknown_clients_are_errors() {
        let rep = parse_realm_json(
            r#"{"realm":"r","users":[{"username":"a","clientRoles":{"nope":["x"]}}]}"#,
        )
        .unwrap();
        let err = realm_from_rep(rep, 0).unwrap_err();
        assert_eq!(
            err,
            "at users[0].clientRoles.nope: no client with clientId 'nope'"
        );
    }

    #[test]
    fn confidential_clients_get_a_secret_and_service_accounts_a_user() {
        let rep = parse_realm_json(
            r#"{"realm":"r","clients":[{"clientId":"svc","serviceAccountsEnabled":true}]}"#,
        )
        .unwrap();
        let realm = realm_from_rep(rep, 0).unwrap();
        assert!(realm.client("svc").unwrap().secret.is_some());
        assert!(realm.user_by_username("service-account-svc").is_some());
    }
}
