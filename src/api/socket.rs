//! `keycloak.socket(url, options)`: a WebSocket that stays authenticated. It gets a fresh
//! token through `updateToken` (the adapter's one shared refresh) before every connect,
//! re-authenticates in-band before the token expires, reconnects with backoff, watches the
//! connection with a heartbeat, and closes for good on logout or when the server refuses the
//! user. The decisions are `core::socket`'s; the JavaScript side (`KeycloakSocket` in
//! js/keycloak.js) only turns what this module emits into events.
//!
//! The token is never put into an event, an error or a log line.

use crate::prelude::*;

use alloc::rc::{Rc, Weak};
use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use js_sys::{ArrayBuffer, Function, Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};

use super::convert::to_value;
use super::host::report_error;
use super::state::{now_ms, Engine};
use crate::core::backoff::Backoff;
use crate::core::error::{Error, ErrorCode};
use crate::core::options::invalid;
use crate::core::socket::{
    advertised_ttl, code, fill_template, heartbeat, is_final, plaintext_token_host,
    plaintext_token_warning, reauth_delay_ms, Beat, SocketOptions, Strategy, AUTH_TEMPLATE, PING,
};
use crate::web::page::{self, Event, Listeners};
use crate::web::socket::Socket as Connection;
use crate::web::timers::Timeout;

/// Where a socket is in its life; `readyState` and the `state` property follow it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Getting a token and opening a connection.
    Connecting,
    Open,
    /// Waiting for the next attempt.
    Reconnecting,
    /// For good: nothing is sent or received any more.
    Closed,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Connecting => "connecting",
            Phase::Open => "open",
            Phase::Reconnecting => "reconnecting",
            Phase::Closed => "closed",
        }
    }

    fn ready_state(self) -> u8 {
        match self {
            Phase::Connecting | Phase::Reconnecting => 0,
            Phase::Open => 1,
            Phase::Closed => 3,
        }
    }
}

struct Conn {
    phase: Phase,
    /// Counts connection attempts; callbacks of an older attempt are ignored.
    generation: u32,
    connection: Option<Connection>,
    backoff: Backoff,
    /// The wait before the next attempt, or, while open, the re-authentication timer.
    timer: Option<Timeout>,
    heartbeat: Option<Timeout>,
    last_message: f64,
    /// First-message strategy: the token to send once the connection opens.
    token: Option<String>,
    /// `online` and `visibilitychange`.
    page: Option<Listeners>,
}

pub struct Socket {
    id: u32,
    engine: Weak<Engine>,
    /// The `KeycloakSocket` object, whose properties mirror the state.
    target: Object,
    /// `(type, init)`: dispatches an event on the target.
    emit: Function,
    url: String,
    options: SocketOptions,
    /// `authMessage` and `reauthMessage`: a function of the token, a template, or undefined.
    auth: JsValue,
    reauth: JsValue,
    /// The heartbeat probe, unless disabled.
    ping: Option<JsValue>,
    conn: RefCell<Conn>,
}

static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// Runs `job` in the background, through the one boxed future path the facade already has.
fn background(job: impl core::future::Future<Output = ()> + 'static) {
    let _ = super::promise(async move {
        job.await;
        Ok(JsValue::UNDEFINED)
    });
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object
}

