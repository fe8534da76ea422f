//! Hostile input at the browser endpoints: forged login and registration posts, reserved
//! usernames, framing, redirect URIs that escape their pattern, foreign logout hints and the
//! lifetime of logout confirmations and the browser they are bound to.

// Test code: a failed unwrap or index is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::{json, Value};

const REALM: &str = "hostile";
const WILD_CALLBACK: &str = "http://localhost:3002/app/cb";

async fn start_hostile() -> Env {
    start_with(&["hostile"]).await
}

/// An authorization URL of `wild-app` (pattern `http://localhost:3002/app/*`) with this
/// redirect URI, plus `extra`.
fn wild_url(env: &Env, redirect_uri: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", "wild-app"),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
    ];
    params.extend_from_slice(extra);
    auth_url(env, REALM, &params)
}

/// The user's live SSO sessions, as the admin API lists them.
async fn sessions_of(env: &Env, username: &str) -> Vec<Value> {
    let admin = env.admin().await;
    let id = admin.user_id(REALM, username).await;
    let sessions = admin
        .get(&format!("/admin/realms/{REALM}/users/{id}/sessions"))
        .await;
    sessions.as_array().unwrap().clone()
}

/// Signs `user` in to `wild-app` in this browser and exchanges the code.
async fn sign_in(env: &Env, browser: &mut Browser, user: &str) -> Value {
    let done = login(
        browser,
        env,
        &wild_url(env, WILD_CALLBACK, &[("scope", "openid")]),
        user,
        &format!("{user}-pw"),
    )
    .await;
    assert_eq!(done.status(), 302, "login of {user}");
    let params = query_params(&location(&done));
    let tokens = env
        .post_form(
            &env.oidc(REALM, "token"),
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "wild-app"),
                ("code", &params["code"]),
                ("redirect_uri", WILD_CALLBACK),
            ],
        )
        .await;
    assert_eq!(tokens.status(), 200);
    tokens.json().await.unwrap()
}

const COOKIE_NOT_FOUND: &str =
    "Cookie not found. Please make sure cookies are enabled in your browser.";

#[tokio::test]
async fn a_login_form_posted_from_another_browser_signs_nobody_in() {
    let env = start_hostile().await;
    let url = wild_url(&env, WILD_CALLBACK, &[]);
    let mut attacker = Browser::new();
    let page = attacker.get(&url).await;
    let action = env.url(&form_action(&page.text().await.unwrap(), "kc-form-login"));
    let credentials = [("username", "mallory"), ("password", "mallory-pw")];

    // A browser that never opened a login form.
    let mut fresh = Browser::new();
    let forged = fresh.post_form(&action, &credentials).await;
    assert_eq!(forged.status(), 400);
    assert!(forged.text().await.unwrap().contains(COOKIE_NOT_FOUND));
    assert!(fresh.set_cookie_line("KEYCLOAK_IDENTITY").is_none());

    // A browser with a login form of its own open.
    let mut busy = Browser::new();
    busy.get(&url).await;
    let forged = busy.post_form(&action, &credentials).await;
    assert_eq!(forged.status(), 400);
    assert!(busy.set_cookie_line("KEYCLOAK_IDENTITY").is_none());

    // A signed-in browser keeps its own identity.
    let mut victim = Browser::new();
    sign_in(&env, &mut victim, "victor").await;
    let identity = victim.cookies["KEYCLOAK_IDENTITY"].clone();
    let forged = victim.post_form(&action, &credentials).await;
    assert_eq!(forged.status(), 200);
    assert!(forged
        .text()
        .await
        .unwrap()
        .contains("You are already logged in."));
    assert_eq!(victim.cookies["KEYCLOAK_IDENTITY"], identity);

    assert!(
        sessions_of(&env, "mallory").await.is_empty(),
        "no forged post created a session"
    );
    // The form itself was good: in the browser that opened it, it signs in.
    assert!(
        attacker.cookies.contains_key("AUTH_SESSION_ID"),
        "the login form is bound to the browser that asked for it"
    );
    let own = attacker.post_form(&action, &credentials).await;
    assert_eq!(own.status(), 302);
    assert!(query_params(&location(&own)).contains_key("code"));
    assert_eq!(sessions_of(&env, "mallory").await.len(), 1);
}

