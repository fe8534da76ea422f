//! Crossing the JavaScript boundary with plain data: option objects go through `JSON.stringify`
//! into the core's JSON type, and JSON values come back through `JSON.parse`. Both are the
//! browser's own, so the objects JavaScript sees are exactly what `JSON.parse` would make.

use js_sys::JSON;
use wasm_bindgen::JsValue;

use crate::core::error::{Error, ErrorCode};
use crate::core::json::{self, Value};

/// An options object (or anything `JSON.stringify` accepts) as a core value. `undefined`,
/// `null` and values JSON cannot carry (functions) become `Value::Null`.
pub fn to_value(js: &JsValue) -> Result<Value, Error> {
    if js.is_undefined() || js.is_null() {
        return Ok(Value::Null);
    }
    let text = JSON::stringify(js).map_err(|_| {
        Error::new(
            ErrorCode::InvalidOption,
            "The options cannot be read as JSON.",
        )
    })?;
    match text.as_string() {
        Some(text) => json::parse(&text).map_err(|_| {
            Error::new(
                ErrorCode::InvalidOption,
                "The options cannot be read as JSON.",
            )
        }),
        None => Ok(Value::Null),
    }
}

/// A JSON text as a JavaScript value (`undefined` if it is not JSON).
pub fn parse_js(text: &str) -> JsValue {
    JSON::parse(text).unwrap_or(JsValue::UNDEFINED)
}

/// A core value as a JavaScript value.
pub fn to_js(value: &Value) -> JsValue {
    parse_js(&value.to_json())
}
