//! `GET /events`: one browser connection, from the upgrade to the close. The token arrives by
//! subprotocol, first message or query; the connection lives until the client leaves, its token
//! expires without re-authentication (4440), a re-authentication fails, it falls too far behind
//! (4429), or the hub restarts.
//!
//! Each connection has a reader (this task) and a writer task joined by a bounded queue of
//! frames. The reader never waits for the network to take a frame: when the queue is full the
//! event is dropped and counted, and a connection that loses more than `max_dropped` events is
//! closed. The writer gives each frame `send_timeout` to be written, else the connection is
//! dropped. Memory per connection is thus bounded by the queue.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::header::{HeaderValue, RETRY_AFTER};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use crate::auth::{self, Identity, Refusal};
use crate::log::Level;
use crate::protocol::{self, close, ClientMessage, Strategy, BEARER_PREFIX, SUBPROTOCOL};
use crate::{ConnectionInfo, Control, Hub, Slot};

/// Browsers send small JSON messages; anything bigger is not ours.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The socket's read buffer: clients send small messages (tungstenite's default is 128 KiB, which
/// would dominate the memory of an idle connection).
const READ_BUFFER_BYTES: usize = 4 * 1024;
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
    let Some(slot) = hub.open_slot() else {
        hub.log(
            Level::Warn,
            "connection refused: the connection cap is reached",
            &[("max_connections", &hub.config.max_connections)],
        );
        return too_many();
    };
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
        .max_frame_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        // Every frame is written at once: the queue in front of the writer does the buffering.
        .write_buffer_size(0)
        .on_upgrade(move |socket| run(hub, socket, initial, slot))
}

/// HTTP 503 with `Retry-After`: the hub is full; another hub behind the balancer may not be.
pub fn too_many() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        "too many connections: try again later\n",
    )
        .into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

type Reader = SplitStream<WebSocket>;

/// The reader's end of the queue to the writer.
struct Outbox<'a> {
    hub: &'a Hub,
    queue: mpsc::Sender<Message>,
    /// Events lost because the queue was full.
    dropped: u64,
}

const EXPECTED_AUTH: &str = "unauthorized: expected an auth message first";
const SLOW: End = End::Close(close::SLOW_CONSUMER, "slow consumer: events dropped");

impl Outbox<'_> {
    /// A reply the client asked for (welcome, pong, …): a client whose queue is full is not
    /// reading.
    fn reply(&mut self, text: String) -> Result<(), End> {
        match self.queue.try_send(Message::Text(text.into())) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(SLOW),
            Err(TrySendError::Closed(_)) => Err(End::Gone),
        }
    }

    /// A heartbeat: skipped when frames are waiting anyway.
    fn ping(&mut self) -> Result<(), End> {
        match self.queue.try_send(Message::Text(protocol::ping().into())) {
            Ok(()) | Err(TrySendError::Full(_)) => Ok(()),
            Err(TrySendError::Closed(_)) => Err(End::Gone),
        }
    }

    fn event(&mut self, frame: &str) -> Result<(), End> {
        match self.queue.try_send(Message::Text(frame.into())) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => self.lost(1),
            Err(TrySendError::Closed(_)) => Err(End::Gone),
        }
    }

    /// Events this connection will never see: counted, logged, and over the allowance the
    /// connection is closed so that the client knows (and reconnects).
    fn lost(&mut self, count: u64) -> Result<(), End> {
        self.dropped = self.dropped.saturating_add(count);
        self.hub.count_dropped(count);
        if self.dropped > self.hub.config.max_dropped {
            self.hub.count_slow_consumer();
            return Err(SLOW);
        }
        self.hub.log(
            Level::Warn,
            "slow consumer: events dropped",
            &[("count", &count), ("total", &self.dropped)],
        );
        Ok(())
    }
}

/// Writes queued frames, each within `send_timeout`. An urgent close (slow consumer) jumps the
/// queue. Returns when the queue closes, a frame could not be written, or a close was sent.
async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut frames: mpsc::Receiver<Message>,
    mut urgent: watch::Receiver<Option<CloseFrame>>,
    send_timeout: Duration,
) {
    loop {
        let message = tokio::select! {
            biased;
            Ok(()) = urgent.changed() => match urgent.borrow_and_update().clone() {
                Some(frame) => Message::Close(Some(frame)),
                None => continue,
            },
            next = frames.recv() => match next {
                Some(message) => message,
                None => return,
            },
        };
        let closing = matches!(message, Message::Close(_));
        match tokio::time::timeout(send_timeout, sink.send(message)).await {
            Ok(Ok(())) if !closing => {}
            _ => return,
        }
    }
}

