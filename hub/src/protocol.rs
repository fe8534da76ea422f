//! The wire protocol of `/events`: the subprotocol names, the JSON messages and the close codes.
//! The browser-side socket helper is written against exactly this; devserver/README.md documents
//! it under "Live-event hub".

use serde_json::{json, Value};

/// The application subprotocol. Offered by the client, echoed by the server.
pub const SUBPROTOCOL: &str = "keycloak-events.v1";
/// A subprotocol `bearer.<jwt>` carries the access token (the browser cannot set headers).
pub const BEARER_PREFIX: &str = "bearer.";
/// The query parameter of the query strategy.
pub const QUERY_PARAMETER: &str = "access_token";

/// Close codes. 4xxx are this protocol's own (RFC 6455 leaves 4000-4999 to applications).
pub mod close {
    /// No token, malformed, bad signature, issuer not allowed, expired or not yet valid.
    pub const UNAUTHORIZED: u16 = 4401;
    /// A valid token that may not use the hub: wrong audience, or a re-auth for another subject.
    pub const FORBIDDEN: u16 = 4403;
    /// First-message strategy: no `auth` message in time.
    pub const AUTH_TIMEOUT: u16 = 4408;
    /// The connection's token expired without an in-band re-authentication.
    pub const TOKEN_EXPIRED: u16 = 4440;
    /// The hub is going away (the whole server shuts down).
    pub const GOING_AWAY: u16 = 1001;
    /// The issuer's signing keys could not be fetched: retry later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// The hub restarts or stops (devserver's restart knob, the standalone hub's shutdown):
    /// reconnect.
    pub const SERVICE_RESTART: u16 = 1012;
    /// The connection fell too far behind and lost events (see `max_dropped`): reconnect, and
    /// fetch what may have been missed.
    pub const SLOW_CONSUMER: u16 = 4429;
}

/// How the client handed over its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Subprotocol,
    FirstMessage,
    Query,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Subprotocol => "subprotocol",
            Strategy::FirstMessage => "first-message",
            Strategy::Query => "query",
        }
    }
}

/// What a client may send.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientMessage {
    /// `{"type":"auth","token":"<jwt>"}`; `None` when the token is missing or not a string.
    Auth(Option<String>),
    /// `{"type":"ping"}`
    Ping,
    /// Anything else (unknown types, invalid JSON, binary frames): ignored.
    Other,
}

impl ClientMessage {
    pub fn parse(text: &str) -> ClientMessage {
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
            return ClientMessage::Other;
        };
        match message.get("type").and_then(Value::as_str) {
            Some("auth") => ClientMessage::Auth(
                message
                    .get("token")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
            ),
            Some("ping") => ClientMessage::Ping,
            _ => ClientMessage::Other,
        }
    }
}

pub struct Welcome<'a> {
    pub sub: &'a str,
    pub realm: &'a str,
    pub session_id: Option<&'a str>,
    pub admin: bool,
    pub ttl: u64,
    pub heartbeat: u64,
}

pub fn welcome(w: &Welcome<'_>) -> String {
    json!({
        "type": "welcome",
        "sub": w.sub,
        "realm": w.realm,
        "sessionId": w.session_id,
        "admin": w.admin,
        "ttl": w.ttl,
        "heartbeat": w.heartbeat,
    })
    .to_string()
}

pub fn reauthenticated(ttl: u64) -> String {
    json!({ "type": "reauthenticated", "ttl": ttl }).to_string()
}

pub fn ping() -> String {
    json!({ "type": "ping" }).to_string()
}

pub fn pong() -> String {
    json!({ "type": "pong" }).to_string()
}

/// `{"type":"event","event":{...}}` (a user event) or `{"type":"adminEvent","event":{...}}`.
pub fn event_frame(admin_event: bool, event: &Value) -> String {
    let kind = if admin_event { "adminEvent" } else { "event" };
    json!({ "type": kind, "event": event }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_client_messages() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"auth","token":"a.b.c"}"#),
            ClientMessage::Auth(Some("a.b.c".into()))
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"auth","token":5}"#),
            ClientMessage::Auth(None)
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"auth","token":""}"#),
            ClientMessage::Auth(None)
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"ping"}"#),
            ClientMessage::Ping
        );
        assert_eq!(ClientMessage::parse("not json"), ClientMessage::Other);
        assert_eq!(ClientMessage::parse(r#"["auth"]"#), ClientMessage::Other);
    }

    #[test]
    fn frames_have_the_documented_shape() {
        let frame: Value = serde_json::from_str(&welcome(&Welcome {
            sub: "u1",
            realm: "demo",
            session_id: None,
            admin: true,
            ttl: 299,
            heartbeat: 25,
        }))
        .unwrap();
        assert_eq!(
            frame,
            json!({"type":"welcome","sub":"u1","realm":"demo","sessionId":null,"admin":true,"ttl":299,"heartbeat":25})
        );
        let event: Value =
            serde_json::from_str(&event_frame(false, &json!({"type": "LOGIN"}))).unwrap();
        assert_eq!(event, json!({"type":"event","event":{"type":"LOGIN"}}));
    }
}
