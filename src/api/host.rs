//! The JavaScript `Keycloak` instance that owns the engine: the engine writes the public
//! properties onto it, looks its callbacks up on it when they fire, and makes its errors with
//! the factory the wrapper passes in (so they are instances of the wrapper's `KeycloakError` and
//! `NetworkError` classes).

use crate::prelude::*;

use core::cell::OnceCell;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::error::Error;

#[wasm_bindgen]
extern "C" {
    /// `makeError(code, message, error, error_description, status, response)` of
    /// js/keycloak.js, called through `Function.prototype.call`.
    pub type ErrorFactory;
    #[wasm_bindgen(method, js_name = call)]
    #[allow(clippy::too_many_arguments)]
    fn make(
        this: &ErrorFactory,
        this_arg: &JsValue,
        code: &str,
        message: &str,
        error: Option<&str>,
        error_description: Option<&str>,
        status: Option<u16>,
        response: &JsValue,
    ) -> JsValue;

    #[wasm_bindgen(js_namespace = console, js_name = info)]
    fn console_info(message: &str);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);

    /// Reports an exception thrown by an application callback without interrupting the
    /// adapter (it reaches `window.onerror` and the console).
    #[wasm_bindgen(catch, js_name = reportError)]
    pub(crate) fn report_error(error: &JsValue) -> Result<(), JsValue>;
}

/// The wrapper's error factory: one per module (every instance passes the same function), so
/// that a core error converts with a plain `?` wherever a JavaScript error is due.
static FACTORY: ModuleCell<ErrorFactory> = ModuleCell(OnceCell::new());

/// A cell for module-wide state. `no_std` has no `thread_local!`; the module runs on one thread.
struct ModuleCell<T>(OnceCell<T>);

// SAFETY: wasm32 without the atomics feature (this crate's target) has exactly one thread, so
// the cell is never reached from two threads.
unsafe impl<T> Sync for ModuleCell<T> {}

/// A JavaScript error (`KeycloakError` or `NetworkError`) for a core error; `response` is the
/// `Response` it came from.
pub fn js_error(err: &Error, response: Option<&JsValue>) -> JsValue {
    match FACTORY.0.get() {
        Some(factory) => factory.make(
            &JsValue::UNDEFINED,
            err.code.as_str(),
            &err.message,
            err.error.as_deref(),
            err.error_description.as_deref(),
            err.status,
            response.unwrap_or(&JsValue::UNDEFINED),
        ),
        // Only before the first instance exists, which makes every error: not reached.
        None => JsValue::from_str(&err.message),
    }
}

impl From<Error> for JsValue {
    fn from(err: Error) -> JsValue {
        js_error(&err, None)
    }
}

/// The wrapper instance.
pub struct Host {
    object: Object,
}

impl Host {
    pub fn new(object: Object, factory: ErrorFactory) -> Self {
        let _ = FACTORY.0.set(factory);
        Host { object }
    }

    /// A JavaScript error for a core error; `response` is the `Response` it came from.
    pub fn error_with(&self, err: &Error, response: Option<&JsValue>) -> JsValue {
        js_error(err, response)
    }

    pub fn error(&self, err: &Error) -> JsValue {
        js_error(err, None)
    }

    /// Sets a public property.
    pub fn set(&self, name: &str, value: &JsValue) {
        // The wrapper is a plain extensible object: setting cannot fail.
        let _ = Reflect::set(&self.object, &JsValue::from_str(name), value);
    }

    /// Sets a public property, or deletes it for None (as keycloak-js `delete`s cleared fields).
    pub fn set_opt(&self, name: &str, value: Option<&JsValue>) {
        match value {
            Some(value) => self.set(name, value),
            None => {
                let _ = Reflect::delete_property(&self.object, &JsValue::from_str(name));
            }
        }
    }

    pub fn set_str(&self, name: &str, value: Option<&str>) {
        self.set_opt(name, value.map(JsValue::from_str).as_ref());
    }

    pub fn set_bool(&self, name: &str, value: bool) {
        self.set(name, &JsValue::from_bool(value));
    }

    pub fn get(&self, name: &str) -> JsValue {
        Reflect::get(&self.object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// Calls the callback property `name` if the application has assigned a function there.
    /// Never call this while a borrow of the engine's state is held: the callback may call
    /// back into the adapter.
    pub fn fire(&self, name: &str, args: &[JsValue]) {
        let Ok(callback) = self.get(name).dyn_into::<Function>() else {
            return;
        };
        let result = match args {
            [] => callback.call0(&self.object),
            [a] => callback.call1(&self.object, a),
            [a, b, ..] => callback.call2(&self.object, a, b),
        };
        if let Err(thrown) = result {
            let _ = report_error(&thrown);
        }
    }

    /// keycloak-js's `enableLogging` output: `[KEYCLOAK] <message>` on the console.
    pub fn log(&self, warn: bool, message: &str) {
        let mut line = String::from("[KEYCLOAK] ");
        line.push_str(message);
        if warn {
            console_warn(&line);
        } else {
            console_info(&line);
        }
    }
}