/// Posts the registration form with this username (and matching other fields).
async fn register_as(browser: &mut Browser, action: &str, username: &str) -> reqwest::Response {
    let email = format!("{}@example.com", username.to_lowercase());
    browser
        .post_form(
            action,
            &[
                ("firstName", "Eve"),
                ("lastName", "Example"),
                ("email", &email),
                ("username", username),
                ("password", "eve-pw"),
                ("password-confirm", "eve-pw"),
            ],
        )
        .await
}

/// The action of a fresh registration form of `wild-app`, opened in this browser.
async fn registration_action(env: &Env, browser: &mut Browser) -> String {
    let url = env.oidc(REALM, "registrations")
        + "?client_id=wild-app&response_type=code&redirect_uri="
        + &form_urlencoded::byte_serialize(WILD_CALLBACK.as_bytes()).collect::<String>();
    let page = browser.get(&url).await;
    assert_eq!(page.status(), 200);
    env.url(&form_action(
        &page.text().await.unwrap(),
        "kc-register-form",
    ))
}

async fn user_exists(env: &Env, username: &str) -> bool {
    let found = env
        .admin()
        .await
        .get(&format!(
            "/admin/realms/{REALM}/users?username={username}&exact=true"
        ))
        .await;
    !found.as_array().unwrap().is_empty()
}

#[tokio::test]
async fn a_registration_form_posted_from_another_browser_creates_nobody() {
    let env = start_hostile().await;
    let action = registration_action(&env, &mut Browser::new()).await;
    let mut victim = Browser::new();
    let forged = register_as(&mut victim, &action, "planted").await;
    assert_eq!(forged.status(), 400);
    assert!(forged.text().await.unwrap().contains(COOKIE_NOT_FOUND));
    assert!(victim.set_cookie_line("KEYCLOAK_IDENTITY").is_none());
    assert!(!user_exists(&env, "planted").await);
}

#[tokio::test]
async fn service_account_usernames_are_reserved() {
    let env = start_hostile().await;
    let mut browser = Browser::new();
    let action = registration_action(&env, &mut browser).await;
    for name in ["service-account-eve", "Service-Account-wild-app"] {
        let refused = register_as(&mut browser, &action, name).await;
        assert_eq!(refused.status(), 200, "{name}: the form again");
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("Username already exists."),
            "{name}"
        );
        assert!(!user_exists(&env, &name.to_lowercase()).await, "{name}");
    }
    assert!(browser.set_cookie_line("KEYCLOAK_IDENTITY").is_none());
    let events = env.events(REALM).await;
    assert_eq!(events[0]["type"], "REGISTER_ERROR");
    assert_eq!(events[0]["error"], "username_in_use");

    let admin = env.admin().await;
    let created = admin
        .post(
            &format!("/admin/realms/{REALM}/users"),
            json!({ "username": "service-account-eve", "enabled": true }),
        )
        .await;
    assert_eq!(created.status(), 409);
    assert_eq!(
        created.json::<Value>().await.unwrap()["errorMessage"],
        "User exists with same username"
    );
    assert!(!user_exists(&env, "service-account-eve").await);

    // Other names still register, through the same form.
    let ok = register_as(&mut browser, &action, "eve").await;
    assert_eq!(ok.status(), 302);
    assert!(user_exists(&env, "eve").await);
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap())
}

