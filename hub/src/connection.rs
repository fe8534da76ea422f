//! `GET /events`: one browser connection, from the upgrade to the close. The token arrives by
//! subprotocol, first message or query; the connection lives until the client leaves, its token
//! expires without re-authentication (4440), a re-authentication fails, or the hub restarts.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::header::{HeaderValue, RETRY_AFTER};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, MissedTickBehavior};

use crate::auth::{self, Identity, Refusal};
use crate::log::Level;
use crate::protocol::{self, close, ClientMessage, Strategy, BEARER_PREFIX, SUBPROTOCOL};
use crate::{ConnectionInfo, Control, Hub, HubEvent};

/// Browsers send small JSON messages; anything bigger is not ours.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// How long the server waits for the client's half of the close handshake.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How a connection ends.
enum End {
    Close(u16, &'static str),
    /// The client went away (closed, or the connection broke).
    Gone,
}

impl From<Refusal> for End {
    fn from(refusal: Refusal) -> End {
        End::Close(refusal.close_code(), refusal.reason())
    }
}

fn control_end(control: Control) -> Option<End> {
    match control {
        Control::Running => None,
        Control::Restart(_) => Some(End::Close(close::SERVICE_RESTART, "service restart")),
        Control::Shutdown(close::SERVICE_RESTART) => {
            Some(End::Close(close::SERVICE_RESTART, "service restart"))
        }
        Control::Shutdown(code) => Some(End::Close(code, "server shutting down")),
    }
}

pub async fn events(
    State(hub): State<Arc<Hub>>,
    RawQuery(query): RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(_) => {
            return (
                StatusCode::UPGRADE_REQUIRED,
                [("upgrade", "websocket")],
                format!("/events is a WebSocket endpoint (subprotocol {SUBPROTOCOL})\n"),
            )
                .into_response()
        }
    };
    if let Some(down) = hub.down_for() {
        // A restarting server refuses connections; browsers see a failed handshake.
        let mut response =
            (StatusCode::SERVICE_UNAVAILABLE, "the hub is restarting\n").into_response();
        if let Some(down) = down {
            let seconds = down.as_millis().div_ceil(1000).max(1);
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
        }
        return response;
    }
    let from_subprotocol = upgrade
        .requested_protocols()
        .filter_map(|p| p.to_str().ok())
        .find_map(|p| p.strip_prefix(BEARER_PREFIX))
        .map(|token| (Strategy::Subprotocol, token.to_string()));
    // The query strategy leaks the token into URLs: the request log prints paths only.
    let from_query = || {
        form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
            .find(|(name, _)| name == protocol::QUERY_PARAMETER)
            .map(|(_, token)| (Strategy::Query, token.into_owned()))
    };
    let initial = from_subprotocol.or_else(from_query);
    upgrade
        // Echo the application subprotocol when offered, never a `bearer.` one.
        .protocols([SUBPROTOCOL])
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| run(hub, socket, initial))
}

async fn send_text(socket: &mut WebSocket, text: String) -> Result<(), End> {
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|_| End::Gone)
}

/// Waits for `{"type":"auth","token":...}` (first-message strategy).
async fn first_message(
    hub: &Hub,
    socket: &mut WebSocket,
    control: &mut tokio::sync::watch::Receiver<Control>,
) -> Result<String, End> {
    let mut timeout = pin!(tokio::time::sleep(hub.config.auth_timeout));
    loop {
        tokio::select! {
            _ = &mut timeout => return Err(End::Close(close::AUTH_TIMEOUT, "authentication timeout")),
            Ok(()) = control.changed() => {
                if let Some(end) = control_end(*control.borrow_and_update()) {
                    return Err(end);
                }
            }
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => match ClientMessage::parse(&text) {
                    ClientMessage::Auth(Some(token)) => return Ok(token),
                    ClientMessage::Auth(None) => return Err(auth::NO_TOKEN.into()),
                    ClientMessage::Ping => send_text(socket, protocol::pong()).await?,
                    ClientMessage::Other => {
                        return Err(End::Close(close::UNAUTHORIZED, "unauthorized: expected an auth message first"))
                    }
                },
                Some(Ok(Message::Binary(_))) => {
                    return Err(End::Close(close::UNAUTHORIZED, "unauthorized: expected an auth message first"))
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Err(End::Gone),
            },
        }
    }
}

/// When the token of `identity` expires, by the host's clock.
fn expiry_deadline(hub: &Hub, identity: &Identity) -> Instant {
    let remaining_ms = (identity.exp.saturating_mul(1000)).saturating_sub(hub.now_ms());
    Instant::now() + Duration::from_millis(remaining_ms)
}

/// Removes the connection from the status list however the task ends.
struct Registration<'a> {
    hub: &'a Hub,
    id: u64,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.hub.unregister(self.id);
    }
}

