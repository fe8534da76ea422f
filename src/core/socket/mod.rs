//! The decisions of the live-event socket (`keycloak.socket(url, options)`): its options, how
//! the token travels, what a close code means, when to re-authenticate and when a silent
//! connection counts as dead. [`machine`] puts them together into the socket's life, and
//! [`wire`] carries its events and effects to the JavaScript driver as JSON.
//!
//! The defaults speak the protocol of devserver's hub (`keycloak-events.v1`, see
//! devserver/README.md): subprotocol `bearer.<jwt>`, first message `{"type":"auth",...}`,
//! `welcome` and `reauthenticated` messages that advertise the token's `ttl`, and `ping`.

use crate::prelude::*;

pub mod machine;
pub mod wire;

use super::encode::encode_uri_component;
use super::error::Error;
use super::json::{self, Value};
use super::options::invalid;
use super::text;

/// The application subprotocol offered by default (the hub echoes it).
pub const APP_PROTOCOL: &str = "keycloak-events.v1";

/// Close codes of the helper itself; the server's own are passed through as they come.
pub mod code {
    /// `close()` without a code.
    pub const NORMAL: u16 = 1000;
    /// The helper ended a connection that stayed silent too long; it reconnects.
    pub const HEARTBEAT: u16 = 4000;
    /// Logged out: `logout()`, `clearToken()`, or a refresh token the server refused. Final.
    pub const LOGGED_OUT: u16 = 4001;
    /// The server refused the token, or there is none (not authenticated). Final.
    pub const UNAUTHORIZED: u16 = 4401;
    /// The server refused the user. Final.
    pub const FORBIDDEN: u16 = 4403;
}

/// Whether a close code ends the socket for good: the server said the credentials are no
/// good, so a retry with the same user cannot succeed. Every other close reconnects.
pub fn is_final(code: u16) -> bool {
    matches!(code, code::UNAUTHORIZED | code::FORBIDDEN)
}

/// How the access token reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `Sec-WebSocket-Protocol: <app protocols>, bearer.<jwt>`.
    Subprotocol,
    /// The first message after the socket opens.
    Message,
    /// A query parameter of the URL (opt-in: URLs end up in logs).
    Query,
}

/// The validated options of one socket. Times are in milliseconds, `min_validity` in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketOptions {
    pub strategy: Strategy,
    /// The application subprotocols offered.
    pub protocols: Vec<String>,
    pub query_parameter: String,
    /// Passed to `updateToken` before every connect and re-authentication.
    pub min_validity: f64,
    pub min_delay: f64,
    pub max_delay: f64,
    /// How long a connection must last for the backoff to start over.
    pub stable_after: f64,
    /// Silence after which a ping is sent; twice as long and the connection is dead. 0: off.
    pub heartbeat: f64,
    /// Send the token again in-band before it expires.
    pub reauthenticate: bool,
}

impl SocketOptions {
    /// Reads the options object (functions, such as `authMessage`, are the facade's).
    pub fn from_value(options: &Value) -> Result<Self, Error> {
        let given = |name| options.get(name).filter(|v| !v.is_null());
        // The times, in one loop: each option's own code would cost wasm bytes.
        let mut times = [30.0, 1000.0, 30_000.0, 10_000.0, 30_000.0];
        let names = [
            "minValidity",
            "minDelay",
            "maxDelay",
            "stableAfter",
            "heartbeat",
        ];
        for (time, name) in times.iter_mut().zip(names) {
            if let Some(v) = given(name) {
                *time = v
                    .as_f64()
                    .filter(|n| *n >= 0.0 && n.is_finite())
                    .ok_or_else(|| invalid(name))?;
            }
        }
        let [min_validity, min_delay, max_delay, stable_after, heartbeat] = times;
        // No wait at all would retry a refused connection in a tight loop.
        if min_delay <= 0.0 {
            return Err(invalid("minDelay"));
        }
        if max_delay < min_delay {
            return Err(invalid("maxDelay"));
        }
        let strategy = match given("strategy").map(Value::as_str) {
            None | Some(Some("subprotocol")) => Strategy::Subprotocol,
            Some(Some("message")) => Strategy::Message,
            Some(Some("query")) => Strategy::Query,
            _ => return Err(invalid("strategy")),
        };
        let protocols = match given("protocols") {
            None => vec![APP_PROTOCOL.to_owned()],
            Some(Value::String(p)) => vec![p.clone()],
            Some(v) => v
                .as_array()
                .and_then(|items| {
                    items
                        .iter()
                        .map(|p| p.as_str().map(str::to_owned))
                        .collect()
                })
                .ok_or_else(|| invalid("protocols"))?,
        };
        let query_parameter = match given("queryParameter") {
            None => "access_token",
            Some(v) => v
                .as_str()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| invalid("queryParameter"))?,
        };
        let reauthenticate = match given("reauthenticate") {
            None => true,
            Some(v) => v.as_bool().ok_or_else(|| invalid("reauthenticate"))?,
        };
        Ok(SocketOptions {
            strategy,
            protocols,
            query_parameter: query_parameter.to_owned(),
            min_validity,
            min_delay,
            max_delay,
            stable_after,
            heartbeat,
            reauthenticate,
        })
    }

    /// The URL to open: with the query strategy, `url` plus the token parameter.
    pub fn url(&self, url: &str, token: &str) -> String {
        let mut out = url.to_owned();
        if self.strategy == Strategy::Query {
            out.push(if text::contains(url, b'?') { '&' } else { '?' });
            out.push_str(&encode_uri_component(&self.query_parameter));
            out.push('=');
            out.push_str(&encode_uri_component(token));
        }
        out
    }

    /// The subprotocols to offer: the application's, and with the subprotocol strategy the
    /// token as `bearer.<jwt>`.
    pub fn offered_protocols(&self, token: &str) -> Vec<String> {
        let mut out = self.protocols.clone();
        if self.strategy == Strategy::Subprotocol {
            let mut bearer = String::from("bearer.");
            bearer.push_str(token);
            out.push(bearer);
        }
        out
    }
}

