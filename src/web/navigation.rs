//! Leaving and rewriting the page: redirects to the server, removing the callback from the
//! address bar, and the hidden form of a POST logout.

use crate::prelude::*;

use wasm_bindgen::JsValue;
use web_sys::{Document, Location};

use crate::core::error::{Error, ErrorCode};

fn location() -> Option<Location> {
    Some(web_sys::window()?.location())
}

fn failed(what: &str) -> Error {
    let mut message = String::from("Navigation failed: ");
    message.push_str(what);
    Error::new(ErrorCode::NotSupported, message)
}

/// The page's current address (`location.href`).
pub fn href() -> Option<String> {
    location()?.href().ok()
}

/// The page's origin (`location.origin`).
pub fn origin() -> Option<String> {
    location()?.origin().ok()
}

/// Navigates to `url`, keeping the current page in the history (`location.assign`).
pub fn assign(url: &str) -> Result<(), Error> {
    location()
        .and_then(|l| l.assign(url).ok())
        .ok_or_else(|| failed(url))
}

/// Navigates to `url`, replacing the current page in the history (`location.replace`).
pub fn replace(url: &str) -> Result<(), Error> {
    location()
        .and_then(|l| l.replace(url).ok())
        .ok_or_else(|| failed(url))
}

/// Rewrites the address bar without navigating, keeping the app's history state.
pub fn replace_state(url: &str) -> Result<(), Error> {
    let history = web_sys::window()
        .and_then(|w| w.history().ok())
        .ok_or_else(|| failed(url))?;
    let state = history.state().unwrap_or(JsValue::NULL);
    history
        .replace_state_with_url(&state, "", Some(url))
        .map_err(|_| failed(url))
}

fn document() -> Option<Document> {
    web_sys::window()?.document()
}

/// Submits a hidden `POST` form to `action` with the given fields, as the browser's own
/// navigation (the server answers with a redirect).
pub fn post_form(action: &str, fields: &[(&str, &str)]) -> Result<(), Error> {
    let submit = || -> Result<(), JsValue> {
        let document = document().ok_or(JsValue::NULL)?;
        let form: web_sys::HtmlFormElement =
            wasm_bindgen::JsCast::unchecked_into(document.create_element("form")?);
        form.set_method("POST");
        form.set_action(action);
        form.set_attribute("hidden", "")?;
        for (name, value) in fields {
            let input = document.create_element("input")?;
            input.set_attribute("type", "hidden")?;
            input.set_attribute("name", name)?;
            input.set_attribute("value", value)?;
            form.append_child(&input)?;
        }
        document.body().ok_or(JsValue::NULL)?.append_child(&form)?;
        form.submit()
    };
    submit().map_err(|_| failed(action))
}
