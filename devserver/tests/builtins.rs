//! What Keycloak creates in every realm by itself: the built-in clients with their roles and the
//! default roles, as the Admin REST API and the tokens show them.

// Test code: a failed unwrap or index is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// The `name` of every object in a JSON array, sorted.
fn names(list: &Value) -> Vec<String> {
    sorted_field(list, "name")
}

fn sorted_strings(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|item| item.as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

const ADMIN_ROLES: [&str; 19] = [
    "create-client",
    "impersonation",
    "manage-authorization",
    "manage-clients",
    "manage-events",
    "manage-identity-providers",
    "manage-realm",
    "manage-users",
    "query-clients",
    "query-groups",
    "query-realms",
    "query-users",
    "realm-admin",
    "view-authorization",
    "view-clients",
    "view-events",
    "view-identity-providers",
    "view-realm",
    "view-users",
];

const ACCOUNT_ROLES: [&str; 8] = [
    "delete-account",
    "manage-account",
    "manage-account-links",
    "manage-consent",
    "view-applications",
    "view-consent",
    "view-groups",
    "view-profile",
];

#[tokio::test]
async fn a_realm_created_through_the_admin_api_has_the_builtin_clients() {
    let env = start().await;
    let admin = env.admin().await;
    let created = admin
        .post("/admin/realms", json!({ "realm": "acme", "enabled": true }))
        .await;
    assert_eq!(created.status(), 201);

    let clients = admin.get("/admin/realms/acme/clients").await;
    assert_eq!(
        sorted_field(&clients, "clientId"),
        [
            "account",
            "account-console",
            "admin-cli",
            "broker",
            "realm-management",
            "security-admin-console"
        ]
    );

    let management = admin.client("acme", "realm-management").await;
    assert_eq!(management["bearerOnly"], true);
    assert_eq!(management["name"], "${client_realm-management}");
    assert_eq!(
        names(&admin.client_roles("acme", "realm-management").await),
        ADMIN_ROLES
    );
    let uuid = management["id"].as_str().unwrap();
    let view_users = admin
        .get(&format!(
            "/admin/realms/acme/clients/{uuid}/roles/view-users"
        ))
        .await;
    assert_eq!(view_users["composite"], true);
    assert_eq!(view_users["clientRole"], true);
    assert_eq!(view_users["containerId"], uuid);
    assert_eq!(view_users["description"], "${role_view-users}");
    let query_users = admin
        .get(&format!(
            "/admin/realms/acme/clients/{uuid}/roles/query-users"
        ))
        .await;
    assert_eq!(query_users["composite"], false);

    assert_eq!(
        names(&admin.client_roles("acme", "account").await),
        ACCOUNT_ROLES
    );
    assert_eq!(
        names(&admin.client_roles("acme", "broker").await),
        ["read-token"]
    );
    let cli = admin.client("acme", "admin-cli").await;
    assert_eq!(cli["publicClient"], true);
    assert_eq!(cli["directAccessGrantsEnabled"], true);
    assert_eq!(cli["standardFlowEnabled"], false);
    let console = admin.client("acme", "security-admin-console").await;
    assert_eq!(console["publicClient"], true);
    assert_eq!(console["redirectUris"], json!(["/admin/acme/console/*"]));
    assert_eq!(
        admin.client("acme", "account-console").await["redirectUris"],
        json!(["/realms/acme/account/*"])
    );

    let realm_roles = admin.get("/admin/realms/acme/roles").await;
    assert_eq!(
        names(&realm_roles),
        ["default-roles-acme", "offline_access", "uma_authorization"]
    );
    let default_role = admin
        .get("/admin/realms/acme/roles/default-roles-acme")
        .await;
    assert_eq!(default_role["composite"], true);
    assert_eq!(default_role["description"], "${role_default-roles}");
    let realm = admin.get("/admin/realms/acme").await;
    assert_eq!(realm["defaultRole"]["name"], "default-roles-acme");
    assert_eq!(realm["defaultRole"]["id"], default_role["id"]);
    let composites = admin
        .get("/admin/realms/acme/roles/default-roles-acme/composites")
        .await;
    assert_eq!(
        names(&composites),
        [
            "manage-account",
            "offline_access",
            "uma_authorization",
            "view-profile"
        ]
    );
}

#[tokio::test]
async fn the_master_realm_has_its_own_builtins() {
    let env = start().await;
    let admin = env.admin().await;
    let clients = admin.get("/admin/realms/master/clients").await;
    assert_eq!(
        sorted_field(&clients, "clientId"),
        [
            "account",
            "account-console",
            "admin-cli",
            "broker",
            "master-realm",
            "security-admin-console"
        ]
    );
    let roles = names(&admin.client_roles("master", "master-realm").await);
    assert!(roles.iter().any(|r| r == "view-users"), "{roles:?}");
    assert!(!roles.iter().any(|r| r == "realm-admin"), "{roles:?}");
    let realm_roles = names(&admin.get("/admin/realms/master/roles").await);
    assert_eq!(
        realm_roles,
        [
            "admin",
            "create-realm",
            "default-roles-master",
            "offline_access",
            "uma_authorization"
        ]
    );
    assert_eq!(
        admin.get("/admin/realms/master/roles/admin").await["composite"],
        true
    );
}

#[tokio::test]
async fn builtin_client_roles_mapped_through_the_admin_api_reach_the_token() {
    let env = start().await;
    let admin = env.admin().await;
    admin.realm_with_spa("acme").await;
    // Keycloak ignores role lists in a created user's representation; they must not fail either.
    let created = admin
        .post(
            "/admin/realms/acme/users",
            json!({
                "username": "rita",
                "enabled": true,
                "realmRoles": ["no-such-role"],
                "clientRoles": { "realm-management": ["view-users"], "no-such-client": ["x"] },
                "credentials": [{ "type": "password", "value": "rita-pw", "temporary": false }]
            }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let user_id = location_id(&created);
    let mappings = admin
        .get(&format!("/admin/realms/acme/users/{user_id}/role-mappings"))
        .await;
    assert_eq!(
        names(&mappings["realmMappings"]),
        ["default-roles-acme"],
        "a new user has the default roles and nothing else"
    );
    assert!(mappings.get("clientMappings").is_none(), "{mappings}");
    assert_eq!(
        admin
            .send(Method::GET, "/admin/realms/acme/roles/no-such-role", None)
            .await
            .status(),
        404
    );

    let management = admin.client("acme", "realm-management").await;
    let uuid = management["id"].as_str().unwrap();
    let roles = admin.client_roles("acme", "realm-management").await;
    let wanted: Vec<Value> = roles
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "view-users" || r["name"] == "manage-clients")
        .cloned()
        .collect();
    let mapped = admin
        .post(
            &format!("/admin/realms/acme/users/{user_id}/role-mappings/clients/{uuid}"),
            Value::Array(wanted),
        )
        .await;
    assert_eq!(mapped.status(), 204);
    let direct = admin
        .get(&format!(
            "/admin/realms/acme/users/{user_id}/role-mappings/clients/{uuid}"
        ))
        .await;
    assert_eq!(names(&direct), ["manage-clients", "view-users"]);
    let effective = admin
        .get(&format!(
            "/admin/realms/acme/users/{user_id}/role-mappings/clients/{uuid}/composite"
        ))
        .await;
    assert_eq!(
        names(&effective),
        [
            "manage-clients",
            "query-groups",
            "query-users",
            "view-users"
        ]
    );
    let effective_realm = admin
        .get(&format!(
            "/admin/realms/acme/users/{user_id}/role-mappings/realm/composite"
        ))
        .await;
    assert_eq!(
        names(&effective_realm),
        ["default-roles-acme", "offline_access", "uma_authorization"]
    );

    let tokens = env.password_grant("acme", "spa", "rita", "rita-pw").await;
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(
        sorted_strings(&access["resource_access"]["realm-management"]["roles"]),
        [
            "manage-clients",
            "query-groups",
            "query-users",
            "view-users"
        ]
    );
    assert_eq!(
        sorted_strings(&access["resource_access"]["account"]["roles"]),
        ["manage-account", "manage-account-links", "view-profile"]
    );
    assert_eq!(
        sorted_strings(&access["realm_access"]["roles"]),
        ["default-roles-acme", "offline_access", "uma_authorization"]
    );
    assert_eq!(
        sorted_strings(&access["aud"]),
        ["account", "realm-management"]
    );

    // Without the default role the account roles leave the token.
    let default_role = admin
        .get("/admin/realms/acme/roles/default-roles-acme")
        .await;
    let removed = admin
        .send(
            Method::DELETE,
            &format!("/admin/realms/acme/users/{user_id}/role-mappings/realm"),
            Some(json!([default_role])),
        )
        .await;
    assert_eq!(removed.status(), 204);
    let tokens = env.password_grant("acme", "spa", "rita", "rita-pw").await;
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert!(
        access["resource_access"].get("account").is_none(),
        "{access}"
    );
    assert!(access.get("realm_access").is_none() || access["realm_access"]["roles"] == json!([]));
}

#[tokio::test]
async fn an_import_keeps_the_builtins_it_names_and_gets_the_others() {
    let env = start().await;
    let admin = env.admin().await;
    let created = admin
        .post(
            "/admin/realms",
            json!({
                "realm": "imp",
                "enabled": true,
                "clients": [
                    { "clientId": "broker", "name": "Our broker", "bearerOnly": true },
                    { "clientId": "spa", "publicClient": true, "directAccessGrantsEnabled": true }
                ],
                "roles": {
                    "realm": [
                        { "name": "auditor", "composite": true,
                          "composites": { "client": { "realm-management": ["view-events"] } } }
                    ],
                    "client": {
                        "realm-management": [{ "name": "custom-admin", "description": "ours" }]
                    }
                },
                "users": [{
                    "username": "ivy",
                    "enabled": true,
                    "credentials": [{ "type": "password", "value": "ivy-pw" }],
                    "realmRoles": ["auditor"],
                    "clientRoles": { "realm-management": ["view-realm"], "account": ["view-groups"] }
                }]
            }),
        )
        .await;
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());

    let broker = admin.client("imp", "broker").await;
    assert_eq!(broker["name"], "Our broker");
    let clients = admin.get("/admin/realms/imp/clients").await;
    assert_eq!(clients.as_array().unwrap().len(), 7, "{clients}");
    let management_roles = names(&admin.client_roles("imp", "realm-management").await);
    assert!(management_roles.iter().any(|r| r == "custom-admin"));
    assert!(management_roles.iter().any(|r| r == "view-realm"));
    let auditor = admin.get("/admin/realms/imp/roles/auditor").await;
    assert_eq!(auditor["composite"], true);

    let user_id = admin.user_id("imp", "ivy").await;
    let mappings = admin
        .get(&format!("/admin/realms/imp/users/{user_id}/role-mappings"))
        .await;
    assert_eq!(
        names(&mappings["clientMappings"]["realm-management"]["mappings"]),
        ["view-realm"]
    );
    assert_eq!(
        names(&mappings["clientMappings"]["account"]["mappings"]),
        ["view-groups"]
    );

    let tokens = env.password_grant("imp", "spa", "ivy", "ivy-pw").await;
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(
        sorted_strings(&access["resource_access"]["realm-management"]["roles"]),
        ["view-events", "view-realm"]
    );
    assert_eq!(
        sorted_strings(&access["resource_access"]["account"]["roles"]),
        [
            "manage-account",
            "manage-account-links",
            "view-groups",
            "view-profile"
        ]
    );
}

#[tokio::test]
async fn an_import_with_a_composite_to_an_unknown_role_is_refused() {
    let env = start().await;
    let admin = env.admin().await;
    let refused = admin
        .post(
            "/admin/realms",
            json!({
                "realm": "bad",
                "roles": { "realm": [{ "name": "r", "composites": { "realm": ["ghost"] } }] }
            }),
        )
        .await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["errorMessage"],
        "at roles.realm[0].composites: no realm role 'ghost'"
    );
}

