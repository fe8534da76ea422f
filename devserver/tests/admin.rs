//! The Admin REST subset and devserver's fault knobs.

// Test code: a failed unwrap or index is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn admin_calls_need_a_master_admin_token() {
    let env = start().await;
    let anonymous = env.get(&env.url("/admin/realms")).await;
    assert_eq!(anonymous.status(), 401);
    let user_token = env
        .password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let not_master = env
        .get_with_token(
            &env.url("/admin/realms"),
            user_token["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        not_master.status(),
        401,
        "tokens of other realms are not admin tokens"
    );
    let realms = env.admin().await.get("/admin/realms").await;
    let names: Vec<&str> = realms
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["realm"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["demo", "master", "rotating", "test"]);
    let faults = env.get(&env.url("/admin/devserver/faults")).await;
    assert_eq!(faults.status(), 401, "the knobs are admin-only too");
}

#[tokio::test]
async fn fixtures_through_the_admin_api_show_up_in_tokens() {
    let env = start().await;
    let admin = env.admin().await;
    use reqwest::Method;
    let created = admin
        .post(
            "/admin/realms",
            json!({ "realm": "shop", "enabled": true, "accessTokenLifespan": 42 }),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert!(created.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/admin/realms/shop"));
    let again = admin
        .post("/admin/realms", json!({ "realm": "shop" }))
        .await;
    assert_eq!(again.status(), 409);

    let created = admin
        .post(
            "/admin/realms/shop/clients",
            json!({
                "clientId": "shop-web",
                "publicClient": true,
                "directAccessGrantsEnabled": true,
                "redirectUris": ["http://localhost:9999/*"],
                "webOrigins": ["+"]
            }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let client_uuid = location_id(&created);
    let found = admin
        .get("/admin/realms/shop/clients?clientId=shop-web")
        .await;
    assert_eq!(found[0]["id"], client_uuid.as_str());
    assert_eq!(found[0]["publicClient"], true);

    assert_eq!(
        admin
            .post("/admin/realms/shop/roles", json!({ "name": "buyer" }))
            .await
            .status(),
        201
    );
    assert_eq!(
        admin
            .post("/admin/realms/shop/roles", json!({ "name": "buyer" }))
            .await
            .status(),
        409
    );
    let role_path = format!("/admin/realms/shop/clients/{client_uuid}/roles");
    assert_eq!(
        admin
            .post(&role_path, json!({ "name": "checkout" }))
            .await
            .status(),
        201
    );

    let created = admin
        .post("/admin/realms/shop/users", json!({ "username": "Frank", "email": "frank@example.com", "firstName": "Frank", "lastName": "F", "enabled": true }))
        .await;
    assert_eq!(created.status(), 201);
    let user_id = location_id(&created);
    let duplicate = admin
        .post("/admin/realms/shop/users", json!({ "username": "frank" }))
        .await;
    assert_eq!(duplicate.status(), 409);
    assert_eq!(
        duplicate.json::<Value>().await.unwrap()["errorMessage"],
        "User exists with same username"
    );
    let reset = admin
        .send(
            Method::PUT,
            &format!("/admin/realms/shop/users/{user_id}/reset-password"),
            Some(json!({ "type": "password", "value": "frank-pw", "temporary": false })),
        )
        .await;
    assert_eq!(reset.status(), 204);
    let buyer = admin.get("/admin/realms/shop/roles/buyer").await;
    let mapped = admin
        .post(
            &format!("/admin/realms/shop/users/{user_id}/role-mappings/realm"),
            json!([buyer]),
        )
        .await;
    assert_eq!(mapped.status(), 204);
    let checkout = admin.get(&format!("{role_path}/checkout")).await;
    let mapped = admin
        .post(
            &format!("/admin/realms/shop/users/{user_id}/role-mappings/clients/{client_uuid}"),
            json!([checkout]),
        )
        .await;
    assert_eq!(mapped.status(), 204);
    let mappings = admin
        .get(&format!("/admin/realms/shop/users/{user_id}/role-mappings"))
        .await;
    assert_eq!(mappings["realmMappings"][0]["name"], "buyer");
    assert_eq!(
        mappings["clientMappings"]["shop-web"]["mappings"][0]["name"],
        "checkout"
    );
    let users = admin
        .get("/admin/realms/shop/users?username=frank&exact=true")
        .await;
    assert_eq!(users[0]["id"], user_id.as_str());
    assert_eq!(admin.get("/admin/realms/shop/users/count").await, 1);

    let tokens = env
        .password_grant("shop", "shop-web", "frank", "frank-pw")
        .await;
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(tokens["expires_in"], 42);
    assert!(access["realm_access"]["roles"]
        .as_array()
        .unwrap()
        .contains(&"buyer".into()));
    assert_eq!(
        access["resource_access"]["shop-web"]["roles"],
        json!(["checkout"])
    );

    // Updates apply; unmapping removes the role from new tokens.
    let updated = admin
        .send(
            Method::PUT,
            &format!("/admin/realms/shop/clients/{client_uuid}"),
            Some(json!({ "directAccessGrantsEnabled": false })),
        )
        .await;
    assert_eq!(updated.status(), 204);
    let refused = env
        .post_form(
            &env.oidc("shop", "token"),
            &[
                ("grant_type", "password"),
                ("client_id", "shop-web"),
                ("username", "frank"),
                ("password", "frank-pw"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 400);
    let realm = admin.get("/admin/realms/shop").await;
    assert_eq!(realm["accessTokenLifespan"], 42);
    assert_eq!(
        admin
            .send(Method::DELETE, "/admin/realms/shop", None)
            .await
            .status(),
        204
    );
    assert_eq!(
        admin
            .send(Method::GET, "/admin/realms/shop", None)
            .await
            .status(),
        404
    );
    let gone = env
        .get(&env.url("/realms/shop/.well-known/openid-configuration"))
        .await;
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn events_are_served_newest_first_with_filters() {
    let env = start().await;
    env.password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    env.post_form(
        &env.oidc("test", "token"),
        &[
            ("grant_type", "password"),
            ("client_id", "web-app"),
            ("username", "carol"),
            ("password", "no"),
        ],
    )
    .await;
    let admin = env.admin().await;
    let all = admin.get("/admin/realms/test/events").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let event = &all[1];
    for key in [
        "id",
        "time",
        "type",
        "realmId",
        "clientId",
        "userId",
        "sessionId",
        "ipAddress",
        "details",
    ] {
        assert!(event.get(key).is_some(), "{key} in {event}");
    }
    assert_eq!(event["ipAddress"], "127.0.0.1");
    let errors = admin
        .get("/admin/realms/test/events?type=LOGIN_ERROR")
        .await;
    assert_eq!(errors.as_array().unwrap().len(), 1);
    assert_eq!(errors[0]["error"], "invalid_user_credentials");
    let limited = admin.get("/admin/realms/test/events?max=1&first=1").await;
    assert_eq!(limited[0]["type"], "LOGIN");
}

#[tokio::test]
async fn events_reach_bus_subscribers() {
    let env = start().await;
    let mut bus = env.server.state.events.subscribe();
    env.password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let event = tokio::time::timeout(Duration::from_secs(5), bus.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.kind, "LOGIN");
    assert_eq!(event.realm_name, "test");
    assert_eq!(event.details["grant_type"], "password");
}

#[tokio::test]
async fn fault_rules_fail_delay_and_hang_the_next_requests() {
    let env = start().await;
    let admin = env.admin().await;
    use reqwest::Method;
    let rule = admin
        .post("/admin/devserver/faults", json!({ "target": "token", "realm": "test", "grantType": "password", "count": 2, "status": 503 }))
        .await;
    assert_eq!(rule.status(), 201);
    let form = [
        ("grant_type", "password"),
        ("client_id", "web-app"),
        ("username", "carol"),
        ("password", "carol-pw"),
    ];
    for _ in 0..2 {
        let failed = env
            .http
            .post(env.oidc("test", "token"))
            .header("Origin", "http://localhost:3000")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(failed.status(), 503);
        assert_eq!(
            failed.headers()["access-control-allow-origin"],
            "http://localhost:3000",
            "a browser can read the failure"
        );
        assert_eq!(
            failed.json::<Value>().await.unwrap()["error"],
            "temporarily_unavailable"
        );
    }
    assert_eq!(
        env.post_form(&env.oidc("test", "token"), &form)
            .await
            .status(),
        200,
        "the rule ran out"
    );

    let bad = admin
        .post(
            "/admin/devserver/faults",
            json!({ "target": "tokne", "status": 500 }),
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.json::<Value>().await.unwrap()["errorMessage"]
        .as_str()
        .unwrap()
        .contains("unknown target 'tokne'"));

    admin
        .post(
            "/admin/devserver/faults",
            json!({ "target": "certs", "delayMs": 300 }),
        )
        .await;
    let started = std::time::Instant::now();
    assert_eq!(env.get(&env.oidc("test", "certs")).await.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the answer was delayed"
    );

    admin
        .post(
            "/admin/devserver/faults",
            json!({ "target": "login-status-iframe", "hang": true, "forever": true }),
        )
        .await;
    let hung = tokio::time::timeout(
        Duration::from_millis(500),
        env.http
            .get(env.oidc("demo", "login-status-iframe.html"))
            .send(),
    )
    .await;
    assert!(hung.is_err(), "a hanging page never answers");
    assert_eq!(
        admin
            .get("/admin/devserver/faults")
            .await
            .as_array()
            .unwrap()
            .len(),
        1,
        "forever rules stay"
    );
    assert_eq!(
        admin
            .send(Method::DELETE, "/admin/devserver/faults", None)
            .await
            .status(),
        204
    );
    assert_eq!(
        env.get(&env.oidc("demo", "login-status-iframe.html"))
            .await
            .status(),
        200
    );

    // A hung request goes on to the real answer once released.
    admin
        .post(
            "/admin/devserver/faults",
            json!({ "target": "certs", "hang": true }),
        )
        .await;
    let pending = tokio::spawn(env.http.get(env.oidc("test", "certs")).send());
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while admin
            .get("/admin/devserver/faults")
            .await
            .as_array()
            .is_some_and(|rules| !rules.is_empty())
        {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(waited.is_ok(), "the request took the rule");
    assert!(!pending.is_finished(), "still hung");
    assert_eq!(
        admin
            .send(Method::POST, "/admin/devserver/faults/release", None)
            .await
            .status(),
        204
    );
    let released = tokio::time::timeout(Duration::from_secs(10), pending)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(released.status(), 200);
    assert!(released.json::<Value>().await.unwrap()["keys"].is_array());
}

#[tokio::test]
async fn key_rotation_changes_the_signing_key() {
    let env = start().await;
    let before = env
        .password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let old_kid = jwt_header(before["access_token"].as_str().unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = env.admin().await;
    let rotated = admin
        .post("/admin/devserver/keys/rotate", json!({ "keepOld": true }))
        .await;
    let new_kid = rotated.json::<Value>().await.unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_kid, old_kid);
    let jwks: Value = env.get_json(&env.oidc("test", "certs")).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids,
        vec![new_kid.as_str(), old_kid.as_str()],
        "active key first, old key still published"
    );
    let after = env
        .password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    assert_eq!(
        jwt_header(after["access_token"].as_str().unwrap())["kid"],
        new_kid.as_str()
    );
    let old_still_ok = env
        .get_with_token(
            &env.oidc("test", "userinfo"),
            before["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(old_still_ok.status(), 200);

    let admin = env.admin().await;
    admin
        .post("/admin/devserver/keys/rotate", json!({ "keepOld": false }))
        .await;
    let old_rejected = env
        .get_with_token(
            &env.oidc("test", "userinfo"),
            after["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(old_rejected.status(), 401);
}

#[tokio::test]
async fn admin_session_endpoints_end_sessions() {
    let env = start().await;
    let body = env
        .password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let admin = env.admin().await;
    let id = admin.user_id("test", "carol").await;
    let sessions = admin
        .get(&format!("/admin/realms/test/users/{id}/sessions"))
        .await;
    assert_eq!(sessions[0]["id"], body["session_state"]);
    assert_eq!(
        sessions[0]["clients"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap(),
        "web-app"
    );
    let deleted = admin
        .send(
            reqwest::Method::DELETE,
            &format!(
                "/admin/realms/test/sessions/{}",
                body["session_state"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert!(admin
        .get(&format!("/admin/realms/test/users/{id}/sessions"))
        .await
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_clock_knob_ages_tokens() {
    let env = start().await;
    let body = env
        .password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let admin = env.admin().await;
    let set = admin
        .send(
            reqwest::Method::PUT,
            "/admin/devserver/clock",
            Some(json!({ "offsetSeconds": 121 })),
        )
        .await;
    assert_eq!(set.json::<Value>().await.unwrap()["offsetSeconds"], 121);
    let expired = env
        .get_with_token(
            &env.oidc("test", "userinfo"),
            body["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(expired.status(), 401, "a 120 s token is dead 121 s later");
}
