//! The hidden iframes' protocol: what the third-party-cookie check, the session (login-status)
//! iframe and silent check-sso answer, which of their messages count, and what follows from
//! the answers. The browser side (the iframes, listeners and deadlines) is `web::iframe`.

use crate::prelude::*;

use super::callback::{parse_callback, ParsedCallback};
use super::error::{Error, ErrorCode};
use super::options::{Flow, InitOptions, ResponseMode};
use super::text;

/// The third-party-cookie check's answer: `Some(true)` for 'supported', `Some(false)` for
/// 'unsupported'; anything else is not an answer.
pub fn cookie_check_answer(data: &str) -> Option<bool> {
    match data {
        "supported" => Some(true),
        "unsupported" => Some(false),
        _ => None,
    }
}

/// Whether `init()` runs the third-party-cookie check: only when an iframe would need the
/// cookies (the session iframe or silent check-sso) and the server has the check's page
/// (Keycloak; a generic OpenID provider has none).
pub fn needs_cookie_check(session_iframe: bool, silent_check_sso: bool, has_page: bool) -> bool {
    (session_iframe || silent_check_sso) && has_page
}

/// The console warning when the check finds third-party cookies blocked, saying what the
/// adapter does instead. It is written whatever `enableLogging` says: an app that silently
/// loses silent check-sso and logout detection is hard to debug otherwise.
pub fn blocked_cookies_warning(silent_check_sso: bool, fallback: bool) -> String {
    let mut text = String::from(
        "Third-party cookies are blocked: the Keycloak pages in hidden iframes cannot see the login session. The session iframe is off (a logout elsewhere is noticed at the next token refresh)",
    );
    text.push_str(match (silent_check_sso, fallback) {
        (false, _) => ".",
        (true, true) => "; check-sso uses a full-page redirect instead of silent check-sso.",
        (true, false) => "; check-sso is skipped (silentCheckSsoFallback is false).",
    });
    text.push_str(
        " See https://www.keycloak.org/securing-apps/javascript-adapter#_modern_browsers",
    );
    text
}

/// keycloak-js's consequences of blocked third-party cookies, applied to the options: the
/// session iframe is off, and with `silentCheckSsoFallback` silent check-sso gives way to the
/// full-page redirect (its URI is unset). Returns the warning to show.
pub fn apply_blocked_cookies(init: &mut InitOptions) -> String {
    let silent = init.silent_check_sso_redirect_uri.is_some();
    init.check_login_iframe = false;
    if init.silent_check_sso_fallback {
        init.silent_check_sso_redirect_uri = None;
    }
    blocked_cookies_warning(silent, init.silent_check_sso_fallback)
}

/// How check-sso goes on once the session iframe (if any) has answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckSso {
    /// Nothing more to do: the session is unchanged (no SSO session, or ours), or silent
    /// check-sso was asked for but third-party cookies are blocked and there is no fallback.
    Done,
    /// Silent check-sso in a hidden iframe.
    SilentIframe,
    /// The full-page `prompt=none` redirect.
    Redirect,
}

/// keycloak-js's check-sso order, with the third-party-cookie consequences: `unchanged` is the
/// session iframe's answer (None without one). `silent_uri` is whether
/// `silentCheckSsoRedirectUri` is (still) set: with blocked cookies and the fallback on, the
/// check has already unset it, so silent check-sso with blocked cookies means no fallback.
pub fn check_sso_plan(
    unchanged: Option<bool>,
    silent_uri: bool,
    cookies_blocked: bool,
) -> CheckSso {
    match unchanged {
        Some(true) => CheckSso::Done,
        _ if !silent_uri => CheckSso::Redirect,
        _ if cookies_blocked => CheckSso::Done,
        _ => CheckSso::SilentIframe,
    }
}

/// What the session iframe answers about the SSO session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Unchanged,
    Changed,
    Error,
}

impl SessionStatus {
    /// 'unchanged', 'changed' or 'error'; anything else is not an answer.
    pub fn parse(data: &str) -> Option<SessionStatus> {
        match data {
            "unchanged" => Some(SessionStatus::Unchanged),
            "changed" => Some(SessionStatus::Changed),
            "error" => Some(SessionStatus::Error),
            _ => None,
        }
    }
}

/// What the session iframe is asked: `"<clientId> <sessionId>"`, with an empty session id when
/// there is none (it then answers whether an SSO session exists at all).
pub fn session_question(client_id: &str, session_id: Option<&str>) -> String {
    let session_id = session_id.unwrap_or_default();
    let mut text = String::with_capacity(client_id.len() + session_id.len() + 1);
    text.push_str(client_id);
    text.push(' ');
    text.push_str(session_id);
    text
}