async fn run(hub: Arc<Hub>, mut socket: WebSocket, initial: Option<(Strategy, String)>) {
    let id = hub.next_id();
    let end = serve(&hub, &mut socket, initial, id).await;
    if let End::Close(code, reason) = end {
        hub.log(
            Level::Debug,
            "closed",
            &[("connection", &id), ("code", &code), ("reason", &reason)],
        );
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if socket.send(Message::Close(Some(frame))).await.is_ok() {
            // Let the client answer the close so that it sees a clean close with our code.
            let _ = tokio::time::timeout(CLOSE_GRACE, async {
                while let Some(Ok(message)) = socket.recv().await {
                    if matches!(message, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    } else {
        hub.log(Level::Debug, "left", &[("connection", &id)]);
    }
}

async fn serve(
    hub: &Hub,
    socket: &mut WebSocket,
    initial: Option<(Strategy, String)>,
    id: u64,
) -> End {
    // Subscribe first: nothing published after the welcome can be missed.
    let mut control = hub.control();
    control.mark_unchanged();
    let mut events = hub.subscribe();
    // A host without a test clock gives none: a closed channel never fires.
    let mut clock = hub
        .host()
        .clock_changes()
        .unwrap_or_else(|| tokio::sync::watch::channel(0).1);

    let (strategy, token) = match initial {
        Some((strategy, token)) => (strategy, token),
        None => match first_message(hub, socket, &mut control).await {
            Ok(token) => (Strategy::FirstMessage, token),
            Err(end) => return end,
        },
    };
    if token.is_empty() {
        return auth::NO_TOKEN.into();
    }
    let mut identity = match auth::validate(hub, &token, true).await {
        Ok(identity) => identity,
        Err(refusal) => return refusal.into(),
    };
    drop(token);
    let heartbeat = hub.config.heartbeat;
    let welcome = protocol::welcome(&protocol::Welcome {
        sub: &identity.sub,
        realm: &identity.realm,
        session_id: identity.session_id.as_deref(),
        admin: identity.admin,
        ttl: identity.ttl(hub.now()),
        heartbeat: heartbeat.as_secs(),
    });
    if let Err(end) = send_text(socket, welcome).await {
        return end;
    }
    hub.register(ConnectionInfo {
        id,
        realm: identity.realm.clone(),
        sub: identity.sub.clone(),
        admin: identity.admin,
        strategy: strategy.name(),
        expires_at: identity.exp,
        reauthentications: 0,
    });
    let _registration = Registration { hub, id };
    hub.log(
        Level::Debug,
        "connected",
        &[
            ("connection", &id),
            ("realm", &identity.realm),
            ("sub", &identity.sub),
            ("admin", &identity.admin),
            ("strategy", &strategy.name()),
        ],
    );

    let mut pings = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
    pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut expiry = pin!(tokio::time::sleep_until(expiry_deadline(hub, &identity)));
    loop {
        let outgoing: Option<HubEvent> = tokio::select! {
            _ = &mut expiry => return End::Close(close::TOKEN_EXPIRED, "token expired"),
            Ok(()) = clock.changed() => {
                clock.borrow_and_update();
                expiry.as_mut().reset(expiry_deadline(hub, &identity));
                None
            }
            Ok(()) = control.changed() => {
                if let Some(end) = control_end(*control.borrow_and_update()) {
                    return end;
                }
                None
            }
            _ = pings.tick() => {
                if let Err(end) = send_text(socket, protocol::ping()).await {
                    return end;
                }
                None
            }
            event = events.recv() => match event {
                Ok(event) => Some(event),
                Err(RecvError::Lagged(_)) => None,
                Err(RecvError::Closed) => return End::Gone,
            },
            message = socket.recv() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return End::Gone,
                };
                match ClientMessage::parse(&text) {
                    ClientMessage::Ping => {
                        if let Err(end) = send_text(socket, protocol::pong()).await {
                            return end;
                        }
                    }
                    ClientMessage::Auth(None) => return auth::NO_TOKEN.into(),
                    ClientMessage::Auth(Some(token)) => {
                        let renewed = match auth::validate(hub, &token, true).await {
                            Ok(renewed) => renewed,
                            Err(refusal) => return refusal.into(),
                        };
                        if renewed.sub != identity.sub || renewed.issuer != identity.issuer {
                            return End::Close(close::FORBIDDEN, "forbidden: re-authentication for another subject");
                        }
                        identity = renewed;
                        expiry.as_mut().reset(expiry_deadline(hub, &identity));
                        hub.update(id, |info| {
                            info.expires_at = identity.exp;
                            info.admin = identity.admin;
                            info.reauthentications += 1;
                        });
                        let answer = protocol::reauthenticated(identity.ttl(hub.now()));
                        if let Err(end) = send_text(socket, answer).await {
                            return end;
                        }
                    }
                    ClientMessage::Other => {}
                }
                None
            }
        };
        if let Some(event) = outgoing.filter(|e| e.visible_to(&identity)) {
            if let Err(end) = send_text(socket, event.frame).await {
                return end;
            }
        }
    }
}
