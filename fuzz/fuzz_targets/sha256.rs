//! `core::sha256` against the sha2 crate on any bytes.
#![no_main]

use keycloak_wasm::core::sha256;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    assert_eq!(sha256::digest(data), <[u8; 32]>::from(Sha256::digest(data)));
});
