//! `init()`: options, configuration, the callback of a returning login, and `onLoad`.
//!
//! The three iframes of keycloak-js (the third-party-cookie check, the session iframe and
//! silent check-sso) are reached through the hooks in `iframes`.

use crate::prelude::*;

use alloc::rc::Rc;
use core::future::pending;

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::convert::to_value;
use super::http::fetch_json;
use super::state::{now_ms, Engine, Phase};
use crate::core::callback::{self, CallbackAction, CallbackParams, CallbackRecord};
use crate::core::options::{Flow, InitOptions, OnLoad};
use crate::core::token::{authorization_code_body, parse_token_response};
use crate::core::urls::{init_login_options, login_after_failed_exchange};
use crate::web::navigation;

impl Engine {
    /// `init(options)`: resolves whether the user is authenticated, after `onReady`.
    pub async fn init(self: Rc<Self>, raw: JsValue) -> Result<bool, JsValue> {
        let options = to_value(&raw).and_then(|v| InitOptions::from_value(&v))?;
        let adapter = if options.custom_adapter {
            Reflect::get(&raw, &JsValue::from_str("adapter"))
                .ok()
                .and_then(|a| a.dyn_into::<Object>().ok())
        } else {
            None
        };
        self.publish_options(&options);
        {
            let mut state = self.state.borrow_mut();
            // Without the option, a skew the application assigned before init() stays.
            if options.time_skew.is_some() {
                state.tokens.assign_time_skew(options.time_skew);
            }
            state.init = options;
            state.adapter = adapter;
        }
        self.load_config().await?;
        self.check_third_party_cookies().await?;
        self.process_init().await?;
        let authenticated = self.state.borrow().tokens.authenticated();
        self.host
            .fire("onReady", &[JsValue::from_bool(authenticated)]);
        Ok(authenticated)
    }

    /// The option properties keycloak-js sets during `init()`.
    fn publish_options(&self, o: &InitOptions) {
        let host = &self.host;
        host.set_bool("loginRequired", o.login_required());
        host.set("responseMode", &o.response_mode.as_str().into());
        host.set("flow", &o.flow.as_str().into());
        host.set("responseType", &o.flow.response_type().into());
        if let Some(uri) = &o.redirect_uri {
            host.set("redirectUri", &uri.into());
        }
        if let Some(uri) = &o.silent_check_sso_redirect_uri {
            host.set("silentCheckSsoRedirectUri", &uri.into());
        }
        host.set_bool("silentCheckSsoFallback", o.silent_check_sso_fallback);
        host.set(
            "pkceMethod",
            &if o.pkce {
                JsValue::from_str("S256")
            } else {
                JsValue::FALSE
            },
        );
        host.set_bool("enableLogging", o.enable_logging);
        host.set("logoutMethod", &o.logout_method.as_str().into());
        if let Some(scope) = &o.scope {
            host.set("scope", &scope.into());
        }
        host.set("messageReceiveTimeout", &o.message_receive_timeout.into());
    }

    /// Fetches what the constructor's configuration names (a keycloak.json, the OpenID
    /// provider metadata) and resolves the endpoints.
    async fn load_config(self: &Rc<Self>) -> Result<(), JsValue> {
        let (fetch_url, timeout) = {
            let state = self.state.borrow();
            let Phase::Configuring(source) = &state.phase else {
                return Ok(());
            };
            (source.fetch_url(), state.init.message_receive_timeout)
        };
        let fetched = match fetch_url {
            Some(url) => Some(fetch_json(url, None, timeout).await?),
            None => None,
        };
        let (auth_server_url, realm, client_id) = {
            let mut state = self.state.borrow_mut();
            let Phase::Configuring(source) = &state.phase else {
                return Ok(());
            };
            let config = source.resolve(fetched.as_ref())?;
            let published = (
                config.auth_server_url.clone(),
                config.realm.clone(),
                config.client_id.clone(),
            );
            state.phase = Phase::Ready(config);
            published
        };
        self.open_tabs();
        let host = &self.host;
        host.set_str("authServerUrl", auth_server_url.as_deref());
        host.set_str("realm", realm.as_deref());
        host.set("clientId", &client_id.into());
        Ok(())
    }

    async fn process_init(self: &Rc<Self>) -> Result<(), JsValue> {
        let (mode, flow) = {
            let state = self.state.borrow();
            (state.init.response_mode, state.init.flow)
        };
        let href = navigation::href().unwrap_or_default();
        if let Some(parsed) = callback::parse_callback(&href, mode, flow) {
            let record = parsed
                .params
                .state
                .as_deref()
                .and_then(|state| self.take_record(state));
            // The response leaves the address bar either way; a login that kept the app's
            // fragment aside gets it back.
            let shown = callback::restore_app_fragment(
                &parsed.new_url,
                record.as_ref().and_then(|r| r.app_fragment.as_deref()),
            );
            let _ = navigation::replace_state(&shown);
            if let Some(record) = record {
                return self.process_callback(parsed.params, record).await;
            }
        }

        let (initial, on_load) = {
            let state = self.state.borrow();
            let initial = state
                .init
                .initial_tokens()
                .map(|(t, r, i)| (t.to_owned(), r.to_owned(), i.map(str::to_owned)));
            (initial, state.init.on_load)
        };
        if let Some((token, refresh_token, id_token)) = initial {
            self.set_tokens(
                Some(&token),
                Some(&refresh_token),
                id_token.as_deref(),
                None,
            )?;
            // With the session iframe, its answer decides; without it, a refresh checks the
            // tokens.
            if let Some(unchanged) = self.check_session().await? {
                if unchanged {
                    self.host.fire("onAuthSuccess", &[]);
                    self.schedule_session_check();
                }
                return Ok(());
            }
            match self.update_token(Some(-1.0)).await {
                Ok(_) => self.host.fire("onAuthSuccess", &[]),
                Err(error) => {
                    self.host.fire("onAuthError", &[]);
                    match on_load {
                        Some(on_load) => self.on_load(on_load).await?,
                        None => return Err(error),
                    }
                }
            }
        } else if let Some(on_load) = on_load {
            self.on_load(on_load).await?;
        }
        Ok(())
    }

