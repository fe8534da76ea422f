//! The token endpoint: every grant, its errors as Keycloak words them, and CORS.

// Test code: a failed unwrap or index is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::Value;

async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap().to_string(),
        body["error_description"].as_str().unwrap_or("").to_string(),
    )
}

#[tokio::test]
async fn code_exchange_errors() {
    let env = start().await;
    let mut browser = Browser::new();
    let (params, pkce) = demo_login(&mut browser, &env, "alice").await;
    let code = params["code"].clone();
    let token_url = env.oidc("demo", "token");
    let exchange_error = |code: String, redirect: &'static str, verifier: Option<String>| {
        let env = &env;
        let token_url = token_url.clone();
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code".to_string()),
                ("client_id", "demo-app".to_string()),
                ("code", code),
                ("redirect_uri", redirect.to_string()),
            ];
            if let Some(v) = verifier {
                form.push(("code_verifier", v));
            }
            error_of(env.http.post(&token_url).form(&form).send().await.unwrap()).await
        }
    };
    // Each failed attempt burns the code, as in Keycloak: use fresh codes.
    let (s, e, d) = exchange_error(
        code.clone(),
        "http://localhost:8080/other",
        Some(pkce.verifier.clone()),
    )
    .await;
    assert_eq!(
        (s, e.as_str(), d.as_str()),
        (400, "invalid_grant", "Incorrect redirect_uri")
    );
    let (s, e, d) = exchange_error(
        code.clone(),
        "http://localhost:8080/app",
        Some(pkce.verifier.clone()),
    )
    .await;
    assert_eq!(
        (s, e.as_str(), d.as_str()),
        (400, "invalid_grant", "Code not valid"),
        "a code is single-use"
    );

    let (params, _) = demo_login(&mut Browser::new(), &env, "alice").await;
    let (_, e, d) = exchange_error(params["code"].clone(), "http://localhost:8080/app", None).await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_grant", "PKCE code verifier not specified")
    );
    let (params, _) = demo_login(&mut Browser::new(), &env, "alice").await;
    let wrong = "a".repeat(50);
    let (_, e, d) = exchange_error(
        params["code"].clone(),
        "http://localhost:8080/app",
        Some(wrong),
    )
    .await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_grant", "PKCE verification failed: Code mismatch")
    );
    let (_, e, d) = exchange_error(String::new(), "http://localhost:8080/app", None).await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_request", "Missing parameter: code")
    );
    let (_, e, d) = exchange_error("forged.code.x".into(), "http://localhost:8080/app", None).await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_grant", "Code not valid")
    );

    let (params, pkce) = demo_login(&mut Browser::new(), &env, "alice").await;
    env.server.state.set_clock_offset(61);
    let (_, e, d) = exchange_error(
        params["code"].clone(),
        "http://localhost:8080/app",
        Some(pkce.verifier),
    )
    .await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_grant", "Code is expired")
    );
    env.server.state.set_clock_offset(0);

    let events = env.events("demo").await;
    let errors: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "CODE_TO_TOKEN_ERROR")
        .map(|e| e["error"].as_str().unwrap())
        .collect();
    assert_eq!(
        errors,
        vec![
            "expired_code",
            "invalid_code",
            "invalid_code",
            "pkce_verification_failed",
            "invalid_code_verifier",
            "invalid_code",
            "invalid_code"
        ]
    );
}

#[tokio::test]
async fn grant_type_and_client_errors() {
    let env = start().await;
    let url = env.oidc("test", "token");
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("client_id", "web-app")],
            400,
            "invalid_request",
            "Missing form parameter: grant_type",
        ),
        (
            vec![("grant_type", "magic"), ("client_id", "web-app")],
            400,
            "unsupported_grant_type",
            "Unsupported grant_type",
        ),
        (
            vec![("grant_type", "password")],
            400,
            "invalid_client",
            "Missing client_id parameter",
        ),
        (
            vec![("grant_type", "password"), ("client_id", "ghost")],
            401,
            "invalid_client",
            "Invalid client or Invalid client credentials",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "backend"),
                ("client_secret", "nope"),
            ],
            401,
            "unauthorized_client",
            "Invalid client or Invalid client credentials",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "web-app"),
            ],
            400,
            "unauthorized_client",
            "Public client not allowed to retrieve service account",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", "no-direct"),
                ("username", "carol"),
                ("password", "carol-pw"),
            ],
            400,
            "unauthorized_client",
            "Client not allowed for direct access grants",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", "web-app"),
                ("username", "carol"),
                ("password", "nope"),
            ],
            401,
            "invalid_grant",
            "Invalid user credentials",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", "web-app"),
                ("username", "nobody"),
                ("password", "x"),
            ],
            401,
            "invalid_grant",
            "Invalid user credentials",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", "web-app"),
                ("username", "dave"),
                ("password", "dave-pw"),
            ],
            400,
            "invalid_grant",
            "Account disabled",
        ),
        (
            vec![("grant_type", "refresh_token"), ("client_id", "web-app")],
            400,
            "invalid_request",
            "Missing form parameter: refresh_token",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", "web-app"),
                ("refresh_token", "junk"),
            ],
            400,
            "invalid_grant",
            "Invalid refresh token",
        ),
    ];
    for (form, status, error, description) in cases {
        let got = error_of(env.post_form(&url, &form).await).await;
        assert_eq!(
            got,
            (status, error.to_string(), description.to_string()),
            "{form:?}"
        );
    }
}

