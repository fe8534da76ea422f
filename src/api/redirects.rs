//! Leaving the page: login, registration, logout and the account console, and the URLs they
//! go to. With a custom `adapter` given to `init()`, the navigation is the adapter's, as in
//! keycloak-js.

use crate::prelude::*;

use alloc::rc::Rc;
use core::future::pending;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::convert::to_value;
use super::state::{now_ms, Engine, Job};
use crate::core::callback::is_stale_entry;
use crate::core::error::{Error, ErrorCode};
use crate::core::json::Value;
use crate::core::options::{AccountOptions, LoginOptions, LogoutMethod, LogoutOptions};
use crate::core::pkce::VERIFIER_RANDOM_BYTES;
use crate::core::urls::{self, LoginSecrets};
use crate::web::{navigation, random};

/// Calls `adapter[name](arg)`.
/// Calls `adapter[name](arg)`; a missing method is a KeycloakError, an exception of the method
/// passes through as it is (it is the application's).
fn call_adapter(
    engine: &Engine,
    adapter: &Object,
    name: &str,
    arg: &JsValue,
) -> Result<JsValue, JsValue> {
    let method = Reflect::get(adapter, &JsValue::from_str(name))
        .ok()
        .and_then(|m| m.dyn_into::<Function>().ok())
        .ok_or_else(|| {
            let mut message = String::from("The custom adapter has no '");
            message.push_str(name);
            message.push_str("' function.");
            engine.err(&Error::new(ErrorCode::InvalidOption, message))
        })?;
    method.call1(adapter, arg)
}

/// Awaits what a custom adapter's method returned (a promise or a plain value).
async fn settle(value: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::resolve(&value)).await
}

fn draw_secrets() -> Result<LoginSecrets, Error> {
    // A shortfall of usable bytes for the verifier is practically impossible; draw again if so.
    for _ in 0..4 {
        let state = random::bytes::<16>()?;
        let nonce = random::bytes::<16>()?;
        let verifier = random::bytes::<VERIFIER_RANDOM_BYTES>()?;
        if let Some(secrets) = LoginSecrets::from_random(&state, &nonce, &verifier) {
            return Ok(secrets);
        }
    }
    Err(Error::new(
        ErrorCode::NotSupported,
        "Not enough randomness for the PKCE verifier.",
    ))
}

/// A logout: a GET to the end-session URL with its parameters, or a POST of form fields to the
/// bare endpoint (absent fields left out).
enum LogoutRequest {
    Get(String),
    Post {
        action: String,
        fields: Vec<(&'static str, String)>,
    },
}

fn current_url() -> String {
    navigation::href().unwrap_or_default()
}

impl Engine {
    /// keycloak-js's `adapter.redirectUri(options)`: the option, else `init()`'s, else the
    /// page; a custom adapter decides itself.
    fn redirect_uri(&self, raw: &JsValue, option: Option<&str>) -> Result<String, JsValue> {
        if let Some(adapter) = self.adapter() {
            let uri = call_adapter(self, &adapter, "redirectUri", raw)?;
            return Ok(uri.as_string().unwrap_or_default());
        }
        let state = self.state.borrow();
        let href = current_url();
        Ok(urls::pick_redirect_uri(option, state.init.redirect_uri.as_deref(), &href).to_owned())
    }

    /// `createLoginUrl(options)`: the authorization URL; its login state is stored for the
    /// callback.
    pub fn create_login_url(&self, options: &Value, raw: &JsValue) -> Result<String, JsValue> {
        let login = LoginOptions::from_value(options)?;
        let secrets = draw_secrets()?;
        let now = now_ms();
        // A custom adapter's redirect URI is final: as the option, it wins over the others.
        let adapter_uri = match self.adapter() {
            Some(_) => Some(self.redirect_uri(raw, None)?),
            None => None,
        };
        let mut login = login;
        if adapter_uri.is_some() {
            login.redirect_uri = adapter_uri.as_deref();
        }
        let href = current_url();
        let request = self.with_config(|config, state| {
            urls::prepare_login(config, &state.init, &href, &login, options, &secrets, now)
        })?;
        self.store().add(&secrets.state, &request.record, |value| {
            !is_stale_entry(value, now)
        })?;
        Ok(request.url)
    }

