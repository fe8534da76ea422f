//! `GET /ingest`: a WebSocket through which a real Keycloak pushes its events, as the KETE
//! extension's `websocket` destination does: one long-lived connection opened with the route's
//! `destination.headers.*` (here `Authorization: Bearer …`), then one frame per event holding the
//! event serialised by KETE's `json` serializer, i.e. Jackson's rendering of Keycloak's `Event`
//! (`id`, `time`, `type`, `realmId`, `realmName`, `clientId`, `userId`, `sessionId`,
//! `ipAddress`, `error`, `details`) or `AdminEvent` (`id`, `time`, `realmId`, `realmName`,
//! `authDetails`, `resourceType`, `operationType`, `resourcePath`, `representation`, `error`,
//! ...). Text frames by default, binary with `destination.binary-mode=true`.
//!
//! The bearer is either the static `--ingest-token` (may push events of any realm whose name
//! names exactly one allowed issuer) or an access token of an allowed issuer that belongs to the
//! service account of an ingest client (may push its own realm's events only). Service accounts
//! are recognised as Keycloak marks them: `azp` names an `--ingest-client` and the token's
//! `client_id` claim names the same client; usernames mean nothing. It is checked once, at the
//! handshake; server-to-server, so a refusal is a plain HTTP 401/403/503 rather than a close code.

use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::auth::{self, Refusal};
use crate::log::Level;
use crate::protocol;
use crate::{Control, Hub, HubEvent, Slot};

const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Which realms a pushing connection may feed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    /// The static secret: any realm, routed to the one allowed issuer of that name.
    AnyRealm,
    /// A service account: the realm of its own issuer.
    Issuer { issuer: String, realm: String },
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

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Compares secrets in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authorize(hub: &Hub, headers: &HeaderMap) -> Result<Scope, Response> {
    let Some(token) = bearer(headers) else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "an Authorization: Bearer header is required",
        ));
    };
    if let Some(secret) = &hub.config.ingest_token {
        if same(&token, secret) {
            return Ok(Scope::AnyRealm);
        }
    }
    match auth::validate(hub, &token, false).await {
        Ok(identity) if is_ingest_client(hub, &identity) => Ok(Scope::Issuer {
            issuer: identity.issuer,
            realm: identity.realm,
        }),
        Ok(_) => Err(refuse(
            StatusCode::FORBIDDEN,
            "only the service account of an ingest client may push events",
        )),
        Err(Refusal::KeysUnavailable) => Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the issuer's signing keys are unavailable",
        )),
        Err(refusal) => Err(refuse(StatusCode::UNAUTHORIZED, refusal.reason())),
    }
}

pub async fn ingest(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
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
    let scope = match authorize(&hub, &headers).await {
        Ok(scope) => scope,
        Err(response) => return response,
    };
    let Some(slot) = hub.open_ingest_slot() else {
        hub.log(
            Level::Warn,
            "ingest refused: the ingest connection cap is reached",
            &[("max_ingest_connections", &hub.config.max_ingest_connections)],
        );
        return crate::connection::too_many();
    };
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| run(hub, socket, scope, slot))
}

fn is_ingest_client(hub: &Hub, identity: &auth::Identity) -> bool {
    identity
        .service_account_of
        .as_ref()
        .is_some_and(|client| hub.config.ingest_clients.contains(client))
}

/// A Keycloak event as KETE's JSON serializer renders it, before it is routed to an issuer.
#[derive(Debug)]
pub struct PushedEvent {
    /// `realmName`, else `realmId`.
    pub realm: String,
    user_id: Option<String>,
    admin_only: bool,
    frame: String,
}

impl PushedEvent {
    fn routed_to(self, issuer: String) -> HubEvent {
        HubEvent {
            issuer,
            user_id: self.user_id,
            admin_only: self.admin_only,
            frame: self.frame,
        }
    }
}

/// The issuer an event pushed with the static secret belongs to: the one allowed issuer whose
/// realm has the event's realm name. With none or several, the event cannot be placed.
fn issuer_of_realm(hub: &Hub, realm: &str) -> Result<String, usize> {
    let mut candidates: Vec<String> = hub
        .config
        .issuers
        .iter()
        .filter(|issuer| auth::realm_of_issuer(issuer) == realm)
        .cloned()
        .collect();
    candidates.extend(hub.host().own_realm_issuer(realm));
    match candidates.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(candidates.len()),
    }
}

/// A Keycloak event as KETE's JSON serializer renders it, ready to be routed.
pub fn parse_event(bytes: &[u8]) -> Option<PushedEvent> {
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
    Some(PushedEvent {
        realm,
        user_id,
        admin_only: admin_event,
        frame,
    })
}

async fn run(hub: Arc<Hub>, mut socket: WebSocket, scope: Scope, slot: Slot) {
    let scope_name = match &scope {
        Scope::AnyRealm => "static secret",
        Scope::Issuer { issuer, .. } => issuer.as_str(),
    };
    hub.log(Level::Info, "ingest connected", &[("scope", &scope_name)]);
    let mut control = hub.control();
    control.mark_unchanged();
    loop {
        let bytes = tokio::select! {
            Ok(()) = control.changed() => {
                // A restart concerns browsers; KETE keeps its connection (it does not reconnect).
                let current = *control.borrow_and_update();
                if let Control::Shutdown(code) = current {
                    let frame = axum::extract::ws::CloseFrame {
                        code,
                        reason: "server shutting down".into(),
                    };
                    let _ = tokio::time::timeout(
                        hub.config.send_timeout,
                        socket.send(Message::Close(Some(frame))),
                    )
                    .await;
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
        let Some(event) = parse_event(&bytes) else {
            hub.log(
                Level::Warn,
                "ingest: a message that is not a Keycloak event (JSON with realmName or realmId) was dropped",
                &[],
            );
            continue;
        };
        match &scope {
            Scope::Issuer { issuer, realm } if *realm == event.realm => {
                hub.publish(event.routed_to(issuer.clone()));
            }
            Scope::Issuer { realm, .. } => hub.log(
                Level::Warn,
                "ingest: an event of another realm than the token's was dropped",
                &[("event_realm", &event.realm), ("token_realm", realm)],
            ),
            Scope::AnyRealm => match issuer_of_realm(&hub, &event.realm) {
                Ok(issuer) => hub.publish(event.routed_to(issuer)),
                Err(count) => hub.log(
                    Level::Warn,
                    "ingest: an event was dropped: not exactly one allowed issuer has a realm of its name",
                    &[("realm", &event.realm), ("issuers", &count)],
                ),
            },
        }
    }
    hub.log(Level::Info, "ingest left", &[("scope", &scope_name)]);
    drop(slot);
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
