//! `SocketMachine`: [`crate::core::socket::machine::Machine`] for the JavaScript driver
//! (`KeycloakSocket` in js/keycloak.js). Events and effects cross as JSON text in the shape
//! [`crate::core::socket::wire`] reads and writes.

use crate::prelude::*;

use core::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::core::error::{Error, ErrorCode};
use crate::core::json::{self, Value};
use crate::core::socket::machine::Machine;
use crate::core::socket::wire;
use crate::core::text;

/// The life of one `KeycloakSocket`.
#[wasm_bindgen]
pub struct SocketMachine {
    machine: RefCell<Machine>,
}

/// An error as the JSON text `{"code":…,"message":…}`, for the driver to throw as a
/// `KeycloakError`.
fn thrown(err: &Error) -> JsValue {
    let mut out = Value::Object(Vec::new());
    out.set("code", err.code.as_str().into());
    out.set("message", err.message.as_str().into());
    JsValue::from_str(&out.to_json())
}

#[wasm_bindgen]
impl SocketMachine {
    /// `options`: the options object as JSON (None when `JSON.stringify` failed);
    /// `functions`: the names of the options that hold a function, comma-separated.
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: &str,
        options: Option<String>,
        functions: &str,
    ) -> Result<SocketMachine, JsValue> {
        let unreadable = || {
            Error::new(
                ErrorCode::InvalidOption,
                "The options cannot be read as JSON.",
            )
        };
        let options = options
            .ok_or_else(unreadable)
            .and_then(|text| json::parse(&text).map_err(|_| unreadable()))
            .map_err(|e| thrown(&e))?;
        let functions: Vec<&str> = text::split(functions, b',').collect();
        let machine = Machine::new(url, &options, &functions).map_err(|e| thrown(&e))?;
        Ok(SocketMachine {
            machine: RefCell::new(machine),
        })
    }

    /// Takes one event (JSON) at `now` (milliseconds) with a random number in [0, 1); returns
    /// the effects (a JSON array). An event it cannot read changes nothing.
    pub fn handle(&self, event: &str, now: f64, random: f64) -> String {
        let effects = match json::parse(event).ok().as_ref().and_then(wire::event) {
            // The driver performs the effects only after this returns, so the borrow ends
            // before any application code runs.
            Some(event) => match self.machine.try_borrow_mut() {
                Ok(mut machine) => machine.handle(event, now, random),
                Err(_) => Vec::new(),
            },
            None => Vec::new(),
        };
        wire::effects(&effects)
    }
}