    /// `login(options)`: goes to the login page; the promise settles only if that fails.
    pub fn login(self: &Rc<Self>, options: Value, raw: JsValue) -> Job<JsValue> {
        let engine = self.clone();
        Box::pin(async move {
            if let Some(adapter) = engine.adapter() {
                let raw = if raw.is_undefined() {
                    super::convert::to_js(&options)
                } else {
                    raw
                };
                return settle(call_adapter(&engine, &adapter, "login", &raw)?).await;
            }
            let url = engine.create_login_url(&options, &raw)?;
            navigation::assign(&url)?;
            pending().await
        })
    }

    /// `register(options)`: `login` on the registration page.
    pub async fn register(self: &Rc<Self>, raw: JsValue) -> Result<JsValue, JsValue> {
        if let Some(adapter) = self.adapter() {
            return settle(call_adapter(self, &adapter, "register", &raw)?).await;
        }
        let options = crate::core::options::register_options(&to_value(&raw)?);
        let url = self.create_login_url(&options, &raw)?;
        navigation::assign(&url)?;
        pending().await
    }

    /// What a logout sends.
    fn logout_request(&self, raw: &JsValue) -> Result<LogoutRequest, JsValue> {
        let value = to_value(raw)?;
        let options = LogoutOptions::from_value(&value)?;
        let redirect = self.redirect_uri(raw, options.redirect_uri)?;
        self.with_config(|config, state| {
            let endpoint = config.endpoints.logout()?;
            let id_token = state.tokens.id_token.as_ref().map(|t| t.raw());
            Ok(
                match options.logout_method.unwrap_or(state.init.logout_method) {
                    LogoutMethod::Get => LogoutRequest::Get(urls::logout_url(
                        endpoint,
                        &config.client_id,
                        &redirect,
                        id_token,
                    )),
                    LogoutMethod::Post => LogoutRequest::Post {
                        action: endpoint.to_owned(),
                        fields: urls::logout_form_fields(&config.client_id, &redirect, id_token),
                    },
                },
            )
        })
        .map_err(JsValue::from)
    }

    /// `createLogoutUrl(options)`: for GET the end-session URL with its parameters, for POST
    /// the bare endpoint.
    pub fn create_logout_url(&self, raw: &JsValue) -> Result<String, JsValue> {
        Ok(match self.logout_request(raw)? {
            LogoutRequest::Get(url) => url,
            LogoutRequest::Post { action, .. } => action,
        })
    }

    /// `logout(options)`: a GET redirect or a POSTed form to the end-session endpoint.
    pub async fn logout(self: &Rc<Self>, raw: JsValue) -> Result<JsValue, JsValue> {
        self.end_sockets();
        self.stop_session_check();
        if let Some(adapter) = self.adapter() {
            return settle(call_adapter(self, &adapter, "logout", &raw)?).await;
        }
        let request = self.logout_request(&raw)?;
        self.share_logout();
        let result = match request {
            LogoutRequest::Get(url) => navigation::replace(&url),
            LogoutRequest::Post { action, fields } => {
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(name, value)| (*name, value.as_str()))
                    .collect();
                navigation::post_form(&action, &fields)
            }
        };
        result?;
        Ok(JsValue::UNDEFINED)
    }

    /// `createAccountUrl(options)`: the account console (Keycloak only).
    pub fn create_account_url(&self, raw: &JsValue) -> Result<String, JsValue> {
        let value = to_value(raw)?;
        let options = AccountOptions::from_value(&value)?;
        let redirect = self.redirect_uri(raw, options.redirect_uri)?;
        self.with_config(|config, _| {
            urls::account_url(config.endpoints.realm_url(), &config.client_id, &redirect)
        })
        .map_err(JsValue::from)
    }

    /// `accountManagement()`: goes to the account console.
    pub async fn account_management(self: &Rc<Self>) -> Result<JsValue, JsValue> {
        if let Some(adapter) = self.adapter() {
            return settle(call_adapter(
                self,
                &adapter,
                "accountManagement",
                &JsValue::UNDEFINED,
            )?)
            .await;
        }
        let url = self.create_account_url(&JsValue::UNDEFINED)?;
        navigation::assign(&url)?;
        pending().await
    }
}
