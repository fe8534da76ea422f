//! The in-memory model of realms, clients, users and roles, and the rules that only depend on
//! them (redirect URI matching, web origins, effective roles, passwords).

pub mod builtins;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use crate::sessions::{AuthCode, AuthSession, PendingLogouts, UserSession};
use crate::util::{origin_of, random_token, same, uuid};

/// Client scopes Keycloak assigns to a new OIDC client by default, and the optional ones.
pub const DEFAULT_CLIENT_SCOPES: [&str; 6] =
    ["web-origins", "acr", "profile", "roles", "basic", "email"];
pub const OPTIONAL_CLIENT_SCOPES: [&str; 5] = [
    "address",
    "phone",
    "offline_access",
    "organization",
    "microprofile-jwt",
];
/// The scopes whose names appear in the token's `scope` claim (include.in.token.scope=true).
pub const SCOPES_IN_TOKEN: [&str; 6] = [
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
    "microprofile-jwt",
];

/// A role named from elsewhere (a composite's members): a realm role or a client's role.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleRef {
    Realm(String),
    Client { client_id: String, role: String },
}

impl RoleRef {
    pub fn client(client_id: &str, role: &str) -> RoleRef {
        RoleRef::Client {
            client_id: client_id.to_string(),
            role: role.to_string(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The roles a user holding this one holds too (a composite role).
    pub composites: BTreeSet<RoleRef>,
}

impl Role {
    pub fn new(name: &str, description: Option<String>) -> Role {
        Role {
            id: uuid(),
            name: name.to_string(),
            description,
            composites: BTreeSet::new(),
        }
    }

    pub fn is_composite(&self) -> bool {
        !self.composites.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct Client {
    pub id: String,
    pub client_id: String,
    pub name: Option<String>,
    pub enabled: bool,
    pub public_client: bool,
    pub bearer_only: bool,
    pub secret: Option<String>,
    pub root_url: Option<String>,
    pub base_url: Option<String>,
    pub redirect_uris: Vec<String>,
    pub web_origins: Vec<String>,
    pub standard_flow: bool,
    pub implicit_flow: bool,
    pub direct_access_grants: bool,
    pub service_accounts: bool,
    pub attributes: BTreeMap<String, String>,
    pub default_scopes: Vec<String>,
    pub optional_scopes: Vec<String>,
    pub roles: Vec<Role>,
}

impl Client {
    pub fn new(client_id: &str) -> Client {
        Client {
            id: uuid(),
            client_id: client_id.to_string(),
            name: None,
            enabled: true,
            public_client: false,
            bearer_only: false,
            secret: None,
            root_url: None,
            base_url: None,
            redirect_uris: Vec::new(),
            web_origins: Vec::new(),
            standard_flow: true,
            implicit_flow: false,
            direct_access_grants: false,
            service_accounts: false,
            attributes: BTreeMap::new(),
            default_scopes: DEFAULT_CLIENT_SCOPES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            optional_scopes: OPTIONAL_CLIENT_SCOPES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            roles: Vec::new(),
        }
    }

    pub fn pkce_method(&self) -> Option<&str> {
        self.attributes
            .get("pkce.code.challenge.method")
            .map(String::as_str)
            .filter(|m| !m.is_empty())
    }

    /// The client's `access.token.lifespan` attribute, which overrides the realm's.
    pub fn access_token_lifespan(&self) -> Option<u64> {
        self.attributes
            .get("access.token.lifespan")
            .and_then(|v| v.trim().parse().ok())
            .filter(|v| *v > 0)
    }

    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    pub fn check_secret(&self, secret: Option<&str>) -> bool {
        match (&self.secret, secret) {
            (Some(expected), Some(given)) => same(expected, given),
            _ => false,
        }
    }

    /// Keycloak's redirect URI rule (see [`crate::redirect_uri`]), with relative patterns and
    /// URIs resolved against the root URL (or the server's own origin). Returns the accepted URI.
    pub fn verify_redirect_uri(&self, redirect_uri: &str, server_origin: &str) -> Option<String> {
        let redirect = lower_case_host(redirect_uri);
        let patterns = self.resolved_redirect_patterns(server_origin);
        if !crate::redirect_uri::is_allowed(&patterns, &redirect) {
            return None;
        }
        if redirect.starts_with('/') {
            let root = self.root_url.as_deref().unwrap_or(server_origin);
            return Some(format!("{}{}", root.trim_end_matches('/'), redirect));
        }
        Some(redirect)
    }

    fn resolved_redirect_patterns(&self, server_origin: &str) -> Vec<String> {
        let mut out = Vec::new();
        for pattern in &self.redirect_uris {
            out.push(pattern.clone());
            if pattern.starts_with('/') {
                let root = self.root_url.as_deref().unwrap_or(server_origin);
                out.push(format!("{}{}", root.trim_end_matches('/'), pattern));
            }
        }
        out
    }

    /// `post.logout.redirect.uris` (`##`-separated, `+` = the redirect URIs), as Keycloak reads it.
    pub fn verify_post_logout_redirect_uri(
        &self,
        uri: &str,
        server_origin: &str,
    ) -> Option<String> {
        let configured = self
            .attributes
            .get("post.logout.redirect.uris")
            .map(String::as_str)
            .unwrap_or("+");
        let mut patterns = Vec::new();
        for entry in configured
            .split("##")
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if entry == "+" {
                patterns.extend(self.redirect_uris.iter().cloned());
            } else if entry != "-" {
                patterns.push(entry.to_string());
            }
        }
        let probe = Client {
            redirect_uris: patterns,
            ..self.clone()
        };
        probe.verify_redirect_uri(uri, server_origin)
    }

    /// The origins allowed for CORS: explicit web origins, and with `+` the origins of the
    /// redirect URIs. `*` allows any origin.
    pub fn allowed_origins(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for origin in &self.web_origins {
            if origin == "+" {
                for uri in &self.redirect_uris {
                    if let Some(o) = origin_of(uri.trim_end_matches('*')) {
                        out.insert(o);
                    }
                }
            } else {
                out.insert(origin.trim_end_matches('/').to_string());
            }
        }
        out
    }

    pub fn allows_origin(&self, origin: &str) -> bool {
        let allowed = self.allowed_origins();
        allowed.contains("*") || allowed.contains(origin)
    }

    pub fn service_account_username(&self) -> String {
        format!("{SERVICE_ACCOUNT_PREFIX}{}", self.client_id)
    }
}

/// The prefix of every client's service-account username.
pub const SERVICE_ACCOUNT_PREFIX: &str = "service-account-";

/// Usernames that only a client's service account may have: nobody registers or is created
/// under one, so no user can pass for a service account.
pub fn is_reserved_username(username: &str) -> bool {
    username
        .trim()
        .to_lowercase()
        .starts_with(SERVICE_ACCOUNT_PREFIX)
}

fn lower_case_host(uri: &str) -> String {
    match uri.get(8..).and_then(|rest| rest.find('/')) {
        Some(at) => {
            let split = at + 8;
            format!(
                "{}{}",
                uri.get(..split).unwrap_or_default().to_ascii_lowercase(),
                uri.get(split..).unwrap_or_default()
            )
        }
        None if uri.contains("://") => uri.to_ascii_lowercase(),
        None => uri.to_string(),
    }
}

#[derive(Clone, Debug)]
pub struct Password {
    salt: String,
    hash: String,
}

impl Password {
    pub fn new(plain: &str) -> Password {
        let salt = random_token(16);
        let hash = Password::digest(&salt, plain);
        Password { salt, hash }
    }

    fn digest(salt: &str, plain: &str) -> String {
        crate::util::b64url(&Sha256::digest(format!("{salt}:{plain}").as_bytes()))
    }

    pub fn matches(&self, plain: &str) -> bool {
        same(&self.hash, &Password::digest(&self.salt, plain))
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub enabled: bool,
    pub email_verified: bool,
    pub password: Option<Password>,
    pub realm_roles: BTreeSet<String>,
    /// clientId → role names
    pub client_roles: BTreeMap<String, BTreeSet<String>>,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub required_actions: Vec<String>,
    pub created_timestamp: u64,
    /// Set for a client's service-account user.
    pub service_account_client: Option<String>,
}

impl User {
    pub fn new(username: &str, now_ms: u64) -> User {
        User {
            id: uuid(),
            username: username.to_lowercase(),
            email: None,
            first_name: None,
            last_name: None,
            enabled: true,
            email_verified: false,
            password: None,
            realm_roles: BTreeSet::new(),
            client_roles: BTreeMap::new(),
            attributes: BTreeMap::new(),
            required_actions: Vec::new(),
            created_timestamp: now_ms,
            service_account_client: None,
        }
    }

    pub fn full_name(&self) -> Option<String> {
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(name)
            .and_then(|values| values.first())
            .map(String::as_str)
    }
}

#[derive(Clone, Debug)]
pub struct RealmSettings {
    pub display_name: Option<String>,
    pub enabled: bool,
    pub access_token_lifespan: u64,
    pub access_token_lifespan_for_implicit_flow: u64,
    pub access_code_lifespan: u64,
    pub access_code_lifespan_login: u64,
    pub sso_session_idle_timeout: u64,
    pub sso_session_max_lifespan: u64,
    pub revoke_refresh_token: bool,
    pub refresh_token_max_reuse: u32,
    pub registration_allowed: bool,
    pub login_with_email_allowed: bool,
    pub events_enabled: bool,
}

impl Default for RealmSettings {
    fn default() -> Self {
        // Keycloak's defaults for a new realm.
        RealmSettings {
            display_name: None,
            enabled: true,
            access_token_lifespan: 300,
            access_token_lifespan_for_implicit_flow: 900,
            access_code_lifespan: 60,
            access_code_lifespan_login: 1800,
            sso_session_idle_timeout: 1800,
            sso_session_max_lifespan: 36000,
            revoke_refresh_token: false,
            refresh_token_max_reuse: 0,
            registration_allowed: false,
            login_with_email_allowed: true,
            events_enabled: true,
        }
    }
}

#[derive(Debug, Default)]
pub struct Realm {
    pub id: String,
    pub name: String,
    pub settings: RealmSettings,
    pub roles: Vec<Role>,
    pub clients: Vec<Client>,
    pub users: Vec<User>,
    pub sessions: HashMap<String, UserSession>,
    pub codes: HashMap<String, AuthCode>,
    pub auth_sessions: HashMap<String, AuthSession>,
    /// Logouts waiting for the user's confirmation.
    pub pending_logouts: PendingLogouts,
    /// `jti`s of revoked access tokens.
    pub revoked: BTreeSet<String>,
    /// Tokens issued before this time (seconds) are rejected: Keycloak's not-before policy.
    pub not_before: u64,
}

impl Realm {
    pub fn new(name: &str) -> Realm {
        let mut realm = Realm {
            id: uuid(),
            name: name.to_string(),
            ..Realm::default()
        };
        builtins::add_missing(&mut realm);
        realm
    }

    /// `default-roles-{realm}`: the composite every new user is given.
    pub fn default_role_name(&self) -> String {
        format!("default-roles-{}", self.name)
    }

    /// A new user of this realm, holding the default roles as Keycloak gives them.
    pub fn new_user(&self, username: &str, now_ms: u64) -> User {
        let mut user = User::new(username, now_ms);
        user.realm_roles.insert(self.default_role_name());
        user
    }

    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    pub fn client_mut(&mut self, client_id: &str) -> Option<&mut Client> {
        self.clients.iter_mut().find(|c| c.client_id == client_id)
    }

    pub fn client_by_uuid(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn user_by_username(&self, username: &str) -> Option<&User> {
        let wanted = username.to_lowercase();
        self.users.iter().find(|u| u.username == wanted)
    }

    /// The `service-account-{clientId}` user of a client with service accounts.
    pub fn service_account_user(&self, client_id: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.service_account_client.as_deref() == Some(client_id))
    }

    /// Emails are kept lower-cased, so the lookup ignores case.
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        let wanted = email.to_lowercase();
        self.users
            .iter()
            .find(|u| u.email.as_deref() == Some(wanted.as_str()))
    }

    /// Finds a user by username, or by email when the realm allows logging in with an email.
    pub fn user_for_login(&self, login: &str) -> Option<&User> {
        let wanted = login.trim().to_lowercase();
        self.users
            .iter()
            .filter(|u| u.service_account_client.is_none())
            .find(|u| {
                u.username == wanted
                    || (self.settings.login_with_email_allowed
                        && u.email.as_deref().map(str::to_lowercase).as_deref() == Some(&wanted))
            })
    }

    /// The role a reference names, if it exists.
    pub fn find_role(&self, role: &RoleRef) -> Option<&Role> {
        match role {
            RoleRef::Realm(name) => self.role(name),
            RoleRef::Client { client_id, role } => self.client(client_id)?.role(role),
        }
    }

    pub fn find_role_mut(&mut self, role: &RoleRef) -> Option<&mut Role> {
        match role {
            RoleRef::Realm(name) => self.roles.iter_mut().find(|r| r.name == *name),
            RoleRef::Client { client_id, role } => self
                .client_mut(client_id)?
                .roles
                .iter_mut()
                .find(|r| r.name == *role),
        }
    }

    /// The realm or client role with this id (role ids are unique within a realm).
    pub fn role_by_id(&self, id: &str) -> Option<RoleRef> {
        if let Some(role) = self.roles.iter().find(|r| r.id == id) {
            return Some(RoleRef::Realm(role.name.clone()));
        }
        self.clients.iter().find_map(|client| {
            client
                .roles
                .iter()
                .find(|r| r.id == id)
                .map(|role| RoleRef::client(&client.client_id, &role.name))
        })
    }

    /// Removes every mention of a role that no longer exists: user mappings and composites.
    pub fn forget_role(&mut self, gone: &RoleRef) {
        for user in &mut self.users {
            match gone {
                RoleRef::Realm(name) => {
                    user.realm_roles.remove(name);
                }
                RoleRef::Client { client_id, role } => {
                    if let Some(set) = user.client_roles.get_mut(client_id) {
                        set.remove(role);
                    }
                }
            }
        }
        let roles = self
            .roles
            .iter_mut()
            .chain(self.clients.iter_mut().flat_map(|c| c.roles.iter_mut()));
        for role in roles {
            role.composites.remove(gone);
        }
    }

    /// Removes every mention of a deleted client's roles.
    pub fn forget_client(&mut self, client_id: &str) {
        for user in &mut self.users {
            user.client_roles.remove(client_id);
        }
        let roles = self
            .roles
            .iter_mut()
            .chain(self.clients.iter_mut().flat_map(|c| c.roles.iter_mut()));
        for role in roles {
            role.composites.retain(
                |member| !matches!(member, RoleRef::Client { client_id: c, .. } if c == client_id),
            );
        }
    }

    /// The roles these ones amount to: themselves and, transitively, their composites' members.
    /// References to roles that do not exist are left out.
    pub fn expand_roles(&self, roles: impl IntoIterator<Item = RoleRef>) -> BTreeSet<RoleRef> {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<RoleRef> = roles.into_iter().collect();
        while let Some(next) = pending.pop() {
            if seen.contains(&next) {
                continue;
            }
            let Some(role) = self.find_role(&next) else {
                continue;
            };
            pending.extend(role.composites.iter().cloned());
            seen.insert(next);
        }
        seen
    }

    /// The roles mapped to the user directly.
    pub fn mapped_roles(&self, user: &User) -> Vec<RoleRef> {
        let realm = user.realm_roles.iter().cloned().map(RoleRef::Realm);
        let clients = user.client_roles.iter().flat_map(|(client_id, roles)| {
            roles
                .iter()
                .map(move |role| RoleRef::client(client_id, role))
        });
        realm.chain(clients).collect()
    }

    /// Realm roles in the token: the user's own with their composites expanded.
    pub fn effective_realm_roles(&self, user: &User) -> Vec<String> {
        self.expand_roles(self.mapped_roles(user))
            .into_iter()
            .filter_map(|role| match role {
                RoleRef::Realm(name) => Some(name),
                RoleRef::Client { .. } => None,
            })
            .collect()
    }

    /// Client roles in the token, by clientId, with composites expanded.
    pub fn effective_client_roles(&self, user: &User) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for role in self.expand_roles(self.mapped_roles(user)) {
            if let RoleRef::Client { client_id, role } = role {
                out.entry(client_id).or_default().push(role);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(patterns: &[&str]) -> Client {
        let mut c = Client::new("app");
        c.redirect_uris = patterns.iter().map(|p| p.to_string()).collect();
        c
    }

    #[test]
    fn wildcard_redirects_follow_keycloak() {
        let c = client(&["http://localhost:8080/*"]);
        let origin = "http://127.0.0.1:9000";
        assert!(c
            .verify_redirect_uri("http://localhost:8080/", origin)
            .is_some());
        assert!(c
            .verify_redirect_uri("http://localhost:8080", origin)
            .is_some());
        assert!(c
            .verify_redirect_uri("http://localhost:8080/a/b?x=1#frag", origin)
            .is_some());
        assert!(c
            .verify_redirect_uri("http://LOCALHOST:8080/Path", origin)
            .is_some());
        assert!(c
            .verify_redirect_uri("http://localhost:8081/", origin)
            .is_none());
        assert!(c
            .verify_redirect_uri("http://localhost:8080.evil.com/", origin)
            .is_none());
    }

    #[test]
    fn exact_redirects_need_the_whole_uri() {
        let c = client(&["http://localhost:8080/cb"]);
        let origin = "http://127.0.0.1:9000";
        assert!(c
            .verify_redirect_uri("http://localhost:8080/cb", origin)
            .is_some());
        assert!(c
            .verify_redirect_uri("http://localhost:8080/cb?x", origin)
            .is_none());
        assert!(c
            .verify_redirect_uri("http://localhost:8080/cb2", origin)
            .is_none());
    }

    #[test]
    fn relative_redirects_resolve_against_the_server() {
        let c = client(&["/realms/demo/account/*"]);
        let got = c.verify_redirect_uri(
            "http://127.0.0.1:9000/realms/demo/account/x",
            "http://127.0.0.1:9000",
        );
        assert_eq!(
            got.as_deref(),
            Some("http://127.0.0.1:9000/realms/demo/account/x")
        );
    }

    #[test]
    fn plus_web_origin_means_redirect_origins() {
        let mut c = client(&["http://localhost:8080/*", "http://127.0.0.1:8080/cb"]);
        c.web_origins = vec!["+".into()];
        assert!(c.allows_origin("http://localhost:8080"));
        assert!(c.allows_origin("http://127.0.0.1:8080"));
        assert!(!c.allows_origin("http://localhost:8081"));
        c.web_origins = vec!["*".into()];
        assert!(c.allows_origin("http://anything:1"));
    }

    #[test]
    fn passwords_are_salted() {
        let p = Password::new("secret");
        assert!(p.matches("secret"));
        assert!(!p.matches("Secret"));
        assert_ne!(Password::new("secret").hash, p.hash);
    }
}
