//! The life of one socket as a synchronous state machine: [`Machine::handle`] takes an
//! [`Event`] (with the current time and a random number for the backoff jitter) and returns
//! the [`Effect`]s to perform. The driver (`KeycloakSocket` in js/keycloak.js) performs them
//! and feeds back what happens; it decides nothing.
//!
//! Every pending thing the driver holds for the machine carries an id: a token request, a
//! connection, a timer. The machine remembers the ids it is waiting for, so an event from an
//! old connection, a timer that was replaced, or a token that arrives after the socket moved on
//! or closed matches nothing and changes nothing.

use crate::prelude::*;

use super::{
    advertised_ttl, code, fill_template, heartbeat, is_final, plaintext_token_host,
    plaintext_token_warning, reauth_delay_ms, Beat, SocketOptions, Strategy, AUTH_TEMPLATE, PING,
};
use crate::core::backoff::Backoff;
use crate::core::error::{Error, ErrorCode};
use crate::core::json::Value;
use crate::core::options::invalid;
use crate::core::token::{expiry_delay_ms, is_token_expired};

/// Where a socket is in its life; `readyState` and the `state` property follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Getting a token and opening a connection.
    Connecting,
    Open,
    /// Waiting for the next attempt.
    Reconnecting,
    /// For good: nothing is sent or received any more.
    Closed,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Connecting => "connecting",
            Phase::Open => "open",
            Phase::Reconnecting => "reconnecting",
            Phase::Closed => "closed",
        }
    }

    pub fn ready_state(self) -> u8 {
        match self {
            Phase::Connecting | Phase::Reconnecting => 0,
            Phase::Open => 1,
            Phase::Closed => 3,
        }
    }
}

/// How the token is put into an authentication message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A template in which `{token}` stands for the token.
    Template(String),
    /// The application's function of the token, held by the driver under this option name.
    Function(&'static str),
}

/// What the driver reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The socket was created; connect (sent once, after the constructor returned).
    Start,
    /// The answer to [`Effect::GetToken`]: the instance's access token after `updateToken`,
    /// its `exp` and the instance's `timeSkew` (seconds), each None when absent.
    Token {
        request: u32,
        token: Option<String>,
        exp: Option<f64>,
        skew: Option<f64>,
    },
    /// The connection opened, with the subprotocol and extensions the server chose.
    Opened {
        conn: u32,
        protocol: String,
        extensions: String,
    },
    /// The browser refused to create the connection (a bad URL, say).
    OpenFailed { conn: u32 },
    /// A message arrived; `text` when it is a string.
    Message { conn: u32, text: Option<String> },
    /// The connection closed.
    Closed {
        conn: u32,
        code: u16,
        reason: String,
    },
    /// The connection reported an error.
    Errored { conn: u32 },
    /// A timer armed by [`Effect::Arm`] fired.
    Timer { timer: u32 },
    /// The browser went online.
    Online,
    /// The page's visibility changed.
    Visibility { hidden: bool },
    /// The application called `send(data)`.
    Send,
    /// The application called `close(code, reason)`.
    Close {
        code: Option<u16>,
        reason: Option<String>,
    },
    /// The user logged out or the tokens were cleared.
    End,
}

/// What a frame sent on the connection holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Text(String),
    /// The application's authentication function (by option name) applied to the token.
    Built {
        function: &'static str,
        token: String,
    },
    /// The data the application passed to `send`.
    App,
}

/// What the driver does.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `await keycloak.updateToken(min_validity)` (its failure ignored), then report the token.
    GetToken {
        request: u32,
        min_validity: f64,
    },
    /// Open a WebSocket to `url` offering `protocols` (binary messages as `ArrayBuffer`s).
    Connect {
        conn: u32,
        url: String,
        protocols: Vec<String>,
    },
    Send {
        conn: u32,
        frame: Frame,
    },
    /// Detach from the connection and close it with `code` (1000 or 3000–4999).
    Disconnect {
        conn: u32,
        code: u16,
    },
    Arm {
        timer: u32,
        ms: f64,
    },
    Cancel {
        timer: u32,
    },
    /// Set `readyState` and `state`, then fire `statechange` with `state` and these details.
    State {
        phase: Phase,
        code: Option<u16>,
        reason: Option<String>,
        delay: Option<f64>,
        attempt: Option<u32>,
    },
    /// Set `protocol` and `extensions`.
    Negotiated {
        protocol: String,
        extensions: String,
    },
    /// Fire `open` or `error`.
    Emit(&'static str),
    /// Fire `message` with the data of the message event just reported.
    EmitMessage,
    /// Fire `close` with `code`, `reason` and `wasClean: true`.
    EmitClose {
        code: u16,
        reason: String,
    },
    /// Stop listening to the page (`online`, `visibilitychange`): the socket is closed.
    Unlisten,
    /// Throw this error from the application's call.
    Throw(Error),
    /// A line for the console when `enableLogging` is on.
    Log(&'static str),
    /// A warning for the console, always shown.
    Warn(String),
}

/// Why a token was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Connect,
    Reauthenticate,
}

/// What the main timer waits for (the heartbeat has its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Reconnect,
    Reauthenticate,
}

/// The token of one connection attempt, as far as the socket cares.
enum Fresh {
    Valid(String),
    /// The instance has no token: not authenticated, or logged out.
    Missing,
    /// A token that is expired and could not be refreshed: never connect with that.
    Expired,
}

pub struct Machine {
    url: String,
    options: SocketOptions,
    auth: Message,
    reauth: Message,
    /// The heartbeat probe, unless disabled.
    ping: Option<String>,
    phase: Phase,
    backoff: Backoff,
    /// The source of every id handed to the driver.
    last_id: u32,
    request: Option<(u32, Purpose)>,
    conn: Option<u32>,
    timer: Option<(u32, Wait)>,
    heartbeat: Option<u32>,
    last_message: f64,
    /// Message strategy: the token to send once the connection opens.
    pending_token: Option<String>,
    /// The last token's `exp` and the time skew, for re-authentication timed by the token.
    exp: Option<f64>,
    skew: Option<f64>,
    out: Vec<Effect>,
}