/// The default in-band authentication message, as a template.
pub const AUTH_TEMPLATE: &str = r#"{"type":"auth","token":"{token}"}"#;
/// The default heartbeat probe.
pub const PING: &str = r#"{"type":"ping"}"#;

/// A message template with every `{token}` replaced by the token. (Split on a character
/// rather than searched for the substring: the substring searcher costs kilobytes of wasm.)
pub fn fill_template(template: &str, token: &str) -> String {
    let mut parts = text::split(template, b'{');
    let mut out = String::from(parts.next().unwrap_or_default());
    for part in parts {
        match part.strip_prefix("token}") {
            Some(rest) => {
                out.push_str(token);
                out.push_str(rest);
            }
            None => {
                out.push('{');
                out.push_str(part);
            }
        }
    }
    out
}

/// The `ttl` (seconds) a `welcome` or `reauthenticated` message advertises.
pub fn advertised_ttl(message: &str) -> Option<f64> {
    // Cheap filter first: most messages are events.
    if !text::split(message, b'"').any(|part| part == "ttl") {
        return None;
    }
    let value = json::parse(message).ok()?;
    match value.get_str("type") {
        Some("welcome" | "reauthenticated") => value.get_f64("ttl"),
        _ => None,
    }
}

/// Milliseconds until the next in-band re-authentication, for a token valid `ttl_ms` longer:
/// ahead of expiry by `min_validity` seconds, but at most half the lifetime early (so short
/// tokens are not renewed in a loop), and never sooner than a second from now.
pub fn reauth_delay_ms(ttl_ms: f64, min_validity: f64) -> f64 {
    let margin = (min_validity * 1000.0).min(ttl_ms / 2.0);
    (ttl_ms - margin).max(1000.0)
}

/// What the heartbeat does after `silent_ms` without any message from the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Beat {
    /// Check again in this many milliseconds.
    Wait(f64),
    /// Send a probe, and check again in this many milliseconds.
    Ping(f64),
    /// Silent for two heartbeats: the connection is dead.
    Dead,
}

pub fn heartbeat(silent_ms: f64, heartbeat_ms: f64) -> Beat {
    if silent_ms >= 2.0 * heartbeat_ms {
        Beat::Dead
    } else if silent_ms >= heartbeat_ms {
        Beat::Ping(2.0 * heartbeat_ms - silent_ms)
    } else {
        Beat::Wait(heartbeat_ms - silent_ms)
    }
}

/// The host of `url` when the socket would send the token over plain `ws:` to a machine other
/// than this one: anyone on the network path could read it. Loopback (`localhost`,
/// `*.localhost`, `127.0.0.0/8`, `[::1]`) is fine for development and gives None, as does `wss:`.
pub fn plaintext_token_host(url: &str) -> Option<&str> {
    let scheme = url.as_bytes().get(..5)?;
    if !scheme.eq_ignore_ascii_case(b"ws://") {
        return None;
    }
    let rest = url.get(5..)?;
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let host_port = match authority.bytes().rposition(|b| b == b'@') {
        Some(at) => authority.get(at + 1..)?,
        None => authority,
    };
    let host = match host_port.bytes().position(|b| b == b']') {
        Some(close) if host_port.as_bytes().first() == Some(&b'[') => host_port.get(..=close)?,
        _ => text::split_once(host_port, b':').map_or(host_port, |(host, _)| host),
    };
    (!host.is_empty() && !is_loopback(host)).then_some(host)
}

