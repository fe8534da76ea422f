//! Base64url, as JWTs and PKCE use it.
//!
//! Decoding is forgiving in the ways keycloak-js's is: the URL-safe and the standard alphabet
//! are both accepted (even mixed), padding is optional, and leftover bits in the last character
//! are ignored, as `atob` ignores them. Encoding writes the URL-safe alphabet without padding.

use crate::prelude::*;

const URL_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The 6-bit value of a base64 character of either alphabet.
fn sextet(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' | b'+' => 62,
        b'_' | b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes base64url or base64, with or without `=` padding. None for any other character, for
/// more than two padding characters, or for a length that no encoder produces.
pub fn decode(input: &str) -> Option<Vec<u8>> {
    let bytes = input.as_bytes();
    let unpadded = bytes
        .iter()
        .rposition(|&b| b != b'=')
        .map_or(0, |last| last + 1);
    let data = bytes.get(..unpadded)?;
    // Padding may only complete the last group: "Zg", "Zg=", "Zg==" and "Zm8=" are fine.
    match (data.len() % 4, bytes.len() - unpadded) {
        (1, _) => return None,
        (0, 0) | (2, 0..=2) | (3, 0..=1) => {}
        _ => return None,
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in data {
        acc = (acc << 6) | sextet(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Encodes bytes as base64url without padding.
pub fn encode_url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let group = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        // A chunk of n bytes yields n + 1 characters.
        for i in 0..=chunk.len() {
            let index = (group >> (18 - 6 * i)) & 0x3f;
            if let Some(&c) = URL_ALPHABET.get(index as usize) {
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
    fn encodes_rfc4648_vectors_without_padding() {
        let cases = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(encode_url(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn uses_the_url_safe_alphabet() {
        assert_eq!(encode_url(&[0xfb, 0xff, 0xbf]), "-_-_");
        assert_eq!(encode_url(&[0xff]), "_w");
    }

    #[test]
    fn decodes_both_alphabets_and_optional_padding() {
        assert_eq!(decode("-_-_").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(decode("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(decode("-/+_").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(decode("Zg==").unwrap(), b"f");
        assert_eq!(decode("Zg=").unwrap(), b"f");
        assert_eq!(decode("Zm8=").unwrap(), b"fo");
        assert_eq!(decode("").unwrap(), b"");
    }

    #[test]
    fn ignores_leftover_bits_like_atob() {
        // "Zh" has non-zero bits after the one byte it encodes; atob accepts it.
        assert_eq!(decode("Zh").unwrap(), b"f");
    }

    #[test]
    fn rejects_what_is_not_base64() {
        let bad_inputs = [
            "Z", "Zm9vY", "Zg===", "Zm8==", "Zm9v=", "Zm9v!", "Zm 9v", "Zg=g", "=", "==", "é",
        ];
        for bad in bad_inputs {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for len in 0..data.len() {
            let slice = &data[..len];
            assert_eq!(decode(&encode_url(slice)).unwrap(), slice);
        }
    }
}