/// The longest delay `setTimeout` honours; a longer one overflows and fires at once.
const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// A delay as a timer can take it: within [0, [`MAX_TIMER_MS`]], NaN as 0.
fn timer_delay(ms: f64) -> f64 {
    if ms.is_nan() {
        0.0
    } else {
        ms.clamp(0.0, MAX_TIMER_MS)
    }
}

/// A message option: a template string, the application's function (`functions` names the
/// options that hold one), or absent.
fn message_option(
    options: &Value,
    name: &'static str,
    functions: &[&str],
) -> Result<Option<Message>, Error> {
    if functions.contains(&name) {
        return Ok(Some(Message::Function(name)));
    }
    match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(template)) => Ok(Some(Message::Template(template.clone()))),
        Some(_) => Err(invalid(name)),
    }
}

impl Machine {
    /// A socket to `url` with the `options` object (as JSON; functions left out, and the
    /// names of the options that hold a function in `functions`). Connecting starts with
    /// [`Event::Start`], whose effects begin with those of the creation (a warning).
    pub fn new(url: &str, options: &Value, functions: &[&str]) -> Result<Machine, Error> {
        let parsed = SocketOptions::from_value(options)?;
        let auth = message_option(options, "authMessage", functions)?
            .unwrap_or_else(|| Message::Template(AUTH_TEMPLATE.to_owned()));
        let reauth =
            message_option(options, "reauthMessage", functions)?.unwrap_or_else(|| auth.clone());
        let ping = match options.get("ping") {
            None => Some(PING.to_owned()),
            Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
            Some(value) if value.is_truthy() => Some(value.to_json()),
            Some(_) => None,
        };
        let mut out = Vec::new();
        if let Some(host) = plaintext_token_host(url) {
            out.push(Effect::Warn(plaintext_token_warning(host)));
        }
        let backoff = Backoff::new(parsed.min_delay, parsed.max_delay, parsed.stable_after);
        Ok(Machine {
            url: url.to_owned(),
            options: parsed,
            auth,
            reauth,
            ping,
            phase: Phase::Connecting,
            backoff,
            last_id: 0,
            request: None,
            conn: None,
            timer: None,
            heartbeat: None,
            last_message: 0.0,
            pending_token: None,
            exp: None,
            skew: None,
            out,
        })
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Takes `event` at `now` (milliseconds); `random` in [0, 1) jitters a backoff delay.
    pub fn handle(&mut self, event: Event, now: f64, random: f64) -> Vec<Effect> {
        match event {
            Event::Start => self.connect(),
            Event::Token {
                request,
                token,
                exp,
                skew,
            } => self.token(request, token, exp, skew, now, random),
            Event::Opened {
                conn,
                protocol,
                extensions,
            } if self.conn == Some(conn) => self.opened(protocol, extensions, now, random),
            Event::OpenFailed { conn } if self.conn == Some(conn) => {
                self.conn = None;
                self.out.push(Effect::Emit("error"));
                self.finish(1006, "the WebSocket could not be created");
            }
            Event::Message { conn, text } if self.conn == Some(conn) => {
                self.last_message = now;
                if let Some(ttl) = text.as_deref().and_then(advertised_ttl) {
                    self.arm_reauth(ttl * 1000.0);
                }
                self.out.push(Effect::EmitMessage);
            }
            Event::Closed { conn, code, reason } if self.conn == Some(conn) => {
                self.conn = None;
                self.backoff.disconnected(now);
                if is_final(code) {
                    self.finish(code, &reason);
                } else {
                    self.retry(Some(code), &reason, random);
                }
            }
            Event::Errored { conn } if self.conn == Some(conn) => {
                self.out.push(Effect::Emit("error"));
            }
            Event::Timer { timer } => self.timer(timer, now, random),
            Event::Online => self.page(true, now, random),
            Event::Visibility { hidden } => {
                if !hidden {
                    self.page(false, now, random);
                }
            }
            Event::Send => self.send(),
            Event::Close { code, reason } => self.finish(
                code.unwrap_or(code::NORMAL),
                reason.as_deref().unwrap_or_default(),
            ),
            Event::End => self.finish(code::LOGGED_OUT, "logged out"),
            // An event of a connection that is no longer this socket's.
            Event::Opened { .. }
            | Event::OpenFailed { .. }
            | Event::Message { .. }
            | Event::Closed { .. }
            | Event::Errored { .. } => {}
        }
        core::mem::take(&mut self.out)
    }

    fn next_id(&mut self) -> u32 {
        self.last_id = self.last_id.wrapping_add(1);
        self.last_id
    }

    fn publish(
        &mut self,
        code: Option<u16>,
        reason: Option<&str>,
        delay: Option<f64>,
        attempt: Option<u32>,
    ) {
        self.out.push(Effect::State {
            phase: self.phase,
            code,
            reason: reason.map(str::to_owned),
            delay,
            attempt,
        });
    }

    fn cancel_timer(&mut self) {
        if let Some((timer, _)) = self.timer.take() {
            self.out.push(Effect::Cancel { timer });
        }
    }

    fn cancel_heartbeat(&mut self) {
        if let Some(timer) = self.heartbeat.take() {
            self.out.push(Effect::Cancel { timer });
        }
    }

    fn arm(&mut self, wait: Wait, ms: f64) {
        self.cancel_timer();
        let timer = self.next_id();
        self.timer = Some((timer, wait));
        self.out.push(Effect::Arm {
            timer,
            ms: timer_delay(ms),
        });
    }

    fn ask_token(&mut self, purpose: Purpose) {
        let request = self.next_id();
        self.request = Some((request, purpose));
        self.out.push(Effect::GetToken {
            request,
            min_validity: self.options.min_validity,
        });
    }

    /// Starts a connection attempt: a fresh token first, then the connection.
    fn connect(&mut self) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Connecting;
        self.cancel_timer();
        self.cancel_heartbeat();
        if let Some(conn) = self.conn.take() {
            self.out.push(Effect::Disconnect {
                conn,
                code: code::NORMAL,
            });
        }
        self.pending_token = None;
        self.publish(None, None, None, None);
        self.ask_token(Purpose::Connect);
    }