#[tokio::test]
async fn pages_may_be_framed_by_their_own_origin_only_except_the_iframes() {
    let env = start_hostile().await;
    let mut browser = Browser::new();
    let login_page = browser.get(&wild_url(&env, WILD_CALLBACK, &[])).await;
    let error_page = browser
        .get(&wild_url(&env, "http://evil.example/", &[]))
        .await;
    assert_eq!(error_page.status(), 400);
    let logout_page = browser.get(&env.oidc(REALM, "logout")).await;
    for (name, page) in [
        ("login", &login_page),
        ("error", &error_page),
        ("logout confirmation", &logout_page),
    ] {
        assert_eq!(
            header(page, "x-frame-options"),
            Some("SAMEORIGIN"),
            "{name}"
        );
        assert_eq!(
            header(page, "content-security-policy"),
            Some("frame-src 'self'; frame-ancestors 'self'; object-src 'none';"),
            "{name}"
        );
        assert_eq!(
            header(page, "x-content-type-options"),
            Some("nosniff"),
            "{name}"
        );
        assert_eq!(
            header(page, "referrer-policy"),
            Some("no-referrer"),
            "{name}"
        );
        assert_eq!(header(page, "x-robots-tag"), Some("none"), "{name}");
    }

    for endpoint in [
        "login-status-iframe.html",
        "3p-cookies/step1.html",
        "3p-cookies/step2.html",
    ] {
        let page = env.get(&env.oidc(REALM, endpoint)).await;
        assert_eq!(page.status(), 200, "{endpoint}");
        assert_eq!(header(&page, "x-frame-options"), None, "{endpoint}");
        assert_eq!(
            header(&page, "content-security-policy"),
            Some("frame-src 'self'; object-src 'none';"),
            "{endpoint}: any site may frame it"
        );
        assert_eq!(header(&page, "x-content-type-options"), Some("nosniff"));
    }
}

#[tokio::test]
async fn wildcard_redirect_uris_do_not_escape_their_path() {
    let env = start_hostile().await;
    for escaping in [
        "http://localhost:3002/app/../admin",
        "http://localhost:3002/app/..",
        "http://localhost:3002/app/%2e%2E/admin",
        "http://localhost:3002/app/..%2Fadmin",
        "http://localhost:3002/app/sub/..%5cadmin",
        "http://localhost:3002/app/\\..\\admin",
        "http://localhost:3002/app/with space",
    ] {
        let page = env.get(&wild_url(&env, escaping, &[])).await;
        assert_eq!(page.status(), 400, "{escaping}");
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("Invalid parameter: redirect_uri"));
    }
    for inside in [
        "http://localhost:3002/app/sub/page?x=1",
        "http://localhost:3002/app/..hidden/file",
        "http://localhost:3002/app/a/./b",
        "http://localhost:3002/app",
    ] {
        let page = env.get(&wild_url(&env, inside, &[])).await;
        assert_eq!(page.status(), 200, "{inside}");
    }
}

#[tokio::test]
async fn a_catch_all_redirect_pattern_accepts_web_uris_only() {
    let env = start_hostile().await;
    let any_url = |redirect_uri: &str, mode: &str| {
        auth_url(
            &env,
            REALM,
            &[
                ("client_id", "any-app"),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("response_mode", mode),
            ],
        )
    };
    for script in [
        "javascript:alert(document.domain)",
        "JavaScript:alert(1)//http://localhost/",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
    ] {
        for mode in ["form_post", "query"] {
            let page = env.get(&any_url(script, mode)).await;
            assert_eq!(page.status(), 400, "{script} with {mode}");
            let html = page.text().await.unwrap();
            assert!(html.contains("Invalid parameter: redirect_uri"), "{html}");
        }
    }
    let web = env
        .get(&any_url("https://app.example/callback", "form_post"))
        .await;
    assert_eq!(web.status(), 200);

    // A custom scheme is fine when the pattern names it.
    let native = auth_url(
        &env,
        REALM,
        &[
            ("client_id", "native-app"),
            ("redirect_uri", "com.example.app:/callback?x=1"),
            ("response_type", "code"),
        ],
    );
    assert_eq!(env.get(&native).await.status(), 200);

    // The same rule guards where a logout may send the browser.
    let logout = env
        .get(&format!(
            "{}?client_id=any-app&post_logout_redirect_uri=javascript%3Aalert(1)",
            env.oidc(REALM, "logout")
        ))
        .await;
    assert_eq!(logout.status(), 400);
    assert!(logout
        .text()
        .await
        .unwrap()
        .contains("Invalid redirect uri"));
}

