//! What Keycloak 26 creates in every realm by itself: the default roles, the built-in clients and
//! their roles. A realm that already has one of them (an import that names it) keeps its own;
//! only what is missing is added.

use super::{Client, Realm, Role, RoleRef};

pub const MASTER_REALM: &str = "master";
pub const ACCOUNT: &str = "account";
pub const ADMIN_CLI: &str = "admin-cli";

/// The roles of a realm's management client (Keycloak's admin roles), `impersonation` aside.
const MANAGEMENT_ROLES: [&str; 17] = [
    "create-client",
    "view-realm",
    "view-users",
    "view-clients",
    "view-events",
    "view-identity-providers",
    "view-authorization",
    "manage-realm",
    "manage-users",
    "manage-clients",
    "manage-events",
    "manage-identity-providers",
    "manage-authorization",
    "query-users",
    "query-clients",
    "query-realms",
    "query-groups",
];
const IMPERSONATION: &str = "impersonation";
/// Outside the master realm, the composite of all the management roles.
const REALM_ADMIN: &str = "realm-admin";
/// Who may view users or clients may also query them.
const MANAGEMENT_COMPOSITES: [(&str, &[&str]); 2] = [
    ("view-users", &["query-users", "query-groups"]),
    ("view-clients", &["query-clients"]),
];

const ACCOUNT_ROLES: [&str; 8] = [
    "view-profile",
    "manage-account",
    "manage-account-links",
    "view-applications",
    "view-consent",
    "manage-consent",
    "view-groups",
    "delete-account",
];
const ACCOUNT_COMPOSITES: [(&str, &[&str]); 2] = [
    ("manage-account", &["manage-account-links"]),
    ("manage-consent", &["view-consent"]),
];
/// The account roles in `default-roles-{realm}`.
const DEFAULT_ACCOUNT_ROLES: [&str; 2] = ["view-profile", "manage-account"];

/// The management client: `realm-management`, or in the master realm `master-realm`.
pub fn management_client_id(realm: &str) -> String {
    if realm == MASTER_REALM {
        format!("{MASTER_REALM}-realm")
    } else {
        "realm-management".to_string()
    }
}

/// Adds the built-in clients, their roles and the realm's default roles that are missing.
pub fn add_missing(realm: &mut Realm) {
    for client in builtin_clients(&realm.name) {
        if realm.client(&client.client_id).is_none() {
            realm.clients.push(client);
        }
    }
    let management = management_client_id(&realm.name);
    let outside_master = realm.name != MASTER_REALM;
    let mut management_roles = client_roles(
        &management,
        MANAGEMENT_ROLES.iter().chain([&IMPERSONATION]),
        &MANAGEMENT_COMPOSITES,
    );
    if outside_master {
        let mut admin = described(REALM_ADMIN);
        admin.composites = management_roles
            .iter()
            .map(|r| RoleRef::client(&management, &r.name))
            .collect();
        management_roles.push(admin);
    }
    let master_admin_members: Vec<RoleRef> = management_roles
        .iter()
        .map(|r| RoleRef::client(&management, &r.name))
        .collect();
    add_roles(realm.client_mut(&management), management_roles);
    add_roles(
        realm.client_mut(ACCOUNT),
        client_roles(ACCOUNT, ACCOUNT_ROLES.iter(), &ACCOUNT_COMPOSITES),
    );
    add_roles(realm.client_mut("broker"), vec![described("read-token")]);

    let mut roles = vec![
        Role::new("offline_access", Some("${role_offline-access}".into())),
        Role::new(
            "uma_authorization",
            Some("${role_uma_authorization}".into()),
        ),
    ];
    let mut default_role = Role::new(
        &realm.default_role_name(),
        Some("${role_default-roles}".into()),
    );
    default_role.composites = roles
        .iter()
        .map(|r| RoleRef::Realm(r.name.clone()))
        .chain(
            DEFAULT_ACCOUNT_ROLES
                .iter()
                .map(|name| RoleRef::client(ACCOUNT, name)),
        )
        .collect();
    roles.push(default_role);
    if !outside_master {
        let create_realm = described("create-realm");
        let mut admin = described("admin");
        admin.composites = master_admin_members
            .into_iter()
            .chain([RoleRef::Realm(create_realm.name.clone())])
            .collect();
        roles.extend([create_realm, admin]);
    }
    for role in roles {
        if realm.role(&role.name).is_none() {
            realm.roles.push(role);
        }
    }
}

/// A role with Keycloak's description: the admin console's message key for it.
fn described(name: &str) -> Role {
    Role::new(name, Some(format!("${{role_{name}}}")))
}

