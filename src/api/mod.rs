//! The `#[wasm_bindgen]` facade driven by the JavaScript wrapper (`js/keycloak.js`).
//! It converts JavaScript values into core types and core errors into JavaScript errors.

use wasm_bindgen::prelude::*;

use crate::core::config::Realm;
use crate::core::error::Error;

/// Turns a core error into a JavaScript `Error` carrying the stable `code`.
pub(crate) fn to_js_error(err: &Error) -> JsValue {
    let js = js_sys::Error::new(&err.message);
    // Reflect::set fails only on frozen objects; a fresh Error is not.
    let _ = js_sys::Reflect::set(&js, &"code".into(), &err.code.as_str().into());
    js.into()
}

/// The engine behind one `Keycloak` instance.
#[wasm_bindgen]
pub struct KeycloakCore {
    realm: Realm,
}

#[wasm_bindgen]
impl KeycloakCore {
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, realm: &str, client_id: &str) -> Result<KeycloakCore, JsValue> {
        let realm = Realm::new(url, realm, client_id).map_err(|e| to_js_error(&e))?;
        Ok(KeycloakCore { realm })
    }

    /// The realm's base URL, `${url}/realms/${realm}`.
    #[wasm_bindgen(js_name = realmUrl)]
    pub fn realm_url(&self) -> String {
        self.realm.realm_url()
    }

    /// The OpenID Connect authorization endpoint.
    #[wasm_bindgen(js_name = authorizationEndpoint)]
    pub fn authorization_endpoint(&self) -> String {
        self.realm.authorization_endpoint()
    }
}
