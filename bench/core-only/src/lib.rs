//! The protocol logic of keycloak-wasm without its browser layer: what the wasm would still
//! hold if JavaScript did the orchestration (fetch, storage, timers, iframes, the socket) and
//! asked Rust only for decisions. Every export takes and returns strings and numbers.

#![no_std]

extern crate alloc;

#[path = "../../../src/core/mod.rs"]
pub mod core;

pub(crate) mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::String;
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

use crate::core::callback::{self, CallbackAction, CallbackRecord};
use crate::core::config::{Config, ConfigSource};
use crate::core::error::Error;
use crate::core::json::{parse, Value};
use crate::core::options::{AccountOptions, InitOptions, LoginOptions, LogoutOptions};
use crate::core::{backoff, iframe, refresh, socket, token, urls};
use prelude::*;
use wasm_bindgen::prelude::*;

#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32 without threads.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}

fn fail(error: Error) -> JsValue {
    JsValue::from_str(&error.message)
}

fn json(text: &str) -> Result<Value, JsValue> {
    parse(text).map_err(|e| JsValue::from_str(&e.message()))
}

fn config(source: &str, fetched: &str) -> Result<Config, JsValue> {
    let fetched = json(fetched)?;
    ConfigSource::from_value(&json(source)?)
        .and_then(|s| s.resolve(Some(&fetched).filter(|v| !v.is_null())))
        .map_err(fail)
}

/// createLoginUrl: the URL, a newline, and the callback record to store.
#[wasm_bindgen(js_name = loginUrl)]
pub fn login_url(
    source: &str,
    fetched: &str,
    init: &str,
    current_url: &str,
    options: &str,
    random: &[u8],
    now_ms: f64,
) -> Result<String, JsValue> {
    let config = config(source, fetched)?;
    let init = InitOptions::from_value(&json(init)?).map_err(fail)?;
    let raw = json(options)?;
    let options = LoginOptions::from_value(&raw).map_err(fail)?;
    let (state, rest) = random.split_first_chunk::<16>().ok_or(JsValue::NULL)?;
    let (nonce, verifier) = rest.split_first_chunk::<16>().ok_or(JsValue::NULL)?;
    let secrets = urls::LoginSecrets::from_random(state, nonce, verifier).ok_or(JsValue::NULL)?;
    let login = urls::prepare_login(
        &config,
        &init,
        current_url,
        &options,
        &raw,
        &secrets,
        now_ms,
    )
    .map_err(fail)?;
    let mut out = login.url;
    out.push('\n');
    out.push_str(&login.record);
    Ok(out)
}

/// createLogoutUrl and the POST form's fields, then createAccountUrl.
#[wasm_bindgen(js_name = logoutAndAccountUrls)]
pub fn logout_and_account_urls(
    source: &str,
    fetched: &str,
    options: &str,
    id_token: Option<String>,
    current_url: &str,
) -> Result<String, JsValue> {
    let config = config(source, fetched)?;
    let raw = json(options)?;
    LogoutOptions::from_value(&raw).map_err(fail)?;
    AccountOptions::from_value(&raw).map_err(fail)?;
    let endpoint = config.endpoints.logout().map_err(fail)?;
    let id_token = id_token.as_deref();
    let mut out = urls::logout_url(endpoint, &config.client_id, current_url, id_token);
    for (name, value) in urls::logout_form_fields(&config.client_id, current_url, id_token) {
        out.push('\n');
        out.push_str(name);
        out.push('=');
        out.push_str(&value);
    }
    out.push('\n');
    let realm_url = config.auth_server_url.as_deref();
    out.push_str(&urls::account_url(realm_url, &config.client_id, current_url).map_err(fail)?);
    Ok(out)
}

