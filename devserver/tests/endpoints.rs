//! Discovery, certs, userinfo, account, logout, revoke, introspect and the iframe pages.

// Test code: a failed unwrap or index is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{json, Value};

#[tokio::test]
async fn discovery_lists_keycloaks_endpoints() {
    let env = start().await;
    let doc: Value = env
        .get_json(&env.url("/realms/demo/.well-known/openid-configuration"))
        .await;
    let issuer = format!("{}/realms/demo", env.base);
    let oidc = format!("{issuer}/protocol/openid-connect");
    assert_eq!(doc["issuer"], issuer);
    for (key, path) in [
        ("authorization_endpoint", "/auth"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("end_session_endpoint", "/logout"),
        ("jwks_uri", "/certs"),
        ("check_session_iframe", "/login-status-iframe.html"),
        ("introspection_endpoint", "/token/introspect"),
        ("revocation_endpoint", "/revoke"),
    ] {
        assert_eq!(doc[key], format!("{oidc}{path}"), "{key}");
    }
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert!(doc["code_challenge_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&"S256".into()));
    let first_key = doc.as_object().unwrap().keys().next().unwrap().clone();
    assert_eq!(first_key, "issuer", "Keycloak's key order");
    let missing = env
        .get(&env.url("/realms/nope/.well-known/openid-configuration"))
        .await;
    assert_eq!(missing.status(), 404);
    let info: Value = env.get_json(&env.url("/realms/demo")).await;
    assert_eq!(info["realm"], "demo");
    assert!(info["public_key"].as_str().unwrap().starts_with("MII"));
}

#[tokio::test]
async fn tokens_verify_against_the_jwks_by_kid() {
    let env = start().await;
    let body = env
        .password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let token = body["access_token"].as_str().unwrap();
    let jwks: Value = env.get_json(&env.oidc("test", "certs")).await;
    let kid = jwt_header(token)["kid"].as_str().unwrap().to_string();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap();
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let n = BigUint::from_bytes_be(&b64.decode(key["n"].as_str().unwrap()).unwrap());
    let e = BigUint::from_bytes_be(&b64.decode(key["e"].as_str().unwrap()).unwrap());
    let verifying = VerifyingKey::<sha2::Sha256>::new(RsaPublicKey::new(n, e).unwrap());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = Signature::try_from(b64.decode(signature).unwrap().as_slice()).unwrap();
    verifying.verify(input.as_bytes(), &signature).unwrap();
}

#[tokio::test]
async fn userinfo_and_account_profile_with_cors_from_the_token() {
    let env = start().await;
    let mut browser = Browser::new();
    let (params, pkce) = demo_login(&mut browser, &env, "bob").await;
    let tokens = demo_exchange(&env, &params["code"], &pkce).await;
    let access = tokens["access_token"].as_str().unwrap();

    let userinfo = env
        .http
        .get(env.oidc("demo", "userinfo"))
        .bearer_auth(access)
        .header("Origin", "http://localhost:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    assert_eq!(
        userinfo.headers()["access-control-allow-origin"],
        "http://localhost:8080"
    );
    let claims: Value = userinfo.json().await.unwrap();
    assert_eq!(claims["preferred_username"], "bob");
    assert_eq!(claims["email"], "bob@example.com");
    assert_eq!(claims["sub"], jwt_claims(access)["sub"]);

    let missing = env.get(&env.oidc("demo", "userinfo")).await;
    assert_eq!(missing.status(), 401);
    assert!(missing.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer realm=\"demo\""));
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let forged = env
        .get_with_token(&env.oidc("demo", "userinfo"), &format!("{access}x"))
        .await;
    assert_eq!(forged.status(), 401);
    assert_eq!(
        forged.json::<Value>().await.unwrap()["error"],
        "invalid_token"
    );

    let profile = env
        .http
        .get(env.url("/realms/demo/account"))
        .bearer_auth(access)
        .header("Accept", "application/json")
        .header("Origin", "http://127.0.0.1:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), 200);
    assert_eq!(
        profile.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    let profile: Value = profile.json().await.unwrap();
    assert_eq!(profile["username"], "bob");
    assert_eq!(profile["firstName"], "Bob");
    assert_eq!(profile["lastName"], "Builder");
    assert_eq!(profile["emailVerified"], true);
    assert_eq!(profile["id"], claims["sub"]);
    let anonymous = env
        .http
        .get(env.url("/realms/demo/account"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let page = browser
        .get(&env.url("/realms/demo/account?referrer=demo-app&referrer_uri=http%3A%2F%2Flocalhost%3A8080%2Fapp"))
        .await;
    let html = page.text().await.unwrap();
    assert!(html.contains("Signed in as <strong id=\"username\">bob</strong>"));
    assert!(html.contains("href=\"http://localhost:8080/app\""));

    // An expired token no longer works.
    env.server.state.set_clock_offset(301);
    let expired = env
        .get_with_token(&env.oidc("demo", "userinfo"), access)
        .await;
    assert_eq!(expired.status(), 401);
}

#[tokio::test]
async fn logout_with_id_token_hint_redirects_and_ends_the_session() {
    let env = start().await;
    for method in ["GET", "POST"] {
        let mut browser = Browser::new();
        let (params, pkce) = demo_login(&mut browser, &env, "alice").await;
        let tokens = demo_exchange(&env, &params["code"], &pkce).await;
        let pairs = [
            ("client_id", "demo-app"),
            ("post_logout_redirect_uri", "http://localhost:8080/bye"),
            ("id_token_hint", tokens["id_token"].as_str().unwrap()),
            ("state", "ls"),
        ];
        let response = if method == "GET" {
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            browser
                .get(&format!("{}?{query}", env.oidc("demo", "logout")))
                .await
        } else {
            browser.post_form(&env.oidc("demo", "logout"), &pairs).await
        };
        assert_eq!(response.status(), 302, "{method}");
        assert_eq!(location(&response), "http://localhost:8080/bye?state=ls");
        assert!(
            !browser.cookies.contains_key("KEYCLOAK_IDENTITY"),
            "cookies expired"
        );
        assert!(!browser.cookies.contains_key("KEYCLOAK_SESSION"));
        let refreshed = env
            .refresh(
                "demo",
                "demo-app",
                tokens["refresh_token"].as_str().unwrap(),
            )
            .await;
        assert_eq!(refreshed.status(), 400);
        assert_eq!(
            refreshed.json::<Value>().await.unwrap()["error_description"],
            "Session not active"
        );
        let events = env.events("demo").await;
        assert_eq!(events[0]["type"], "REFRESH_TOKEN_ERROR");
        assert_eq!(events[1]["type"], "LOGOUT");
        assert_eq!(events[1]["sessionId"], params["session_state"].as_str());
    }
}

#[tokio::test]
async fn logout_validates_its_parameters() {
    let env = start().await;
    let mut browser = Browser::new();
    let (params, pkce) = demo_login(&mut browser, &env, "alice").await;
    let tokens = demo_exchange(&env, &params["code"], &pkce).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let logout = env.oidc("demo", "logout");
    let bad_redirect = browser
        .post_form(
            &logout,
            &[
                ("id_token_hint", id_token),
                ("post_logout_redirect_uri", "http://evil.example/"),
            ],
        )
        .await;
    assert_eq!(bad_redirect.status(), 400);
    assert!(bad_redirect
        .text()
        .await
        .unwrap()
        .contains("Invalid redirect uri"));
    let no_client = browser
        .post_form(
            &logout,
            &[("post_logout_redirect_uri", "http://localhost:8080/")],
        )
        .await;
    assert_eq!(no_client.status(), 400);
    let bad_hint = browser
        .post_form(&logout, &[("id_token_hint", "a.b.c")])
        .await;
    assert!(bad_hint
        .text()
        .await
        .unwrap()
        .contains("Invalid parameter: id_token_hint"));
    let access_as_hint = browser
        .post_form(
            &logout,
            &[("id_token_hint", tokens["access_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(access_as_hint.status(), 400, "only ID tokens are hints");

    // Without a hint Keycloak asks first; confirming logs out.
    let confirm = browser
        .get(&format!(
            "{logout}?client_id=demo-app&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F"
        ))
        .await;
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().await.unwrap();
    assert!(html.contains("id=\"kc-logout\""));
    let code = &logout_session_code(&html);
    assert!(
        browser.cookies.contains_key("KEYCLOAK_IDENTITY"),
        "nothing happened yet"
    );
    let done = browser
        .post_form(
            &format!("{logout}/logout-confirm"),
            &[("session_code", code), ("confirmLogout", "Logout")],
        )
        .await;
    assert_eq!(location(&done), "http://localhost:8080/");
    assert!(!browser.cookies.contains_key("KEYCLOAK_IDENTITY"));
}

/// The test realm's confidential client.
const BACKEND: (&str, &str) = ("backend", "backend-secret");

#[tokio::test]
async fn revoke_and_introspect() {
    let env = start().await;
    let body: Value = env
        .post_form_as(
            &env.oidc("test", "token"),
            BACKEND,
            &[
                ("grant_type", "password"),
                ("username", "carol"),
                ("password", "carol-pw"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let introspect = |token: String| {
        let env = &env;
        async move {
            env.post_form_as(
                &env.oidc("test", "token/introspect"),
                BACKEND,
                &[("token", &token)],
            )
            .await
            .json::<Value>()
            .await
            .unwrap()
        }
    };
    let active = introspect(body["access_token"].as_str().unwrap().to_string()).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["username"], "carol");
    assert_eq!(active["client_id"], "backend");
    assert_eq!(active["token_type"], "Bearer");
    let refresh_info = introspect(body["refresh_token"].as_str().unwrap().to_string()).await;
    assert_eq!(refresh_info["token_type"], "Refresh");
    assert_eq!(introspect("junk".into()).await["active"], false);
    let public = env
        .post_form(
            &env.oidc("test", "token/introspect"),
            &[("client_id", "web-app"), ("token", "x")],
        )
        .await;
    assert_eq!(public.status(), 403);

    let revoke = |token: String, client: &'static str| {
        let env = &env;
        async move {
            env.post_form_as(
                &env.oidc("test", "revoke"),
                (client, "backend-secret"),
                &[("token", &token)],
            )
            .await
        }
    };
    let response = revoke(
        body["access_token"].as_str().unwrap().to_string(),
        "backend",
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        introspect(body["access_token"].as_str().unwrap().to_string()).await["active"],
        false
    );
    let userinfo = env
        .get_with_token(
            &env.oidc("test", "userinfo"),
            body["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(userinfo.status(), 401);

    let response = revoke(
        body["refresh_token"].as_str().unwrap().to_string(),
        "backend",
    )
    .await;
    assert_eq!(response.status(), 200);
    let refreshed = env
        .post_form_as(
            &env.oidc("test", "token"),
            BACKEND,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(
        refreshed.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(
        revoke("garbage".into(), "backend").await.status(),
        200,
        "RFC 7009: unknown tokens are fine"
    );
    let other = env
        .password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let foreign = revoke(
        other["refresh_token"].as_str().unwrap().to_string(),
        "backend",
    )
    .await;
    assert_eq!(foreign.status(), 400);
    assert_eq!(
        foreign.json::<Value>().await.unwrap()["error_description"],
        "Unmatching clients"
    );
}

#[tokio::test]
async fn iframe_pages_and_the_init_check() {
    let env = start().await;
    let page = env.get(&env.oidc("demo", "login-status-iframe.html")).await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        page.headers().get("x-frame-options").is_none(),
        "it must be framable"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("KEYCLOAK_SESSION") && html.contains("/init") && html.contains("SHA-256")
    );

    let init = |client: &str, origin: &str| {
        format!(
            "{}?client_id={client}&origin={}",
            env.oidc("demo", "login-status-iframe.html/init"),
            form_urlencoded::byte_serialize(origin.as_bytes()).collect::<String>()
        )
    };
    let ok = env.get(&init("demo-app", "http://localhost:8080")).await;
    assert_eq!(ok.status(), 204);
    let own = env.get(&init("demo-app", &env.base)).await;
    assert_eq!(
        own.status(),
        204,
        "the server's own origin is always allowed"
    );
    let foreign = env.get(&init("demo-app", "http://evil.example")).await;
    assert_eq!(foreign.status(), 403);
    let unknown = env.get(&init("ghost", "http://localhost:8080")).await;
    assert_eq!(unknown.status(), 403);

    let step1 = env
        .get(&env.oidc("demo", "3p-cookies/step1.html"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        step1.contains("KEYCLOAK_3P_COOKIE_SAMESITE=supported; Max-Age=60; SameSite=None; Secure")
    );
    assert!(step1.contains("step2.html") && step1.contains("\"unsupported\""));
    let step2 = env
        .get(&env.oidc("demo", "3p-cookies/step2.html"))
        .await
        .text()
        .await
        .unwrap();
    assert!(step2.contains("\"supported\"") && step2.contains("postMessage"));
}

/// Keycloak ignores Chrome's Storage Access Headers, so devserver does too: an embedded request
/// without storage access gets the page itself and no `Activate-Storage-Access` answer.
#[tokio::test]
async fn storage_access_headers_are_ignored_like_keycloak() {
    let env = start().await;
    let url = env.oidc("demo", "login-status-iframe.html");
    for status in ["inactive", "active", "none"] {
        let response = env
            .http
            .get(&url)
            .header("Sec-Fetch-Storage-Access", status)
            .header("Origin", "http://localhost:8080")
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("activate-storage-access").is_none());
        assert!(response.text().await.unwrap().contains("KEYCLOAK_SESSION"));
    }
}

#[tokio::test]
async fn the_logout_confirmation_knob_makes_every_logout_ask() {
    let env = start().await;
    let admin = env.admin().await;
    let set = admin
        .send(
            reqwest::Method::PUT,
            "/admin/devserver/logout-confirmation",
            Some(json!({ "always": true })),
        )
        .await;
    assert_eq!(set.json::<Value>().await.unwrap()["always"], true);
    let mut browser = Browser::new();
    let (params, pkce) = demo_login(&mut browser, &env, "alice").await;
    let tokens = demo_exchange(&env, &params["code"], &pkce).await;
    let logout = env.oidc("demo", "logout");
    let asked = browser
        .post_form(
            &logout,
            &[
                ("id_token_hint", tokens["id_token"].as_str().unwrap()),
                ("post_logout_redirect_uri", "http://localhost:8080/bye"),
            ],
        )
        .await;
    assert_eq!(asked.status(), 200, "a valid hint is asked about too");
    let html = asked.text().await.unwrap();
    assert!(html.contains("id=\"kc-logout\""));
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let pending = env.refresh("demo", "demo-app", refresh_token).await;
    assert_eq!(pending.status(), 200, "the session lives until confirmed");
    let refresh_token = pending.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let code_at = html.find("name=\"session_code\" value=\"").unwrap() + 27;
    let code = &html[code_at..code_at + html[code_at..].find('"').unwrap()];
    let done = browser
        .post_form(
            &format!("{logout}/logout-confirm"),
            &[("session_code", code), ("confirmLogout", "Logout")],
        )
        .await;
    assert_eq!(location(&done), "http://localhost:8080/bye");
    let ended = env.refresh("demo", "demo-app", &refresh_token).await;
    assert_eq!(ended.status(), 400, "confirmed: the session is over");

    let unset = admin
        .send(
            reqwest::Method::PUT,
            "/admin/devserver/logout-confirmation",
            Some(json!({ "always": false })),
        )
        .await;
    assert_eq!(unset.json::<Value>().await.unwrap()["always"], false);
    let (params, pkce) = demo_login(&mut browser, &env, "alice").await;
    let tokens = demo_exchange(&env, &params["code"], &pkce).await;
    let direct = browser
        .post_form(
            &logout,
            &[("id_token_hint", tokens["id_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(direct.status(), 200);
    assert!(
        !browser.cookies.contains_key("KEYCLOAK_IDENTITY"),
        "with a hint, Keycloak's rule: no question"
    );
}
