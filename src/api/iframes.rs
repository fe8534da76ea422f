//! The seams of keycloak-js's three hidden iframes: the third-party-cookie check, the session
//! (login-status) iframe and silent check-sso. They are not implemented yet; each hook answers
//! "not available", and its callers then behave as keycloak-js does without that iframe. The
//! iframes themselves (with `postMessage` checked against the expected origin and window, and a
//! `messageReceiveTimeout` on every wait) belong in `web::iframe` and here.

use wasm_bindgen::JsValue;

use super::state::Engine;

impl Engine {
    /// keycloak-js's `check3pCookiesSupported`, run once in `init()` before the callback is
    /// processed. Without it, the session iframe and silent check-sso stay as configured.
    pub async fn check_third_party_cookies(&self) -> Result<(), JsValue> {
        Ok(())
    }

    /// Sets up the session iframe (once) and asks it whether the SSO session is unchanged.
    /// `None`: no session iframe, so nothing is known about the session.
    pub async fn check_session(&self) -> Result<Option<bool>, JsValue> {
        Ok(None)
    }

    /// Starts the periodic session check after a login.
    pub fn schedule_session_check(&self) {}

    /// Silent check-sso in a hidden iframe, when `silentCheckSsoRedirectUri` is set. `false`:
    /// not done, and the caller falls back to the full-page `prompt=none` redirect.
    pub async fn check_sso_silently(&self) -> Result<bool, JsValue> {
        Ok(false)
    }
}
