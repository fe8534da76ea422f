//! The live-event hub over real WebSockets: the three token strategies, refusals and their close
//! codes, in-band re-authentication, expiry, fan-out, JWKS fetching, KETE ingest, the restart
//! knob, and the standalone mode in front of another Keycloak.

// Test code: a failed unwrap or index is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use devserver::hub::HubConfig;
use devserver::keys::KeySet;
use futures_util::{SinkExt, StreamExt};
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Response};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Every wait in these tests is bounded by this.
const WAIT: Duration = Duration::from_secs(15);

const APP: &str = "keycloak-events.v1";

fn ws_url(env: &Env, path: &str) -> String {
    format!("{}{path}", env.base.replacen("http://", "ws://", 1))
}

/// Opens a WebSocket; `Err` carries the HTTP response of a refused handshake.
async fn open(
    url: &str,
    protocols: &[&str],
    authorization: Option<&str>,
) -> Result<(Ws, Option<String>), Response<Option<Vec<u8>>>> {
    let mut request = url.into_client_request().unwrap();
    if !protocols.is_empty() {
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(&protocols.join(", ")).unwrap(),
        );
    }
    if let Some(value) = authorization {
        request
            .headers_mut()
            .insert("authorization", HeaderValue::from_str(value).unwrap());
    }
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("handshake in time")
    {
        Ok((ws, response)) => {
            let selected = response
                .headers()
                .get("sec-websocket-protocol")
                .map(|v| v.to_str().unwrap().to_string());
            Ok((ws, selected))
        }
        Err(WsError::Http(response)) => Err(*response),
        Err(other) => panic!("handshake failed: {other}"),
    }
}

/// The next JSON message, server pings skipped.
async fn recv(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .expect("the connection is open")
            .unwrap();
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(text.as_str()).unwrap();
                if value["type"] != "ping" {
                    return value;
                }
            }
            Message::Close(frame) => panic!("closed unexpectedly: {frame:?}"),
            _ => {}
        }
    }
}

/// The next message that is not an event (her own events reach a user too).
async fn recv_reply(ws: &mut Ws) -> Value {
    loop {
        let message = recv(ws).await;
        if message["type"] != "event" {
            return message;
        }
    }
}

/// The next event of one of these types (other events, e.g. CODE_TO_TOKEN, are skipped).
async fn recv_event(ws: &mut Ws, types: &[&str]) -> Value {
    loop {
        let message = recv(ws).await;
        assert!(
            message["type"] == "event" || message["type"] == "adminEvent",
            "{message}"
        );
        if types.iter().any(|t| message["event"]["type"] == *t) {
            return message;
        }
    }
}

/// Waits for the server's close; returns its code and reason. Messages before it are skipped.
async fn closed(ws: &mut Ws) -> (u16, String) {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a close in time");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.as_str().to_string())
            }
            Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
            Some(Ok(_)) => {}
            Some(Err(err)) => panic!("connection broke instead of closing: {err}"),
        }
    }
}

async fn send_json(ws: &mut Ws, value: Value) {
    ws.send(Message::text(value.to_string())).await.unwrap();
}

async fn by_subprotocol(env: &Env, token: &str) -> Ws {
    let bearer = format!("bearer.{token}");
    let (ws, selected) = open(&ws_url(env, "/events"), &[APP, &bearer], None)
        .await
        .unwrap();
    assert_eq!(
        selected.as_deref(),
        Some(APP),
        "only the app protocol is echoed"
    );
    ws
}

async fn by_first_message(env: &Env, token: &str) -> Ws {
    let (mut ws, selected) = open(&ws_url(env, "/events"), &[APP], None).await.unwrap();
    assert_eq!(selected.as_deref(), Some(APP));
    send_json(&mut ws, json!({"type": "auth", "token": token})).await;
    ws
}

async fn welcomed(ws: &mut Ws) -> Value {
    let welcome = recv(ws).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    welcome
}

/// A demo-realm login through the login page and the code exchange: the token response.
async fn demo_tokens(env: &Env, user: &str) -> Value {
    let mut browser = Browser::new();
    let (params, pkce) = demo_login(&mut browser, env, user).await;
    demo_exchange(env, &params["code"], &pkce).await
}

fn access(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_string()
}

fn sub(token: &str) -> String {
    jwt_claims(token)["sub"].as_str().unwrap().to_string()
}

