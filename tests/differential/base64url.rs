//! `core::base64` against the base64 crate (see [`crate::base64_oracle`]). Encoding is base64url
//! without padding (PKCE, the tokens shared between tabs); decoding (JWT payloads) is forgiving.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use keycloak_wasm::core::base64 as ours;
use proptest::prelude::*;

use crate::base64_oracle::oracle;

/// Text near base64: mostly alphabet characters, with padding and a few strangers.
fn base64ish() -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        8 => proptest::char::ranges(vec!['A'..='Z', 'a'..='z', '0'..='9'].into()),
        2 => proptest::sample::select(vec!['-', '_', '+', '/']),
        2 => Just('='),
        1 => proptest::sample::select(vec![' ', '\n', '.', '%', 'é', '\0']),
    ];
    proptest::collection::vec(chars, 0..24).prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encodes_as_the_crate_s_url_safe_no_pad(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(ours::encode_url(&bytes), URL_SAFE_NO_PAD.encode(&bytes));
    }

    #[test]
    fn decodes_every_encoding_the_crate_writes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for engine in [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD, &STANDARD_NO_PAD] {
            let encoded = engine.encode(&bytes);
            prop_assert_eq!(ours::decode(&encoded), Some(bytes.clone()), "{}", encoded);
        }
    }

    #[test]
    fn decodes_arbitrary_text_as_the_forgiving_crate_does(input in base64ish()) {
        prop_assert_eq!(ours::decode(&input), oracle(&input), "{:?}", input);
    }

    #[test]
    fn decodes_arbitrary_strings_as_the_forgiving_crate_does(input in any::<String>()) {
        prop_assert_eq!(ours::decode(&input), oracle(&input), "{:?}", input);
    }
}