/// The session iframe answered 'error' (keycloak-js's message).
pub fn session_error() -> Error {
    Error::new(ErrorCode::ServerError, "Error while checking login iframe")
}

/// A hidden iframe that did not answer within `messageReceiveTimeout`; the message names it.
pub fn no_answer(what: &str) -> Error {
    let mut text = String::from("Timeout when waiting for ");
    text.push_str(what);
    Error::timeout(text)
}

/// What did not answer, for [`no_answer`]. The third-party-cookie check's is keycloak-js's
/// message.
pub const COOKIE_CHECK: &str = "3rd party check iframe message.";
pub const SESSION_IFRAME_LOAD: &str = "the session iframe to load.";
pub const SESSION_IFRAME: &str = "the session iframe's answer.";
pub const SILENT_CHECK_SSO: &str = "the silent check-sso iframe's answer.";

/// The `state` parameter of an authorization URL (the one the silent check-sso iframe opens).
pub fn login_state(url: &str) -> Option<String> {
    let before_fragment = text::split(url, b'#').next()?;
    let query = text::split_once(before_fragment, b'?')?.1;
    text::split(query, b'&').find_map(|pair| {
        let (name, value) = text::split_once(pair, b'=')?;
        (name == "state").then(|| super::encode::form_decode(value))
    })
}

/// The silent check-sso page's message, if it is the callback of the login we started: an
/// authorization response (in `mode`, for `flow`) whose state is `state`. Anything else (a
/// stray message, another login's or a replayed state) is not an answer.
pub fn silent_answer(
    data: &str,
    state: &str,
    mode: ResponseMode,
    flow: Flow,
) -> Option<ParsedCallback> {
    parse_callback(data, mode, flow).filter(|c| c.params.state.as_deref() == Some(state))
}

