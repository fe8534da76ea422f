//! A realm's own users and service accounts with `realm-management` roles call the Admin API of
//! their realm, each role granting what it grants in Keycloak, and nothing more.

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

/// Realm `acme` with a confidential client `backend` (service account) and a public client `spa`;
/// the service account holds the given realm-management roles. Returns the service account's
/// access token.
async fn backend_with_roles(env: &Env, roles: &[&str]) -> String {
    let admin = env.admin().await;
    admin.realm_with_spa("acme").await;
    admin
        .post(
            "/admin/realms/acme/clients",
            json!({ "clientId": "backend", "secret": "backend-secret", "serviceAccountsEnabled": true }),
        )
        .await;
    let backend = admin.client("acme", "backend").await;
    let account = admin
        .get(&format!(
            "/admin/realms/acme/clients/{}/service-account-user",
            backend["id"].as_str().unwrap()
        ))
        .await;
    let management = admin.client("acme", "realm-management").await;
    let uuid = management["id"].as_str().unwrap();
    let all = admin.client_roles("acme", "realm-management").await;
    let wanted: Vec<Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| roles.contains(&r["name"].as_str().unwrap()))
        .cloned()
        .collect();
    assert_eq!(wanted.len(), roles.len());
    let mapped = admin
        .post(
            &format!(
                "/admin/realms/acme/users/{}/role-mappings/clients/{uuid}",
                account["id"].as_str().unwrap()
            ),
            Value::Array(wanted),
        )
        .await;
    assert_eq!(mapped.status(), 204);
    let response = env
        .post_form_as(
            &env.oidc("acme", "token"),
            ("backend", "backend-secret"),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// The Admin API with a given bearer token.
fn as_token<'a>(env: &'a Env, token: &str) -> Admin<'a> {
    Admin {
        env,
        token: token.to_string(),
    }
}

#[tokio::test]
async fn a_service_account_with_manage_users_manages_the_users_of_its_realm() {
    let env = start().await;
    let token = backend_with_roles(&env, &["manage-users"]).await;
    let backend = as_token(&env, &token);
    let created = backend
        .post(
            "/admin/realms/acme/users",
            json!({ "username": "provisioned", "enabled": true }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let found = backend
        .get("/admin/realms/acme/users?username=provisioned&exact=true")
        .await;
    assert_eq!(found[0]["username"], "provisioned");
    let roles = backend.get("/admin/realms/acme/roles").await;
    assert!(roles.as_array().unwrap().len() >= 3, "roles are readable");

    // What manage-users does not grant.
    let client = backend
        .post(
            "/admin/realms/acme/clients",
            json!({ "clientId": "sneaky" }),
        )
        .await;
    assert_eq!(
        client.status(),
        403,
        "creating clients needs manage-clients"
    );
    let realm = backend
        .send(
            Method::PUT,
            "/admin/realms/acme",
            Some(json!({ "registrationAllowed": true })),
        )
        .await;
    assert_eq!(realm.status(), 403, "changing the realm needs manage-realm");
    let other_realm = backend
        .send(Method::GET, "/admin/realms/test/users", None)
        .await;
    assert_eq!(other_realm.status(), 401, "a token of acme opens acme only");
    let realms = backend.send(Method::GET, "/admin/realms", None).await;
    assert_eq!(realms.status(), 401, "the realm list is the master admin's");
    let knobs = backend
        .send(Method::GET, "/admin/devserver/faults", None)
        .await;
    assert_eq!(knobs.status(), 401, "and so are the fault knobs");
}

#[tokio::test]
async fn view_users_reads_users_but_does_not_change_them() {
    let env = start().await;
    let token = backend_with_roles(&env, &["view-users"]).await;
    let backend = as_token(&env, &token);
    let users = backend.get("/admin/realms/acme/users").await;
    assert!(users.as_array().is_some());
    let created = backend
        .post("/admin/realms/acme/users", json!({ "username": "nope" }))
        .await;
    assert_eq!(created.status(), 403);
    let clients = backend
        .send(Method::GET, "/admin/realms/acme/clients", None)
        .await;
    assert_eq!(clients.status(), 403, "viewing clients needs a client role");
}

#[tokio::test]
async fn a_realm_user_without_management_roles_is_refused() {
    let env = start().await;
    backend_with_roles(&env, &["realm-admin"]).await;
    let admin = env.admin().await;
    admin.user_with_password("acme", "plain", "plain-pw").await;
    let tokens = env.password_grant("acme", "spa", "plain", "plain-pw").await;
    let plain = as_token(&env, tokens["access_token"].as_str().unwrap());
    let refused = plain
        .send(Method::GET, "/admin/realms/acme/users", None)
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"],
        "unknown_error"
    );
}

#[tokio::test]
async fn realm_admin_grants_every_management_call_of_the_realm() {
    let env = start().await;
    let token = backend_with_roles(&env, &["realm-admin"]).await;
    let backend = as_token(&env, &token);
    for (path, body) in [
        ("/admin/realms/acme/clients", json!({ "clientId": "made" })),
        ("/admin/realms/acme/roles", json!({ "name": "made" })),
        ("/admin/realms/acme/users", json!({ "username": "made" })),
    ] {
        assert_eq!(backend.post(path, body).await.status(), 201, "{path}");
    }
    assert_eq!(
        backend
            .send(
                Method::PUT,
                "/admin/realms/acme",
                Some(json!({ "registrationAllowed": true }))
            )
            .await
            .status(),
        204
    );
    assert!(backend.get("/admin/realms/acme/events").await.is_array());
    let deleted = backend
        .send(Method::DELETE, "/admin/realms/acme", None)
        .await;
    assert_eq!(
        deleted.status(),
        401,
        "deleting a realm is the master admin's"
    );
}
