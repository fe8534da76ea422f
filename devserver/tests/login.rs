//! The browser side of the flow: authorization endpoint, login page, SSO cookies, prompt/max_age,
//! response modes and types, registration, required actions and expired logins.

// Test code: a failed unwrap or index is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;

#[tokio::test]
async fn standard_flow_with_pkce_issues_keycloak_shaped_tokens() {
    let env = start().await;
    let mut browser = Browser::new();
    let (params, pkce) = demo_login(&mut browser, &env, "alice").await;
    assert_eq!(params["state"], "st-1");
    assert_eq!(params["iss"], format!("{}/realms/demo", env.base));
    let session_state = params["session_state"].clone();
    let code = &params["code"];
    assert!(
        code.contains(&session_state),
        "Keycloak codes carry the session id"
    );

    let tokens = demo_exchange(&env, code, &pkce).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 300);
    assert_eq!(tokens["session_state"], session_state.as_str());
    assert_eq!(tokens["scope"], "openid email profile");
    assert_eq!(tokens["not-before-policy"], 0);
    assert!(tokens["refresh_expires_in"].as_u64().unwrap() > 0);

    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["typ"], "Bearer");
    assert_eq!(access["azp"], "demo-app");
    assert_eq!(access["aud"], "account");
    assert_eq!(access["sid"], session_state.as_str());
    assert_eq!(access["session_state"], session_state.as_str());
    assert_eq!(access["preferred_username"], "alice");
    assert_eq!(access["name"], "Alice Liddell");
    assert_eq!(access["given_name"], "Alice");
    assert_eq!(access["family_name"], "Liddell");
    assert_eq!(access["email"], "alice@example.com");
    assert_eq!(access["nonce"], "no-1");
    assert_eq!(
        access["exp"].as_u64().unwrap() - access["iat"].as_u64().unwrap(),
        300
    );
    let roles: Vec<&str> = access["realm_access"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"user") && !roles.contains(&"admin"),
        "{roles:?}"
    );
    assert!(roles.contains(&"default-roles-demo"));
    assert_eq!(
        access["allowed-origins"],
        serde_json::json!(["http://127.0.0.1:8080", "http://localhost:8080"])
    );
    assert!(access["resource_access"]["account"]["roles"]
        .as_array()
        .unwrap()
        .contains(&"view-profile".into()));
    assert_eq!(
        jwt_header(tokens["access_token"].as_str().unwrap())["alg"],
        "RS256"
    );

    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["typ"], "ID");
    assert_eq!(id["aud"], "demo-app");
    assert_eq!(id["nonce"], "no-1");
    assert_eq!(
        id["at_hash"].as_str().unwrap(),
        &sha256_b64url_half(tokens["access_token"].as_str().unwrap())
    );

    let refresh = jwt_claims(tokens["refresh_token"].as_str().unwrap());
    assert_eq!(refresh["typ"], "Refresh");
    assert_eq!(refresh["aud"], format!("{}/realms/demo", env.base));
    assert_eq!(
        jwt_header(tokens["refresh_token"].as_str().unwrap())["alg"],
        "HS512"
    );
}