fn get(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// A message option: a function of the token, a template string, or absent.
fn message_option(options: &JsValue, name: &str) -> Result<JsValue, Error> {
    let value = get(options, name);
    if value.is_undefined() || value.is_null() || value.is_string() || value.is_function() {
        Ok(value)
    } else {
        Err(invalid(name))
    }
}

impl Engine {
    /// Creates a socket for `target` and starts connecting; returns its id.
    pub fn open_socket(
        self: &Rc<Self>,
        url: String,
        raw: &JsValue,
        target: Object,
        emit: Function,
    ) -> Result<u32, Error> {
        let options = SocketOptions::from_value(&to_value(raw)?)?;
        if let Some(host) = plaintext_token_host(&url) {
            self.host.log(true, &plaintext_token_warning(host));
        }
        let auth = message_option(raw, "authMessage")?;
        let reauth = match message_option(raw, "reauthMessage")? {
            v if v.is_undefined() || v.is_null() => auth.clone(),
            v => v,
        };
        let ping = match get(raw, "ping") {
            v if v.is_undefined() => Some(JsValue::from_str(PING)),
            v if v.is_null() || v.is_falsy() => None,
            v if v.is_string() => Some(v),
            v => Some(JSON::stringify(&v).map_err(|_| invalid("ping"))?.into()),
        };
        let backoff = Backoff::new(options.min_delay, options.max_delay, options.stable_after);
        let socket = Rc::new(Socket {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            engine: Rc::downgrade(self),
            target,
            emit,
            url,
            options,
            auth,
            reauth,
            ping,
            conn: RefCell::new(Conn {
                phase: Phase::Connecting,
                generation: 0,
                connection: None,
                backoff,
                timer: None,
                heartbeat: None,
                last_message: 0.0,
                token: None,
                page: None,
            }),
        });
        let weak = Rc::downgrade(&socket);
        let page = Listeners::new(&["online", "visibilitychange"], move |event| {
            if let Some(socket) = weak.upgrade() {
                socket.page_event(&event.kind());
            }
        });
        socket.conn.borrow_mut().page = Some(page);
        self.sockets.borrow_mut().push(socket.clone());
        let id = socket.id;
        // After the constructor returns, so that listeners added right away see every event.
        background(async move { socket.connect() });
        Ok(id)
    }

    fn socket(&self, id: u32) -> Option<Rc<Socket>> {
        self.sockets.borrow().iter().find(|s| s.id == id).cloned()
    }

    /// `socket.send(data)`: throws while (re)connecting, as a WebSocket does while connecting;
    /// after the final close, sends nothing.
    pub fn socket_send(&self, id: u32, data: &JsValue) -> Result<(), JsValue> {
        let Some(socket) = self.socket(id) else {
            return Ok(());
        };
        let conn = socket.conn.borrow();
        match &conn.connection {
            Some(connection) if conn.phase == Phase::Open => {
                connection.send(data);
                Ok(())
            }
            _ => Err(self.err(&Error::new(
                ErrorCode::InvalidState,
                "The socket is not open.",
            ))),
        }
    }

    /// `socket.close(code, reason)`: closes for good.
    pub fn socket_close(&self, id: u32, code: Option<u16>, reason: Option<String>) {
        if let Some(socket) = self.socket(id) {
            socket.finish(code.unwrap_or(code::NORMAL), &reason.unwrap_or_default());
        }
    }

    /// Closes every socket for good: the user logged out or the tokens were cleared.
    pub fn end_sockets(&self) {
        let sockets = core::mem::take(&mut *self.sockets.borrow_mut());
        for socket in sockets {
            socket.finish(code::LOGGED_OUT, "logged out");
        }
    }
}

impl Socket {
    /// Runs `action` after `ms`, unless the attempt it belongs to is over by then.
    fn after(self: &Rc<Self>, ms: f64, action: fn(&Rc<Socket>)) -> Timeout {
        let weak = Rc::downgrade(self);
        let generation = self.conn.borrow().generation;
        Timeout::new(ms, move || {
            if let Some(socket) = weak.upgrade() {
                if socket.conn.borrow().generation == generation {
                    action(&socket);
                }
            }
        })
    }

    fn emit(&self, kind: &str, init: &JsValue) {
        let _ = self.emit.call2(&JsValue::UNDEFINED, &kind.into(), init);
    }

    fn log(&self, message: &str) {
        if let Some(engine) = self.engine.upgrade() {
            engine.log(false, message);
        }
    }

    /// Mirrors the phase onto the target and fires `statechange` with `detail`.
    fn publish(&self, phase: Phase, detail: &[(&str, JsValue)]) {
        let target = &self.target;
        let _ = Reflect::set(target, &"readyState".into(), &phase.ready_state().into());
        let _ = Reflect::set(target, &"state".into(), &phase.name().into());
        let mut fields = vec![("state", JsValue::from_str(phase.name()))];
        fields.extend_from_slice(detail);
        self.emit("statechange", &object(&fields));
    }

    /// Whether attempt `generation` is still the one under way.
    fn current(&self, generation: u32, phase: Phase) -> bool {
        let conn = self.conn.borrow();
        conn.generation == generation && conn.phase == phase
    }

    /// Starts a connection attempt: a fresh token first, then the connection.
    fn connect(self: &Rc<Self>) {
        let generation = {
            let mut conn = self.conn.borrow_mut();
            if conn.phase == Phase::Closed {
                return;
            }
            conn.phase = Phase::Connecting;
            conn.generation = conn.generation.wrapping_add(1);
            conn.timer = None;
            conn.heartbeat = None;
            conn.connection = None;
            conn.generation
        };
        self.publish(Phase::Connecting, &[]);
        let socket = self.clone();
        background(async move { socket.dial(generation).await });
    }

    /// The adapter's current access token after `updateToken(minValidity)`: `Ok(None)` when
    /// it has none (not authenticated, or logged out), `Err` when it has one that is expired
    /// and could not be refreshed: never connect with that.
    async fn fresh_token(&self) -> Result<Option<String>, ()> {
        let Some(engine) = self.engine.upgrade() else {
            return Ok(None);
        };
        // A failure leaves the tokens as they are (a refused refresh token clears them, and
        // with them this socket); what counts is the token afterwards.
        let _ = engine.update_token(Some(self.options.min_validity)).await;
        let state = engine.state.borrow();
        let tokens = &state.tokens;
        match (
            &tokens.token,
            tokens.is_token_expired(state.init.flow, 0.0, now_ms()),
        ) {
            (None, _) => Ok(None),
            (Some(token), Ok(false)) => Ok(Some(token.raw().to_owned())),
            _ => Err(()),
        }
    }

    async fn dial(self: Rc<Self>, generation: u32) {
        let token = self.fresh_token().await;
        if !self.current(generation, Phase::Connecting) {
            return;
        }
        let token = match token {
            Ok(Some(token)) => token,
            Ok(None) => return self.finish(code::UNAUTHORIZED, "not authenticated"),
            Err(()) => return self.retry(None, "token refresh failed"),
        };
        let weak = Rc::downgrade(&self);
        let connection = Connection::open(
            &self.options.url(&self.url, &token),
            &self.options.offered_protocols(&token),
            move |event| {
                if let Some(socket) = weak.upgrade() {
                    if socket.conn.borrow().generation == generation {
                        socket.connection_event(&event);
                    }
                }
            },
        );
        match connection {
            Some(connection) => {
                let mut conn = self.conn.borrow_mut();
                conn.connection = Some(connection);
                if self.options.strategy == Strategy::Message {
                    conn.token = Some(token);
                }
            }
            None => {
                self.emit("error", &JsValue::UNDEFINED);
                self.finish(1006, "the WebSocket could not be created");
            }
        }
    }

    fn connection_event(self: &Rc<Self>, event: &Event) {
        match event.kind().as_str() {
            "open" => self.opened(),
            "message" => {
                self.conn.borrow_mut().last_message = now_ms();
                if let Some(ttl) = event.data().as_string().and_then(|t| advertised_ttl(&t)) {
                    self.arm_reauth(ttl * 1000.0);
                }
                self.emit("message", event);
            }
            "close" => {
                let code = event.code();
                let reason = get(event, "reason").as_string().unwrap_or_default();
                {
                    let mut conn = self.conn.borrow_mut();
                    conn.connection = None;
                    conn.backoff.disconnected(now_ms());
                }
                if is_final(code) {
                    self.finish(code, &reason);
                } else {
                    self.retry(Some(code), &reason);
                }
            }
            _ => self.emit("error", &JsValue::UNDEFINED),
        }
    }

    fn opened(self: &Rc<Self>) {
        let (token, negotiated) = {
            let mut conn = self.conn.borrow_mut();
            conn.phase = Phase::Open;
            let now = now_ms();
            conn.backoff.connected(now);
            conn.last_message = now;
            let negotiated = conn.connection.as_ref().map(Connection::negotiated);
            (conn.token.take(), negotiated.unwrap_or_default())
        };
        if let Some(token) = token {
            self.send_token(&self.auth, &token);
        }
        self.beat();
        self.arm_reauth_from_token();
        let _ = Reflect::set(&self.target, &"protocol".into(), &negotiated.0.into());
        let _ = Reflect::set(&self.target, &"extensions".into(), &negotiated.1.into());
        self.log("Socket open");
        self.publish(Phase::Open, &[]);
        self.emit("open", &JsValue::UNDEFINED);
    }

    /// Sends the token in the shape `message` describes (function, template or the default).
    fn send_token(&self, message: &JsValue, token: &str) {
        let data = match message.dyn_ref::<Function>() {
            Some(build) => match build.call1(&JsValue::UNDEFINED, &token.into()) {
                Ok(v) if v.is_string() || v.is_instance_of::<ArrayBuffer>() => v,
                Ok(v) if ArrayBuffer::is_view(&v) => v,
                Ok(v) => JSON::stringify(&v).map(JsValue::from).unwrap_or(v),
                Err(thrown) => {
                    let _ = report_error(&thrown);
                    return;
                }
            },
            None => {
                let template = message.as_string();
                fill_template(template.as_deref().unwrap_or(AUTH_TEMPLATE), token).into()
            }
        };
        if let Some(connection) = &self.conn.borrow().connection {
            connection.send(&data);
        }
    }

    /// Schedules the in-band re-authentication for a token valid `ttl_ms` longer.
    fn arm_reauth(self: &Rc<Self>, ttl_ms: f64) {
        if !self.options.reauthenticate {
            return;
        }
        let timer = self.after(
            reauth_delay_ms(ttl_ms, self.options.min_validity),
            Socket::reauthenticate,
        );
        self.conn.borrow_mut().timer = Some(timer);
    }

    /// Re-authentication timed by the token's own `exp`, for servers that advertise no ttl.
    fn arm_reauth_from_token(self: &Rc<Self>) {
        let ttl = self
            .engine
            .upgrade()
            .and_then(|e| e.state.borrow().tokens.expiry_delay_ms(now_ms()));
        if let Some(ttl) = ttl {
            self.arm_reauth(ttl);
        }
    }

    fn reauthenticate(self: &Rc<Self>) {
        let socket = self.clone();
        let generation = self.conn.borrow().generation;
        background(async move {
            let token = socket.fresh_token().await;
            if !socket.current(generation, Phase::Open) {
                return;
            }
            match token {
                Ok(Some(token)) => {
                    socket.send_token(&socket.reauth, &token);
                    // The server's answer re-arms with its ttl; this is the fallback.
                    socket.arm_reauth_from_token();
                }
                // The tokens were cleared: that closes the socket.
                Ok(None) => {}
                Err(()) => {
                    let timer = socket.after(socket.options.min_delay, Socket::reauthenticate);
                    socket.conn.borrow_mut().timer = Some(timer);
                }
            }
        });
    }

    /// The heartbeat: probes a silent connection and ends a dead one.
    fn beat(self: &Rc<Self>) {
        let interval = self.options.heartbeat;
        if interval <= 0.0 {
            return;
        }
        let silent = now_ms() - self.conn.borrow().last_message;
        let next = match heartbeat(silent, interval) {
            Beat::Wait(ms) => ms,
            Beat::Ping(ms) => {
                if let (Some(ping), Some(connection)) = (&self.ping, &self.conn.borrow().connection)
                {
                    connection.send(ping);
                }
                ms
            }
            Beat::Dead => {
                let dead = {
                    let mut conn = self.conn.borrow_mut();
                    conn.backoff.disconnected(now_ms());
                    conn.connection.take()
                };
                if let Some(mut dead) = dead {
                    dead.close_with(code::HEARTBEAT);
                }
                return self.retry(Some(code::HEARTBEAT), "heartbeat timeout");
            }
        };
        let timer = self.after(next, Socket::beat);
        self.conn.borrow_mut().heartbeat = Some(timer);
    }

    /// Waits, with backoff, before the next attempt.
    fn retry(self: &Rc<Self>, code: Option<u16>, reason: &str) {
        let (delay, attempt) = {
            let mut conn = self.conn.borrow_mut();
            if conn.phase == Phase::Closed {
                return;
            }
            conn.phase = Phase::Reconnecting;
            conn.heartbeat = None;
            conn.token = None;
            let delay = conn.backoff.next_delay(js_sys::Math::random());
            (delay, conn.backoff.attempt())
        };
        let timer = self.after(delay, Socket::connect);
        self.conn.borrow_mut().timer = Some(timer);
        self.log("Socket reconnecting");
        self.publish(
            Phase::Reconnecting,
            &[
                ("code", code.map_or(JsValue::UNDEFINED, JsValue::from)),
                ("reason", reason.into()),
                ("delay", delay.into()),
                ("attempt", attempt.into()),
            ],
        );
    }

    /// `online`: a waiting socket tries at once. `visibilitychange` to visible: the same, and
    /// an open one checks its heartbeat (timers may have been throttled meanwhile).
    fn page_event(self: &Rc<Self>, kind: &str) {
        if kind != "online" && page::hidden() {
            return;
        }
        let phase = self.conn.borrow().phase;
        match phase {
            Phase::Reconnecting => self.connect(),
            Phase::Open if kind != "online" => self.beat(),
            _ => {}
        }
    }

    /// Closes for good with `code`, and fires `statechange` and `close`.
    fn finish(self: &Rc<Self>, code: u16, reason: &str) {
        let (connection, timers, page) = {
            let mut conn = self.conn.borrow_mut();
            if conn.phase == Phase::Closed {
                return;
            }
            conn.phase = Phase::Closed;
            conn.generation = conn.generation.wrapping_add(1);
            conn.token = None;
            (
                conn.connection.take(),
                (conn.timer.take(), conn.heartbeat.take()),
                conn.page.take(),
            )
        };
        if let Some(mut connection) = connection {
            // Only 1000 and 3000-4999 may be sent.
            if code == code::NORMAL || (3000..5000).contains(&code) {
                connection.close_with(code);
            }
        }
        drop((timers, page));
        if let Some(engine) = self.engine.upgrade() {
            engine.sockets.borrow_mut().retain(|s| s.id != self.id);
        }
        self.log("Socket closed");
        let detail = [("code", JsValue::from(code)), ("reason", reason.into())];
        self.publish(Phase::Closed, &detail);
        let mut init = detail.to_vec();
        init.push(("wasClean", JsValue::TRUE));
        self.emit("close", &object(&init));
    }
}
