//! Browser tests of `src/web`, run by wasm-bindgen-test in headless Chromium.
#![cfg(target_arch = "wasm32")]
// Tests may unwrap: a failure is a test failure, not a poisoned page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::rc::Rc;

use keycloak_wasm::core::callback::STORAGE_KEY_PREFIX as KEY_PREFIX;
use keycloak_wasm::core::error::ErrorCode;
use keycloak_wasm::web::http::{self, Request};
use keycloak_wasm::web::storage::{find_cookie, local_storage, CallbackStore};
use keycloak_wasm::web::{random, timers};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn key(state: &str) -> String {
    format!("{KEY_PREFIX}{state}")
}

/// Removes every callback entry, so that tests start from a clean store.
fn clear_callback_entries() {
    let storage = local_storage().unwrap();
    let keys: Vec<String> = (0..storage.length().unwrap())
        .filter_map(|i| storage.key(i).unwrap())
        .filter(|k| k.starts_with(KEY_PREFIX))
        .collect();
    for k in keys {
        storage.remove_item(&k).unwrap();
    }
}

#[wasm_bindgen_test]
fn local_storage_is_usable_and_the_probe_leaves_nothing_behind() {
    let storage = local_storage().expect("a page has localStorage");
    storage.set_item("kc-web-test", "value").unwrap();
    assert_eq!(
        storage.get_item("kc-web-test").unwrap().as_deref(),
        Some("value")
    );
    storage.remove_item("kc-web-test").unwrap();
    assert_eq!(storage.get_item("kc-test").unwrap(), None);
}

#[wasm_bindgen_test]
fn a_stored_state_is_read_once() {
    clear_callback_entries();
    let store = CallbackStore::open();
    assert!(matches!(store, CallbackStore::Local(_)));
    store.add("s1", "{\"a\":1}", |_| true).unwrap();
    assert_eq!(
        local_storage()
            .unwrap()
            .get_item(&key("s1"))
            .unwrap()
            .as_deref(),
        Some("{\"a\":1}")
    );
    assert_eq!(store.take("s1", |_| true).as_deref(), Some("{\"a\":1}"));
    assert_eq!(store.take("s1", |_| true), None, "a state is single-use");
    assert_eq!(local_storage().unwrap().get_item(&key("s1")).unwrap(), None);
    assert_eq!(store.take("", |_| true), None);
}

#[wasm_bindgen_test]
fn dead_entries_are_swept_on_read_and_write_and_never_returned() {
    clear_callback_entries();
    let storage = local_storage().unwrap();
    storage.set_item(&key("old"), "dead").unwrap();
    storage.set_item(&key("live"), "live").unwrap();
    storage.set_item("app-data", "dead").unwrap();
    let store = CallbackStore::open();
    let is_live = |value: &str| value != "dead";

    // A dead entry is swept before the read, so even its own state finds nothing.
    assert_eq!(store.take("old", is_live), None);
    assert_eq!(
        storage.get_item(&key("live")).unwrap().as_deref(),
        Some("live")
    );
    assert_eq!(
        storage.get_item("app-data").unwrap().as_deref(),
        Some("dead"),
        "entries of the app are never touched"
    );

    storage.set_item(&key("old2"), "dead").unwrap();
    store.add("new", "live", is_live).unwrap();
    assert_eq!(
        storage.get_item(&key("old2")).unwrap(),
        None,
        "swept on write"
    );
    assert_eq!(
        storage.get_item(&key("new")).unwrap().as_deref(),
        Some("live")
    );
    storage.remove_item("app-data").unwrap();
    clear_callback_entries();
}

#[wasm_bindgen_test]
fn a_full_storage_is_cleared_of_callback_entries_and_the_write_retried() {
    clear_callback_entries();
    let storage = local_storage().unwrap();
    // Fill localStorage with callback entries until the quota refuses more.
    let chunk = "x".repeat(512 * 1024);
    let mut filled = 0;
    while storage
        .set_item(&key(&format!("fill{filled}")), &chunk)
        .is_ok()
    {
        filled += 1;
        assert!(filled < 64, "the quota never ran out");
    }
    assert!(filled > 0);
    // As large as the write that was just refused: it cannot fit without clearing.
    let big = "y".repeat(512 * 1024);
    let store = CallbackStore::open();
    store.add("after-quota", &big, |_| true).unwrap();
    assert!(
        storage.get_item(&key("fill0")).unwrap().is_none(),
        "old entries were cleared to make room"
    );
    let read = store.take("after-quota", |_| true);
    assert!(
        read.as_deref() == Some(big.as_str()),
        "the retried write is stored"
    );
    clear_callback_entries();
}

#[wasm_bindgen_test]
fn the_cookie_fallback_stores_once_and_survives_separators() {
    let store = CallbackStore::cookies();
    assert!(matches!(store, CallbackStore::Cookie(_)));
    let record = "{\"redirectUri\":\"http://x/a;b,c d\",\"n\":1}";
    store.add("c1", record, |_| true).unwrap();
    assert_eq!(store.take("c1", |_| true).as_deref(), Some(record));
    assert_eq!(
        store.take("c1", |_| true),
        None,
        "the cookie is deleted on read"
    );

    store.add("c2", "dead", |_| true).unwrap();
    assert_eq!(
        store.take("c2", |v| v != "dead"),
        None,
        "dead records are not returned"
    );
}