/// The callback in `url` against the stored record: the cleaned URL, a newline, the plan.
#[wasm_bindgen(js_name = processCallback)]
pub fn process_callback(
    url: &str,
    init: &str,
    stored: &str,
    now_ms: f64,
    issuer: Option<String>,
) -> Result<String, JsValue> {
    let init = InitOptions::from_value(&json(init)?).map_err(fail)?;
    let parsed =
        callback::parse_callback(url, init.response_mode, init.flow).ok_or(JsValue::NULL)?;
    let state = parsed.params.state.as_deref().unwrap_or_default();
    let record = CallbackRecord::take(stored, state, now_ms).map_err(fail)?;
    let mut out = callback::restore_app_fragment(&parsed.new_url, record.app_fragment.as_deref());
    out.push('\n');
    match callback::plan_callback(&parsed.params, &record, init.flow, issuer.as_deref()) {
        CallbackAction::Unauthenticated => {}
        CallbackAction::LoginAgain(options) => out.push_str(&options.to_json()),
        CallbackAction::Fail(error) => out.push_str(&error.message),
        CallbackAction::Tokens { code, .. } => out.push_str(&code.unwrap_or_default()),
    }
    Ok(out)
}

/// A token endpoint reply: the access token's claims, after the nonce check.
#[wasm_bindgen(js_name = tokenReply)]
pub fn token_reply(
    status: u16,
    body: &str,
    nonce: &str,
    start_ms: f64,
    end_ms: f64,
) -> Result<String, JsValue> {
    let reply = token::parse_token_response(status, body).map_err(fail)?;
    let access = token::ParsedToken::parse(&reply.access_token).map_err(fail)?;
    let id = reply
        .id_token
        .as_deref()
        .map(token::decode_payload)
        .transpose()
        .map_err(fail)?;
    callback::check_nonce(true, id.as_ref(), nonce).map_err(fail)?;
    let mut tokens = token::TokenSet::new(None);
    tokens
        .set(
            Some(&reply.access_token),
            reply.refresh_token.as_deref(),
            reply.id_token.as_deref(),
            Some((start_ms, end_ms)),
        )
        .map_err(fail)?;
    let mut out = access.claims().to_json();
    out.push(if tokens.has_realm_role("admin") {
        '1'
    } else {
        '0'
    });
    Ok(out)
}

/// updateToken's inputs: how long the token has left, else the minimum validity in effect.
#[wasm_bindgen(js_name = refreshNeeded)]
pub fn refresh_needed(min_validity: f64, exp: f64, skew: f64, now_ms: f64) -> f64 {
    let min = refresh::effective_min_validity(min_validity);
    token::expiry_delay_ms(Some(exp), Some(skew), now_ms).unwrap_or(min)
}

/// The socket's connect URL and offered subprotocols for a token.
#[wasm_bindgen(js_name = socketConnect)]
pub fn socket_connect(options: &str, url: &str, token: &str) -> Result<String, JsValue> {
    let options = socket::SocketOptions::from_value(&json(options)?).map_err(fail)?;
    let mut out = options.url(url, token);
    for protocol in options.offered_protocols(token) {
        out.push('\n');
        out.push_str(&protocol);
    }
    Ok(out)
}

/// The socket's timers: re-auth after a server message, and the next reconnect delay.
#[wasm_bindgen(js_name = socketDelays)]
pub fn socket_delays(
    message: &str,
    min_validity: f64,
    min_ms: f64,
    max_ms: f64,
    attempt: u32,
    random: f64,
) -> f64 {
    let reauth =
        socket::advertised_ttl(message).map(|ttl| socket::reauth_delay_ms(ttl, min_validity));
    reauth.unwrap_or_else(|| backoff::delay_ms(min_ms, max_ms, attempt, random))
}

/// The iframes' messages: the session question, then what an answer means.
#[wasm_bindgen(js_name = iframeMessage)]
pub fn iframe_message(data: &str, client_id: &str, session_id: Option<String>) -> String {
    let mut out = iframe::session_question(client_id, session_id.as_deref());
    out.push(match iframe::cookie_check_answer(data) {
        Some(true) => '1',
        Some(false) => '0',
        None => '-',
    });
    out.push(if iframe::SessionStatus::parse(data).is_some() {
        's'
    } else {
        '-'
    });
    out.push_str(&iframe::login_state(data).unwrap_or_default());
    out
}