/// Presses "Logout" on a logout confirmation page.
async fn confirm_logout(env: &Env, browser: &mut Browser, page: &str) -> reqwest::Response {
    browser
        .post_form(
            &format!("{}/logout-confirm", env.oidc(REALM, "logout")),
            &[("session_code", &logout_session_code(page))],
        )
        .await
}

#[tokio::test]
async fn an_id_token_hint_of_another_session_asks_before_logging_out() {
    let env = start_hostile().await;
    let mut victim = Browser::new();
    sign_in(&env, &mut victim, "victor").await;
    let foreign = sign_in(&env, &mut Browser::new(), "mallory").await;
    let hint = foreign["id_token"].as_str().unwrap();

    let asked = victim
        .post_form(&env.oidc(REALM, "logout"), &[("id_token_hint", hint)])
        .await;
    assert_eq!(asked.status(), 200);
    let html = asked.text().await.unwrap();
    assert!(html.contains("id=\"kc-logout\""), "{html}");
    assert!(victim.cookies.contains_key("KEYCLOAK_IDENTITY"));
    assert_eq!(sessions_of(&env, "victor").await.len(), 1);
    assert_eq!(sessions_of(&env, "mallory").await.len(), 1);
    let sso = victim.get(&wild_url(&env, WILD_CALLBACK, &[])).await;
    assert_eq!(sso.status(), 302, "the browser's session still signs in");

    // Confirmed, the logout ends the session the hint names.
    let done = confirm_logout(&env, &mut victim, &html).await;
    assert_eq!(done.status(), 200);
    assert!(sessions_of(&env, "mallory").await.is_empty());

    // The browser's own hint still logs out at once.
    let mut own = Browser::new();
    let tokens = sign_in(&env, &mut own, "victor").await;
    let out = own
        .post_form(
            &env.oidc(REALM, "logout"),
            &[("id_token_hint", tokens["id_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(out.status(), 200);
    assert!(!out.text().await.unwrap().contains("id=\"kc-logout\""));
    assert!(!own.cookies.contains_key("KEYCLOAK_IDENTITY"));
}

#[tokio::test]
async fn a_logout_confirmation_posted_from_another_browser_logs_nobody_out() {
    let env = start_hostile().await;
    let mut attacker = Browser::new();
    let asked = attacker.get(&env.oidc(REALM, "logout")).await;
    let html = asked.text().await.unwrap();
    assert!(
        attacker.cookies.contains_key("AUTH_SESSION_ID"),
        "the confirmation is bound to the browser that was asked"
    );

    // A signed-in browser made to post the attacker's confirmation.
    let mut victim = Browser::new();
    sign_in(&env, &mut victim, "victor").await;
    let forged = confirm_logout(&env, &mut victim, &html).await;
    assert_eq!(forged.status(), 400);
    assert!(forged.text().await.unwrap().contains("Logout failed"));
    assert!(victim.cookies.contains_key("KEYCLOAK_IDENTITY"));
    assert_eq!(sessions_of(&env, "victor").await.len(), 1);

    // In the browser that was asked, the same confirmation still works.
    let own = confirm_logout(&env, &mut attacker, &html).await;
    assert_eq!(own.status(), 200);
    assert!(!own.text().await.unwrap().contains("Logout failed"));
}

#[tokio::test]
async fn a_logout_confirmation_expires() {
    let env = start_hostile().await;
    let mut browser = Browser::new();
    sign_in(&env, &mut browser, "victor").await;
    let page = browser.get(&env.oidc(REALM, "logout")).await;
    let html = page.text().await.unwrap();
    env.server.state.set_clock_offset(301);
    let late = confirm_logout(&env, &mut browser, &html).await;
    assert_eq!(late.status(), 400);
    assert!(late.text().await.unwrap().contains("Logout failed"));
    assert_eq!(
        sessions_of(&env, "victor").await.len(),
        1,
        "an expired confirmation ends nothing"
    );
}
