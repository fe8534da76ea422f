//! Admin REST answers compared with Keycloak's: representations without null fields, client
//! secret regeneration, user and client search parameters, the users holding a role, and the
//! role-mapping rules.

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

async fn created_id(admin: &Admin<'_>, path: &str, body: Value) -> String {
    let response = admin.post(path, body).await;
    assert_eq!(response.status(), 201, "POST {path}");
    location_id(&response)
}

#[tokio::test]
async fn representations_leave_out_what_is_not_set() {
    let env = start().await;
    let admin = env.admin().await;
    let user_id = created_id(
        &admin,
        "/admin/realms/test/users",
        json!({ "username": "plain" }),
    )
    .await;
    let user = admin
        .get(&format!("/admin/realms/test/users/{user_id}"))
        .await;
    for key in ["email", "firstName", "lastName"] {
        assert!(user.get(key).is_none(), "{key} in {user}");
    }
    let uuid = created_id(
        &admin,
        "/admin/realms/test/clients",
        json!({ "clientId": "bare", "publicClient": true }),
    )
    .await;
    let client = admin
        .get(&format!("/admin/realms/test/clients/{uuid}"))
        .await;
    for key in ["name", "rootUrl", "baseUrl", "secret"] {
        assert!(client.get(key).is_none(), "{key} in {client}");
    }
    let realm = admin.get("/admin/realms/test").await;
    assert!(realm.get("displayName").is_none(), "{realm}");
    admin
        .post("/admin/realms/test/roles", json!({ "name": "undescribed" }))
        .await;
    let role = admin.get("/admin/realms/test/roles/undescribed").await;
    assert!(role.get("description").is_none(), "{role}");
}

#[tokio::test]
async fn a_new_client_secret_replaces_the_old_one() {
    let env = start().await;
    let admin = env.admin().await;
    let backend = admin.client("test", "backend").await;
    let path = format!(
        "/admin/realms/test/clients/{}/client-secret",
        backend["id"].as_str().unwrap()
    );
    let response = admin.send(Method::POST, &path, None).await;
    assert_eq!(response.status(), 200);
    let fresh: Value = response.json().await.unwrap();
    assert_eq!(fresh["type"], "secret");
    let secret = fresh["value"].as_str().unwrap().to_string();
    assert_ne!(secret, "backend-secret");
    assert_eq!(admin.get(&path).await["value"], secret.as_str());
    let old = env
        .post_form_as(
            &env.oidc("test", "token"),
            ("backend", "backend-secret"),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(old.status(), 401, "the old secret no longer works");
    let new = env
        .post_form_as(
            &env.oidc("test", "token"),
            ("backend", &secret),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(new.status(), 200);
}

#[tokio::test]
async fn users_are_found_by_state_and_attributes() {
    let env = start().await;
    let admin = env.admin().await;
    let disabled = admin.get("/admin/realms/test/users?enabled=false").await;
    assert_eq!(sorted_field(&disabled, "username"), ["dave"]);
    created_id(
        &admin,
        "/admin/realms/test/users",
        json!({ "username": "erin", "attributes": { "team": ["blue"], "floor": ["3"] } }),
    )
    .await;
    let found = admin
        .get("/admin/realms/test/users?q=team:blue%20floor:3")
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["username"], "erin");
    let nobody = admin
        .get("/admin/realms/test/users?q=team:blue%20floor:4")
        .await;
    assert!(nobody.as_array().unwrap().is_empty());
    assert_eq!(
        admin
            .get("/admin/realms/test/users/count?enabled=true")
            .await,
        2
    );
}

#[tokio::test]
async fn clients_are_listed_page_by_page() {
    let env = start().await;
    let admin = env.admin().await;
    let all = admin.get("/admin/realms/test/clients").await;
    let page = admin.get("/admin/realms/test/clients?first=1&max=2").await;
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(page[0]["clientId"], all[1]["clientId"]);
    assert_eq!(page[1]["clientId"], all[2]["clientId"]);
}

#[tokio::test]
async fn the_users_holding_a_role_are_listed() {
    let env = start().await;
    let admin = env.admin().await;
    let holders = admin.get("/admin/realms/test/roles/user/users").await;
    assert_eq!(sorted_field(&holders, "username"), ["carol"]);
    let web_app = admin.client("test", "web-app").await;
    let editors = admin
        .get(&format!(
            "/admin/realms/test/clients/{}/roles/editor/users",
            web_app["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(editors[0]["username"], "carol");
    let missing = admin
        .send(Method::GET, "/admin/realms/test/roles/ghost/users", None)
        .await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn role_mappings_name_each_role_by_name_and_id() {
    let env = start().await;
    let admin = env.admin().await;
    let user_id = admin.user_id("test", "dave").await;
    let path = format!("/admin/realms/test/users/{user_id}/role-mappings/realm");
    let role = admin.get("/admin/realms/test/roles/user").await;
    for body in [
        json!([{ "name": "user" }]),
        json!([{ "id": role["id"] }]),
        json!([{ "name": "user", "id": "another-id" }]),
    ] {
        let refused = admin.post(&path, body.clone()).await;
        assert_eq!(refused.status(), 404, "{body}");
        assert_eq!(
            refused.json::<Value>().await.unwrap()["error"],
            "Role not found"
        );
    }
    let mapped = admin
        .post(&path, json!([{ "name": "user", "id": role["id"] }]))
        .await;
    assert_eq!(mapped.status(), 204);
    let mapped = admin.get(&path).await;
    assert!(mapped
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "user"));
    let removed = admin.send(Method::DELETE, &path, Some(json!([role]))).await;
    assert_eq!(removed.status(), 204);
}