/// Described roles of a client, with the composites among them.
fn client_roles<'a>(
    client_id: &str,
    names: impl Iterator<Item = &'a &'a str>,
    composites: &[(&str, &[&str])],
) -> Vec<Role> {
    names
        .map(|name| {
            let mut role = described(name);
            for (parent, members) in composites {
                if parent == name {
                    role.composites
                        .extend(members.iter().map(|m| RoleRef::client(client_id, m)));
                }
            }
            role
        })
        .collect()
}

/// Adds to a client the roles it does not have yet.
fn add_roles(client: Option<&mut Client>, roles: Vec<Role>) {
    let Some(client) = client else {
        return;
    };
    for role in roles {
        if client.role(&role.name).is_none() {
            client.roles.push(role);
        }
    }
}

fn named(client_id: &str) -> Client {
    let mut client = Client::new(client_id);
    client.name = Some(format!("${{client_{client_id}}}"));
    client
}

/// A public client of one of Keycloak's own pages, signed in with PKCE.
fn console(client_id: &str, base_url: String) -> Client {
    let mut client = named(client_id);
    client.public_client = true;
    client.redirect_uris = vec![format!("{base_url}*")];
    client.base_url = Some(base_url);
    client
        .attributes
        .insert("pkce.code.challenge.method".into(), "S256".into());
    client
        .attributes
        .insert("post.logout.redirect.uris".into(), "+".into());
    client
}

fn builtin_clients(realm: &str) -> Vec<Client> {
    let account_url = format!("/realms/{realm}/account/");
    let mut account = named(ACCOUNT);
    account.public_client = true;
    account.redirect_uris = vec![format!("{account_url}*")];
    account.base_url = Some(account_url.clone());
    account
        .attributes
        .insert("post.logout.redirect.uris".into(), "+".into());

    let account_console = console("account-console", account_url);

    let mut admin_console = console("security-admin-console", format!("/admin/{realm}/console/"));
    admin_console.web_origins = vec!["+".into()];

    let mut admin_cli = named(ADMIN_CLI);
    admin_cli.public_client = true;
    admin_cli.standard_flow = false;
    admin_cli.direct_access_grants = true;

    let mut broker = named("broker");
    broker.bearer_only = true;

    let management_id = management_client_id(realm);
    let mut management = if realm == MASTER_REALM {
        let mut client = Client::new(&management_id);
        client.name = Some(format!("{realm} Realm"));
        client
    } else {
        named(&management_id)
    };
    management.bearer_only = true;

    vec![
        account,
        account_console,
        admin_cli,
        broker,
        management,
        admin_console,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::User;

    #[test]
    fn the_default_roles_expand_to_keycloaks_set() {
        let realm = Realm::new("r");
        let user = realm.new_user("u", 0);
        assert_eq!(
            realm.effective_realm_roles(&user),
            ["default-roles-r", "offline_access", "uma_authorization"]
        );
        assert_eq!(
            realm.effective_client_roles(&user)["account"],
            ["manage-account", "manage-account-links", "view-profile"]
        );
    }

    #[test]
    fn realm_admin_holds_every_management_role() {
        let realm = Realm::new("r");
        let mut user = User::new("u", 0);
        user.client_roles
            .entry("realm-management".into())
            .or_default()
            .insert(REALM_ADMIN.into());
        let roles = &realm.effective_client_roles(&user)["realm-management"];
        assert_eq!(roles.len(), MANAGEMENT_ROLES.len() + 2);
        assert!(realm.effective_realm_roles(&user).is_empty());
    }

    #[test]
    fn an_existing_client_keeps_its_settings() {
        let mut realm = Realm::new("r");
        if let Some(broker) = realm.client_mut("broker") {
            broker.name = Some("ours".into());
            broker.roles.clear();
        }
        add_missing(&mut realm);
        let broker = realm.client("broker");
        assert_eq!(broker.and_then(|b| b.name.as_deref()), Some("ours"));
        assert!(broker.and_then(|b| b.role("read-token")).is_some());
    }

    #[test]
    fn the_master_realm_has_its_admin_roles() {
        let realm = Realm::new(MASTER_REALM);
        assert!(realm.client("master-realm").is_some());
        assert!(realm.client("realm-management").is_none());
        let mut admin = User::new("a", 0);
        admin.realm_roles.insert("admin".into());
        assert!(realm
            .effective_realm_roles(&admin)
            .contains(&"create-realm".to_string()));
        assert!(realm.effective_client_roles(&admin)["master-realm"].contains(&"view-users".into()));
    }
}