/// Waits for `{"type":"auth","token":...}` (first-message strategy).
async fn first_message(
    reader: &mut Reader,
    out: &mut Outbox<'_>,
    control: &mut watch::Receiver<Control>,
) -> Result<String, End> {
    loop {
        tokio::select! {
            Ok(()) = control.changed() => {
                if let Some(end) = control_end(*control.borrow_and_update()) {
                    return Err(end);
                }
            }
            message = reader.next() => match message {
                Some(Ok(Message::Text(text))) => match ClientMessage::parse(&text) {
                    ClientMessage::Auth(Some(token)) => return Ok(token),
                    ClientMessage::Auth(None) => return Err(auth::NO_TOKEN.into()),
                    ClientMessage::Ping => out.reply(protocol::pong())?,
                    ClientMessage::Other => return Err(End::Close(close::UNAUTHORIZED, EXPECTED_AUTH)),
                },
                Some(Ok(Message::Binary(_))) => {
                    return Err(End::Close(close::UNAUTHORIZED, EXPECTED_AUTH))
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Err(End::Gone),
            },
        }
    }
}

/// The token, by whichever strategy, validated: all within the authentication deadline.
async fn authenticate(
    hub: &Hub,
    reader: &mut Reader,
    out: &mut Outbox<'_>,
    control: &mut watch::Receiver<Control>,
    initial: Option<(Strategy, String)>,
) -> Result<(Strategy, Identity), End> {
    let (strategy, token) = match initial {
        Some((strategy, token)) => (strategy, token),
        None => (
            Strategy::FirstMessage,
            first_message(reader, out, control).await?,
        ),
    };
    if token.is_empty() {
        return Err(auth::NO_TOKEN.into());
    }
    let identity = auth::validate(hub, &token, true).await?;
    Ok((strategy, identity))
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

async fn run(hub: Arc<Hub>, socket: WebSocket, initial: Option<(Strategy, String)>, slot: Slot) {
    let id = hub.next_id();
    let (sink, mut reader) = socket.split();
    let (queue, frames) = mpsc::channel(hub.config.queue_size);
    let (urgent, urgent_rx) = watch::channel(None);
    let writer = tokio::spawn(write(sink, frames, urgent_rx, hub.config.send_timeout));
    let mut out = Outbox {
        hub: &hub,
        queue,
        dropped: 0,
    };
    let end = serve(&hub, &mut reader, &mut out, initial, id).await;
    let Outbox { queue, .. } = out;
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
        // In order after what is queued, unless the queue is what is stuck.
        if code == close::SLOW_CONSUMER
            || queue.try_send(Message::Close(Some(frame.clone()))).is_err()
        {
            urgent.send_replace(Some(frame));
        }
        drop(queue);
        // Let the client answer the close so that it sees a clean close with our code.
        let _ = tokio::time::timeout(hub.config.send_timeout + CLOSE_GRACE, async {
            while let Some(Ok(message)) = reader.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    } else {
        hub.log(Level::Debug, "left", &[("connection", &id)]);
    }
    writer.abort();
    drop(slot);
}

async fn serve(
    hub: &Hub,
    reader: &mut Reader,
    out: &mut Outbox<'_>,
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
        .unwrap_or_else(|| watch::channel(0).1);

    let authenticated = tokio::time::timeout(
        hub.config.auth_timeout,
        authenticate(hub, reader, out, &mut control, initial),
    )
    .await;
    let (strategy, mut identity) = match authenticated {
        Ok(Ok(authenticated)) => authenticated,
        Ok(Err(end)) => return end,
        Err(_) => return End::Close(close::AUTH_TIMEOUT, "authentication timeout"),
    };
    let heartbeat = hub.config.heartbeat;
    let welcome = protocol::welcome(&protocol::Welcome {
        sub: &identity.sub,
        realm: &identity.realm,
        session_id: identity.session_id.as_deref(),
        admin: identity.admin,
        ttl: identity.ttl(hub.now()),
        heartbeat: heartbeat.as_secs(),
    });
    if let Err(end) = out.reply(welcome) {
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
    let writer_gone = out.queue.clone();
    loop {
        let step: Result<(), End> = tokio::select! {
            _ = &mut expiry => Err(End::Close(close::TOKEN_EXPIRED, "token expired")),
            // The writer stopped: a frame could not be written in time, or the socket broke.
            _ = writer_gone.closed() => Err(End::Gone),
            Ok(()) = clock.changed() => {
                clock.borrow_and_update();
                expiry.as_mut().reset(expiry_deadline(hub, &identity));
                Ok(())
            }
            Ok(()) = control.changed() => match control_end(*control.borrow_and_update()) {
                Some(end) => Err(end),
                None => Ok(()),
            },
            _ = pings.tick() => out.ping(),
            event = events.recv() => match event {
                Ok(event) if event.visible_to(&identity) => out.event(&event.frame),
                Ok(_) => Ok(()),
                Err(RecvError::Lagged(count)) => out.lost(count),
                Err(RecvError::Closed) => Err(End::Gone),
            },
            message = reader.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return End::Gone,
                };
                match ClientMessage::parse(&text) {
                    ClientMessage::Ping => out.reply(protocol::pong()),
                    ClientMessage::Auth(None) => Err(auth::NO_TOKEN.into()),
                    ClientMessage::Auth(Some(token)) => {
                        match reauthenticate(hub, &token, &identity).await {
                            Ok(renewed) => {
                                identity = renewed;
                                expiry.as_mut().reset(expiry_deadline(hub, &identity));
                                hub.update(id, |info| {
                                    info.expires_at = identity.exp;
                                    info.admin = identity.admin;
                                    info.reauthentications += 1;
                                });
                                out.reply(protocol::reauthenticated(identity.ttl(hub.now())))
                            }
                            Err(end) => Err(end),
                        }
                    }
                    ClientMessage::Other => Ok(()),
                }
            }
        };
        if let Err(end) = step {
            return end;
        }
    }
}

/// A fresh token for the same subject of the same issuer.
async fn reauthenticate(hub: &Hub, token: &str, current: &Identity) -> Result<Identity, End> {
    let renewed = auth::validate(hub, token, true).await?;
    if renewed.sub != current.sub || renewed.issuer != current.issuer {
        return Err(End::Close(
            close::FORBIDDEN,
            "forbidden: re-authentication for another subject",
        ));
    }
    Ok(renewed)
}
