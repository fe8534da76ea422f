//! The socket machine's events and effects as JSON, the form in which they cross to the
//! JavaScript driver: one text each way per step keeps the glue small.
//!
//! An event is an object with a `type` (`start`, `token`, `open`, `openFailed`, `message`,
//! `close`, `error`, `timer`, `online`, `visibilitychange`, `send`, `appClose`, `end`) and its
//! fields; the effects are an array of objects with a `do` and theirs. js/keycloak.js's
//! `KeycloakSocket` is the other side.

use crate::prelude::*;

use super::machine::{Effect, Event, Frame};
use crate::core::json::Value;

/// A number field as an id or code; None when absent or not a number.
fn uint(event: &Value, key: &str) -> Option<u32> {
    let n = event.get_f64(key)?;
    // `as` saturates: an out-of-range id matches nothing.
    (n >= 0.0).then_some(n as u32)
}

fn text(event: &Value, key: &str) -> Option<String> {
    event.get_str(key).map(str::to_owned)
}

/// Reads an event; None for one the machine does not know.
pub fn event(event: &Value) -> Option<Event> {
    let conn = || uint(event, "conn");
    Some(match event.get_str("type")? {
        "start" => Event::Start,
        "token" => Event::Token {
            request: uint(event, "request")?,
            token: text(event, "token"),
            exp: event.get_f64("exp"),
            skew: event.get_f64("skew"),
        },
        "open" => Event::Opened {
            conn: conn()?,
            protocol: text(event, "protocol").unwrap_or_default(),
            extensions: text(event, "extensions").unwrap_or_default(),
        },
        "openFailed" => Event::OpenFailed { conn: conn()? },
        "message" => Event::Message {
            conn: conn()?,
            text: text(event, "text"),
        },
        "close" => Event::Closed {
            conn: conn()?,
            code: u16::try_from(uint(event, "code")?).ok()?,
            reason: text(event, "reason").unwrap_or_default(),
        },
        "error" => Event::Errored { conn: conn()? },
        "timer" => Event::Timer {
            timer: uint(event, "timer")?,
        },
        "online" => Event::Online,
        "visibilitychange" => Event::Visibility {
            hidden: event.get_bool("hidden").unwrap_or(false),
        },
        "send" => Event::Send,
        "appClose" => Event::Close {
            code: event
                .get_f64("code")
                .map(|n| n.clamp(0.0, f64::from(u16::MAX)) as u16),
            reason: text(event, "reason"),
        },
        "end" => Event::End,
        _ => return None,
    })
}

fn object(members: Vec<(&str, Value)>) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}

fn id(n: u32) -> Value {
    Value::from(f64::from(n))
}

/// One effect as a JSON value.
pub fn effect(effect: &Effect) -> Value {
    let mut out = match effect {
        Effect::GetToken {
            request,
            min_validity,
        } => vec![
            ("do", "token".into()),
            ("request", id(*request)),
            ("minValidity", (*min_validity).into()),
        ],
        Effect::Connect {
            conn,
            url,
            protocols,
        } => vec![
            ("do", "connect".into()),
            ("conn", id(*conn)),
            ("url", url.as_str().into()),
            (
                "protocols",
                Value::Array(protocols.iter().map(|p| p.as_str().into()).collect()),
            ),
        ],
        Effect::Send { conn, frame } => {
            let mut members = vec![("do", "send".into()), ("conn", id(*conn))];
            match frame {
                Frame::Text(text) => members.push(("text", text.as_str().into())),
                Frame::Built { function, token } => {
                    members.push(("build", (*function).into()));
                    members.push(("token", token.as_str().into()));
                }
                Frame::App => {}
            }
            members
        }
        Effect::Disconnect { conn, code } => vec![
            ("do", "disconnect".into()),
            ("conn", id(*conn)),
            ("code", f64::from(*code).into()),
        ],
        Effect::Arm { timer, ms } => vec![
            ("do", "arm".into()),
            ("timer", id(*timer)),
            ("ms", (*ms).into()),
        ],
        Effect::Cancel { timer } => vec![("do", "cancel".into()), ("timer", id(*timer))],
        Effect::State {
            phase,
            code,
            reason,
            delay,
            attempt,
        } => {
            let mut detail = vec![("state", phase.name().into())];
            if let Some(code) = code {
                detail.push(("code", f64::from(*code).into()));
            }
            if let Some(reason) = reason {
                detail.push(("reason", reason.as_str().into()));
            }
            if let Some(delay) = delay {
                detail.push(("delay", (*delay).into()));
            }
            if let Some(attempt) = attempt {
                detail.push(("attempt", id(*attempt)));
            }
            vec![
                ("do", "state".into()),
                ("readyState", f64::from(phase.ready_state()).into()),
                ("detail", object(detail)),
            ]
        }
        Effect::Negotiated {
            protocol,
            extensions,
        } => vec![
            ("do", "negotiated".into()),
            ("protocol", protocol.as_str().into()),
            ("extensions", extensions.as_str().into()),
        ],
        Effect::Emit(kind) => vec![("do", "emit".into()), ("type", (*kind).into())],
        Effect::EmitMessage => vec![("do", "message".into())],
        Effect::EmitClose { code, reason } => vec![
            ("do", "close".into()),
            (
                "init",
                object(vec![
                    ("code", f64::from(*code).into()),
                    ("reason", reason.as_str().into()),
                    ("wasClean", true.into()),
                ]),
            ),
        ],
        Effect::Unlisten => vec![("do", "unlisten".into())],
        Effect::Throw(error) => vec![
            ("do", "throw".into()),
            ("code", error.code.as_str().into()),
            ("message", error.message.as_str().into()),
        ],
        Effect::Log(message) => vec![("do", "log".into()), ("message", (*message).into())],
        Effect::Warn(message) => vec![("do", "warn".into()), ("message", message.as_str().into())],
    };
    out.shrink_to_fit();
    object(out)
}