    async fn on_load(self: &Rc<Self>, on_load: OnLoad) -> Result<(), JsValue> {
        if on_load == OnLoad::CheckSso {
            // An unchanged session (none, or the one we have) needs no login; else silent
            // check-sso, else the full-page prompt=none redirect.
            if self.check_session().await? == Some(true) || self.check_sso_silently().await? {
                return Ok(());
            }
        }
        let options = {
            let state = self.state.borrow();
            init_login_options(&state.init, on_load == OnLoad::CheckSso)
        };
        self.login(options, JsValue::UNDEFINED).await?;
        Ok(())
    }

    /// The stored login of `state`, taken out of storage. A state is usable once, and only
    /// before it expires; an unknown, replayed or forged state finds nothing.
    pub(super) fn take_record(&self, state: &str) -> Option<CallbackRecord> {
        let now = now_ms();
        let stored = self
            .store()
            .take(state, |value| !callback::is_stale_entry(value, now))?;
        CallbackRecord::take(&stored, state, now).ok()
    }

    /// keycloak-js's `processCallback`, for a response whose state matched a stored record.
    pub(super) async fn process_callback(
        self: &Rc<Self>,
        params: CallbackParams,
        record: CallbackRecord,
    ) -> Result<(), JsValue> {
        let started = now_ms();
        if let Some(status) = &params.kc_action_status {
            let action = params
                .kc_action
                .as_deref()
                .map_or(JsValue::UNDEFINED, JsValue::from_str);
            self.host
                .fire("onActionUpdate", &[JsValue::from_str(status), action]);
        }
        let (flow, issuer, issuer_required, use_nonce) = {
            let state = self.state.borrow();
            let (issuer, required) = match &state.phase {
                Phase::Ready(config) => (
                    config.endpoints.issuer().map(str::to_owned),
                    config.endpoints.issuer_required(),
                ),
                Phase::Configuring(_) => (None, false),
            };
            (state.init.flow, issuer, required, state.init.use_nonce)
        };
        match callback::plan_callback(&params, &record, flow, issuer.as_deref(), issuer_required) {
            CallbackAction::Unauthenticated => Ok(()),
            CallbackAction::LoginAgain(options) => {
                self.login(options, JsValue::UNDEFINED).await?;
                pending().await
            }
            CallbackAction::Fail(error) => {
                let error = self.err(&error);
                self.host.fire("onAuthError", core::slice::from_ref(&error));
                Err(error)
            }
            CallbackAction::Tokens { implicit, code } => {
                if let Some(tokens) = implicit {
                    self.auth_success(
                        tokens.access_token.as_deref(),
                        None,
                        tokens.id_token.as_deref(),
                        (started, now_ms()),
                        use_nonce,
                        &record.nonce,
                    )?;
                    self.host.fire("onAuthSuccess", &[]);
                }
                if let Some(code) = code {
                    let exchanged = self.exchange_code(&code, &record, started, use_nonce).await;
                    if let Err(error) = exchanged {
                        self.host.fire("onAuthError", core::slice::from_ref(&error));
                        let again = login_after_failed_exchange(&self.state.borrow().init);
                        if let Some(options) = again {
                            self.login(options, JsValue::UNDEFINED).await?;
                            return pending().await;
                        }
                        return Err(error);
                    }
                    if flow == Flow::Standard {
                        self.host.fire("onAuthSuccess", &[]);
                    }
                    self.schedule_session_check();
                }
                Ok(())
            }
        }
    }

    /// Sets the tokens of a login and checks the ID token's nonce; a mismatch clears them.
    fn auth_success(
        self: &Rc<Self>,
        token: Option<&str>,
        refresh_token: Option<&str>,
        id_token: Option<&str>,
        request_ms: (f64, f64),
        use_nonce: bool,
        stored_nonce: &str,
    ) -> Result<(), JsValue> {
        self.set_tokens(token, refresh_token, id_token, Some(request_ms))?;
        let checked = {
            let state = self.state.borrow();
            let claims = state.tokens.id_token.as_ref().map(|t| t.claims());
            callback::check_nonce(use_nonce, claims, stored_nonce)
        };
        if let Err(error) = checked {
            self.log(false, "Invalid nonce, clearing token");
            self.clear_token();
            return Err(self.err(&error));
        }
        Ok(())
    }

    /// The code exchange at the token endpoint, with the redirect URI and PKCE verifier of the
    /// stored login.
    async fn exchange_code(
        self: &Rc<Self>,
        code: &str,
        record: &CallbackRecord,
        started: f64,
        use_nonce: bool,
    ) -> Result<(), JsValue> {
        let (url, body, timeout) = self.with_config(|config, state| {
            Ok((
                config.endpoints.token()?.to_owned(),
                authorization_code_body(
                    code,
                    &config.client_id,
                    &record.redirect_uri,
                    record.pkce_code_verifier.as_deref(),
                ),
                state.init.message_receive_timeout,
            ))
        })?;
        let reply = super::http::post_token(url, body, timeout).await?;
        let response = parse_token_response(reply.status, &reply.body)
            .map_err(|e| self.host.error_with(&e, Some(&reply.response)))?;
        self.auth_success(
            Some(&response.access_token),
            response.refresh_token.as_deref(),
            response.id_token.as_deref(),
            (started, now_ms()),
            use_nonce,
            &record.nonce,
        )
    }
}
