//! The adapter's HTTP exchanges: what `web::http` sends, with core's reading of the replies
//! and errors that carry the `Response` (as keycloak-js's `NetworkError` does).

use std::rc::Rc;

use wasm_bindgen::JsValue;

use super::state::{Engine, Job};
use crate::core::json::Value;
use crate::core::token::parse_json_reply;
use crate::web::http::{self, Reply, Request};

/// GETs a JSON document (with an `Authorization` header when given) and parses it; a non-2xx reply is a
/// `NetworkError` with the OAuth error of its body, when it has one.
pub async fn fetch_json(
    engine: &Rc<Engine>,
    url: &str,
    authorization: Option<&str>,
    timeout_ms: f64,
) -> Result<Value, JsValue> {
    let reply = get(engine, url, authorization, timeout_ms).await?;
    parse_json_reply(reply.status, &reply.body)
        .map_err(|e| engine.host.error_with(&e, Some(&reply.response)))
}

/// GETs `url`; only a failure to get any reply is an error here.
pub async fn get(
    engine: &Rc<Engine>,
    url: &str,
    authorization: Option<&str>,
    timeout_ms: f64,
) -> Result<Reply, JsValue> {
    exchange(
        engine,
        url.to_owned(),
        None,
        authorization.map(str::to_owned),
        timeout_ms,
    )
    .await
}

/// POSTs a form to the token endpoint, with cookies (`credentials: 'include'`) as keycloak-js
/// does; only a failure to get any reply is an error here.
pub async fn post_token(
    engine: &Rc<Engine>,
    url: &str,
    form: &str,
    timeout_ms: f64,
) -> Result<Reply, JsValue> {
    exchange(
        engine,
        url.to_owned(),
        Some(form.to_owned()),
        None,
        timeout_ms,
    )
    .await
}

/// The one request path (boxed, so that its state machine exists once in the binary).
fn exchange(
    engine: &Rc<Engine>,
    url: String,
    form: Option<String>,
    authorization: Option<String>,
    timeout_ms: f64,
) -> Job<Reply> {
    let engine = engine.clone();
    Box::pin(async move {
        http::send(&Request {
            url: &url,
            form: form.as_deref(),
            authorization: authorization.as_deref(),
            include_credentials: form.is_some(),
            timeout_ms,
        })
        .await
        .map_err(|e| engine.err(&e))
    })
}
