//! `fetch` with a deadline. Every request is bounded: an `AbortController` fires after the
//! timeout, and the wait (headers and body alike) ends in a typed timeout error instead of
//! hanging forever.

use crate::prelude::*;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Response};

use super::timers::Timeout;
use crate::core::error::{Error, ErrorCode};

/// What to send.
pub struct Request<'a> {
    pub url: &'a str,
    /// A form-encoded body: the request is then a POST.
    pub form: Option<&'a str>,
    /// The `Authorization` header's value.
    pub authorization: Option<&'a str>,
    /// Send cookies cross-origin (`credentials: 'include'`), as keycloak-js does for the token
    /// endpoint.
    pub include_credentials: bool,
    /// Milliseconds before the request is abandoned.
    pub timeout_ms: f64,
}

/// A reply of any status: deciding what a status means is the caller's business.
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// The `Response` itself, for `NetworkError.response`.
    pub response: Response,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn set(target: &Object, name: &str, value: &JsValue) {
    // Setting a property of a fresh plain object cannot fail.
    let _ = Reflect::set(target, &name.into(), value);
}

/// A request that got no reply: the server is unreachable, CORS refused it, or it was aborted.
pub fn unreachable_error(url: &str) -> Error {
    let mut message = String::from("Network request failed: ");
    message.push_str(url);
    Error::new(ErrorCode::NetworkError, message)
}

/// The wait for `url` ran out.
pub fn timeout_error(url: &str) -> Error {
    let mut message = String::from("Timeout when waiting for a reply from ");
    message.push_str(url);
    Error::timeout(message)
}

/// Sends the request with the global `fetch` and reads the whole body as text, within the
/// request's timeout.
pub async fn send(request: &Request<'_>) -> Result<Reply, Error> {
    let global = js_sys::global();
    let fetch = Reflect::get(&global, &JsValue::from_str("fetch"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| unreachable_error(request.url))?;
    send_via(&fetch, request).await
}

/// [`send`] through the given `fetch(url, init)` function (tests pass their own transport).
pub async fn send_via(fetch: &Function, request: &Request<'_>) -> Result<Reply, Error> {
    let controller = AbortController::new().map_err(|_| unreachable_error(request.url))?;
    let signal = controller.signal();

    // `fetch`'s init as a plain object: web-sys's RequestInit setters are an import each.
    let headers = Object::new();
    set(&headers, "Accept", &"application/json".into());
    let init = Object::new();
    if let Some(form) = request.form {
        set(&init, "method", &"POST".into());
        set(
            &headers,
            "Content-Type",
            &"application/x-www-form-urlencoded;charset=UTF-8".into(),
        );
        set(&init, "body", &form.into());
    }
    if let Some(value) = request.authorization {
        set(&headers, "Authorization", &value.into());
    }
    if request.include_credentials {
        set(&init, "credentials", &"include".into());
    }
    set(&init, "headers", &headers);
    set(&init, "signal", &signal);

    // Dropped (and cleared) when this function returns, whichever way.
    let _deadline = Timeout::new(request.timeout_ms, move || controller.abort());
    let failed = |_| {
        if signal.aborted() {
            timeout_error(request.url)
        } else {
            unreachable_error(request.url)
        }
    };

    let pending = fetch
        .call2(&JsValue::UNDEFINED, &JsValue::from_str(request.url), &init)
        .map_err(failed)?;
    let response: Response = JsFuture::from(Promise::resolve(&pending))
        .await
        .map_err(failed)?
        .unchecked_into();
    let text = response.text().map_err(failed)?;
    let body = JsFuture::from(text).await.map_err(failed)?;
    Ok(Reply {
        status: response.status(),
        body: body.as_string().unwrap_or_default(),
        response,
    })
}
