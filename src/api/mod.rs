//! The `#[wasm_bindgen]` facade driven by the JavaScript wrapper (`js/keycloak.js`).
//!
//! `KeycloakCore` is the engine behind one `Keycloak` instance. The wrapper passes itself as
//! the host: the engine writes the public properties onto it and fires its callbacks. Every
//! method here only converts arguments and results; the work is in the submodules.

use crate::prelude::*;

mod convert;
mod host;
mod http;
mod iframes;
mod init;
mod redirects;
mod state;
mod tabs;
mod tokens;

use alloc::rc::Rc;

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::core::config::ConfigSource;
use host::{ErrorFactory, Host};
use state::Engine;
use tokens::UserDocument;

/// The engine behind one `Keycloak` instance.
#[wasm_bindgen]
pub struct KeycloakCore {
    engine: Rc<Engine>,
}

/// A promise of what `f` yields. Every promise goes through this one boxed path, so the
/// promise glue exists once in the binary.
pub(crate) fn promise(
    f: impl core::future::Future<Output = Result<JsValue, JsValue>> + 'static,
) -> Promise {
    let job: state::Job<JsValue> = Box::pin(f);
    future_to_promise(job)
}

#[wasm_bindgen]
impl KeycloakCore {
    /// `config` is what the constructor was given; `host` the `Keycloak` instance; `make_error`
    /// its error factory; `tabs` its helper for the other tabs of the origin; `end_sockets`
    /// closes the instance's live-event sockets for good.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: JsValue,
        host: Object,
        make_error: ErrorFactory,
        tabs: JsValue,
        end_sockets: js_sys::Function,
    ) -> Result<KeycloakCore, JsValue> {
        let host = Host::new(host, make_error);
        let source = convert::to_value(&config)
            .and_then(|v| ConfigSource::from_value(&v))
            .map_err(|e| host.error(&e))?;
        Ok(KeycloakCore {
            engine: Engine::new(host, source, tabs, end_sockets),
        })
    }

    pub fn init(&self, options: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move { engine.init(options).await.map(JsValue::from_bool) })
    }

    /// One of the `endpoints` functions.
    pub fn endpoint(&self, name: &str) -> Result<JsValue, JsValue> {
        let url = self.engine.with_config(|config, _| {
            let e = &config.endpoints;
            match name {
                "authorize" => e.authorize(),
                "token" => e.token(),
                "logout" => e.logout(),
                "checkSessionIframe" => e.check_session_iframe(),
                "thirdPartyCookiesIframe" => e
                    .third_party_cookies_iframe()
                    .ok_or_else(crate::core::error::Error::not_supported),
                "register" => e.register(),
                _ => e.userinfo(),
            }
            .map(JsValue::from_str)
        })?;
        Ok(url)
    }

    pub fn login(&self, options: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            let value = convert::to_value(&options)?;
            engine.login(value, options).await
        })
    }

    /// The wrapper's `async` method turns the result (or the exception) into its promise.
    #[wasm_bindgen(js_name = createLoginUrl)]
    pub fn create_login_url(&self, options: JsValue) -> Result<JsValue, JsValue> {
        let value = convert::to_value(&options)?;
        let url = self.engine.create_login_url(&value, &options)?;
        Ok(url.into())
    }

    pub fn register(&self, options: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move { engine.register(options).await })
    }

    /// The wrapper's `async` method turns the result (or the exception) into its promise.
    #[wasm_bindgen(js_name = createRegisterUrl)]
    pub fn create_register_url(&self, options: JsValue) -> Result<JsValue, JsValue> {
        let value = crate::core::options::register_options(&convert::to_value(&options)?);
        let url = self.engine.create_login_url(&value, &options)?;
        Ok(url.into())
    }

    pub fn logout(&self, options: JsValue) -> Promise {
        let engine = self.engine.clone();
        promise(async move { engine.logout(options).await })
    }

    #[wasm_bindgen(js_name = createLogoutUrl)]
    pub fn create_logout_url(&self, options: JsValue) -> Result<JsValue, JsValue> {
        Ok(self.engine.create_logout_url(&options)?.into())
    }

    #[wasm_bindgen(js_name = accountManagement)]
    pub fn account_management(&self) -> Promise {
        let engine = self.engine.clone();
        promise(async move { engine.account_management().await })
    }

    #[wasm_bindgen(js_name = createAccountUrl)]
    pub fn create_account_url(&self, options: JsValue) -> Result<JsValue, JsValue> {
        Ok(self.engine.create_account_url(&options)?.into())
    }

    /// The `timeSkew` property: seconds, or null.
    #[wasm_bindgen(js_name = timeSkew)]
    pub fn time_skew(&self) -> Option<f64> {
        self.engine.time_skew()
    }

    /// The application assigned `timeSkew`; null and undefined mean unknown, anything else is
    /// taken as a number, as keycloak-js's arithmetic takes it.
    #[wasm_bindgen(js_name = setTimeSkew)]
    pub fn set_time_skew(&self, value: JsValue) {
        let skew = (!value.is_null() && !value.is_undefined()).then(|| value.unchecked_into_f64());
        self.engine.set_time_skew(skew);
    }

    #[wasm_bindgen(js_name = isTokenExpired)]
    pub fn is_token_expired(&self, min_validity: JsValue) -> Result<bool, JsValue> {
        self.engine.is_token_expired(&min_validity)
    }

    #[wasm_bindgen(js_name = updateToken)]
    pub fn update_token(&self, min_validity: Option<f64>) -> Promise {
        let engine = self.engine.clone();
        promise(async move {
            engine
                .update_token(min_validity)
                .await
                .map(JsValue::from_bool)
        })
    }

    #[wasm_bindgen(js_name = clearToken)]
    pub fn clear_token(&self) {
        self.engine.clear_token();
    }

    #[wasm_bindgen(js_name = hasRealmRole)]
    pub fn has_realm_role(&self, role: &str) -> bool {
        self.engine.has_realm_role(role)
    }

    #[wasm_bindgen(js_name = hasResourceRole)]
    pub fn has_resource_role(&self, role: &str, resource: Option<String>) -> bool {
        self.engine.has_resource_role(role, resource)
    }

    #[wasm_bindgen(js_name = loadUserProfile)]
    pub fn load_user_profile(&self) -> Promise {
        let engine = self.engine.clone();
        promise(async move { engine.load_user_document(UserDocument::Profile).await })
    }

    #[wasm_bindgen(js_name = loadUserInfo)]
    pub fn load_user_info(&self) -> Promise {
        let engine = self.engine.clone();
        promise(async move { engine.load_user_document(UserDocument::UserInfo).await })
    }
}
