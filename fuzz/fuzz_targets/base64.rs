//! `core::base64` against the base64 crate: any bytes encoded, any text decoded.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keycloak_wasm::core::base64 as ours;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/differential/base64_oracle.rs"]
mod base64_oracle;

fuzz_target!(|data: &[u8]| {
    assert_eq!(ours::encode_url(data), URL_SAFE_NO_PAD.encode(data));
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(ours::decode(text), base64_oracle::oracle(text), "{text:?}");
    }
});
