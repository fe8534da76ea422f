//! What `core::base64::decode` is measured against: the base64 crate configured to forgive as
//! keycloak-js does (either alphabet, even mixed; padding absent, partial or full; leftover bits
//! ignored, as `atob` ignores them). Shared by the property tests and the fuzz target.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// The URL-safe alphabet, padding optional (none, partial or full), leftover bits ignored.
const FORGIVING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// What `core::base64::decode` should answer: the standard alphabet's two characters read as
/// their URL-safe counterparts, then the forgiving engine.
pub fn oracle(input: &str) -> Option<Vec<u8>> {
    let url_safe = input.replace('+', "-").replace('/', "_");
    FORGIVING.decode(url_safe).ok()
}
