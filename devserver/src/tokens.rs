//! Building tokens: scopes, claims, and the token endpoint's response body.

use serde_json::{json, Map, Value};

use crate::keys::KeySet;
use crate::model::{Client, Realm, User, SCOPES_IN_TOKEN};
use crate::util::{half_hash, uuid};

/// The client scopes a request ends up with: `openid` if asked, the client's default scopes,
/// and the optional scopes it asked for. An unknown scope is an `invalid_scope` error.
pub fn resolve_scopes(client: &Client, requested: &str) -> Result<Vec<String>, String> {
    let mut granted: Vec<String> = Vec::new();
    let asked: Vec<&str> = requested.split_whitespace().collect();
    for scope in &asked {
        let known = *scope == "openid"
            || client.default_scopes.iter().any(|s| s == scope)
            || client.optional_scopes.iter().any(|s| s == scope);
        if !known {
            return Err(format!("Invalid scopes: {requested}"));
        }
    }
    if asked.contains(&"openid") {
        granted.push("openid".into());
    }
    for scope in &client.default_scopes {
        granted.push(scope.clone());
    }
    for scope in asked {
        if scope != "openid" && !granted.iter().any(|g| g == scope) {
            granted.push(scope.to_string());
        }
    }
    Ok(granted)
}

/// The `scope` claim / response field: openid first, then the scopes shown in tokens.
pub fn scope_string(granted: &[String]) -> String {
    let mut shown: Vec<&str> = granted
        .iter()
        .map(String::as_str)
        .filter(|s| SCOPES_IN_TOKEN.contains(s))
        .collect();
    shown.sort_unstable();
    shown.dedup();
    let mut out: Vec<&str> = Vec::new();
    if granted.iter().any(|s| s == "openid") {
        out.push("openid");
    }
    out.extend(shown);
    out.join(" ")
}

/// What the caller knows about the grant being turned into tokens.
pub struct TokenRequest<'a> {
    pub issuer: &'a str,
    pub client: &'a Client,
    pub user: &'a User,
    /// The user session (absent for a transient service-account session).
    pub session_id: Option<&'a str>,
    pub auth_time: u64,
    pub nonce: Option<&'a str>,
    pub scopes: &'a [String],
    pub now: u64,
    /// Seconds the access token lives.
    pub access_lifespan: u64,
    /// When the refresh token expires (None: no refresh token).
    pub refresh_expiry: Option<u64>,
    pub include_id_token: bool,
    /// An authorization code issued alongside (hybrid flow): the ID token gets `c_hash`.
    pub code: Option<&'a str>,
    /// `acr`: "1" after a fresh login, "0" for SSO.
    pub acr: &'a str,
}

pub struct IssuedTokens {
    pub access_token: String,
    pub access_jti: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub refresh_jti: Option<String>,
    pub expires_in: u64,
    pub refresh_expires_in: u64,
    pub scope: String,
}

fn has(scopes: &[String], name: &str) -> bool {
    scopes.iter().any(|s| s == name)
}

/// Claims from the profile, email, phone and address scopes.
fn user_claims(user: &User, scopes: &[String], claims: &mut Map<String, Value>) {
    if has(scopes, "profile") {
        if let Some(name) = user.full_name() {
            claims.insert("name".into(), json!(name));
        }
        claims.insert("preferred_username".into(), json!(user.username));
        if let Some(v) = &user.first_name {
            claims.insert("given_name".into(), json!(v));
        }
        if let Some(v) = &user.last_name {
            claims.insert("family_name".into(), json!(v));
        }
    }
    if has(scopes, "email") {
        claims.insert("email_verified".into(), json!(user.email_verified));
        if let Some(v) = &user.email {
            claims.insert("email".into(), json!(v));
        }
    }
    if has(scopes, "phone") {
        if let Some(v) = user.attribute("phoneNumber") {
            claims.insert("phone_number".into(), json!(v));
            let verified = user.attribute("phoneNumberVerified") == Some("true");
            claims.insert("phone_number_verified".into(), json!(verified));
        }
    }
    if has(scopes, "address") {
        let mut address = Map::new();
        for (attr, claim) in [
            ("street", "street_address"),
            ("locality", "locality"),
            ("region", "region"),
            ("postal_code", "postal_code"),
            ("country", "country"),
            ("formatted", "formatted"),
        ] {
            if let Some(v) = user.attribute(attr) {
                address.insert(claim.into(), json!(v));
            }
        }
        claims.insert("address".into(), Value::Object(address));
    }
}

/// The claims `userinfo` returns for these scopes.
pub fn userinfo_claims(user: &User, scopes: &[String]) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id));
    user_claims(user, scopes, &mut claims);
    claims
}