/// The state of the silent check-sso answer was already used.
pub fn state_used() -> Error {
    Error::new(
        ErrorCode::InvalidState,
        "The login state of silent check-sso is unknown or already used.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_check_answers() {
        assert_eq!(cookie_check_answer("supported"), Some(true));
        assert_eq!(cookie_check_answer("unsupported"), Some(false));
        for other in ["", "Supported", "supported ", "unchanged", "true"] {
            assert_eq!(cookie_check_answer(other), None, "{other:?}");
        }
    }

    #[test]
    fn the_cookie_check_runs_only_when_an_iframe_needs_cookies() {
        assert!(needs_cookie_check(true, false, true));
        assert!(needs_cookie_check(false, true, true));
        assert!(needs_cookie_check(true, true, true));
        assert!(!needs_cookie_check(false, false, true));
        assert!(
            !needs_cookie_check(true, true, false),
            "no page: generic OIDC"
        );
    }

    #[test]
    fn the_warning_says_what_happens_instead() {
        let plain = blocked_cookies_warning(false, true);
        assert!(plain.starts_with("Third-party cookies are blocked"));
        assert!(plain.contains("session iframe is off"));
        assert!(!plain.contains("check-sso"));
        assert!(blocked_cookies_warning(true, true).contains("full-page redirect"));
        let skipped = blocked_cookies_warning(true, false);
        assert!(skipped.contains("check-sso is skipped"));
        assert!(skipped.contains("silentCheckSsoFallback is false"));
        assert!(skipped.ends_with("#_modern_browsers"));
    }

    #[test]
    fn blocked_cookies_turn_the_iframes_off_as_configured() {
        let silent = || InitOptions {
            silent_check_sso_redirect_uri: Some("http://app/silent.html".into()),
            ..InitOptions::default()
        };
        let mut with_fallback = silent();
        let warning = apply_blocked_cookies(&mut with_fallback);
        assert!(!with_fallback.check_login_iframe);
        assert_eq!(with_fallback.silent_check_sso_redirect_uri, None);
        assert!(warning.contains("full-page redirect"));

        let mut without = InitOptions {
            silent_check_sso_fallback: false,
            ..silent()
        };
        let warning = apply_blocked_cookies(&mut without);
        assert!(!without.check_login_iframe);
        assert!(without.silent_check_sso_redirect_uri.is_some());
        assert!(warning.contains("skipped"));
        assert_eq!(
            check_sso_plan(None, true, true),
            CheckSso::Done,
            "then check-sso is skipped"
        );

        let mut plain = InitOptions::default();
        assert!(!apply_blocked_cookies(&mut plain).contains("check-sso"));
        assert!(!plain.check_login_iframe);
    }

    #[test]
    fn check_sso_follows_keycloak_js_and_the_cookie_consequences() {
        use CheckSso::*;
        // (session iframe's answer, silent URI set, cookies blocked) → plan
        let table = [
            (Some(true), true, false, Done),
            (Some(true), false, false, Done),
            (Some(false), true, false, SilentIframe),
            (Some(false), false, false, Redirect),
            (None, true, false, SilentIframe),
            (None, false, false, Redirect),
            // Blocked with the fallback on: the URI was unset, so a redirect.
            (None, false, true, Redirect),
            // Blocked without the fallback: silent check-sso would fail, so it is skipped.
            (None, true, true, Done),
        ];
        for (unchanged, silent, blocked, plan) in table {
            assert_eq!(
                check_sso_plan(unchanged, silent, blocked),
                plan,
                "{unchanged:?} {silent} {blocked}"
            );
        }
    }

    #[test]
    fn session_answers_and_question() {
        assert_eq!(
            SessionStatus::parse("unchanged"),
            Some(SessionStatus::Unchanged)
        );
        assert_eq!(
            SessionStatus::parse("changed"),
            Some(SessionStatus::Changed)
        );
        assert_eq!(SessionStatus::parse("error"), Some(SessionStatus::Error));
        for other in ["", "Changed", "supported", "unchanged\n"] {
            assert_eq!(SessionStatus::parse(other), None, "{other:?}");
        }
        assert_eq!(session_question("demo-app", Some("abc")), "demo-app abc");
        assert_eq!(session_question("demo-app", None), "demo-app ");
    }

    #[test]
    fn errors_name_what_did_not_answer() {
        let e = no_answer(COOKIE_CHECK);
        assert_eq!(e.code, ErrorCode::Timeout);
        assert_eq!(
            e.message,
            "Timeout when waiting for 3rd party check iframe message."
        );
        assert_eq!(
            no_answer(SESSION_IFRAME).message,
            "Timeout when waiting for the session iframe's answer."
        );
        assert_eq!(
            no_answer(SESSION_IFRAME_LOAD).message,
            "Timeout when waiting for the session iframe to load."
        );
        assert!(no_answer(SILENT_CHECK_SSO)
            .message
            .contains("silent check-sso"));
        assert_eq!(session_error().message, "Error while checking login iframe");
        assert_eq!(state_used().code, ErrorCode::InvalidState);
    }

    #[test]
    fn login_state_is_read_from_the_query() {
        let url = "https://sso/realms/r/protocol/openid-connect/auth?client_id=a&redirect_uri=https%3A%2F%2Fapp%2F%3Fstate%3Dx&state=1f2e-3d&prompt=none";
        assert_eq!(login_state(url).as_deref(), Some("1f2e-3d"));
        assert_eq!(
            login_state("https://sso/auth?a=b&state=x%2By#state=z").as_deref(),
            Some("x+y")
        );
        assert_eq!(login_state("https://sso/auth?a=b#state=z"), None);
        assert_eq!(login_state("https://sso/auth"), None);
    }

    #[test]
    fn only_the_callback_of_our_state_answers_silent_check_sso() {
        let (mode, flow) = (ResponseMode::Fragment, Flow::Standard);
        let ours = "http://localhost/silent.html#state=s1&session_state=x&code=c1";
        let answer = silent_answer(ours, "s1", mode, flow).unwrap();
        assert_eq!(answer.params.code.as_deref(), Some("c1"));
        let error = "http://localhost/silent.html#error=login_required&state=s1";
        assert_eq!(
            silent_answer(error, "s1", mode, flow)
                .unwrap()
                .params
                .error
                .as_deref(),
            Some("login_required")
        );
        assert!(
            silent_answer(ours, "s2", mode, flow).is_none(),
            "another state"
        );
        assert!(silent_answer("http://localhost/silent.html#code=c1", "s1", mode, flow).is_none());
        assert!(silent_answer("changed", "s1", mode, flow).is_none());
        assert!(silent_answer("", "s1", mode, flow).is_none());
        let query = "http://localhost/silent.html?state=s1&code=c1";
        assert!(
            silent_answer(query, "s1", mode, flow).is_none(),
            "wrong mode"
        );
        assert!(silent_answer(query, "s1", ResponseMode::Query, flow).is_some());
    }
}