#[tokio::test]
async fn the_default_roles_change_through_their_composites() {
    let env = start().await;
    let admin = env.admin().await;
    admin.realm_with_spa("acme").await;
    admin
        .post("/admin/realms/acme/roles", json!({ "name": "member" }))
        .await;
    let member = admin.get("/admin/realms/acme/roles/member").await;
    let default_role = admin
        .get("/admin/realms/acme/roles/default-roles-acme")
        .await;
    let by_id = admin
        .get(&format!(
            "/admin/realms/acme/roles-by-id/{}",
            default_role["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(by_id["name"], "default-roles-acme");
    let added = admin
        .post(
            &format!(
                "/admin/realms/acme/roles-by-id/{}/composites",
                default_role["id"].as_str().unwrap()
            ),
            json!([member]),
        )
        .await;
    assert_eq!(added.status(), 204);
    admin.user_with_password("acme", "max", "max-pw").await;
    let tokens = env.password_grant("acme", "spa", "max", "max-pw").await;
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert!(
        sorted_strings(&access["realm_access"]["roles"]).contains(&"member".to_string()),
        "{access}"
    );
    let removed = admin
        .send(
            Method::DELETE,
            "/admin/realms/acme/roles/default-roles-acme/composites",
            Some(json!([member])),
        )
        .await;
    assert_eq!(removed.status(), 204);
    let composites = admin
        .get("/admin/realms/acme/roles/default-roles-acme/composites")
        .await;
    assert!(!names(&composites).contains(&"member".to_string()));
}
