//! The authorization endpoint's response-mode checks and where their errors are sent, as Keycloak's
//! authorization endpoint does it.

// Test code: a failed unwrap or index is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use common::*;

const APP: &str = "http://localhost:3000/";

/// Requests web-app's authorization with these extra parameters; returns the redirect target.
async fn redirect_for(env: &Env, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", "web-app"),
        ("redirect_uri", APP),
        ("state", "s-1"),
        ("scope", "openid"),
        ("nonce", "n-1"),
    ];
    params.extend_from_slice(extra);
    let response = env.get(&auth_url(env, "test", &params)).await;
    assert_eq!(response.status(), 302, "{extra:?}");
    location(&response)
}

/// The parameters of a redirect that must carry them in its query (and have no fragment).
fn in_query(target: &str) -> BTreeMap<String, String> {
    assert!(
        target.starts_with(&format!("{APP}?")) && !target.contains('#'),
        "expected the answer in the query: {target}"
    );
    query_params(target)
}

fn in_fragment(target: &str) -> BTreeMap<String, String> {
    assert!(
        target.starts_with(&format!("{APP}#")),
        "expected the answer in the fragment: {target}"
    );
    callback_params(target)
}

#[tokio::test]
async fn query_with_the_implicit_or_hybrid_flow_is_refused_through_the_query() {
    let env = start().await;
    for response_type in [
        "token",
        "id_token",
        "id_token token",
        "code id_token",
        "code token",
        "code id_token token",
    ] {
        let target = redirect_for(
            &env,
            &[("response_type", response_type), ("response_mode", "query")],
        )
        .await;
        let got = in_query(&target);
        assert_eq!(got["error"], "invalid_request", "{response_type}");
        assert_eq!(
            got["error_description"],
            "Response_mode 'query' not allowed for implicit or hybrid flow"
        );
        assert_eq!(got["state"], "s-1");
        assert_eq!(got["iss"], format!("{}/realms/test", env.base));
    }
    let events = env.events("test").await;
    assert_eq!(events[0]["type"], "LOGIN_ERROR");
    assert_eq!(events[0]["error"], "invalid_request");
}

#[tokio::test]
async fn an_unknown_response_mode_is_refused_through_the_query() {
    let env = start().await;
    for response_type in ["id_token token", "code"] {
        let target = redirect_for(
            &env,
            &[("response_type", response_type), ("response_mode", "page")],
        )
        .await;
        let got = in_query(&target);
        assert_eq!(got["error"], "invalid_request");
        assert_eq!(got["error_description"], "Invalid parameter: response_mode");
    }
}

#[tokio::test]
async fn a_bad_response_type_is_answered_where_the_response_mode_says() {
    let env = start().await;
    let target = redirect_for(&env, &[]).await;
    let got = in_query(&target);
    assert_eq!(got["error"], "invalid_request");
    assert_eq!(got["error_description"], "Missing parameter: response_type");

    let target = redirect_for(
        &env,
        &[
            ("response_type", "code code2"),
            ("response_mode", "fragment"),
        ],
    )
    .await;
    assert_eq!(in_fragment(&target)["error"], "unsupported_response_type");

    let target = redirect_for(
        &env,
        &[("response_type", "code code2"), ("response_mode", "page")],
    )
    .await;
    assert_eq!(in_query(&target)["error"], "unsupported_response_type");
}

#[tokio::test]
async fn later_errors_of_the_implicit_flow_use_its_fragment() {
    let env = start().await;
    let mut params = vec![
        ("client_id", "web-app"),
        ("redirect_uri", APP),
        ("state", "s-1"),
        ("scope", "openid"),
        ("response_type", "id_token token"),
    ];
    let response = env.get(&auth_url(&env, "test", &params)).await;
    let got = in_fragment(&location(&response));
    assert_eq!(got["error_description"], "Missing parameter: nonce");
    params.push(("response_mode", "query"));
    let response = env.get(&auth_url(&env, "test", &params)).await;
    let got = in_query(&location(&response));
    assert_eq!(
        got["error_description"], "Response_mode 'query' not allowed for implicit or hybrid flow",
        "the response-mode check comes first"
    );
}

#[tokio::test]
async fn form_post_is_allowed_for_the_implicit_flow() {
    let env = start().await;
    let mut browser = Browser::new();
    let url = auth_url(
        &env,
        "test",
        &[
            ("client_id", "web-app"),
            ("redirect_uri", APP),
            ("state", "s-1"),
            ("scope", "openid"),
            ("nonce", "n-1"),
            ("response_type", "id_token token"),
            ("response_mode", "form_post"),
        ],
    );
    let response = login(&mut browser, &env, &url, "carol", "carol-pw").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!("action=\"{APP}\"")), "{html}");
    assert!(html.contains("name=\"access_token\""), "{html}");
    assert!(html.contains("name=\"id_token\""), "{html}");
    assert!(html.contains("name=\"state\" value=\"s-1\""), "{html}");
}
