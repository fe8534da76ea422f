//! `GET /ingest`: a WebSocket through which a real Keycloak pushes its events, as the KETE
//! extension's `websocket` destination does: one long-lived connection opened with the route's
//! `destination.headers.*` (here `Authorization: Bearer …`), then one frame per event holding the
//! event serialised by KETE's `json` serializer, i.e. Jackson's rendering of Keycloak's `Event`
//! (`id`, `time`, `type`, `realmId`, `realmName`, `clientId`, `userId`, `sessionId`,
//! `ipAddress`, `error`, `details`) or `AdminEvent` (`id`, `time`, `realmId`, `realmName`,
//! `authDetails`, `resourceType`, `operationType`, `resourcePath`, `representation`, `error`,
//! ...). Text frames by default, binary with `destination.binary-mode=true`.
//!
//! The bearer is either the static `--ingest-token` (may push events of any realm) or an access
//! token of an allowed issuer that belongs to a service account (may push its own realm's
//! events only). It is checked once, at the handshake; server-to-server, so a refusal is a plain
//! HTTP 401/403/503 rather than a close code.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::atomic::Ordering;

use super::auth::{self, Refusal};
use super::protocol::{self, close};
use super::{Control, HubEvent};
use crate::http::RequestInfo;
use crate::log::{self, Level};
use crate::state::{AppState, Shared};
use crate::util::same;

const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Which realms a pushing connection may feed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    AnyRealm,
    Realm(String),
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let mut response = (status, format!("{message}\n")).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

async fn authorize(state: &AppState, info: &RequestInfo) -> Result<Scope, Response> {
    let Some(token) = info.bearer() else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "an Authorization: Bearer header is required",
        ));
    };
    if let Some(secret) = &state.hub.config.ingest_token {
        if same(&token, secret) {
            return Ok(Scope::AnyRealm);
        }
    }
    match auth::validate(state, &token, false).await {
        Ok(identity) if identity.service_account => Ok(Scope::Realm(identity.realm)),
        Ok(_) => Err(refuse(
            StatusCode::FORBIDDEN,
            "only a service account's token may push events",
        )),
        Err(Refusal::KeysUnavailable) => Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the issuer's signing keys are unavailable",
        )),
        Err(refusal) => Err(refuse(StatusCode::UNAUTHORIZED, refusal.reason())),
    }
}

pub async fn ingest(
    State(state): State<Shared>,
    info: RequestInfo,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Ok(upgrade) = upgrade else {
        return (
            StatusCode::UPGRADE_REQUIRED,
            [("upgrade", "websocket")],
            "/ingest is a WebSocket endpoint\n",
        )
            .into_response();
    };
    let scope = match authorize(&state, &info).await {
        Ok(scope) => scope,
        Err(response) => return response,
    };
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| run(state, socket, scope))
}

/// A Keycloak event as KETE's JSON serializer renders it, ready for subscribers.
pub fn parse_event(bytes: &[u8]) -> Option<HubEvent> {
    let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(bytes) else {
        return None;
    };
    let text = |name: &str| {
        event
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    // Keycloak 26 events carry realmName; older ones only realmId (often the name for imported
    // realms, a UUID otherwise).
    let realm = text("realmName").or_else(|| text("realmId"))?;
    let admin_event = event.contains_key("operationType") || event.contains_key("resourceType");
    if !admin_event && text("type").is_none() {
        return None;
    }
    let user_id = if admin_event { None } else { text("userId") };
    let frame = protocol::event_frame(admin_event, &Value::Object(event));
    Some(HubEvent {
        realm,
        user_id,
        admin_only: admin_event,
        frame,
    })
}

async fn run(state: Shared, mut socket: WebSocket, scope: Scope) {
    let hub = &state.hub;
    hub.ingest_connections.fetch_add(1, Ordering::Relaxed);
    log::log(Level::Debug, &format!("hub: ingest connected ({scope:?})"));
    let mut control = hub.control();
    control.mark_unchanged();
    loop {
        let bytes = tokio::select! {
            Ok(()) = control.changed() => {
                // A restart concerns browsers; KETE keeps its connection (it does not reconnect).
                if *control.borrow_and_update() == Control::Shutdown {
                    let frame = axum::extract::ws::CloseFrame {
                        code: close::GOING_AWAY,
                        reason: "server shutting down".into(),
                    };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    break;
                }
                continue;
            }
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
                Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            },
        };
        match parse_event(&bytes) {
            Some(event) => {
                if let Scope::Realm(realm) = &scope {
                    if *realm != event.realm {
                        log::log(
                            Level::Warn,
                            &format!("hub: ingest: an event of realm '{}' from a token of realm '{realm}' was dropped", event.realm),
                        );
                        continue;
                    }
                }
                hub.publish(event);
            }
            None => log::log(
                Level::Warn,
                "hub: ingest: a message that is not a Keycloak event (JSON with realmName or realmId) was dropped",
            ),
        }
    }
    hub.ingest_connections.fetch_sub(1, Ordering::Relaxed);
    log::log(Level::Debug, "hub: ingest left");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kete_user_and_admin_events() {
        let user = br#"{"id":"e1","time":1704816000000,"type":"LOGIN","realmId":"0f0e","realmName":"demo","clientId":"app","userId":"u1","sessionId":"s1","ipAddress":"10.0.0.1","error":null,"details":{"username":"alice"}}"#;
        let event = parse_event(user).unwrap();
        assert_eq!(event.realm, "demo");
        assert_eq!(event.user_id.as_deref(), Some("u1"));
        assert!(!event.admin_only);
        let frame: Value = serde_json::from_str(&event.frame).unwrap();
        assert_eq!(frame["type"], "event");
        assert_eq!(frame["event"]["details"]["username"], "alice");

        let admin = br#"{"id":"e2","time":1,"realmId":"master","realmName":null,"authDetails":{"realmId":"master","clientId":"admin-cli","userId":"a1","ipAddress":"10.0.0.1"},"resourceType":"USER","operationType":"CREATE","resourcePath":"users/u2","representation":null,"error":null,"resourceTypeAsString":"USER"}"#;
        let event = parse_event(admin).unwrap();
        assert_eq!(event.realm, "master", "realmId when realmName is null");
        assert!(event.admin_only);
        assert_eq!(event.user_id, None);
        assert!(event.frame.starts_with(r#"{"type":"adminEvent""#));

        assert!(parse_event(b"not json").is_none());
        assert!(parse_event(br#"{"type":"LOGIN"}"#).is_none(), "no realm");
        assert!(
            parse_event(br#"{"realmName":"demo"}"#).is_none(),
            "neither kind"
        );
    }
}