async fn refresh(env: &Env, tokens: &Value) -> Value {
    let response = env
        .refresh(
            "demo",
            "demo-app",
            tokens["refresh_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// An admin call that must succeed; its JSON answer. Each call gets a fresh token, since tests
/// move the clock.
async fn admin(env: &Env, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let response = env.admin().await.send(method, path, body).await;
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

async fn set_clock(env: &Env, offset_seconds: i64) {
    admin(
        env,
        reqwest::Method::PUT,
        "/admin/devserver/clock",
        Some(json!({ "offsetSeconds": offset_seconds })),
    )
    .await;
}

async fn hub_status(env: &Env) -> Value {
    admin(env, reqwest::Method::GET, "/admin/devserver/hub", None).await
}

/// Claims signed with the servers' (shared) key: a token devserver could have issued.
fn signed(claims: Value) -> String {
    KeySet::new(devserver::testkey::shared_key().unwrap()).sign_rs256(&claims)
}

fn demo_claims(env: &Env, sub: &str, now: u64) -> Value {
    json!({
        "iss": format!("{}/realms/demo", env.base),
        "sub": sub,
        "typ": "Bearer",
        "azp": "demo-app",
        "exp": now + 300,
        "iat": now,
        "realm_access": {"roles": ["user"]},
    })
}

fn now() -> u64 {
    devserver::state::wall_clock_ms() / 1000
}

#[tokio::test]
async fn each_strategy_is_welcomed() {
    let env = start_with(&["demo"]).await;
    let tokens = demo_tokens(&env, "alice").await;
    let token = access(&tokens);
    let claims = jwt_claims(&token);

    let mut ws = by_subprotocol(&env, &token).await;
    let welcome = welcomed(&mut ws).await;
    assert_eq!(welcome["sub"], claims["sub"]);
    assert_eq!(welcome["realm"], "demo");
    assert_eq!(welcome["sessionId"], claims["sid"]);
    assert_eq!(welcome["admin"], false);
    assert_eq!(welcome["heartbeat"], 25);
    let ttl = welcome["ttl"].as_u64().unwrap();
    assert!(ttl > 250 && ttl <= 300, "ttl {ttl}");

    let mut ws = by_first_message(&env, &token).await;
    assert_eq!(welcomed(&mut ws).await["sub"], claims["sub"]);

    let (mut ws, selected) = open(
        &ws_url(&env, &format!("/events?access_token={token}")),
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(selected, None, "nothing offered, nothing echoed");
    assert_eq!(welcomed(&mut ws).await["sub"], claims["sub"]);

    let status = hub_status(&env).await;
    let mut strategies: Vec<&str> = status["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["strategy"].as_str().unwrap())
        .collect();
    strategies.sort_unstable();
    assert_eq!(strategies, ["first-message", "query", "subprotocol"]);
    assert_eq!(status["stats"]["sockets"], 3, "{status}");
    assert_eq!(status["stats"]["droppedEvents"], 0, "{status}");
}

#[tokio::test]
async fn bob_is_an_admin() {
    let env = start_with(&["demo"]).await;
    let token = access(&demo_tokens(&env, "bob").await);
    let mut ws = by_subprotocol(&env, &token).await;
    assert_eq!(welcomed(&mut ws).await["admin"], true);
}

#[tokio::test]
async fn refused_without_a_token() {
    let env = start_config(
        &["demo"],
        HubConfig {
            auth_timeout: Duration::from_secs(1),
            ..HubConfig::default()
        },
    )
    .await;
    let (mut ws, _) = open(&ws_url(&env, "/events"), &[APP], None).await.unwrap();
    send_json(&mut ws, json!({"type": "auth"})).await;
    assert_eq!(
        closed(&mut ws).await,
        (4401, "unauthorized: no token".into())
    );

    let (mut ws, _) = open(&ws_url(&env, "/events"), &[APP], None).await.unwrap();
    send_json(&mut ws, json!({"type": "hello"})).await;
    assert_eq!(closed(&mut ws).await.0, 4401, "anything but auth first");

    let (mut ws, _) = open(&ws_url(&env, "/events"), &[APP, "bearer."], None)
        .await
        .unwrap();
    assert_eq!(
        closed(&mut ws).await,
        (4401, "unauthorized: no token".into())
    );

    let (mut ws, _) = open(&ws_url(&env, "/events"), &[APP], None).await.unwrap();
    assert_eq!(
        closed(&mut ws).await,
        (4408, "authentication timeout".into()),
        "silence until the auth timeout"
    );

    let (mut ws, _) = open(&ws_url(&env, "/events?access_token=not-a-jwt"), &[], None)
        .await
        .unwrap();
    assert_eq!(
        closed(&mut ws).await,
        (4401, "unauthorized: malformed token".into())
    );
}

#[tokio::test]
async fn refused_with_a_forged_token() {
    let env = start_with(&["demo"]).await;
    let token = access(&demo_tokens(&env, "alice").await);
    // The same header (kid) and claims, signed with another key.
    let other = devserver::keys::generate_rsa_key().unwrap();
    let (input, _) = token.rsplit_once('.').unwrap();
    let signature = SigningKey::<Sha256>::new(other.clone()).sign(input.as_bytes());
    let forged = format!("{input}.{}", devserver::util::b64url(&signature.to_bytes()));
    let mut ws = by_subprotocol(&env, &forged).await;
    assert_eq!(
        closed(&mut ws).await,
        (4401, "unauthorized: invalid signature".into())
    );

    // Signed by a key of its own, with its own kid: unknown after a refetch, still refused.
    let claims = jwt_claims(&token);
    let own_kid = KeySet::new(other).sign_rs256(&claims);
    let mut ws = by_first_message(&env, &own_kid).await;
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 4401);
    assert!(!reason.contains(&own_kid), "errors never echo the token");

    // Tampered claims under a genuine signature.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut bigger = claims.clone();
    bigger["realm_access"]["roles"] = json!(["user", "admin"]);
    parts[1] = devserver::util::b64url(bigger.to_string().as_bytes());
    let mut ws = by_subprotocol(&env, &parts.join(".")).await;
    assert_eq!(
        closed(&mut ws).await,
        (4401, "unauthorized: invalid signature".into())
    );
}

#[tokio::test]
async fn refused_with_an_expired_or_not_yet_valid_token() {
    let env = start_with(&["demo"]).await;
    let token = access(&demo_tokens(&env, "alice").await);
    set_clock(&env, 301).await;
    let mut ws = by_subprotocol(&env, &token).await;
    assert_eq!(
        closed(&mut ws).await,
        (4401, "unauthorized: token expired".into())
    );
    set_clock(&env, 0).await;

    let mut claims = demo_claims(&env, "someone", now());
    claims["nbf"] = json!(now() + 120);
    let mut ws = by_subprotocol(&env, &signed(claims)).await;
    assert_eq!(
        closed(&mut ws).await,
        (4401, "unauthorized: token not yet valid".into())
    );

    let mut refresh_like = demo_claims(&env, "someone", now());
    refresh_like["typ"] = json!("ID");
    let mut ws = by_subprotocol(&env, &signed(refresh_like)).await;
    assert_eq!(
        closed(&mut ws).await,
        (4401, "unauthorized: not an access token".into())
    );
}

#[tokio::test]
async fn refused_with_a_token_of_an_issuer_not_allowed() {
    let env = start_with(&["demo"]).await;
    for issuer in [
        "http://keycloak.example.com/realms/demo".to_string(),
        format!("{}/realms/nosuch", env.base),
        format!("{}/auth/realms/demo", env.base),
    ] {
        let mut claims = demo_claims(&env, "someone", now());
        claims["iss"] = json!(issuer);
        let mut ws = by_subprotocol(&env, &signed(claims)).await;
        assert_eq!(
            closed(&mut ws).await,
            (4401, "unauthorized: issuer not allowed".into()),
            "{issuer}"
        );
    }
    assert_eq!(
        hub_status(&env).await["keySources"],
        json!([]),
        "no keys were fetched for issuers not allowed"
    );

    // The same claims under an allowed issuer (another loopback name) pass.
    let mut claims = demo_claims(&env, "someone", now());
    claims["iss"] = json!(env.base.replace("127.0.0.1", "localhost") + "/realms/demo");
    let mut ws = by_subprotocol(&env, &signed(claims)).await;
    assert_eq!(welcomed(&mut ws).await["sub"], "someone");
    let sources = hub_status(&env).await["keySources"].clone();
    assert_eq!(
        sources[0]["url"],
        format!("{}/realms/demo/protocol/openid-connect/certs", env.base),
        "own realms' keys come from devserver's own address"
    );
}

#[tokio::test]
async fn audience_is_checked_when_configured() {
    let env = start_config(
        &["demo"],
        HubConfig {
            audience: Some("reports-api".into()),
            ..HubConfig::default()
        },
    )
    .await;
    let token = access(&demo_tokens(&env, "alice").await);
    let mut ws = by_subprotocol(&env, &token).await;
    assert_eq!(
        closed(&mut ws).await,
        (4403, "forbidden: token not issued for this audience".into())
    );
    let mut claims = demo_claims(&env, "someone", now());
    claims["aud"] = json!(["account", "reports-api"]);
    let mut ws = by_subprotocol(&env, &signed(claims)).await;
    welcomed(&mut ws).await;
}

#[tokio::test]
async fn reauthentication_renews_the_connection() {
    let env = start_with(&["demo"]).await;
    let tokens = demo_tokens(&env, "alice").await;
    let mut ws = by_first_message(&env, &access(&tokens)).await;
    welcomed(&mut ws).await;

    set_clock(&env, 200).await;
    let renewed = refresh(&env, &tokens).await;
    send_json(&mut ws, json!({"type": "auth", "token": access(&renewed)})).await;
    let answer = recv_reply(&mut ws).await;
    assert_eq!(answer["type"], "reauthenticated");
    let ttl = answer["ttl"].as_u64().unwrap();
    assert!(ttl > 250 && ttl <= 300, "ttl {ttl}");
    let status = hub_status(&env).await;
    let connection = &status["connections"][0];
    assert_eq!(connection["reauthentications"], 1);
    assert_eq!(
        connection["expiresAt"],
        jwt_claims(&access(&renewed))["exp"]
    );

    // Past the first token's expiry the connection lives on; past the second's it is closed.
    set_clock(&env, 400).await;
    send_json(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(recv_reply(&mut ws).await["type"], "pong");
    set_clock(&env, 600).await;
    assert_eq!(closed(&mut ws).await, (4440, "token expired".into()));
}

#[tokio::test]
async fn reauthentication_for_another_subject_is_forbidden() {
    let env = start_with(&["demo"]).await;
    let alice = access(&demo_tokens(&env, "alice").await);
    let bob = access(&demo_tokens(&env, "bob").await);
    let mut ws = by_subprotocol(&env, &alice).await;
    welcomed(&mut ws).await;
    send_json(&mut ws, json!({"type": "auth", "token": bob})).await;
    assert_eq!(
        closed(&mut ws).await,
        (
            4403,
            "forbidden: re-authentication for another subject".into()
        )
    );
}

#[tokio::test]
async fn invalid_reauthentication_closes_as_unauthorized() {
    let env = start_with(&["demo"]).await;
    let tokens = demo_tokens(&env, "alice").await;
    let mut ws = by_subprotocol(&env, &access(&tokens)).await;
    welcomed(&mut ws).await;
    send_json(&mut ws, json!({"type": "auth", "token": "a.b.c"})).await;
    assert_eq!(closed(&mut ws).await.0, 4401);
}

#[tokio::test]
async fn expiry_without_reauthentication_closes_with_4440() {
    let env = start_with(&["demo"]).await;
    let token = access(&demo_tokens(&env, "alice").await);
    let mut ws = by_subprotocol(&env, &token).await;
    welcomed(&mut ws).await;
    set_clock(&env, 400).await;
    assert_eq!(closed(&mut ws).await, (4440, "token expired".into()));
    assert_eq!(hub_status(&env).await["connections"], json!([]));
}

#[tokio::test]
async fn admins_get_the_realms_events_users_their_own() {
    let env = start_with(&["demo"]).await;
    let bob = access(&demo_tokens(&env, "bob").await);
    let mut bob_ws = by_subprotocol(&env, &bob).await;
    welcomed(&mut bob_ws).await;

    let alice_tokens = demo_tokens(&env, "alice").await;
    let alice_sub = sub(&access(&alice_tokens));
    let login = recv_event(&mut bob_ws, &["LOGIN"]).await;
    assert_eq!(login["event"]["userId"], alice_sub.as_str());
    assert_eq!(login["event"]["details"]["username"], "alice");
    assert!(login["event"]["realmId"].is_string() && login["event"]["time"].is_u64());

    let mut alice_ws = by_first_message(&env, &access(&alice_tokens)).await;
    welcomed(&mut alice_ws).await;
    // Bob logs in again, then Alice refreshes: events reach subscribers in order, so Alice's
    // first event being her refresh proves she did not get Bob's login.
    demo_tokens(&env, "bob").await;
    refresh(&env, &alice_tokens).await;
    let first = recv(&mut alice_ws).await;
    assert_eq!(first["type"], "event");
    assert_eq!(first["event"]["type"], "REFRESH_TOKEN", "{first}");
    assert_eq!(first["event"]["userId"], alice_sub.as_str());
    // Bob sees his own login and Alice's refresh.
    recv_event(&mut bob_ws, &["LOGIN"]).await;
    let refreshed = recv_event(&mut bob_ws, &["REFRESH_TOKEN"]).await;
    assert_eq!(refreshed["event"]["userId"], alice_sub.as_str());
}

#[tokio::test]
async fn events_of_other_realms_are_not_sent() {
    let env = start_with(&["demo", "test"]).await;
    let bob = access(&demo_tokens(&env, "bob").await);
    let mut ws = by_subprotocol(&env, &bob).await;
    welcomed(&mut ws).await;
    env.password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    demo_tokens(&env, "alice").await;
    let event = recv(&mut ws).await;
    assert_eq!(
        event["event"]["type"], "LOGIN",
        "carol's login in realm test skipped"
    );
    assert_eq!(event["event"]["details"]["username"], "alice");
}

#[tokio::test]
async fn keys_are_refetched_for_an_unknown_kid() {
    let env = start_config(
        &["demo"],
        HubConfig {
            jwks_min_interval: Duration::ZERO,
            ..HubConfig::default()
        },
    )
    .await;
    let before = access(&demo_tokens(&env, "alice").await);
    let mut ws = by_subprotocol(&env, &before).await;
    welcomed(&mut ws).await;
    let mut ws = by_subprotocol(&env, &before).await;
    welcomed(&mut ws).await;
    assert_eq!(
        hub_status(&env).await["keySources"][0]["fetches"],
        1,
        "cached"
    );

    let rotated = admin(
        &env,
        reqwest::Method::POST,
        "/admin/devserver/keys/rotate",
        Some(json!({"keepOld": true})),
    )
    .await;
    let after = access(&demo_tokens(&env, "alice").await);
    assert_eq!(jwt_header(&after)["kid"], rotated["kid"]);
    let mut ws = by_subprotocol(&env, &after).await;
    welcomed(&mut ws).await;
    let source = hub_status(&env).await["keySources"][0].clone();
    assert_eq!(source["fetches"], 2);
    assert_eq!(source["kids"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn refetching_keys_is_rate_limited() {
    let env = start_config(
        &["demo"],
        HubConfig {
            jwks_min_interval: Duration::from_secs(3600),
            ..HubConfig::default()
        },
    )
    .await;
    let before = access(&demo_tokens(&env, "alice").await);
    let mut ws = by_subprotocol(&env, &before).await;
    welcomed(&mut ws).await;
    admin(
        &env,
        reqwest::Method::POST,
        "/admin/devserver/keys/rotate",
        Some(json!({})),
    )
    .await;
    let after = access(&demo_tokens(&env, "alice").await);
    let mut ws = by_subprotocol(&env, &after).await;
    assert_eq!(
        closed(&mut ws).await,
        (4401, "unauthorized: invalid signature".into())
    );
    assert_eq!(hub_status(&env).await["keySources"][0]["fetches"], 1);
}

#[tokio::test]
async fn unavailable_keys_close_with_try_again_later() {
    let env = start_config(
        &["demo"],
        HubConfig {
            jwks_min_interval: Duration::ZERO,
            ..HubConfig::default()
        },
    )
    .await;
    let token = access(&demo_tokens(&env, "alice").await);
    admin(
        &env,
        reqwest::Method::POST,
        "/admin/devserver/faults",
        Some(json!({"target": "certs", "status": 503})),
    )
    .await;
    let mut ws = by_subprotocol(&env, &token).await;
    assert_eq!(
        closed(&mut ws).await,
        (1013, "signing keys unavailable".into())
    );
    let mut ws = by_subprotocol(&env, &token).await;
    welcomed(&mut ws).await;
}

#[tokio::test]
async fn heartbeat_pings_and_client_pings() {
    let env = start_config(
        &["demo"],
        HubConfig {
            heartbeat: Duration::from_secs(1),
            ..HubConfig::default()
        },
    )
    .await;
    let token = access(&demo_tokens(&env, "alice").await);
    let mut ws = by_subprotocol(&env, &token).await;
    assert_eq!(welcomed(&mut ws).await["heartbeat"], 1);
    let message = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(message, Message::text(r#"{"type":"ping"}"#));
    send_json(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut ws).await, json!({"type": "pong"}));
}

#[tokio::test]
async fn restart_closes_with_1012_and_refuses_for_a_while() {
    let env = start_with(&["demo"]).await;
    let token = access(&demo_tokens(&env, "alice").await);
    let mut ws = by_subprotocol(&env, &token).await;
    welcomed(&mut ws).await;

    let answer = admin(
        &env,
        reqwest::Method::POST,
        "/admin/devserver/hub/restart",
        Some(json!({"downMs": 60000})),
    )
    .await;
    assert_eq!(answer["closed"], 1);
    assert_eq!(answer["up"], false);
    assert_eq!(closed(&mut ws).await, (1012, "service restart".into()));

    let refused = open(&ws_url(&env, "/events"), &[APP], None)
        .await
        .err()
        .unwrap();
    assert_eq!(refused.status(), 503);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 60, "Retry-After {retry}");

    admin(
        &env,
        reqwest::Method::POST,
        "/admin/devserver/hub/start",
        None,
    )
    .await;
    let mut ws = by_subprotocol(&env, &token).await;
    welcomed(&mut ws).await;

    // Without downtime, reconnecting works at once.
    admin(
        &env,
        reqwest::Method::POST,
        "/admin/devserver/hub/restart",
        None,
    )
    .await;
    assert_eq!(closed(&mut ws).await.0, 1012);
    let mut ws = by_subprotocol(&env, &token).await;
    welcomed(&mut ws).await;
}

#[tokio::test]
async fn restart_knob_needs_an_admin_token() {
    let env = start_with(&["demo"]).await;
    let response = env
        .http
        .post(env.url("/admin/devserver/hub/restart"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = env
        .admin()
        .await
        .post(
            "/admin/devserver/hub/restart",
            json!({"downMs": 5, "forever": true}),
        )
        .await;
    assert_eq!(response.status(), 400);
}

/// A user event as KETE's JSON serializer writes it (Jackson on Keycloak's `Event`).
fn kete_event(id: &str, realm: &str, user_id: &str) -> Value {
    json!({
        "id": id,
        "time": 1704816000000u64,
        "type": "LOGIN",
        "realmId": "3f1c9b1e-8d1e-4e63-9d1a-1b2c3d4e5f60",
        "realmName": realm,
        "clientId": "account-console",
        "userId": user_id,
        "sessionId": "0b6f0a1e-5c1a-4c7b-9f52-0d3c2b1a0e9f",
        "ipAddress": "10.0.0.7",
        "error": null,
        "details": {"auth_method": "openid-connect", "username": "someone"}
    })
}

#[tokio::test]
async fn ingested_kete_events_reach_subscribers() {
    let env = start_config(
        &["demo"],
        HubConfig {
            ingest_token: Some("kete-secret".into()),
            ..HubConfig::default()
        },
    )
    .await;
    let bob = access(&demo_tokens(&env, "bob").await);
    let alice = access(&demo_tokens(&env, "alice").await);
    let mut bob_ws = by_subprotocol(&env, &bob).await;
    welcomed(&mut bob_ws).await;
    let mut alice_ws = by_subprotocol(&env, &alice).await;
    welcomed(&mut alice_ws).await;

    let refused = open(&ws_url(&env, "/ingest"), &[], None)
        .await
        .err()
        .unwrap();
    assert_eq!(refused.status(), 401);
    let refused = open(&ws_url(&env, "/ingest"), &[], Some("Bearer wrong"))
        .await
        .err()
        .unwrap();
    assert_eq!(refused.status(), 401);

    let (mut kete, _) = open(&ws_url(&env, "/ingest"), &[], Some("Bearer kete-secret"))
        .await
        .unwrap();
    let someone = kete_event("e-1", "demo", "someone-else");
    kete.send(Message::text(someone.to_string())).await.unwrap();
    let for_alice = kete_event("e-2", "demo", &sub(&alice));
    kete.send(Message::binary(for_alice.to_string().into_bytes()))
        .await
        .unwrap();
    let admin_event = json!({
        "id": "e-3", "time": 1704816000001u64, "realmId": "3f1c", "realmName": "demo",
        "authDetails": {"realmId": "master", "realmName": "master", "clientId": "admin-cli",
                        "userId": "a1", "ipAddress": "10.0.0.7"},
        "resourceType": "USER", "operationType": "CREATE", "resourcePath": "users/u9",
        "representation": null, "error": null, "resourceTypeAsString": "USER"
    });
    kete.send(Message::text(admin_event.to_string()))
        .await
        .unwrap();

    assert_eq!(
        recv(&mut bob_ws).await,
        json!({"type": "event", "event": someone})
    );
    assert_eq!(
        recv(&mut bob_ws).await,
        json!({"type": "event", "event": for_alice})
    );
    assert_eq!(
        recv(&mut bob_ws).await,
        json!({"type": "adminEvent", "event": admin_event})
    );
    assert_eq!(
        recv(&mut alice_ws).await,
        json!({"type": "event", "event": for_alice}),
        "alice gets only her own event"
    );
    let again = kete_event("e-4", "demo", &sub(&alice));
    kete.send(Message::text(again.to_string())).await.unwrap();
    assert_eq!(
        recv(&mut alice_ws).await,
        json!({"type": "event", "event": again}),
        "not the admin event before it"
    );
    assert_eq!(hub_status(&env).await["ingestConnections"], 1);
}

/// A client-credentials token of the `backend` client of realm `test`.
async fn backend_token(env: &Env) -> String {
    let response = env
        .post_form(
            &env.oidc("test", "token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "backend"),
                ("client_secret", "backend-secret"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    access(&response.json::<Value>().await.unwrap())
}

/// The status of a refused `/ingest` handshake with this bearer token.
async fn ingest_refusal(env: &Env, token: &str) -> u16 {
    open(
        &ws_url(env, "/ingest"),
        &[],
        Some(&format!("Bearer {token}")),
    )
    .await
    .expect_err("the handshake is refused")
    .status()
    .as_u16()
}

/// Realms `demo` and `test`, with `test`'s `backend` as the ingest client.
async fn with_backend_as_ingest_client() -> Env {
    start_config(
        &["demo", "test"],
        HubConfig {
            ingest_clients: vec!["backend".into()],
            ..HubConfig::default()
        },
    )
    .await
}

#[tokio::test]
async fn ingest_refuses_user_tokens_whatever_their_username() {
    let env = with_backend_as_ingest_client().await;
    // A user who picked a service-account-like name, with a genuine signature.
    let mut eve = demo_claims(&env, "eve-id", now());
    eve["preferred_username"] = json!("service-account-eve");
    assert_eq!(ingest_refusal(&env, &signed(eve)).await, 403);
    // A user token of the ingest client itself: not its service account.
    let mut user_of_backend = demo_claims(&env, "carol-id", now());
    user_of_backend["iss"] = json!(format!("{}/realms/test", env.base));
    user_of_backend["azp"] = json!("backend");
    user_of_backend["preferred_username"] = json!("service-account-backend");
    assert_eq!(ingest_refusal(&env, &signed(user_of_backend)).await, 403);
    // A service account of a client that is not an ingest client.
    let mut other_client = demo_claims(&env, "sa-id", now());
    other_client["azp"] = json!("demo-app");
    other_client["client_id"] = json!("demo-app");
    assert_eq!(ingest_refusal(&env, &signed(other_client)).await, 403);
    // An ordinary user's token.
    let carol = access(
        &env.password_grant("test", "web-app", "carol", "carol-pw")
            .await,
    );
    assert_eq!(ingest_refusal(&env, &carol).await, 403);
}

#[tokio::test]
async fn ingest_refuses_service_accounts_without_configured_ingest_clients() {
    let env = start_with(&["test"]).await;
    assert_eq!(ingest_refusal(&env, &backend_token(&env).await).await, 403);
}

#[tokio::test]
async fn ingest_accepts_a_service_account_token_for_its_own_realm() {
    let env = with_backend_as_ingest_client().await;
    let service = backend_token(&env).await;
    let carol_tokens = env
        .password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let carol = access(&carol_tokens);

    let refused = open(
        &ws_url(&env, "/ingest"),
        &[],
        Some(&format!("Bearer {carol}")),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(refused.status(), 403, "a user's token may not push events");

    let mut carol_ws = by_subprotocol(&env, &carol).await;
    welcomed(&mut carol_ws).await;
    let (mut kete, _) = open(
        &ws_url(&env, "/ingest"),
        &[],
        Some(&format!("Bearer {service}")),
    )
    .await
    .unwrap();
    // An event of another realm is dropped; the realm's own goes through.
    let foreign = kete_event("e-1", "demo", &sub(&carol));
    kete.send(Message::text(foreign.to_string())).await.unwrap();
    let own = kete_event("e-2", "test", &sub(&carol));
    kete.send(Message::text(own.to_string())).await.unwrap();
    assert_eq!(
        recv(&mut carol_ws).await,
        json!({"type": "event", "event": own})
    );
}

/// Claims of an admin of realm `test` at `issuer`, signed with the servers' shared key.
fn test_admin(issuer: &str, sub: &str) -> String {
    signed(json!({
        "iss": issuer,
        "sub": sub,
        "typ": "Bearer",
        "azp": "web-app",
        "exp": now() + 300,
        "iat": now(),
        "realm_access": {"roles": ["admin"]},
    }))
}

#[tokio::test]
async fn issuers_with_the_same_realm_name_have_separate_streams() {
    // Two Keycloaks, each with a realm `test`: this server's own and another one's.
    let other = start_with(&["test"]).await;
    let other_issuer = format!("{}/realms/test", other.base);
    let env = start_config(
        &["test"],
        HubConfig {
            issuers: vec![other_issuer.clone()],
            ingest_clients: vec!["backend".into()],
            ..HubConfig::default()
        },
    )
    .await;
    let own_issuer = format!("{}/realms/test", env.base);
    let mut own_admin = by_subprotocol(&env, &test_admin(&own_issuer, "own-admin")).await;
    assert_eq!(welcomed(&mut own_admin).await["realm"], "test");
    let mut other_admin = by_subprotocol(&env, &test_admin(&other_issuer, "other-admin")).await;
    assert_eq!(welcomed(&mut other_admin).await["realm"], "test");

    // A login at this server is an event of its own realm `test` only.
    env.password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let login = recv_event(&mut own_admin, &["LOGIN"]).await;
    assert_eq!(login["event"]["details"]["username"], "carol");

    // An event pushed by the other Keycloak's service account is of the other realm `test` only.
    let (mut kete, _) = open(
        &ws_url(&env, "/ingest"),
        &[],
        Some(&format!("Bearer {}", backend_token(&other).await)),
    )
    .await
    .unwrap();
    let pushed = kete_event("e-other", "test", "someone");
    kete.send(Message::text(pushed.to_string())).await.unwrap();
    assert_eq!(
        recv(&mut other_admin).await,
        json!({"type": "event", "event": pushed}),
        "the other issuer's admin gets its event first, not this server's login"
    );

    // Events reach a subscriber in order: the next one for this server's admin is the next
    // local login, not the pushed event.
    env.password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let next = recv(&mut own_admin).await;
    assert_eq!(next["event"]["type"], "LOGIN", "{next}");
}

#[tokio::test]
async fn a_static_ingest_secret_does_not_guess_between_issuers_of_one_realm_name() {
    let other = start_with(&["test"]).await;
    let other_issuer = format!("{}/realms/test", other.base);
    let env = start_config(
        &["test", "demo"],
        HubConfig {
            issuers: vec![other_issuer.clone()],
            ingest_token: Some("kete-secret".into()),
            ..HubConfig::default()
        },
    )
    .await;
    let own_issuer = format!("{}/realms/test", env.base);
    let mut own_admin = by_subprotocol(&env, &test_admin(&own_issuer, "own-admin")).await;
    welcomed(&mut own_admin).await;
    let mut other_admin = by_subprotocol(&env, &test_admin(&other_issuer, "other-admin")).await;
    welcomed(&mut other_admin).await;
    let bob = access(&demo_tokens(&env, "bob").await);
    let mut demo_admin = by_subprotocol(&env, &bob).await;
    welcomed(&mut demo_admin).await;

    let (mut kete, _) = open(&ws_url(&env, "/ingest"), &[], Some("Bearer kete-secret"))
        .await
        .unwrap();
    // `test` names two issuers: dropped. `demo` names one: delivered.
    let ambiguous = kete_event("e-1", "test", "someone");
    kete.send(Message::text(ambiguous.to_string()))
        .await
        .unwrap();
    let clear = kete_event("e-2", "demo", "someone");
    kete.send(Message::text(clear.to_string())).await.unwrap();
    assert_eq!(
        recv(&mut demo_admin).await,
        json!({"type": "event", "event": clear})
    );
    // Both `test` admins get this server's next login first: the pushed event reached neither.
    env.password_grant("test", "web-app", "carol", "carol-pw")
        .await;
    let next = recv(&mut own_admin).await;
    assert_eq!(next["event"]["type"], "LOGIN", "{next}");
    send_json(&mut other_admin, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut other_admin).await, json!({"type": "pong"}));
}

#[tokio::test]
async fn hub_only_fronts_another_keycloak() {
    // `keycloak` plays the real Keycloak; `hub` knows nothing but its issuer URL.
    let keycloak = start_with(&["test", "demo"]).await;
    let issuer = format!("{}/realms/test", keycloak.base);
    let hub = start_hub_only(HubConfig {
        issuers: vec![issuer.clone()],
        ingest_token: Some("kete-secret".into()),
        ..HubConfig::default()
    })
    .await;
    let carol = access(
        &keycloak
            .password_grant("test", "web-app", "carol", "carol-pw")
            .await,
    );
    assert_eq!(jwt_claims(&carol)["iss"], issuer.as_str());
    let mut ws = by_subprotocol(&hub, &carol).await;
    let welcome = welcomed(&mut ws).await;
    assert_eq!(welcome["realm"], "test");
    assert_eq!(welcome["sub"], sub(&carol).as_str());
    let source = &hub_only_sources(&hub).await;
    assert_eq!(
        source,
        &json!([format!("{issuer}/protocol/openid-connect/certs")])
    );

    // Tokens of the other realm of the same server are not of an allowed issuer.
    let alice = access(&demo_tokens(&keycloak, "alice").await);
    let mut refused = by_subprotocol(&hub, &alice).await;
    assert_eq!(
        closed(&mut refused).await,
        (4401, "unauthorized: issuer not allowed".into())
    );

    let (mut kete, _) = open(&ws_url(&hub, "/ingest"), &[], Some("Bearer kete-secret"))
        .await
        .unwrap();
    let event = kete_event("e-1", "test", &sub(&carol));
    kete.send(Message::text(event.to_string())).await.unwrap();
    assert_eq!(
        recv(&mut ws).await,
        json!({"type": "event", "event": event})
    );

    // Nothing else is served.
    let response = hub
        .get(&hub.url("/realms/test/.well-known/openid-configuration"))
        .await;
    assert_eq!(response.status(), 404);
}

/// devserver serving only the hub (`--hub-only`), in front of another Keycloak.
async fn start_hub_only(hub: HubConfig) -> Env {
    let server = devserver::start(devserver::ServerConfig {
        port: 0,
        signing_key: Some(devserver::testkey::shared_key().unwrap()),
        hub,
        hub_only: true,
        ..devserver::ServerConfig::default()
    })
    .await
    .unwrap();
    Env {
        base: server.url(),
        server,
        http: client(),
    }
}

/// The hub-only server has no admin realm; its key sources are read from the server state.
async fn hub_only_sources(hub: &Env) -> Value {
    let urls: Vec<String> = hub
        .server
        .state
        .hub
        .key_sources()
        .into_iter()
        .map(|s| s.url)
        .collect();
    json!(urls)
}

#[tokio::test]
async fn the_query_token_stays_out_of_the_log() {
    let test = realm_file("test");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_devserver"))
        .args(["--port", "0", "--import-realm", test.to_str().unwrap()])
        .args(["--log-level", "debug"])
        .env_remove("RUST_LOG")
        .kill_on_drop(true)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let base = line
        .strip_prefix("devserver listening on ")
        .unwrap()
        .to_string();
    let tokens: Value = client()
        .post(format!("{base}/realms/test/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "web-app"),
            ("username", "carol"),
            ("password", "carol-pw"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = access(&tokens);
    let url = format!(
        "{}/events?access_token={token}",
        base.replacen("http://", "ws://", 1)
    );
    let (mut ws, _) = open(&url, &[], None).await.unwrap();
    welcomed(&mut ws).await;
    // The pong comes after the server logged the connection.
    send_json(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(recv(&mut ws).await["type"], "pong");
    ws.close(None).await.unwrap();

    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("GET /events -> 101"), "{log}");
    assert!(
        log.contains("hub: connected connection=1 realm=test"),
        "{log}"
    );
    assert!(!log.contains(&token), "the token is never logged");
    assert!(!log.contains("access_token"), "{log}");
}