    fn token(
        &mut self,
        request: u32,
        token: Option<String>,
        exp: Option<f64>,
        skew: Option<f64>,
        now: f64,
        random: f64,
    ) {
        let Some((expected, purpose)) = self.request else {
            return;
        };
        if expected != request {
            return;
        }
        self.request = None;
        let fresh = match token {
            None => Fresh::Missing,
            Some(_) if is_token_expired(exp, skew, 0.0, now) => Fresh::Expired,
            Some(token) => {
                self.exp = exp;
                self.skew = skew;
                Fresh::Valid(token)
            }
        };
        match (purpose, fresh) {
            (Purpose::Connect, Fresh::Valid(token)) => self.dial(token),
            (Purpose::Connect, Fresh::Missing) => {
                self.finish(code::UNAUTHORIZED, "not authenticated")
            }
            (Purpose::Connect, Fresh::Expired) => self.retry(None, "token refresh failed", random),
            (Purpose::Reauthenticate, Fresh::Valid(token)) => {
                self.send_token(true, token);
                // The server's answer re-arms with its ttl; this is the fallback.
                self.arm_reauth_from_token(now);
            }
            // The tokens were cleared: that ends the socket through `Event::End`.
            (Purpose::Reauthenticate, Fresh::Missing) => {}
            (Purpose::Reauthenticate, Fresh::Expired) => {
                self.arm(Wait::Reauthenticate, self.options.min_delay)
            }
        }
    }

    fn dial(&mut self, token: String) {
        let conn = self.next_id();
        self.conn = Some(conn);
        self.out.push(Effect::Connect {
            conn,
            url: self.options.url(&self.url, &token),
            protocols: self.options.offered_protocols(&token),
        });
        if self.options.strategy == Strategy::Message {
            self.pending_token = Some(token);
        }
    }

    fn opened(&mut self, protocol: String, extensions: String, now: f64, random: f64) {
        self.phase = Phase::Open;
        self.backoff.connected(now);
        self.last_message = now;
        if let Some(token) = self.pending_token.take() {
            self.send_token(false, token);
        }
        self.beat(now, random);
        self.arm_reauth_from_token(now);
        self.out.push(Effect::Negotiated {
            protocol,
            extensions,
        });
        self.out.push(Effect::Log("Socket open"));
        self.publish(None, None, None, None);
        self.out.push(Effect::Emit("open"));
    }

    /// Sends the token in the shape of the authentication (or re-authentication) message.
    fn send_token(&mut self, reauth: bool, token: String) {
        let Some(conn) = self.conn else {
            return;
        };
        let message = if reauth { &self.reauth } else { &self.auth };
        let frame = match message {
            Message::Template(template) => Frame::Text(fill_template(template, &token)),
            Message::Function(function) => Frame::Built { function, token },
        };
        self.out.push(Effect::Send { conn, frame });
    }

    /// Schedules the in-band re-authentication for a token valid `ttl_ms` longer.
    fn arm_reauth(&mut self, ttl_ms: f64) {
        if self.options.reauthenticate {
            let ms = reauth_delay_ms(ttl_ms, self.options.min_validity);
            self.arm(Wait::Reauthenticate, ms);
        }
    }

    /// Re-authentication timed by the token's own `exp`, for servers that advertise no ttl.
    fn arm_reauth_from_token(&mut self, now: f64) {
        if let Some(ttl) = expiry_delay_ms(self.exp, self.skew, now) {
            self.arm_reauth(ttl);
        }
    }

    fn timer(&mut self, timer: u32, now: f64, random: f64) {
        if self.heartbeat == Some(timer) {
            self.heartbeat = None;
            return self.beat(now, random);
        }
        match self.timer {
            Some((armed, wait)) if armed == timer => {
                self.timer = None;
                match (wait, self.phase) {
                    (Wait::Reconnect, Phase::Reconnecting) => self.connect(),
                    (Wait::Reauthenticate, Phase::Open) => self.ask_token(Purpose::Reauthenticate),
                    _ => {}
                }
            }
            // A timer that was cancelled or replaced.
            _ => {}
        }
    }

    /// The heartbeat: probes a silent connection and ends a dead one.
    fn beat(&mut self, now: f64, random: f64) {
        let interval = self.options.heartbeat;
        if interval <= 0.0 || self.phase != Phase::Open {
            return;
        }
        let next = match heartbeat(now - self.last_message, interval) {
            Beat::Wait(ms) => ms,
            Beat::Ping(ms) => {
                if let (Some(ping), Some(conn)) = (&self.ping, self.conn) {
                    let frame = Frame::Text(ping.clone());
                    self.out.push(Effect::Send { conn, frame });
                }
                ms
            }
            Beat::Dead => {
                self.backoff.disconnected(now);
                if let Some(conn) = self.conn.take() {
                    self.out.push(Effect::Disconnect {
                        conn,
                        code: code::HEARTBEAT,
                    });
                }
                return self.retry(Some(code::HEARTBEAT), "heartbeat timeout", random);
            }
        };
        self.cancel_heartbeat();
        let timer = self.next_id();
        self.heartbeat = Some(timer);
        self.out.push(Effect::Arm {
            timer,
            ms: timer_delay(next),
        });
    }