fn is_loopback(host: &str) -> bool {
    let host = text::strip_suffix(host, b'.').unwrap_or(host).as_bytes();
    let localhost = b"localhost";
    let tail = host.len().checked_sub(localhost.len());
    let is_localhost = tail.is_some_and(|at| {
        host.get(at..)
            .is_some_and(|end| end.eq_ignore_ascii_case(localhost))
            && (at == 0 || host.get(at - 1) == Some(&b'.'))
    });
    let is_127 = host.starts_with(b"127.")
        && host.iter().filter(|b| **b == b'.').count() == 3
        && host.iter().all(|b| b.is_ascii_digit() || *b == b'.');
    is_localhost || is_127 || host == b"[::1]"
}

/// The warning for [`plaintext_token_host`]; it names the host, never the token.
pub fn plaintext_token_warning(host: &str) -> String {
    let mut message = String::from("The socket sends the access token over unencrypted ws: to ");
    message.push_str(host);
    message.push_str(
        ", where anyone on the network path can read it. Use wss: outside local development.",
    );
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(json: &str) -> Result<SocketOptions, Error> {
        SocketOptions::from_value(&json::parse(json).unwrap())
    }

    #[test]
    fn defaults() {
        let o = options("{}").unwrap();
        assert_eq!(o.strategy, Strategy::Subprotocol);
        assert_eq!(o.protocols, [APP_PROTOCOL]);
        assert_eq!(o.query_parameter, "access_token");
        assert_eq!(
            (
                o.min_validity,
                o.min_delay,
                o.max_delay,
                o.stable_after,
                o.heartbeat
            ),
            (30.0, 1000.0, 30_000.0, 10_000.0, 30_000.0)
        );
        assert!(o.reauthenticate);
        assert_eq!(SocketOptions::from_value(&Value::Null).unwrap(), o);
    }

    #[test]
    fn options_are_checked() {
        let o = options(
            r#"{"strategy":"message","protocols":["a","b"],"queryParameter":"t","minValidity":5,
            "minDelay":10,"maxDelay":10,"stableAfter":0,"heartbeat":0,"reauthenticate":false}"#,
        )
        .unwrap();
        assert_eq!(o.strategy, Strategy::Message);
        assert_eq!(o.protocols, ["a", "b"]);
        assert_eq!(
            (o.min_validity, o.min_delay, o.max_delay),
            (5.0, 10.0, 10.0)
        );
        assert!(!o.reauthenticate);
        assert_eq!(options(r#"{"protocols":"x"}"#).unwrap().protocols, ["x"]);
        assert!(options(r#"{"protocols":[]}"#).unwrap().protocols.is_empty());
        for (bad, name) in [
            (r#"{"strategy":"header"}"#, "strategy"),
            (r#"{"strategy":1}"#, "strategy"),
            (r#"{"protocols":[1]}"#, "protocols"),
            (r#"{"protocols":{}}"#, "protocols"),
            (r#"{"queryParameter":""}"#, "queryParameter"),
            (r#"{"minDelay":-1}"#, "minDelay"),
            (r#"{"minDelay":0}"#, "minDelay"),
            (r#"{"maxDelay":"9"}"#, "maxDelay"),
            (r#"{"minDelay":100,"maxDelay":50}"#, "maxDelay"),
            (r#"{"heartbeat":true}"#, "heartbeat"),
            (r#"{"reauthenticate":1}"#, "reauthenticate"),
        ] {
            let err = options(bad).unwrap_err();
            assert_eq!(err.message, format!("Invalid value for {name}"), "{bad}");
        }
    }

    #[test]
    fn the_token_travels_only_by_the_chosen_strategy() {
        let sub = options("{}").unwrap();
        assert_eq!(sub.url("ws://h/events", "a.b.c"), "ws://h/events");
        assert_eq!(
            sub.offered_protocols("a.b.c"),
            [APP_PROTOCOL, "bearer.a.b.c"]
        );
        let message = options(r#"{"strategy":"message"}"#).unwrap();
        assert_eq!(
            message.url("ws://h/events?x=1", "a.b.c"),
            "ws://h/events?x=1"
        );
        assert_eq!(message.offered_protocols("a.b.c"), [APP_PROTOCOL]);
        let query = options(r#"{"strategy":"query","queryParameter":"t k"}"#).unwrap();
        assert_eq!(
            query.url("ws://h/events", "a.b+c"),
            "ws://h/events?t%20k=a.b%2Bc"
        );
        assert_eq!(query.url("ws://h/e?x=1", "a"), "ws://h/e?x=1&t%20k=a");
        assert_eq!(query.offered_protocols("a.b.c"), [APP_PROTOCOL]);
    }

    #[test]
    fn only_unauthorized_and_forbidden_are_final() {
        for c in [4401, 4403] {
            assert!(is_final(c));
        }
        for c in [1000, 1001, 1006, 1011, 1012, 1013, 4000, 4408, 4440] {
            assert!(!is_final(c), "{c}");
        }
    }

    #[test]
    fn templates_and_advertised_ttl() {
        assert_eq!(
            fill_template(AUTH_TEMPLATE, "a.b.c"),
            r#"{"type":"auth","token":"a.b.c"}"#
        );
        assert_eq!(
            fill_template(r#"{"connect":{"token":"{token}"},"id":1}"#, "t"),
            r#"{"connect":{"token":"t"},"id":1}"#
        );
        assert_eq!(
            fill_template("{token}{token}{{token}}{tok", "t"),
            "tt{t}{tok"
        );
        assert_eq!(fill_template("", "t"), "");
        assert_eq!(fill_template("plain", "t"), "plain");
        assert_eq!(
            advertised_ttl(r#"{"type":"welcome","sub":"s","ttl":299,"heartbeat":25}"#),
            Some(299.0)
        );
        assert_eq!(
            advertised_ttl(r#"{"type":"reauthenticated","ttl":60}"#),
            Some(60.0)
        );
        assert_eq!(advertised_ttl(r#"{"type":"event","ttl":5}"#), None);
        assert_eq!(advertised_ttl(r#"{"type":"ping"}"#), None);
        assert_eq!(advertised_ttl(r#"{"ttl" broken"#), None);
    }

    #[test]
    fn reauthentication_comes_before_expiry() {
        // 300 s token, 30 s margin.
        assert_eq!(reauth_delay_ms(300_000.0, 30.0), 270_000.0);
        // A 10 s token is renewed half-way, not at once.
        assert_eq!(reauth_delay_ms(10_000.0, 30.0), 5_000.0);
        // Nearly expired: not sooner than a second.
        assert_eq!(reauth_delay_ms(500.0, 30.0), 1000.0);
        assert_eq!(reauth_delay_ms(-5.0, 30.0), 1000.0);
    }

    #[test]
    fn heartbeat_pings_then_gives_up() {
        assert_eq!(heartbeat(0.0, 1000.0), Beat::Wait(1000.0));
        assert_eq!(heartbeat(400.0, 1000.0), Beat::Wait(600.0));
        assert_eq!(heartbeat(1000.0, 1000.0), Beat::Ping(1000.0));
        assert_eq!(heartbeat(1500.0, 1000.0), Beat::Ping(500.0));
        assert_eq!(heartbeat(2000.0, 1000.0), Beat::Dead);
    }

    #[test]
    fn plain_ws_to_another_host_is_named() {
        for (url, host) in [
            ("ws://hub.example/events", Some("hub.example")),
            ("WS://Hub.Example:8080/events?x=1", Some("Hub.Example")),
            ("ws://user:pw@10.0.0.7:80/e", Some("10.0.0.7")),
            ("ws://[2001:db8::1]:9/e", Some("[2001:db8::1]")),
            ("ws://127.example.com/e", Some("127.example.com")),
            ("ws://localhost.example/e", Some("localhost.example")),
            ("ws://128.0.0.1/e", Some("128.0.0.1")),
            ("ws://localhost:8080/events", None),
            ("ws://LOCALHOST./e", None),
            ("ws://app.localhost/e", None),
            ("ws://127.0.0.1:9000/events", None),
            ("ws://127.1.2.3/e", None),
            ("ws://[::1]:9000/e", None),
            ("wss://hub.example/events", None),
            ("https://hub.example/", None),
            ("ws:", None),
            ("", None),
        ] {
            assert_eq!(plaintext_token_host(url), host, "{url}");
        }
        let warning = plaintext_token_warning("hub.example");
        assert!(warning.contains("ws:") && warning.contains("hub.example"));
    }
}
