//! keycloak-js's three hidden iframes: the third-party-cookie check, the session (login-status)
//! iframe and silent check-sso. Unlike keycloak-js, every wait (an iframe's load, its answer) is
//! bounded by `messageReceiveTimeout` and ends in a typed timeout error naming what did not
//! answer; answers count only from the expected window and origin; and the iframes and
//! listeners are removed however a wait ends. What the answers mean is `core::iframe`.

use crate::prelude::*;

use alloc::rc::{Rc, Weak};

use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::convert::to_js;
use super::state::{Engine, Phase};
use crate::core::error::Error;
use crate::core::iframe::{self as protocol, CheckSso, SessionStatus};
use crate::core::urls::silent_check_sso_options;
use crate::web::iframe::{origin_of, EventWait, HiddenIframe};
use crate::web::navigation;
use crate::web::page::{self, Listeners};
use crate::web::timers::Timeout;

/// The iframes' part of the engine (in a cell of its own, next to the state).
#[derive(Default)]
pub struct Iframes {
    /// The loaded session iframe and the origin its answers must come from.
    session: Option<Rc<(HiddenIframe, String)>>,
    /// The session check in flight, shared by concurrent callers.
    checking: Option<Promise>,
    /// The next periodic session check.
    next_check: Option<Timeout>,
    /// While the periodic check runs: a check when the page becomes visible again.
    on_visible: Option<Listeners>,
    /// The third-party-cookie check found the cookies blocked.
    cookies_blocked: bool,
}

impl Engine {
    /// keycloak-js's `check3pCookiesSupported`, run once in `init()` when an iframe would need
    /// the server's cookies. Blocked cookies turn the session iframe off and, with
    /// `silentCheckSsoFallback`, silent check-sso into the redirect; a warning says so.
    pub async fn check_third_party_cookies(&self) -> Result<(), JsValue> {
        let (url, timeout) = {
            let state = self.state.borrow();
            let (Phase::Ready(config), init) = (&state.phase, &state.init) else {
                return Ok(());
            };
            let url = config.endpoints.third_party_cookies_iframe();
            if !protocol::needs_cookie_check(
                init.check_login_iframe,
                init.silent_check_sso_redirect_uri.is_some(),
                url.is_some(),
            ) {
                return Ok(());
            }
            (
                url.unwrap_or_default().to_owned(),
                init.message_receive_timeout,
            )
        };
        let frame =
            HiddenIframe::open(&url, "keycloak-3p-check-iframe").map_err(|e| self.err(&e))?;
        let answer = EventWait::message(frame.window(), origin_of(&url), timeout, |text| {
            protocol::cookie_check_answer(text).is_some()
        })
        .finish()
        .await;
        drop(frame);
        let answer = answer
            .and_then(|a| a.as_string())
            .ok_or_else(|| self.err(&protocol::no_answer(protocol::COOKIE_CHECK)))?;
        if protocol::cookie_check_answer(&answer) == Some(false) {
            let (warning, unset) = {
                let mut state = self.state.borrow_mut();
                let had_uri = state.init.silent_check_sso_redirect_uri.is_some();
                let warning = protocol::apply_blocked_cookies(&mut state.init);
                (
                    warning,
                    had_uri && state.init.silent_check_sso_redirect_uri.is_none(),
                )
            };
            self.iframes.borrow_mut().cookies_blocked = true;
            if unset {
                self.host
                    .set("silentCheckSsoRedirectUri", &JsValue::UNDEFINED);
            }
            // Always shown, not only with enableLogging.
            self.host.log(true, &warning);
        }
        Ok(())
    }

    /// Asks the session iframe (set up on first use) whether the SSO session is unchanged;
    /// concurrent callers share one question. `None`: no session iframe (disabled, or the
    /// provider has none). 'changed' and 'error' clear the tokens, as in keycloak-js; 'error'
    /// and a timeout reject, and remove the iframe (the next check starts afresh).
    pub async fn check_session(self: &Rc<Self>) -> Result<Option<bool>, JsValue> {
        if !self.state.borrow().init.check_login_iframe {
            return Ok(None);
        }
        let in_flight = self.iframes.borrow().checking.clone();
        let shared = match in_flight {
            Some(shared) => shared,
            None => {
                let shared = super::promise(self.clone().ask_session());
                self.iframes.borrow_mut().checking = Some(shared.clone());
                shared
            }
        };
        Ok(JsFuture::from(shared).await?.as_bool())
    }

    async fn ask_session(self: Rc<Self>) -> Result<JsValue, JsValue> {
        let status = self.session_status().await;
        let mut iframes = self.iframes.borrow_mut();
        iframes.checking = None;
        if !matches!(status, Ok(None | Some(SessionStatus::Unchanged))) {
            iframes.session = None;
        }
        drop(iframes);
        match status.map_err(|e| self.err(&e))? {
            None => {
                // The provider has no session iframe: the periodic check has nothing to do.
                self.state.borrow_mut().init.check_login_iframe = false;
                Ok(JsValue::UNDEFINED)
            }
            Some(SessionStatus::Unchanged) => Ok(JsValue::TRUE),
            Some(changed_or_error) => {
                self.clear_token();
                if changed_or_error == SessionStatus::Error {
                    return Err(self.err(&protocol::session_error()));
                }
                Ok(JsValue::FALSE)
            }
        }
    }