#[tokio::test]
async fn client_credentials_and_basic_auth() {
    let env = start().await;
    let response = env
        .post_form_as(
            &env.oidc("test", "token"),
            ("backend", "backend-secret"),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    assert!(body.get("session_state").is_none());
    let access = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["preferred_username"], "service-account-backend");
    assert_eq!(access["azp"], "backend");
    assert_eq!(access["client_id"], "backend");
    assert!(access.get("sid").is_none());
    let events = env.events("test").await;
    assert_eq!(events[0]["type"], "CLIENT_LOGIN");
}

#[tokio::test]
async fn refresh_issues_new_tokens_and_honours_session_state() {
    let env = start().await;
    let first = env
        .password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let refresh = first["refresh_token"].as_str().unwrap();
    env.server.state.set_clock_offset(2);
    let response = env.refresh("test", "web-app", refresh).await;
    assert_eq!(response.status(), 200);
    let second: Value = response.json().await.unwrap();
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["session_state"], first["session_state"]);
    assert_eq!(
        jwt_claims(second["refresh_token"].as_str().unwrap())["typ"],
        "Refresh"
    );
    assert_eq!(second["expires_in"], 120);
    assert!(
        second.get("id_token").is_some(),
        "openid scope keeps the ID token"
    );
    // Without revokeRefreshToken the old refresh token stays usable.
    let again = env.refresh("test", "web-app", refresh).await;
    assert_eq!(again.status(), 200);
    // Another client cannot use it.
    let (_, e, d) = error_of(env.refresh("test", "plain-app", refresh).await).await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        (
            "invalid_grant",
            "Invalid refresh token. Token client and authorized client don't match"
        )
    );
    // Once the session is gone, refreshing fails with Keycloak's message.
    let dropped: Value = env
        .admin()
        .await
        .send(
            reqwest::Method::DELETE,
            "/admin/devserver/realms/test/users/carol/sessions",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dropped["dropped"].as_array().unwrap().len(), 1);
    let (_, e, d) = error_of(env.refresh("test", "web-app", refresh).await).await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_grant", "Session not active")
    );
    let events = env.events("test").await;
    assert_eq!(events[0]["type"], "REFRESH_TOKEN_ERROR");
    assert_eq!(events[1]["type"], "LOGOUT");
}

#[tokio::test]
async fn revoke_refresh_token_rotation_rejects_reuse() {
    let env = start().await;
    let first = env
        .password_grant("rotating", "app", "erin", "erin-pw")
        .await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let refresh = |token: String| {
        let env = &env;
        async move { env.refresh("rotating", "app", &token).await }
    };
    env.server.state.set_clock_offset(1);
    let second: Value = refresh(r1.clone()).await.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    env.server.state.set_clock_offset(2);
    let third = refresh(r2.clone()).await;
    assert_eq!(third.status(), 200, "the newest refresh token works");
    let (_, e, d) = error_of(refresh(r1).await).await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        ("invalid_grant", "Stale token"),
        "an older token than the last one used"
    );
    let (_, e, d) = error_of(refresh(r2).await).await;
    assert_eq!(
        (e.as_str(), d.as_str()),
        (
            "invalid_grant",
            "Maximum allowed refresh token reuse exceeded"
        )
    );
}

#[tokio::test]
async fn client_lifespan_attribute_and_session_expiry() {
    let env = start().await;
    let body = env
        .password_grant("test", "plain-app", "carol", "carol-pw")
        .await;
    assert_eq!(
        body["expires_in"], 7,
        "access.token.lifespan overrides the realm's"
    );
    let access = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        access["exp"].as_u64().unwrap() - access["iat"].as_u64().unwrap(),
        7
    );
    assert_eq!(body["refresh_expires_in"], 1800);
    // Past the idle timeout (and Keycloak's grace period) the session is over.
    env.server.state.set_clock_offset(1800 + 121);
    let (_, e, _) = error_of(
        env.refresh("test", "plain-app", body["refresh_token"].as_str().unwrap())
            .await,
    )
    .await;
    assert_eq!(e, "invalid_grant");
}

#[tokio::test]
async fn cors_for_web_origins_with_credentials() {
    let env = start().await;
    let preflight = env
        .http
        .request(reqwest::Method::OPTIONS, env.oidc("demo", "token"))
        .header("Origin", "http://localhost:8080")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:8080");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));

    let mut browser = Browser::new();
    let (params, pkce) = demo_login(&mut browser, &env, "alice").await;
    let allowed = env
        .http
        .post(env.oidc("demo", "token"))
        .header("Origin", "http://127.0.0.1:8080")
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "demo-app"),
            ("code", &params["code"]),
            ("redirect_uri", "http://localhost:8080/app"),
            ("code_verifier", &pkce.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );

    let foreign = env
        .http
        .post(env.oidc("demo", "token"))
        .header("Origin", "http://evil.example")
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-app"),
            ("refresh_token", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert!(foreign
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}
