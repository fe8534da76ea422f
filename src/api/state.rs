//! The engine's state and the public properties that mirror it.
//!
//! One `Rc<Engine>` per `Keycloak` instance: the host (the JavaScript object) sits outside the
//! `RefCell`, so callbacks can be fired without holding a borrow, and the state inside is only
//! borrowed for short, synchronous stretches, never across an `.await` or a call into
//! application code.

use crate::prelude::*;

use alloc::rc::{Rc, Weak};
use core::cell::{OnceCell, RefCell};

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::JsValue;

use super::convert::to_js;
use super::host::Host;
use crate::core::config::{Config, ConfigSource};
use crate::core::error::{Error, ErrorCode};
use crate::core::options::InitOptions;
use crate::core::token::{ParsedToken, TokenSet};
use crate::web::storage::CallbackStore;
use crate::web::timers::{Timeout, MAX_DELAY_MS};

/// Where the instance is in its life.
pub enum Phase {
    /// Constructed; `init()` has not loaded the configuration yet.
    Configuring(ConfigSource),
    /// The configuration is loaded: the adapter is usable.
    Ready(Config),
}

pub struct State {
    pub phase: Phase,
    pub init: InitOptions,
    /// A custom `adapter` object given to `init()`.
    pub adapter: Option<Object>,
    pub tokens: TokenSet,
    /// The refresh in flight, shared by every concurrent `updateToken` caller.
    pub refreshing: Option<Promise>,
    /// Fires `onTokenExpired` when the access token expires; replaced with every token.
    pub expiry: Option<Timeout>,
}

pub struct Engine {
    pub host: Host,
    pub state: RefCell<State>,
    /// The callback store, opened on first use.
    store: OnceCell<CallbackStore>,
    /// The wrapper's `endSockets` for this instance: closes its live-event sockets for good.
    end_sockets: js_sys::Function,
    /// The hidden iframes: the session iframe and its periodic check.
    pub iframes: RefCell<super::iframes::Iframes>,
    /// The wrapper's helper for the other tabs (`BroadcastChannel` and Web Locks).
    pub tabs_helper: JsValue,
    /// The channel to the other tabs of the origin, once the configuration is loaded.
    pub tabs: RefCell<Option<crate::web::tabs::Channel>>,
    /// Wakes a refresh that waits for the tokens of another tab's refresh.
    pub shared_waiter: RefCell<Option<js_sys::Function>>,
}

/// A boxed future of the engine. Boxing the futures that are awaited from several places
/// keeps one copy of their state machine in the binary instead of one per caller.
pub type Job<T> = core::pin::Pin<Box<dyn core::future::Future<Output = Result<T, JsValue>>>>;

pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

pub fn not_initialized() -> Error {
    Error::new(
        ErrorCode::NotSupported,
        "The 'Keycloak' instance is not initialized: call init() first.",
    )
}

impl Engine {
    pub fn new(
        host: Host,
        source: ConfigSource,
        tabs_helper: JsValue,
        end_sockets: js_sys::Function,
    ) -> Rc<Engine> {
        Rc::new(Engine {
            host,
            state: RefCell::new(State {
                phase: Phase::Configuring(source),
                init: InitOptions::default(),
                adapter: None,
                tokens: TokenSet::new(None),
                refreshing: None,
                expiry: None,
            }),
            store: OnceCell::new(),
            end_sockets,
            iframes: RefCell::default(),
            tabs_helper,
            tabs: RefCell::default(),
            shared_waiter: RefCell::default(),
        })
    }

    /// Logs to the console when `enableLogging` is on.
    pub fn log(&self, warn: bool, message: &str) {
        if self.state.borrow().init.enable_logging {
            self.host.log(warn, message);
        }
    }

    /// Closes every live-event socket for good: the user logged out or the tokens were cleared.
    pub fn end_sockets(&self) {
        if let Err(thrown) = self.end_sockets.call0(&JsValue::UNDEFINED) {
            let _ = super::host::report_error(&thrown);
        }
    }

    pub fn err(&self, err: &Error) -> JsValue {
        self.host.error(err)
    }

    pub fn store(&self) -> &CallbackStore {
        self.store.get_or_init(CallbackStore::open)
    }

    /// Runs `f` on the loaded configuration.
    pub fn with_config<T>(
        &self,
        f: impl FnOnce(&Config, &State) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let state = self.state.borrow();
        match &state.phase {
            Phase::Ready(config) => f(config, &state),
            Phase::Configuring(_) => Err(not_initialized()),
        }
    }

    /// The custom adapter, if `init()` was given one.
    pub fn adapter(&self) -> Option<Object> {
        self.state.borrow().adapter.clone()
    }