/// The effects as the JSON text of an array.
pub fn effects(effects: &[Effect]) -> String {
    Value::Array(effects.iter().map(effect).collect()).to_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::{Error, ErrorCode};
    use crate::core::json;
    use crate::core::socket::machine::Phase;

    fn read(text: &str) -> Option<Event> {
        event(&json::parse(text).unwrap())
    }

    #[test]
    fn events_are_read_with_their_fields() {
        assert_eq!(read(r#"{"type":"start"}"#), Some(Event::Start));
        assert_eq!(
            read(r#"{"type":"token","request":3,"token":"t","exp":12,"skew":-1}"#),
            Some(Event::Token {
                request: 3,
                token: Some("t".into()),
                exp: Some(12.0),
                skew: Some(-1.0)
            })
        );
        assert_eq!(
            read(r#"{"type":"token","request":3,"skew":null}"#),
            Some(Event::Token {
                request: 3,
                token: None,
                exp: None,
                skew: None
            })
        );
        assert_eq!(
            read(r#"{"type":"open","conn":2,"protocol":"p","extensions":""}"#),
            Some(Event::Opened {
                conn: 2,
                protocol: "p".into(),
                extensions: String::new()
            })
        );
        assert_eq!(
            read(r#"{"type":"message","conn":2}"#),
            Some(Event::Message {
                conn: 2,
                text: None
            })
        );
        assert_eq!(
            read(r#"{"type":"close","conn":2,"code":4401,"reason":"r"}"#),
            Some(Event::Closed {
                conn: 2,
                code: 4401,
                reason: "r".into()
            })
        );
        assert_eq!(
            read(r#"{"type":"appClose","code":4321}"#),
            Some(Event::Close {
                code: Some(4321),
                reason: None
            })
        );
        assert_eq!(
            read(r#"{"type":"visibilitychange","hidden":true}"#),
            Some(Event::Visibility { hidden: true })
        );
        for (text, event) in [
            (
                r#"{"type":"openFailed","conn":1}"#,
                Event::OpenFailed { conn: 1 },
            ),
            (r#"{"type":"error","conn":1}"#, Event::Errored { conn: 1 }),
            (r#"{"type":"timer","timer":9}"#, Event::Timer { timer: 9 }),
            (r#"{"type":"online"}"#, Event::Online),
            (r#"{"type":"send"}"#, Event::Send),
            (r#"{"type":"end"}"#, Event::End),
        ] {
            assert_eq!(read(text), Some(event), "{text}");
        }
        for bad in [
            r#"{"type":"nope"}"#,
            r#"{"type":"timer"}"#,
            r#"{"type":"timer","timer":-1}"#,
            r#"{"type":"close","conn":1,"code":70000}"#,
            r#"{"type":"token"}"#,
            "[]",
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }

    #[test]
    fn effects_are_written_as_the_driver_reads_them() {
        let written = effects(&[
            Effect::GetToken {
                request: 1,
                min_validity: 30.0,
            },
            Effect::Connect {
                conn: 2,
                url: "ws://h/e".into(),
                protocols: vec!["p".into(), "bearer.t".into()],
            },
            Effect::Send {
                conn: 2,
                frame: Frame::Built {
                    function: "authMessage",
                    token: "t".into(),
                },
            },
            Effect::Send {
                conn: 2,
                frame: Frame::App,
            },
            Effect::State {
                phase: Phase::Reconnecting,
                code: None,
                reason: Some("r".into()),
                delay: Some(1234.5),
                attempt: Some(2),
            },
            Effect::EmitClose {
                code: 4001,
                reason: "logged out".into(),
            },
            Effect::Throw(Error::new(
                ErrorCode::InvalidState,
                "The socket is not open.",
            )),
        ]);
        assert_eq!(
            written,
            concat!(
                r#"[{"do":"token","request":1,"minValidity":30},"#,
                r#"{"do":"connect","conn":2,"url":"ws://h/e","protocols":["p","bearer.t"]},"#,
                r#"{"do":"send","conn":2,"build":"authMessage","token":"t"},"#,
                r#"{"do":"send","conn":2},"#,
                r#"{"do":"state","readyState":0,"detail":{"state":"reconnecting","reason":"r","delay":1234.5,"attempt":2}},"#,
                r#"{"do":"close","init":{"code":4001,"reason":"logged out","wasClean":true}},"#,
                r#"{"do":"throw","code":"invalid_state","message":"The socket is not open."}]"#
            )
        );
        assert_eq!(
            effects(&[
                Effect::Arm {
                    timer: 3,
                    ms: 500.0
                },
                Effect::Cancel { timer: 3 },
                Effect::Disconnect {
                    conn: 2,
                    code: 4000
                },
                Effect::Negotiated {
                    protocol: "p".into(),
                    extensions: String::new()
                },
                Effect::Emit("open"),
                Effect::EmitMessage,
                Effect::Unlisten,
                Effect::Log("Socket open"),
                Effect::Warn("w".into()),
            ]),
            concat!(
                r#"[{"do":"arm","timer":3,"ms":500},{"do":"cancel","timer":3},"#,
                r#"{"do":"disconnect","conn":2,"code":4000},"#,
                r#"{"do":"negotiated","protocol":"p","extensions":""},"#,
                r#"{"do":"emit","type":"open"},{"do":"message"},{"do":"unlisten"},"#,
                r#"{"do":"log","message":"Socket open"},{"do":"warn","message":"w"}]"#
            )
        );
    }
}