#[wasm_bindgen_test]
fn cookies_are_found_by_exact_name() {
    let cookies = "a=1; kc-callback-x=2; kc-callback-xy=3";
    assert_eq!(find_cookie(cookies, "kc-callback-x"), Some("2"));
    assert_eq!(find_cookie(cookies, "kc-callback-xy"), Some("3"));
    assert_eq!(find_cookie(cookies, "a"), Some("1"));
    assert_eq!(find_cookie(cookies, "kc-callback-"), None);
    assert_eq!(find_cookie("", "a"), None);
}

#[wasm_bindgen_test]
fn random_bytes_differ_between_draws() {
    let a: [u8; 32] = random::bytes().unwrap();
    let b: [u8; 32] = random::bytes().unwrap();
    assert_ne!(a, b);
    assert_ne!(a, [0u8; 32]);
    let mut big = vec![0u8; 4096];
    random::fill(&mut big).unwrap();
    // 4096 random bytes all zero has probability 2^-32768.
    assert!(big.iter().any(|&b| b != 0));
}

#[wasm_bindgen_test]
async fn a_timeout_fires_and_a_dropped_one_does_not() {
    let fired = Rc::new(Cell::new(0));
    // Due first, but dropped before it is due.
    let dropped = {
        let fired = fired.clone();
        timers::Timeout::new(0.0, move || fired.set(fired.get() + 10))
    };
    drop(dropped);
    // The kept timer reports its own firing through a promise, which the test awaits.
    let mut kept = None;
    let done = js_sys::Promise::new(&mut |resolve, _| {
        let fired = fired.clone();
        kept = Some(timers::Timeout::new(10.0, move || {
            fired.set(fired.get() + 1);
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }));
    });
    wasm_bindgen_futures::JsFuture::from(done).await.unwrap();
    assert_eq!(fired.get(), 1);
    drop(kept);
}

#[wasm_bindgen_test]
fn delays_are_clamped_to_what_set_timeout_accepts() {
    assert_eq!(timers::clamp_delay(-5.0), 0);
    assert_eq!(timers::clamp_delay(f64::NAN), 0);
    assert_eq!(timers::clamp_delay(1500.7), 1500);
    assert_eq!(timers::clamp_delay(1e12), i32::MAX);
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_namespace = location, js_name = origin)]
    static ORIGIN: String;
}

/// A transport that, like a server that never answers, settles only when the request's
/// signal aborts it (with the signal's reason, as `fetch` does).
fn never_answering_fetch() -> js_sys::Function {
    js_sys::Function::new_with_args(
        "url, init",
        "return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)))",
    )
}

#[wasm_bindgen_test]
async fn a_request_without_reply_ends_in_a_typed_error() {
    let url = "http://127.0.0.1:9/refused";
    let err = http::send(&Request {
        url,
        form: None,
        authorization: None,
        include_credentials: false,
        timeout_ms: 5000.0,
    })
    .await
    .err()
    .expect("port 9 refuses connections");
    assert_eq!(err.code, ErrorCode::NetworkError);
    assert!(err.message.contains(url));
}

#[wasm_bindgen_test]
async fn a_request_that_never_answers_times_out() {
    let err = http::send_via(
        &never_answering_fetch(),
        &Request {
            url: "http://127.0.0.1:9/hangs",
            form: None,
            authorization: None,
            include_credentials: false,
            timeout_ms: 50.0,
        },
    )
    .await
    .err()
    .expect("nothing answers there");
    assert_eq!(err.code, ErrorCode::Timeout, "{}", err.message);
}

#[wasm_bindgen_test]
async fn a_reply_of_any_status_is_returned_with_its_body() {
    let url = ORIGIN.with(|origin| format!("{origin}/no-such-file-here"));
    let reply = http::send(&Request {
        url: &url,
        form: Some("a=1"),
        authorization: Some("bearer t"),
        include_credentials: true,
        timeout_ms: 5000.0,
    })
    .await
    .unwrap();
    assert!(reply.status >= 400, "status {}", reply.status);
    assert!(!reply.ok());
    assert_eq!(reply.response.status(), reply.status);
}

#[wasm_bindgen_test]
fn replace_state_rewrites_the_address_and_keeps_the_history_state() {
    use keycloak_wasm::web::navigation;
    let window = web_sys::window().unwrap();
    let history = window.history().unwrap();
    let before = navigation::href().unwrap();
    let app_state = js_sys::Object::new();
    js_sys::Reflect::set(&app_state, &"route".into(), &"orders".into()).unwrap();
    history.replace_state(&app_state, "").unwrap();

    let target = format!(
        "{}?kc-test=1#/route?tab=2",
        before.split(['?', '#']).next().unwrap()
    );
    navigation::replace_state(&target).unwrap();
    assert_eq!(navigation::href().unwrap(), target);
    let kept = history.state().unwrap();
    assert_eq!(
        js_sys::Reflect::get(&kept, &"route".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some("orders")
    );
    navigation::replace_state(&before).unwrap();
    assert_eq!(
        navigation::origin(),
        Some(window.location().origin().unwrap())
    );
}