    async fn session_status(&self) -> Result<Option<SessionStatus>, Error> {
        let (url, question, timeout) = {
            let state = self.state.borrow();
            let Phase::Ready(config) = &state.phase else {
                return Ok(None);
            };
            let Ok(url) = config.endpoints.check_session_iframe() else {
                return Ok(None);
            };
            (
                url.to_owned(),
                protocol::session_question(&config.client_id, state.tokens.session_id.as_deref()),
                state.init.message_receive_timeout,
            )
        };
        let loaded = self.iframes.borrow().session.clone();
        let frame = match loaded {
            Some(frame) => frame,
            None => {
                // Held in the state while it loads, so that stopping the check removes it even
                // before the first answer.
                let iframe = HiddenIframe::open(&url, "keycloak-session-iframe")?;
                let load = iframe.loaded(timeout);
                let frame = Rc::new((iframe, origin_of(&url)));
                self.iframes.borrow_mut().session = Some(frame.clone());
                if load.finish().await.is_none() {
                    return Err(protocol::no_answer(protocol::SESSION_IFRAME_LOAD));
                }
                frame
            }
        };
        let (iframe, origin) = &*frame;
        let wait = EventWait::message(iframe.window(), origin.clone(), timeout, |text| {
            SessionStatus::parse(text).is_some()
        });
        iframe.post(&question, origin);
        let answer = wait.finish().await.and_then(|a| a.as_string());
        answer
            .map(|a| SessionStatus::parse(&a))
            .ok_or_else(|| protocol::no_answer(protocol::SESSION_IFRAME))
    }

    /// (Re)arms the periodic session check: every `checkLoginIframeInterval` seconds while
    /// there are tokens, skipped while the page is hidden, and at once when it becomes visible
    /// again. Without tokens or without the session iframe, it stops.
    pub fn schedule_session_check(self: &Rc<Self>) {
        let (on, interval) = {
            let state = self.state.borrow();
            (
                state.init.check_login_iframe && state.tokens.authenticated(),
                state.init.check_login_iframe_interval,
            )
        };
        if !on {
            self.stop_session_check();
            return;
        }
        let engine = Rc::downgrade(self);
        let timer = Timeout::new(interval * 1000.0, move || spawn_local(session_tick(engine)));
        let mut iframes = self.iframes.borrow_mut();
        iframes.next_check = Some(timer);
        if iframes.on_visible.is_none() {
            let engine = Rc::downgrade(self);
            iframes.on_visible = Some(Listeners::new(&["visibilitychange"], move |_| {
                if !page::hidden() {
                    spawn_local(session_tick(engine.clone()));
                }
            }));
        }
    }

    /// Stops the periodic session check and removes the session iframe (on logout and when the
    /// tokens are cleared).
    pub fn stop_session_check(&self) {
        let mut iframes = self.iframes.borrow_mut();
        iframes.next_check = None;
        iframes.on_visible = None;
        // A check in flight still holds the iframe: remove it from the page now.
        if let Some(frame) = iframes.session.take() {
            frame.0.remove();
        }
    }

    /// Silent check-sso, once the session iframe (if any) has not found the session
    /// unchanged. `false`: not done here, and the caller goes on with the full-page
    /// `prompt=none` redirect. The iframe's answer must come from the page's own origin and
    /// that iframe's window, and carry the state of the login started here, which is then
    /// used up; `login_required` leaves the user unauthenticated without an error.
    pub async fn check_sso_silently(self: &Rc<Self>) -> Result<bool, JsValue> {
        let (uri, mode, flow, timeout) = {
            let state = self.state.borrow();
            let init = &state.init;
            (
                init.silent_check_sso_redirect_uri.clone(),
                init.response_mode,
                init.flow,
                init.message_receive_timeout,
            )
        };
        let blocked = self.iframes.borrow().cookies_blocked;
        let uri = match (protocol::check_sso_plan(None, uri.is_some(), blocked), uri) {
            (CheckSso::SilentIframe, Some(uri)) => uri,
            (plan, _) => return Ok(plan == CheckSso::Done),
        };
        let options = silent_check_sso_options(&uri);
        let url = self.create_login_url(&options, &to_js(&options))?;
        let state = protocol::login_state(&url).unwrap_or_default();
        let frame =
            HiddenIframe::open(&url, "keycloak-silent-check-sso").map_err(|e| self.err(&e))?;
        let answer = {
            let state = state.clone();
            EventWait::message(
                frame.window(),
                navigation::origin().unwrap_or_default(),
                timeout,
                move |text| protocol::silent_answer(text, &state, mode, flow).is_some(),
            )
        }
        .finish()
        .await;
        drop(frame);
        let answer = answer
            .and_then(|a| a.as_string())
            .and_then(|a| protocol::silent_answer(&a, &state, mode, flow));
        let Some(answer) = answer else {
            // A late answer must find nothing to use.
            let _ = self.take_record(&state);
            return Err(self.err(&protocol::no_answer(protocol::SILENT_CHECK_SSO)));
        };
        let record = self
            .take_record(&state)
            .ok_or_else(|| self.err(&protocol::state_used()))?;
        self.process_callback(answer.params, record).await?;
        Ok(true)
    }
}

/// One periodic session check. Its failures end here: 'changed' and 'error' have cleared the
/// tokens (so `onAuthLogout` told the app, and the check stops), and after a timeout the next
/// interval tries again.
async fn session_tick(engine: Weak<Engine>) {
    let Some(engine) = engine.upgrade() else {
        return;
    };
    // The check may have stopped since this tick was queued.
    if engine.iframes.borrow().on_visible.is_none() {
        return;
    }
    if page::hidden() {
        engine.log(false, "Session check skipped: the page is hidden");
    } else {
        let _ = engine.check_session().await;
    }
    engine.schedule_session_check();
}