    /// Sets (or, with all None, clears) the tokens as keycloak-js's `setToken` does, publishes
    /// them and re-arms the expiry timer. `request_ms` is the start and end of the request that
    /// brought them, for the time skew.
    pub fn set_tokens(
        self: &Rc<Self>,
        token: Option<&str>,
        refresh_token: Option<&str>,
        id_token: Option<&str>,
        request_ms: Option<(f64, f64)>,
    ) -> Result<(), Error> {
        let mut state = self.state.borrow_mut();
        state.expiry = None;
        let result = state.tokens.set(token, refresh_token, id_token, request_ms);
        if result.is_err() {
            state.tokens.clear();
        }
        drop(state);
        self.publish_tokens();
        self.arm_expiry();
        result
    }

    /// (Re-)arms the timer that fires `onTokenExpired` at the access token's expiry, as the
    /// current time skew puts it. The timer runs whatever onTokenExpired holds when it fires, so
    /// the callback works whenever the application assigns it. Beyond setTimeout's range it is
    /// not armed.
    fn arm_expiry(self: &Rc<Self>) {
        let delay = {
            let mut state = self.state.borrow_mut();
            state.expiry = None;
            state.tokens.expiry_delay_ms(now_ms())
        };
        if let Some(delay) = delay.filter(|d| *d < MAX_DELAY_MS) {
            let engine: Weak<Engine> = Rc::downgrade(self);
            let timer = Timeout::new(delay, move || {
                if let Some(engine) = engine.upgrade() {
                    engine.host.fire("onTokenExpired", &[]);
                }
            });
            self.state.borrow_mut().expiry = Some(timer);
        }
    }

    /// The `timeSkew` property, in seconds; None is `null`.
    pub fn time_skew(&self) -> Option<f64> {
        self.state.borrow().tokens.time_skew
    }

    /// The application assigned `timeSkew`: every later computation uses it, and the expiry
    /// timer is set again by it.
    pub fn set_time_skew(self: &Rc<Self>, time_skew: Option<f64>) {
        self.state.borrow_mut().tokens.assign_time_skew(time_skew);
        self.arm_expiry();
    }

    /// keycloak-js's `clearToken()`: drops the tokens; if there were any, `onAuthLogout`, and
    /// with `onLoad: 'login-required'` a new login.
    pub fn clear_token(self: &Rc<Self>) {
        let had_token = self.state.borrow().tokens.authenticated();
        if !had_token {
            return;
        }
        let _ = self.set_tokens(None, None, None, None);
        self.end_sockets();
        self.stop_session_check();
        self.host.fire("onAuthLogout", &[]);
        if self.state.borrow().init.login_required() {
            let engine = self.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = engine
                    .login(crate::core::json::Value::Null, JsValue::UNDEFINED)
                    .await;
            });
        }
    }

    /// Writes the token properties onto the host.
    fn publish_tokens(&self) {
        let str_value = |t: Option<&str>| t.map(JsValue::from_str);
        let parsed = |t: Option<&ParsedToken>| t.map(|t| to_js(t.claims()));
        // The values are read under the borrow and written after it: a property setter is
        // application code, which may call back into the adapter.
        let (values, token_parsed) = {
            let state = self.state.borrow();
            let tokens = &state.tokens;
            let token_parsed = parsed(tokens.token.as_ref());
            let values = [
                (
                    "refreshToken",
                    str_value(tokens.refresh_token.as_ref().map(ParsedToken::raw)),
                ),
                ("refreshTokenParsed", parsed(tokens.refresh_token.as_ref())),
                (
                    "idToken",
                    str_value(tokens.id_token.as_ref().map(ParsedToken::raw)),
                ),
                ("idTokenParsed", parsed(tokens.id_token.as_ref())),
                (
                    "token",
                    str_value(tokens.token.as_ref().map(ParsedToken::raw)),
                ),
                ("tokenParsed", token_parsed.clone()),
                ("sessionId", str_value(tokens.session_id.as_deref())),
                (
                    "authenticated",
                    Some(JsValue::from_bool(tokens.authenticated())),
                ),
            ];
            (values, token_parsed)
        };
        for (name, value) in &values {
            self.host.set_opt(name, value.as_ref());
        }
        // subject, realmAccess and resourceAccess are the very values inside tokenParsed, as in
        // keycloak-js.
        for (name, claim) in [
            ("subject", "sub"),
            ("realmAccess", "realm_access"),
            ("resourceAccess", "resource_access"),
        ] {
            let value = token_parsed
                .as_ref()
                .and_then(|p| Reflect::get(p, &JsValue::from_str(claim)).ok())
                .filter(|v| !v.is_undefined());
            self.host.set_opt(name, value.as_ref());
        }
    }
}
