//! Browser tests of `src/web`, run by wasm-bindgen-test in headless Chromium.
#![cfg(target_arch = "wasm32")]
// Tests may unwrap: a failure is a test failure, not a poisoned page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keycloak_wasm::web::storage::local_storage;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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
