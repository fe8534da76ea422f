//! Randomness from `crypto.getRandomValues`. Unlike `crypto.randomUUID` and `crypto.subtle`, it
//! is available in insecure contexts too, so state, nonce and the PKCE verifier work on
//! plain-HTTP origins.

use wasm_bindgen::prelude::*;

use crate::core::error::{Error, ErrorCode};

#[wasm_bindgen]
extern "C" {
    type Crypto;
    // The global `crypto`: present in windows and workers alike.
    #[wasm_bindgen(thread_local_v2, js_name = crypto)]
    static CRYPTO: Option<Crypto>;
    #[wasm_bindgen(method, catch, js_name = getRandomValues)]
    fn get_random_values(this: &Crypto, buf: &mut [u8]) -> Result<JsValue, JsValue>;
}

/// Fills `buf` with cryptographically strong random bytes (at most 65536 per call, the
/// browser's limit).
pub fn fill(buf: &mut [u8]) -> Result<(), Error> {
    CRYPTO.with(|crypto| match crypto {
        Some(crypto) if crypto.get_random_values(buf).is_ok() => Ok(()),
        _ => Err(Error::new(
            ErrorCode::NotSupported,
            "crypto.getRandomValues is not available.",
        )),
    })
}

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut buf = [0u8; N];
    fill(&mut buf)?;
    Ok(buf)
}