fn sha256_b64url_half(token: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[tokio::test]
async fn sso_cookies_are_set_like_keycloak_for_cross_site_use() {
    let env = start().await;
    let mut browser = Browser::new();
    let (params, _) = demo_login(&mut browser, &env, "alice").await;
    let identity = browser.set_cookie_line("KEYCLOAK_IDENTITY").unwrap();
    assert!(identity.contains("Path=/realms/demo/"), "{identity}");
    assert!(identity.contains("SameSite=None; Secure"), "{identity}");
    assert!(identity.contains("HttpOnly"), "{identity}");
    let session = browser.set_cookie_line("KEYCLOAK_SESSION").unwrap();
    assert!(session.contains("SameSite=None; Secure"), "{session}");
    assert!(
        !session.contains("HttpOnly"),
        "the session iframe reads it: {session}"
    );
    assert!(session.contains("Max-Age=36000"), "{session}");
    assert_eq!(
        browser.cookies["KEYCLOAK_SESSION"],
        sha256_b64url(&params["session_state"]),
        "KEYCLOAK_SESSION holds the hash of the session id (Keycloak 26)"
    );
}

#[tokio::test]
async fn prompt_none_answers_from_the_sso_session_or_login_required() {
    let env = start().await;
    let silent = |env: &Env, mode: &str| {
        auth_url(
            env,
            "demo",
            &[
                ("client_id", "demo-app"),
                (
                    "redirect_uri",
                    "http://localhost:8080/silent-check-sso.html",
                ),
                ("state", "s2"),
                ("response_mode", mode),
                ("response_type", "code"),
                ("scope", "openid"),
                ("nonce", "n2"),
                ("prompt", "none"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
            ],
        )
    };
    let mut browser = Browser::new();
    let response = browser.get(&silent(&env, "fragment")).await;
    assert_eq!(response.status(), 302);
    let target = location(&response);
    assert!(
        target.starts_with(
            "http://localhost:8080/silent-check-sso.html#error=login_required&state=s2&iss="
        ),
        "{target}"
    );

    let (first, _) = demo_login(&mut browser, &env, "bob").await;
    let response = browser.get(&silent(&env, "query")).await;
    let target = location(&response);
    assert!(
        target.starts_with("http://localhost:8080/silent-check-sso.html?state=s2&session_state="),
        "{target}"
    );
    let params = query_params(&target);
    assert_eq!(params["session_state"], first["session_state"]);
    assert!(params.contains_key("code"));
    let events = env.events("demo").await;
    assert_eq!(events[0]["type"], "LOGIN");
    assert_eq!(events.last().unwrap()["type"], "LOGIN_ERROR");
    assert_eq!(events.last().unwrap()["error"], "login_required");
}

#[tokio::test]
async fn prompt_login_and_max_age_force_the_form_despite_sso() {
    let env = start().await;
    let mut browser = Browser::new();
    demo_login(&mut browser, &env, "alice").await;
    let base = [
        ("client_id", "demo-app"),
        ("redirect_uri", "http://localhost:8080/"),
        ("response_type", "code"),
        ("scope", "openid"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let sso = browser.get(&auth_url(&env, "demo", &base)).await;
    assert_eq!(sso.status(), 302, "SSO answers without a form");

    let mut with_prompt = base.to_vec();
    with_prompt.push(("prompt", "login"));
    with_prompt.push(("login_hint", "alice"));
    with_prompt.push(("ui_locales", "de en"));
    let page = browser.get(&auth_url(&env, "demo", &with_prompt)).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("id=\"username\" name=\"username\" value=\"alice\""),
        "login_hint prefills"
    );
    assert!(html.contains("id=\"kc-login\""));
    assert!(html.contains("<html lang=\"de\">"));
    let action = form_action(&html, "kc-form-login");
    let relogin = browser
        .post_form(
            &env.url(&action),
            &[("username", "bob"), ("password", "bob")],
        )
        .await;
    assert_eq!(relogin.status(), 302);
    let admin = env.admin().await;
    let id = admin.user_id("demo", "alice").await;
    let sessions = admin
        .get(&format!("/admin/realms/demo/users/{id}/sessions"))
        .await;
    assert!(
        sessions.as_array().unwrap().is_empty(),
        "logging in again in the same browser replaces the old SSO session"
    );

    env.server.state.set_clock_offset(10);
    let mut with_max_age = base.to_vec();
    with_max_age.push(("max_age", "5"));
    let page = browser.get(&auth_url(&env, "demo", &with_max_age)).await;
    assert_eq!(
        page.status(),
        200,
        "an old authentication needs a new login"
    );
    with_max_age.pop();
    with_max_age.push(("max_age", "60"));
    let fresh_enough = browser.get(&auth_url(&env, "demo", &with_max_age)).await;
    assert_eq!(fresh_enough.status(), 302);
}

/// An authorization URL of the test realm's `plain-app` (code flow, no PKCE), plus `extra`.
fn plain_app_auth_url(env: &Env, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", "plain-app"),
        ("redirect_uri", "http://localhost:3001/"),
        ("response_type", "code"),
    ];
    params.extend_from_slice(extra);
    auth_url(env, "test", &params)
}

#[tokio::test]
async fn wrong_credentials_rerender_the_form_and_emit_login_error() {
    let env = start().await;
    let mut browser = Browser::new();
    let url = plain_app_auth_url(&env, &[]);
    let response = login(&mut browser, &env, &url, "carol", "wrong").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("<span id=\"input-error\""), "{html}");
    assert!(html.contains("Invalid username or password."));
    assert!(html.contains("value=\"carol\""), "the username is kept");
    // The re-rendered form still works.
    let action = form_action(&html, "kc-form-login");
    let ok = browser
        .post_form(
            &env.url(&action),
            &[("username", "carol@example.com"), ("password", "carol-pw")],
        )
        .await;
    assert_eq!(ok.status(), 302, "login with the email works too");
    let target = location(&ok);
    assert!(
        target.starts_with("http://localhost:3001/?"),
        "query is code's default mode: {target}"
    );

    let disabled = login(&mut Browser::new(), &env, &url, "dave", "dave-pw").await;
    assert!(disabled
        .text()
        .await
        .unwrap()
        .contains("Account is disabled"));
    let events = env.events("test").await;
    let kinds: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["error"].as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("LOGIN_ERROR", Some("user_disabled")),
            ("LOGIN", None),
            ("LOGIN_ERROR", Some("invalid_user_credentials")),
        ]
    );
    assert_eq!(events[2]["details"]["username"], "carol");
    assert_eq!(events[1]["details"]["auth_method"], "openid-connect");
}

