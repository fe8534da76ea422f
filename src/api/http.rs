//! The adapter's HTTP exchanges: what `web::http` sends, with core's reading of the replies
//! and errors that carry the `Response` (as keycloak-js's `NetworkError` does).

use crate::prelude::*;

use wasm_bindgen::JsValue;

use super::host::js_error;
use super::state::Job;
use crate::core::json::Value;
use crate::core::token::parse_json_reply;
use crate::web::http::{self, Reply, Request};

/// GETs a JSON document (with an `Authorization` header when given) and parses it; a non-2xx
/// reply is a `NetworkError` with the OAuth error of its body, when it has one.
pub async fn fetch_json(
    url: String,
    authorization: Option<String>,
    timeout_ms: f64,
) -> Result<Value, JsValue> {
    let reply = get(url, authorization, timeout_ms).await?;
    parse_json_reply(reply.status, &reply.body).map_err(|e| js_error(&e, Some(&reply.response)))
}

/// GETs `url`; only a failure to get any reply is an error here.
pub fn get(url: String, authorization: Option<String>, timeout_ms: f64) -> Job<Reply> {
    exchange(url, None, authorization, timeout_ms)
}

/// POSTs a form to the token endpoint, with cookies (`credentials: 'include'`) as keycloak-js
/// does; only a failure to get any reply is an error here.
pub fn post_token(url: String, form: String, timeout_ms: f64) -> Job<Reply> {
    exchange(url, Some(form), None, timeout_ms)
}

/// The one request path (boxed, so that its state machine exists once in the binary). It owns
/// what it sends: the callers' strings move in instead of being copied.
fn exchange(
    url: String,
    form: Option<String>,
    authorization: Option<String>,
    timeout_ms: f64,
) -> Job<Reply> {
    Box::pin(async move {
        let request = Request {
            url: &url,
            form: form.as_deref(),
            authorization: authorization.as_deref(),
            include_credentials: form.is_some(),
            timeout_ms,
        };
        Ok(http::send(&request).await?)
    })
}