    /// Waits, with backoff, before the next attempt.
    fn retry(&mut self, code: Option<u16>, reason: &str, random: f64) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Reconnecting;
        self.cancel_heartbeat();
        self.request = None;
        self.pending_token = None;
        let delay = self.backoff.next_delay(random);
        let attempt = self.backoff.attempt();
        self.arm(Wait::Reconnect, delay);
        self.out.push(Effect::Log("Socket reconnecting"));
        self.publish(code, Some(reason), Some(delay), Some(attempt));
    }

    /// `online`: a waiting socket tries at once. Visible again: the same, and an open one
    /// checks its heartbeat (timers may have been throttled meanwhile).
    fn page(&mut self, online: bool, now: f64, random: f64) {
        match self.phase {
            Phase::Reconnecting => self.connect(),
            Phase::Open if !online => self.beat(now, random),
            _ => {}
        }
    }

    /// `send(data)`: throws while (re)connecting, as a WebSocket does while connecting; after
    /// the final close, sends nothing.
    fn send(&mut self) {
        match (self.phase, self.conn) {
            (Phase::Open, Some(conn)) => self.out.push(Effect::Send {
                conn,
                frame: Frame::App,
            }),
            (Phase::Closed, _) => {}
            _ => self.out.push(Effect::Throw(Error::new(
                ErrorCode::InvalidState,
                "The socket is not open.",
            ))),
        }
    }

    /// Closes for good with `code`, and fires `statechange` and `close`.
    fn finish(&mut self, code: u16, reason: &str) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        self.request = None;
        self.pending_token = None;
        self.cancel_timer();
        self.cancel_heartbeat();
        if let Some(conn) = self.conn.take() {
            // Only 1000 and 3000-4999 may be sent.
            let sent = if code == code::NORMAL || (3000..5000).contains(&code) {
                code
            } else {
                code::NORMAL
            };
            self.out.push(Effect::Disconnect { conn, code: sent });
        }
        self.out.push(Effect::Unlisten);
        self.out.push(Effect::Log("Socket closed"));
        self.publish(Some(code), Some(reason), None, None);
        self.out.push(Effect::EmitClose {
            code,
            reason: reason.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;

    const START: f64 = 1_700_000_000_000.0;

    /// A socket with a fake clock; `random` is the jitter every step passes.
    struct Rig {
        socket: Machine,
        now: f64,
        random: f64,
    }

    impl Rig {
        fn new(options: &str) -> Rig {
            Rig::with("ws://localhost/events", options, &[])
        }

        fn with(url: &str, options: &str, functions: &[&str]) -> Rig {
            let socket = Machine::new(url, &json::parse(options).unwrap(), functions).unwrap();
            Rig {
                socket,
                now: START,
                random: 0.0,
            }
        }

        fn step(&mut self, event: Event) -> Vec<Effect> {
            self.socket.handle(event, self.now, self.random)
        }

        fn after(&mut self, ms: f64, event: Event) -> Vec<Effect> {
            self.now += ms;
            self.step(event)
        }

        /// A token valid for `secs` from now, with no skew.
        fn token(&mut self, request: u32, secs: f64) -> Vec<Effect> {
            let exp = (self.now / 1000.0).ceil() + secs;
            self.step(Event::Token {
                request,
                token: Some("a.b.c".into()),
                exp: Some(exp),
                skew: Some(0.0),
            })
        }

        /// Start to open: returns the connection id and the effects of the opening.
        fn open(&mut self) -> (u32, Vec<Effect>) {
            let started = self.step(Event::Start);
            let got = self.token(request(&started), 300.0);
            let conn = connect(&got).0;
            (conn, self.opened(conn))
        }

        fn opened(&mut self, conn: u32) -> Vec<Effect> {
            self.step(Event::Opened {
                conn,
                protocol: APP.into(),
                extensions: String::new(),
            })
        }

        /// The connection drops with `code`; returns the retry timer and its delay.
        fn drop_with(&mut self, conn: u32, code: u16) -> Vec<Effect> {
            self.step(Event::Closed {
                conn,
                code,
                reason: "gone".into(),
            })
        }
    }

    const APP: &str = super::super::APP_PROTOCOL;

    fn request(effects: &[Effect]) -> u32 {
        effects
            .iter()
            .find_map(|e| match e {
                Effect::GetToken { request, .. } => Some(*request),
                _ => None,
            })
            .expect("a token request")
    }

    fn connect(effects: &[Effect]) -> (u32, String, Vec<String>) {
        effects
            .iter()
            .find_map(|e| match e {
                Effect::Connect {
                    conn,
                    url,
                    protocols,
                } => Some((*conn, url.clone(), protocols.clone())),
                _ => None,
            })
            .expect("a connection")
    }

    fn armed(effects: &[Effect]) -> Vec<(u32, f64)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Arm { timer, ms } => Some((*timer, *ms)),
                _ => None,
            })
            .collect()
    }

    fn sent(effects: &[Effect]) -> Vec<Frame> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send { frame, .. } => Some(frame.clone()),
                _ => None,
            })
            .collect()
    }

    fn states(effects: &[Effect]) -> Vec<Phase> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::State { phase, .. } => Some(*phase),
                _ => None,
            })
            .collect()
    }

    fn reconnecting(effects: &[Effect]) -> (Option<u16>, String, f64, u32) {
        effects
            .iter()
            .find_map(|e| match e {
                Effect::State {
                    phase: Phase::Reconnecting,
                    code,
                    reason,
                    delay,
                    attempt,
                } => Some((*code, reason.clone()?, (*delay)?, (*attempt)?)),
                _ => None,
            })
            .expect("a reconnecting state")
    }

    fn closed(effects: &[Effect]) -> Option<(u16, String)> {
        effects.iter().find_map(|e| match e {
            Effect::EmitClose { code, reason } => Some((*code, reason.clone())),
            _ => None,
        })
    }

    #[test]
    fn connects_with_a_fresh_token_and_opens() {
        let mut rig = Rig::new("{}");
        let started = rig.step(Event::Start);
        assert_eq!(
            started,
            [
                Effect::State {
                    phase: Phase::Connecting,
                    code: None,
                    reason: None,
                    delay: None,
                    attempt: None
                },
                Effect::GetToken {
                    request: request(&started),
                    min_validity: 30.0
                }
            ]
        );
        let got = rig.token(request(&started), 300.0);
        let (conn, url, protocols) = connect(&got);
        assert_eq!(url, "ws://localhost/events");
        assert_eq!(protocols, [APP, "bearer.a.b.c"]);
        let opened = rig.opened(conn);
        // The heartbeat and the re-authentication 30 s before the token expires.
        let timers: Vec<f64> = armed(&opened).iter().map(|t| t.1).collect();
        assert_eq!(timers, [30_000.0, 270_000.0]);
        assert!(
            sent(&opened).is_empty(),
            "the subprotocol carried the token"
        );
        let tail = opened.get(opened.len() - 4..).unwrap();
        assert_eq!(
            tail,
            [
                Effect::Negotiated {
                    protocol: APP.into(),
                    extensions: String::new()
                },
                Effect::Log("Socket open"),
                Effect::State {
                    phase: Phase::Open,
                    code: None,
                    reason: None,
                    delay: None,
                    attempt: None
                },
                Effect::Emit("open"),
            ]
        );
        assert_eq!(rig.socket.phase(), Phase::Open);
        assert_eq!(
            rig.step(Event::Send),
            [Effect::Send {
                conn,
                frame: Frame::App
            }]
        );
    }

    #[test]
    fn each_strategy_carries_the_token_its_way() {
        // Message: nothing in the handshake, the token first thing once open.
        let mut rig = Rig::new(r#"{"strategy":"message"}"#);
        let (_, opened) = rig.open();
        assert_eq!(
            sent(&opened),
            [Frame::Text(r#"{"type":"auth","token":"a.b.c"}"#.into())]
        );
        // Query: in the URL only.
        let mut rig = Rig::with(
            "wss://hub.example/e?x=1",
            r#"{"strategy":"query","protocols":["p"]}"#,
            &[],
        );
        let started = rig.step(Event::Start);
        let (conn, url, protocols) = connect(&rig.token(request(&started), 300.0));
        assert_eq!(url, "wss://hub.example/e?x=1&access_token=a.b.c");
        assert_eq!(protocols, ["p"]);
        assert!(sent(&rig.opened(conn)).is_empty());
        // A function of the application's builds the message; a template fills it.
        let mut rig = Rig::with(
            "ws://localhost/e",
            r#"{"strategy":"message","reauthMessage":"re {token}"}"#,
            &["authMessage"],
        );
        let (_, opened) = rig.open();
        assert_eq!(
            sent(&opened),
            [Frame::Built {
                function: "authMessage",
                token: "a.b.c".into()
            }]
        );
        let reauth = armed(&opened)[1].0;
        let asked = rig.after(270_000.0, Event::Timer { timer: reauth });
        let renewed = rig.token(request(&asked), 300.0);
        assert_eq!(sent(&renewed), [Frame::Text("re a.b.c".into())]);
    }

    #[test]
    fn the_reauthentication_message_defaults_to_the_authentication_message() {
        let mut rig = Rig::with("ws://localhost/e", "{}", &["authMessage"]);
        let (_, opened) = rig.open();
        let reauth = armed(&opened)[1].0;
        let asked = rig.after(270_000.0, Event::Timer { timer: reauth });
        assert_eq!(
            sent(&rig.token(request(&asked), 300.0)),
            [Frame::Built {
                function: "authMessage",
                token: "a.b.c".into()
            }]
        );
        let mut rig = Rig::new(r#"{"authMessage":"auth {token}"}"#);
        let (_, opened) = rig.open();
        let reauth = armed(&opened)[1].0;
        let asked = rig.after(270_000.0, Event::Timer { timer: reauth });
        assert_eq!(
            sent(&rig.token(request(&asked), 300.0)),
            [Frame::Text("auth a.b.c".into())]
        );
    }

    #[test]
    fn reauthentication_follows_the_advertised_ttl_then_the_token() {
        let mut rig = Rig::new("{}");
        let (conn, opened) = rig.open();
        let from_token = armed(&opened)[1].0;
        let welcome = rig.step(Event::Message {
            conn,
            text: Some(r#"{"type":"welcome","ttl":60}"#.into()),
        });
        // The server's word replaces the token's: 30 s before its 60 s are up.
        assert_eq!(welcome[0], Effect::Cancel { timer: from_token });
        let (timer, ms) = armed(&welcome)[0];
        assert_eq!(ms, 30_000.0);
        assert_eq!(welcome.last(), Some(&Effect::EmitMessage));
        // The replaced timer does nothing if it fires anyway.
        assert!(rig.step(Event::Timer { timer: from_token }).is_empty());
        let asked = rig.after(30_000.0, Event::Timer { timer });
        assert_eq!(
            asked,
            [Effect::GetToken {
                request: request(&asked),
                min_validity: 30.0
            }]
        );
        let renewed = rig.token(request(&asked), 120.0);
        assert_eq!(
            sent(&renewed),
            [Frame::Text(r#"{"type":"auth","token":"a.b.c"}"#.into())]
        );
        // The fallback, from the new token's exp: 30 s before its 120 s are up.
        assert_eq!(armed(&renewed)[0].1, 90_000.0);

        // A token that could not be refreshed: try again after minDelay.
        let timer = armed(&renewed)[0].0;
        let asked = rig.after(90_000.0, Event::Timer { timer });
        let failed = rig.step(Event::Token {
            request: request(&asked),
            token: Some("old".into()),
            exp: Some(0.0),
            skew: Some(0.0),
        });
        assert!(sent(&failed).is_empty());
        assert_eq!(armed(&failed)[0].1, 1000.0);
        // Tokens cleared meanwhile: nothing; the logout ends the socket.
        let timer = armed(&failed)[0].0;
        let asked = rig.after(1000.0, Event::Timer { timer });
        let none = rig.step(Event::Token {
            request: request(&asked),
            token: None,
            exp: None,
            skew: None,
        });
        assert!(none.is_empty());
        assert_eq!(rig.socket.phase(), Phase::Open);
    }

    #[test]
    fn reauthentication_can_be_turned_off() {
        let mut rig = Rig::new(r#"{"reauthenticate":false,"heartbeat":0}"#);
        let (conn, opened) = rig.open();
        assert!(armed(&opened).is_empty());
        let welcome = rig.step(Event::Message {
            conn,
            text: Some(r#"{"type":"welcome","ttl":60}"#.into()),
        });
        assert_eq!(welcome, [Effect::EmitMessage]);
    }

    #[test]
    fn the_token_expiry_counts_the_time_skew() {
        let mut rig = Rig::new(r#"{"heartbeat":0}"#);
        let started = rig.step(Event::Start);
        let exp = (rig.now / 1000.0).ceil() + 100.0;
        // The server's clock is 50 s ahead: the token lives 50 s less here.
        let got = rig.step(Event::Token {
            request: request(&started),
            token: Some("t".into()),
            exp: Some(exp),
            skew: Some(-50.0),
        });
        let conn = connect(&got).0;
        let (_, ms) = armed(&rig.opened(conn))[0];
        assert!((ms - 25_000.0).abs() < 1000.0, "{ms}");
        // Expired once the skew counts, though not by the local clock: not used.
        let mut rig = Rig::new("{}");
        let started = rig.step(Event::Start);
        let exp = (rig.now / 1000.0).ceil() + 10.0;
        let got = rig.step(Event::Token {
            request: request(&started),
            token: Some("t".into()),
            exp: Some(exp),
            skew: Some(-20.0),
        });
        assert_eq!(reconnecting(&got).1, "token refresh failed");
        // An unknown skew counts as expired, as isTokenExpired has it.
        let mut rig = Rig::new("{}");
        let started = rig.step(Event::Start);
        let got = rig.step(Event::Token {
            request: request(&started),
            token: Some("t".into()),
            exp: Some(exp),
            skew: None,
        });
        assert_eq!(reconnecting(&got).1, "token refresh failed");
    }

    #[test]
    fn reconnects_with_backoff_until_a_connection_is_stable() {
        let mut rig = Rig::new(r#"{"minDelay":100,"maxDelay":1000,"stableAfter":5000}"#);
        rig.random = 0.999_999;
        let (conn, _) = rig.open();
        let dropped = rig.drop_with(conn, 1012);
        let (code, reason, delay, attempt) = reconnecting(&dropped);
        assert_eq!((code, reason.as_str(), attempt), (Some(1012), "gone", 1));
        assert!((delay - 200.0).abs() < 0.1);
        assert!(dropped.contains(&Effect::Log("Socket reconnecting")));
        // The heartbeat and re-authentication timers go with the connection.
        assert_eq!(
            dropped
                .iter()
                .filter(|e| matches!(e, Effect::Cancel { .. }))
                .count(),
            2
        );
        // Each refused attempt waits longer.
        let mut delays = vec![];
        let mut timer = armed(&dropped)[0].0;
        for _ in 0..4 {
            let started = rig.after(1000.0, Event::Timer { timer });
            assert_eq!(states(&started), [Phase::Connecting]);
            let conn = connect(&rig.token(request(&started), 300.0)).0;
            let refused = rig.drop_with(conn, 1006);
            let (_, _, delay, attempt) = reconnecting(&refused);
            delays.push((delay.round(), attempt));
            timer = armed(&refused)[0].0;
        }
        assert_eq!(delays, [(300.0, 2), (500.0, 3), (900.0, 4), (1000.0, 5)]);
        // A connection that lasts stableAfter starts the backoff over.
        let started = rig.after(1000.0, Event::Timer { timer });
        let conn = connect(&rig.token(request(&started), 300.0)).0;
        rig.opened(conn);
        let dropped = rig.after(
            5000.0,
            Event::Closed {
                conn,
                code: 1001,
                reason: String::new(),
            },
        );
        assert_eq!(reconnecting(&dropped).3, 1);
    }

    #[test]
    fn unauthorized_and_forbidden_end_the_socket_other_codes_retry() {
        for code in [4401, 4403] {
            let mut rig = Rig::new("{}");
            let (conn, _) = rig.open();
            let ended = rig.drop_with(conn, code);
            assert_eq!(closed(&ended), Some((code, "gone".into())));
            assert!(armed(&ended).is_empty(), "{code}: no retry");
            assert!(!ended.iter().any(|e| matches!(e, Effect::Disconnect { .. })));
            assert_eq!(rig.socket.phase(), Phase::Closed);
        }
        for code in [1000, 1001, 1006, 1011, 1012, 4000, 4408, 4440] {
            let mut rig = Rig::new("{}");
            let (conn, _) = rig.open();
            let dropped = rig.drop_with(conn, code);
            assert_eq!(reconnecting(&dropped).0, Some(code));
            assert_eq!(closed(&dropped), None);
        }
    }

    #[test]
    fn without_a_token_no_connection_is_attempted() {
        let mut rig = Rig::new("{}");
        let started = rig.step(Event::Start);
        let ended = rig.step(Event::Token {
            request: request(&started),
            token: None,
            exp: None,
            skew: Some(0.0),
        });
        assert!(!ended.iter().any(|e| matches!(e, Effect::Connect { .. })));
        assert_eq!(closed(&ended), Some((4401, "not authenticated".into())));
        assert_eq!(
            ended,
            [
                Effect::Unlisten,
                Effect::Log("Socket closed"),
                Effect::State {
                    phase: Phase::Closed,
                    code: Some(4401),
                    reason: Some("not authenticated".into()),
                    delay: None,
                    attempt: None
                },
                Effect::EmitClose {
                    code: 4401,
                    reason: "not authenticated".into()
                }
            ]
        );
    }

    #[test]
    fn an_expired_token_waits_and_tries_again() {
        let mut rig = Rig::new("{}");
        let started = rig.step(Event::Start);
        let waiting = rig.step(Event::Token {
            request: request(&started),
            token: Some("old".into()),
            exp: Some(1.0),
            skew: Some(0.0),
        });
        let (code, reason, _, attempt) = reconnecting(&waiting);
        assert_eq!(
            (code, reason.as_str(), attempt),
            (None, "token refresh failed", 1)
        );
        assert!(!waiting.iter().any(|e| matches!(e, Effect::Connect { .. })));
        let timer = armed(&waiting)[0].0;
        let again = rig.after(1000.0, Event::Timer { timer });
        assert_eq!(
            again.last(),
            Some(&Effect::GetToken {
                request: request(&again),
                min_validity: 30.0
            })
        );
    }

    #[test]
    fn the_heartbeat_pings_a_silent_connection_and_drops_a_dead_one() {
        let mut rig = Rig::new(r#"{"heartbeat":1000,"reauthenticate":false}"#);
        let (conn, opened) = rig.open();
        let [(beat, ms)] = armed(&opened)[..] else {
            panic!("one timer: {opened:?}")
        };
        assert_eq!(ms, 1000.0);
        // A message 400 ms in: the next check is a second after it.
        rig.after(400.0, Event::Message { conn, text: None });
        let checked = rig.after(600.0, Event::Timer { timer: beat });
        assert!(sent(&checked).is_empty());
        let [(beat, ms)] = armed(&checked)[..] else {
            panic!("{checked:?}")
        };
        assert_eq!(ms, 400.0);
        // Silent for a heartbeat: a ping, and the rest of the second heartbeat to answer.
        let pinged = rig.after(400.0, Event::Timer { timer: beat });
        assert_eq!(sent(&pinged), [Frame::Text(PING.into())]);
        let [(beat, ms)] = armed(&pinged)[..] else {
            panic!("{pinged:?}")
        };
        assert_eq!(ms, 1000.0);
        // No answer: the connection is dead.
        let dead = rig.after(1000.0, Event::Timer { timer: beat });
        assert_eq!(dead[0], Effect::Disconnect { conn, code: 4000 });
        let (code, reason, _, _) = reconnecting(&dead);
        assert_eq!((code, reason.as_str()), (Some(4000), "heartbeat timeout"));
        // Its late close event changes nothing.
        assert!(rig.drop_with(conn, 4000).is_empty());
    }

    #[test]
    fn the_heartbeat_can_be_silenced_or_turned_off() {
        let mut rig = Rig::new(r#"{"heartbeat":1000,"ping":null,"reauthenticate":false}"#);
        let (_, opened) = rig.open();
        let beat = armed(&opened)[0].0;
        let quiet = rig.after(1000.0, Event::Timer { timer: beat });
        assert!(sent(&quiet).is_empty());
        assert_eq!(armed(&quiet).len(), 1);
        let mut rig = Rig::new(r#"{"heartbeat":1000,"ping":{"op":1},"reauthenticate":false}"#);
        let (_, opened) = rig.open();
        let beat = armed(&opened)[0].0;
        let pinged = rig.after(1000.0, Event::Timer { timer: beat });
        assert_eq!(sent(&pinged), [Frame::Text(r#"{"op":1}"#.into())]);
        let mut rig = Rig::new(r#"{"heartbeat":0,"reauthenticate":false}"#);
        assert!(armed(&rig.open().1).is_empty());
    }

    #[test]
    fn online_and_visible_again_reconnect_at_once() {
        let mut rig = Rig::new(r#"{"minDelay":60000,"maxDelay":60000}"#);
        let (conn, _) = rig.open();
        let dropped = rig.drop_with(conn, 1006);
        let retry = armed(&dropped)[0].0;
        // Hidden: nothing; online: now.
        assert!(rig.step(Event::Visibility { hidden: true }).is_empty());
        let online = rig.step(Event::Online);
        assert_eq!(online[0], Effect::Cancel { timer: retry });
        assert_eq!(states(&online), [Phase::Connecting]);
        // The retry timer it replaced does nothing.
        assert!(rig.step(Event::Timer { timer: retry }).is_empty());
        let conn = connect(&rig.token(request(&online), 300.0)).0;
        let dropped = rig.drop_with(conn, 1006);
        assert_eq!(reconnecting(&dropped).3, 2);
        let visible = rig.step(Event::Visibility { hidden: false });
        assert_eq!(states(&visible), [Phase::Connecting]);
        // Online while connecting or open: nothing to do.
        assert!(rig.step(Event::Online).is_empty());
    }

    #[test]
    fn visible_again_checks_the_heartbeat_of_an_open_connection() {
        let mut rig = Rig::new(r#"{"heartbeat":1000,"reauthenticate":false}"#);
        let (conn, opened) = rig.open();
        let beat = armed(&opened)[0].0;
        // The page slept; its timers did not fire.
        rig.now += 5000.0;
        assert!(rig.step(Event::Online).is_empty());
        let visible = rig.step(Event::Visibility { hidden: false });
        assert_eq!(visible[0], Effect::Disconnect { conn, code: 4000 });
        assert!(visible.contains(&Effect::Cancel { timer: beat }));
        assert_eq!(reconnecting(&visible).1, "heartbeat timeout");
    }

    #[test]
    fn the_application_closes_and_sends() {
        let mut rig = Rig::new("{}");
        let started = rig.step(Event::Start);
        let early = rig.step(Event::Send);
        assert_eq!(
            early,
            [Effect::Throw(Error::new(
                ErrorCode::InvalidState,
                "The socket is not open."
            ))]
        );
        let conn = connect(&rig.token(request(&started), 300.0)).0;
        assert!(matches!(rig.step(Event::Send)[..], [Effect::Throw(_)]));
        rig.opened(conn);
        let done = rig.step(Event::Close {
            code: Some(4321),
            reason: Some("done".into()),
        });
        assert!(done.contains(&Effect::Disconnect { conn, code: 4321 }));
        assert_eq!(closed(&done), Some((4321, "done".into())));
        assert_eq!(
            done.iter()
                .filter(|e| matches!(e, Effect::Cancel { .. }))
                .count(),
            2
        );
        // Closed: send does nothing, close and logout neither.
        assert!(rig.step(Event::Send).is_empty());
        assert!(rig
            .step(Event::Close {
                code: None,
                reason: None
            })
            .is_empty());
        assert!(rig.step(Event::End).is_empty());
        // A code a browser may not send still reaches the app; the server gets 1000.
        let mut rig = Rig::new("{}");
        let (conn, _) = rig.open();
        let done = rig.step(Event::Close {
            code: Some(1001),
            reason: None,
        });
        assert!(done.contains(&Effect::Disconnect { conn, code: 1000 }));
        assert_eq!(closed(&done), Some((1001, String::new())));
        let mut rig = Rig::new("{}");
        rig.open();
        let done = rig.step(Event::Close {
            code: None,
            reason: None,
        });
        assert_eq!(closed(&done), Some((1000, String::new())));
    }

    #[test]
    fn logout_ends_the_socket_in_every_phase() {
        let mut rig = Rig::new("{}");
        let (conn, _) = rig.open();
        let ended = rig.step(Event::End);
        assert!(ended.contains(&Effect::Disconnect { conn, code: 4001 }));
        assert_eq!(closed(&ended), Some((4001, "logged out".into())));
        let mut rig = Rig::new("{}");
        let started = rig.step(Event::Start);
        let ended = rig.step(Event::End);
        assert_eq!(closed(&ended), Some((4001, "logged out".into())));
        // The token it was waiting for arrives after all: no connection.
        assert!(rig.token(request(&started), 300.0).is_empty());
        let mut rig = Rig::new("{}");
        let (conn, _) = rig.open();
        let retry = armed(&rig.drop_with(conn, 1006))[0].0;
        let ended = rig.step(Event::End);
        assert!(ended.contains(&Effect::Cancel { timer: retry }));
        assert!(rig.step(Event::Timer { timer: retry }).is_empty());
        assert!(rig.step(Event::Start).is_empty());
    }

    #[test]
    fn a_websocket_the_browser_refuses_ends_the_socket() {
        let mut rig = Rig::new("{}");
        let started = rig.step(Event::Start);
        let conn = connect(&rig.token(request(&started), 300.0)).0;
        let failed = rig.step(Event::OpenFailed { conn });
        assert_eq!(failed[0], Effect::Emit("error"));
        assert_eq!(
            closed(&failed),
            Some((1006, "the WebSocket could not be created".into()))
        );
        assert!(!failed
            .iter()
            .any(|e| matches!(e, Effect::Disconnect { .. })));
    }

    #[test]
    fn late_events_of_an_old_connection_are_ignored() {
        let mut rig = Rig::new(r#"{"heartbeat":0}"#);
        let (old, opened) = rig.open();
        let reauth = armed(&opened)[0].0;
        // The re-authentication asks for a token; the connection drops before it comes.
        let asked = rig.after(270_000.0, Event::Timer { timer: reauth });
        let retry = armed(&rig.drop_with(old, 1006))[0].0;
        assert!(rig.token(request(&asked), 300.0).is_empty());
        let started = rig.after(1000.0, Event::Timer { timer: retry });
        // The old request's answer while the new one is pending is not the new one's.
        assert!(rig.token(request(&asked), 300.0).is_empty());
        let conn = connect(&rig.token(request(&started), 300.0)).0;
        assert_ne!(conn, old);
        // Everything the old connection still reports goes nowhere.
        for late in [
            Event::Opened {
                conn: old,
                protocol: String::new(),
                extensions: String::new(),
            },
            Event::Message {
                conn: old,
                text: Some(r#"{"type":"welcome","ttl":1}"#.into()),
            },
            Event::Errored { conn: old },
            Event::OpenFailed { conn: old },
            Event::Closed {
                conn: old,
                code: 4401,
                reason: String::new(),
            },
            Event::Timer { timer: reauth },
            Event::Token {
                request: request(&asked),
                token: Some("x".into()),
                exp: None,
                skew: Some(0.0),
            },
        ] {
            assert!(rig.step(late.clone()).is_empty(), "{late:?}");
        }
        assert_eq!(rig.socket.phase(), Phase::Connecting);
        assert_eq!(states(&rig.opened(conn)), [Phase::Open]);
    }

    #[test]
    fn nothing_comes_through_after_the_close() {
        let mut rig = Rig::new("{}");
        let (conn, opened) = rig.open();
        let timers = armed(&opened);
        rig.step(Event::Close {
            code: None,
            reason: None,
        });
        for late in [
            Event::Message {
                conn,
                text: Some("hello".into()),
            },
            Event::Errored { conn },
            Event::Closed {
                conn,
                code: 1000,
                reason: String::new(),
            },
            Event::Online,
            Event::Visibility { hidden: false },
            Event::Timer { timer: timers[0].0 },
            Event::Timer { timer: timers[1].0 },
        ] {
            assert!(rig.step(late.clone()).is_empty(), "{late:?}");
        }
    }

    #[test]
    fn creation_checks_the_options_and_warns_about_plain_ws() {
        let mut rig = Rig::with("ws://hub.example/events", "{}", &[]);
        let started = rig.step(Event::Start);
        assert!(matches!(&started[0], Effect::Warn(m) if m.contains("hub.example")));
        assert_eq!(started.len(), 3);
        // Once: a reconnect does not warn again.
        let conn = connect(&rig.token(request(&started), 300.0)).0;
        rig.opened(conn);
        let timer = armed(&rig.drop_with(conn, 1006))[0].0;
        let again = rig.after(1000.0, Event::Timer { timer });
        assert!(!again.iter().any(|e| matches!(e, Effect::Warn(_))));
        let mut rig = Rig::with("wss://hub.example/events", "{}", &[]);
        assert_eq!(rig.step(Event::Start).len(), 2);
        for (options, name) in [
            (r#"{"authMessage":5}"#, "authMessage"),
            (r#"{"reauthMessage":{}}"#, "reauthMessage"),
            (r#"{"maxDelay":-1}"#, "maxDelay"),
        ] {
            let err = Machine::new("ws://localhost/", &json::parse(options).unwrap(), &[])
                .err()
                .unwrap();
            assert_eq!(err.code, ErrorCode::InvalidOption);
            assert_eq!(err.message, format!("Invalid value for {name}"));
        }
    }

    #[test]
    fn timers_stay_within_what_settimeout_takes() {
        let mut rig = Rig::new(r#"{"heartbeat":0}"#);
        let started = rig.step(Event::Start);
        let exp = (rig.now / 1000.0).ceil() + 100.0 * 86_400.0;
        let got = rig.step(Event::Token {
            request: request(&started),
            token: Some("t".into()),
            exp: Some(exp),
            skew: Some(0.0),
        });
        let conn = connect(&got).0;
        assert_eq!(armed(&rig.opened(conn))[0].1, MAX_TIMER_MS);
        assert_eq!(timer_delay(f64::NAN), 0.0);
        assert_eq!(timer_delay(-5.0), 0.0);
    }
}