#[tokio::test]
async fn untrusted_client_or_redirect_gets_an_error_page_not_a_redirect() {
    let env = start().await;
    for (params, message) in [
        (
            vec![("redirect_uri", "http://localhost:8080/")],
            "Missing parameter: client_id",
        ),
        (
            vec![
                ("client_id", "nope"),
                ("redirect_uri", "http://localhost:8080/"),
            ],
            "Client not found.",
        ),
        (
            vec![
                ("client_id", "demo-app"),
                ("redirect_uri", "http://evil.example/"),
            ],
            "Invalid parameter: redirect_uri",
        ),
        (
            vec![("client_id", "demo-app")],
            "Invalid parameter: redirect_uri",
        ),
    ] {
        let response = env.get(&auth_url(&env, "demo", &params)).await;
        assert_eq!(response.status(), 400);
        assert!(
            response.text().await.unwrap().contains(message),
            "{message}"
        );
    }
    let response = env
        .get(&env.url("/realms/nope/protocol/openid-connect/auth?client_id=x"))
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "Realm does not exist"
    );
}

#[tokio::test]
async fn request_errors_redirect_to_the_client_with_keycloak_messages() {
    let env = start().await;
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        ("demo", vec![("response_type", "code")], "invalid_request", "Missing parameter: code_challenge_method"),
        ("demo", vec![("response_type", "code"), ("code_challenge_method", "plain"), ("code_challenge", "x")], "invalid_request", "Invalid parameter: code challenge method is not matching the configured one"),
        ("demo", vec![("response_type", "code"), ("code_challenge_method", "S256")], "invalid_request", "Missing parameter: code_challenge"),
        ("demo", vec![], "invalid_request", "Missing parameter: response_type"),
        ("demo", vec![("response_type", "code token id")], "unsupported_response_type", ""),
        ("demo", vec![("response_type", "id_token token"), ("nonce", "n")], "unauthorized_client", "Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client."),
        ("demo", vec![("response_type", "code"), ("response_mode", "jwt")], "invalid_request", "Invalid parameter: response_mode"),
        ("demo", vec![("response_type", "code"), ("scope", "openid unknown"), ("code_challenge_method", "S256"), ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")], "invalid_scope", "Invalid scopes: openid unknown"),
    ];
    for (realm, extra, error, description) in cases {
        let mut params = vec![
            ("client_id", "demo-app"),
            ("redirect_uri", "http://localhost:8080/"),
            ("state", "s"),
        ];
        params.extend(extra.clone());
        let response = env.get(&auth_url(&env, realm, &params)).await;
        assert_eq!(response.status(), 302, "{extra:?}");
        let target = location(&response);
        let got = callback_params(&target);
        assert_eq!(got["error"], error, "{extra:?}");
        assert_eq!(
            got.get("error_description")
                .map(String::as_str)
                .unwrap_or(""),
            description
        );
        assert_eq!(got["state"], "s");
        assert_eq!(got["iss"], format!("{}/realms/demo", env.base));
    }
    // Implicit with query mode is refused through the query, as Keycloak does.
    let params = [
        ("client_id", "web-app"),
        ("redirect_uri", "http://localhost:3000/"),
        ("response_type", "id_token token"),
        ("response_mode", "query"),
        ("nonce", "n"),
    ];
    let response = env.get(&auth_url(&env, "test", &params)).await;
    let target = location(&response);
    assert!(
        target.starts_with("http://localhost:3000/?error=invalid_request"),
        "{target}"
    );
    let params = [
        ("client_id", "web-app"),
        ("redirect_uri", "http://localhost:3000/"),
        ("response_type", "id_token token"),
        ("scope", "openid"),
    ];
    let response = env.get(&auth_url(&env, "test", &params)).await;
    assert_eq!(
        callback_params(&location(&response))["error_description"],
        "Missing parameter: nonce"
    );
}

#[tokio::test]
async fn implicit_and_hybrid_flows_return_tokens_in_the_fragment() {
    let env = start().await;
    let mut browser = Browser::new();
    let implicit = auth_url(
        &env,
        "test",
        &[
            ("client_id", "web-app"),
            ("redirect_uri", "http://localhost:3000/#/route"),
            ("state", "s"),
            ("response_type", "id_token token"),
            ("scope", "openid"),
            ("nonce", "nn"),
        ],
    );
    let response = login(&mut browser, &env, &implicit, "carol", "carol-pw").await;
    let target = location(&response);
    assert!(
        target.starts_with("http://localhost:3000/#/route&state=s&session_state="),
        "{target}"
    );
    let params = callback_params(&target);
    assert_eq!(params["token_type"], "Bearer");
    assert_eq!(
        params["expires_in"], "900",
        "accessTokenLifespanForImplicitFlow"
    );
    assert!(!params.contains_key("code") && !params.contains_key("refresh_token"));
    let id = jwt_claims(&params["id_token"]);
    assert_eq!(id["nonce"], "nn");
    assert!(id.get("at_hash").is_some());
    let access = jwt_claims(&params["access_token"]);
    assert_eq!(
        access["resource_access"]["web-app"]["roles"],
        serde_json::json!(["editor"])
    );

    let pkce = pkce();
    let hybrid = auth_url(
        &env,
        "test",
        &[
            ("client_id", "web-app"),
            ("redirect_uri", "http://localhost:3000/"),
            ("state", "h"),
            ("response_type", "code id_token token"),
            ("scope", "openid phone"),
            ("nonce", "hn"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let response = browser.get(&hybrid).await;
    let params = callback_params(&location(&response));
    let id = jwt_claims(&params["id_token"]);
    assert_eq!(
        id["c_hash"].as_str().unwrap(),
        sha256_b64url_half(&params["code"])
    );
    assert_eq!(
        id["phone_number"], "+1 555 0100",
        "the optional phone scope adds its claims"
    );
    assert_eq!(id["acr"], "0", "SSO re-authentication has acr 0");
    let exchanged = env
        .post_form(
            &env.oidc("test", "token"),
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "web-app"),
                ("code", &params["code"]),
                ("redirect_uri", "http://localhost:3000/"),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    assert_eq!(exchanged.status(), 200);
    let body: serde_json::Value = exchanged.json().await.unwrap();
    assert_eq!(body["scope"], "openid email phone profile");
}

#[tokio::test]
async fn form_post_response_mode_renders_a_self_submitting_form() {
    let env = start().await;
    let mut browser = Browser::new();
    let url = auth_url(
        &env,
        "test",
        &[
            ("client_id", "plain-app"),
            ("redirect_uri", "http://localhost:3001/cb"),
            ("response_type", "code"),
            ("response_mode", "form_post"),
            ("state", "fp"),
        ],
    );
    let response = login(&mut browser, &env, &url, "carol", "carol-pw").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("action=\"http://localhost:3001/cb\""));
    assert!(html.contains("name=\"state\" value=\"fp\""));
    assert!(html.contains("name=\"code\""));
}

#[tokio::test]
async fn kc_action_runs_a_required_action_and_reports_its_status() {
    let env = start().await;
    let mut browser = Browser::new();
    demo_login(&mut browser, &env, "alice").await;
    for (button, status) in [("submit-action", "success"), ("cancel-aia", "cancelled")] {
        let url = auth_url(
            &env,
            "demo",
            &[
                ("client_id", "demo-app"),
                ("redirect_uri", "http://localhost:8080/"),
                ("response_type", "code"),
                ("kc_action", "UPDATE_PROFILE"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
            ],
        );
        let page = browser.get(&url).await;
        let html = page.text().await.unwrap();
        assert!(html.contains("Update Account Information"));
        let action = form_action(&html, "kc-required-action-form");
        let done = browser
            .post_form(&env.url(&action), &[(button, "true")])
            .await;
        let params = query_params(&location(&done));
        assert_eq!(params["kc_action_status"], status);
        assert_eq!(params["kc_action"], "UPDATE_PROFILE");
        assert!(params.contains_key("code"));
    }
}

/// Posts the registration form: first name, last name, email, username, password and its
/// confirmation, in that order.
async fn register(browser: &mut Browser, url: &str, values: [&str; 6]) -> reqwest::Response {
    let names = [
        "firstName",
        "lastName",
        "email",
        "username",
        "password",
        "password-confirm",
    ];
    let form: Vec<(&str, &str)> = names.into_iter().zip(values).collect();
    browser.post_form(url, &form).await
}

#[tokio::test]
async fn registration_creates_the_user_and_signs_in() {
    let env = start().await;
    let mut browser = Browser::new();
    let url = env.oidc("demo", "registrations")
        + "?client_id=demo-app&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F&response_type=code&scope=openid&state=r"
        + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let page = browser.get(&url).await;
    let html = page.text().await.unwrap();
    let action = form_action(&html, "kc-register-form");
    let mismatch = register(
        &mut browser,
        &env.url(&action),
        ["Zed", "Z", "zed@example.com", "zed", "a", "b"],
    )
    .await;
    assert!(mismatch
        .text()
        .await
        .unwrap()
        .contains("Password confirmation doesn&#39;t match."));
    let taken = register(
        &mut browser,
        &env.url(&action),
        ["Al", "Ice", "other@example.com", "alice", "a", "a"],
    )
    .await;
    assert!(taken
        .text()
        .await
        .unwrap()
        .contains("Username already exists."));
    let done = register(
        &mut browser,
        &env.url(&action),
        ["Zed", "Z", "zed@example.com", "zed", "zed-pw", "zed-pw"],
    )
    .await;
    assert_eq!(done.status(), 302);
    assert!(query_params(&location(&done)).contains_key("code"));
    // The new user can log in elsewhere.
    let url = plain_app_auth_url(&env, &[]);
    let other_realm = login(&mut Browser::new(), &env, &url, "zed", "zed-pw").await;
    assert_eq!(other_realm.status(), 200, "users belong to their realm");
    let events = env.events("demo").await;
    assert_eq!(events[0]["type"], "LOGIN");
    assert_eq!(events[1]["type"], "REGISTER");
    assert_eq!(events[1]["details"]["username"], "zed");
}

#[tokio::test]
async fn an_expired_login_answers_authentication_expired() {
    let env = start().await;
    let mut browser = Browser::new();
    let url = plain_app_auth_url(&env, &[("state", "x")]);
    let html = browser.get(&url).await.text().await.unwrap();
    let action = form_action(&html, "kc-form-login");
    let expired = env
        .admin()
        .await
        .send(
            reqwest::Method::POST,
            "/admin/devserver/realms/test/expire-logins",
            None,
        )
        .await;
    assert_eq!(
        expired.json::<serde_json::Value>().await.unwrap()["expired"],
        1
    );
    let response = browser
        .post_form(
            &env.url(&action),
            &[("username", "carol"), ("password", "carol-pw")],
        )
        .await;
    let params = query_params(&location(&response));
    assert_eq!(params["error"], "temporarily_unavailable");
    assert_eq!(params["error_description"], "authentication_expired");
    assert_eq!(params["state"], "x");
}