pub fn issue(realm: &Realm, keys: &KeySet, request: &TokenRequest<'_>) -> IssuedTokens {
    let TokenRequest {
        issuer,
        client,
        user,
        now,
        ..
    } = *request;
    let scopes = request.scopes;
    let scope = scope_string(scopes);
    let access_jti = uuid();
    let exp = now + request.access_lifespan;

    let mut access = Map::new();
    access.insert("exp".into(), json!(exp));
    access.insert("iat".into(), json!(now));
    if request.session_id.is_some() && has(scopes, "basic") {
        access.insert("auth_time".into(), json!(request.auth_time));
    }
    access.insert("jti".into(), json!(access_jti));
    access.insert("iss".into(), json!(issuer));
    let realm_roles = realm.effective_realm_roles(user);
    let client_roles = realm.effective_client_roles(user);
    if has(scopes, "roles") {
        let audience: Vec<&String> = client_roles
            .keys()
            .filter(|c| **c != client.client_id)
            .collect();
        match audience.as_slice() {
            [] => {}
            [one] => {
                access.insert("aud".into(), json!(one));
            }
            many => {
                access.insert("aud".into(), json!(many));
            }
        }
    }
    access.insert("sub".into(), json!(user.id));
    access.insert("typ".into(), json!("Bearer"));
    access.insert("azp".into(), json!(client.client_id));
    if let Some(nonce) = request.nonce {
        access.insert("nonce".into(), json!(nonce));
    }
    if let Some(sid) = request.session_id {
        access.insert("session_state".into(), json!(sid));
        access.insert("sid".into(), json!(sid));
    }
    if has(scopes, "acr") {
        access.insert("acr".into(), json!(request.acr));
    }
    if has(scopes, "web-origins") {
        let origins: Vec<String> = client.allowed_origins().into_iter().collect();
        access.insert("allowed-origins".into(), json!(origins));
    }
    // Keycloak leaves out `realm_access` when the user has no realm role.
    if has(scopes, "roles") && !realm_roles.is_empty() {
        access.insert("realm_access".into(), json!({ "roles": realm_roles }));
    }
    if has(scopes, "roles") {
        let resource: Map<String, Value> = client_roles
            .iter()
            .map(|(c, roles)| (c.clone(), json!({ "roles": roles })))
            .collect();
        if !resource.is_empty() {
            access.insert("resource_access".into(), Value::Object(resource));
        }
    }
    access.insert("scope".into(), json!(scope));
    user_claims(user, scopes, &mut access);
    if let Some(sa_client) = &user.service_account_client {
        access.insert("client_id".into(), json!(sa_client));
    }
    let access_token = keys.sign_rs256(&Value::Object(access));

    let id_token = request.include_id_token.then(|| {
        let mut id = Map::new();
        id.insert("exp".into(), json!(exp));
        id.insert("iat".into(), json!(now));
        if request.session_id.is_some() {
            id.insert("auth_time".into(), json!(request.auth_time));
        }
        id.insert("jti".into(), json!(uuid()));
        id.insert("iss".into(), json!(issuer));
        id.insert("aud".into(), json!(client.client_id));
        id.insert("sub".into(), json!(user.id));
        id.insert("typ".into(), json!("ID"));
        id.insert("azp".into(), json!(client.client_id));
        if let Some(nonce) = request.nonce {
            id.insert("nonce".into(), json!(nonce));
        }
        if let Some(sid) = request.session_id {
            id.insert("session_state".into(), json!(sid));
        }
        id.insert("at_hash".into(), json!(half_hash(&access_token)));
        if let Some(code) = request.code {
            id.insert("c_hash".into(), json!(half_hash(code)));
        }
        id.insert("acr".into(), json!(request.acr));
        if let Some(sid) = request.session_id {
            id.insert("sid".into(), json!(sid));
        }
        user_claims(user, scopes, &mut id);
        keys.sign_rs256(&Value::Object(id))
    });

    let (refresh_token, refresh_jti, refresh_expires_in) = match request.refresh_expiry {
        Some(refresh_exp) => {
            let jti = uuid();
            let mut refresh = Map::new();
            refresh.insert("exp".into(), json!(refresh_exp));
            refresh.insert("iat".into(), json!(now));
            refresh.insert("jti".into(), json!(jti));
            refresh.insert("iss".into(), json!(issuer));
            refresh.insert("aud".into(), json!(issuer));
            refresh.insert("sub".into(), json!(user.id));
            refresh.insert("typ".into(), json!("Refresh"));
            refresh.insert("azp".into(), json!(client.client_id));
            if let Some(nonce) = request.nonce {
                refresh.insert("nonce".into(), json!(nonce));
            }
            if let Some(sid) = request.session_id {
                refresh.insert("session_state".into(), json!(sid));
            }
            refresh.insert("scope".into(), json!(scopes.join(" ")));
            if let Some(sid) = request.session_id {
                refresh.insert("sid".into(), json!(sid));
            }
            let token = keys.sign_hs512(&Value::Object(refresh));
            (Some(token), Some(jti), refresh_exp.saturating_sub(now))
        }
        None => (None, None, 0),
    };

    IssuedTokens {
        access_token,
        access_jti,
        id_token,
        refresh_token,
        refresh_jti,
        expires_in: request.access_lifespan,
        refresh_expires_in,
        scope,
    }
}

/// The token endpoint's JSON body, keys in Keycloak's order.
pub fn token_response(tokens: &IssuedTokens, session_id: Option<&str>) -> Value {
    let mut body = Map::new();
    body.insert("access_token".into(), json!(tokens.access_token));
    body.insert("expires_in".into(), json!(tokens.expires_in));
    body.insert(
        "refresh_expires_in".into(),
        json!(tokens.refresh_expires_in),
    );
    if let Some(refresh) = &tokens.refresh_token {
        body.insert("refresh_token".into(), json!(refresh));
    }
    body.insert("token_type".into(), json!("Bearer"));
    if let Some(id) = &tokens.id_token {
        body.insert("id_token".into(), json!(id));
    }
    body.insert("not-before-policy".into(), json!(0));
    if let Some(sid) = session_id {
        body.insert("session_state".into(), json!(sid));
    }
    body.insert("scope".into(), json!(tokens.scope));
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_default_optional_and_unknown() {
        let client = Client::new("app");
        let granted = resolve_scopes(&client, "openid phone").unwrap();
        assert_eq!(scope_string(&granted), "openid email phone profile");
        assert_eq!(
            scope_string(&resolve_scopes(&client, "").unwrap()),
            "email profile"
        );
        assert_eq!(
            resolve_scopes(&client, "openid bogus").unwrap_err(),
            "Invalid scopes: openid bogus"
        );
    }
}
