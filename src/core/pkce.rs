//! PKCE (RFC 7636) with the S256 method, and the UUIDs used for `state` and `nonce`.
//!
//! Core draws no randomness: the caller passes bytes from `crypto.getRandomValues`. SHA-256
//! runs in Rust, so PKCE works where WebCrypto's `subtle` is missing (plain-HTTP origins),
//! unlike in keycloak-js.

use crate::prelude::*;

use super::{base64, sha256};

/// Length of the code verifier, as keycloak-js makes it.
pub const VERIFIER_LENGTH: usize = 96;

/// Random bytes to pass to [`code_verifier`]. About 3% of bytes are rejected to avoid modulo
/// bias, so 128 bytes fall short of 96 characters with a probability below 1e-20.
pub const VERIFIER_RANDOM_BYTES: usize = 128;

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The largest multiple of 62 that fits a byte: bytes from here up would favour the first
/// letters, so they are skipped.
const REJECT_FROM: u8 = 248;

/// A code verifier of [`VERIFIER_LENGTH`] characters of `[A-Za-z0-9]`, built from random bytes
/// without modulo bias. None when the bytes run out first: call again with fresh bytes.
pub fn code_verifier(random: &[u8]) -> Option<String> {
    let verifier: String = random
        .iter()
        .filter(|&&b| b < REJECT_FROM)
        .filter_map(|&b| ALPHABET.get(usize::from(b % 62)).map(|&c| char::from(c)))
        .take(VERIFIER_LENGTH)
        .collect();
    (verifier.len() == VERIFIER_LENGTH).then_some(verifier)
}

/// The S256 challenge: base64url (no padding) of the SHA-256 of the verifier.
pub fn code_challenge(verifier: &str) -> String {
    base64::encode_url(&sha256::digest(verifier.as_bytes()))
}

/// A version 4 UUID in the form `crypto.randomUUID()` returns (lower-case, hyphenated).
pub fn uuid_v4(random: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = *random;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        for nibble in [byte >> 4, byte & 0x0f] {
            if let Some(&c) = HEX.get(usize::from(nibble)) {
                out.push(char::from(c));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_challenge() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifier_has_96_alphanumeric_characters() {
        let random: Vec<u8> = (0..VERIFIER_RANDOM_BYTES).map(|i| (i * 7) as u8).collect();
        let v = code_verifier(&random).unwrap();
        assert_eq!(v.len(), 96);
        assert!(v.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(code_challenge(&v).len(), 43);
    }

    #[test]
    fn verifier_maps_bytes_without_bias() {
        // 0 -> 'A', 61 -> '9', 62 wraps to 'A', 247 -> 247 % 62 = 61 -> '9'; 248..=255 skipped.
        let mut random = vec![0u8, 61, 62, 247, 248, 255, 25, 26];
        random.resize(200, 1);
        let v = code_verifier(&random).unwrap();
        assert!(v.starts_with("A9A9Za"), "{v}");
        assert!(v[6..].bytes().all(|b| b == b'B'));
    }

    #[test]
    fn verifier_needs_enough_accepted_bytes() {
        assert_eq!(code_verifier(&[]), None);
        assert_eq!(code_verifier(&[1; 95]), None);
        assert!(code_verifier(&[1; 96]).is_some());
        // Rejected bytes do not count.
        let mut random = vec![250u8; 50];
        random.extend([3u8; 95]);
        assert_eq!(code_verifier(&random), None);
        random.push(3);
        assert_eq!(code_verifier(&random).unwrap(), "D".repeat(96));
    }

    #[test]
    fn every_character_comes_from_exactly_four_byte_values() {
        let mut sources = [0usize; 62];
        for b in 0..=255u8 {
            match code_verifier(&[b; 96]) {
                Some(v) => {
                    let c = v.as_bytes()[0];
                    assert!(v.bytes().all(|x| x == c));
                    sources[ALPHABET.iter().position(|&a| a == c).unwrap()] += 1;
                }
                None => assert!(b >= REJECT_FROM, "byte {b} was rejected"),
            }
        }
        assert!(sources.iter().all(|&n| n == 4), "{sources:?}");
    }

    #[test]
    fn uuid_v4_sets_version_and_variant() {
        assert_eq!(uuid_v4(&[0; 16]), "00000000-0000-4000-8000-000000000000");
        assert_eq!(uuid_v4(&[0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let bytes: [u8; 16] = core::array::from_fn(|i| (i as u8) * 17);
        let id = uuid_v4(&bytes);
        assert_eq!(id, "00112233-4455-4677-8899-aabbccddeeff");
        assert_eq!(id.len(), 36);
    }
}
