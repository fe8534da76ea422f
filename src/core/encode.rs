//! The two URL encodings keycloak-js uses, and the decoding of `URLSearchParams`.
//!
//! They differ, and the difference shows in the URLs: `encodeURIComponent` (used for the realm
//! in the realm URL) keeps `! ~ * ' ( )` and writes a space as `%20`; `URLSearchParams` (used for
//! every query string and form body) keeps only `* - . _` and writes a space as `+`.

use crate::prelude::*;

/// Appends `%XX` (upper-case hex) for one byte.
fn push_percent(byte: u8, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    for nibble in [byte >> 4, byte & 0x0f] {
        if let Some(&c) = HEX.get(usize::from(nibble)) {
            out.push(char::from(c));
        }
    }
}

/// JavaScript's `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is
/// percent-encoded as UTF-8.
pub fn encode_uri_component(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for byte in input.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => out.push(char::from(byte)),
            _ => push_percent(byte, &mut out),
        }
    }
    out
}

/// Appends `input` as `URLSearchParams` serialises a name or value
/// (application/x-www-form-urlencoded): `A-Z a-z 0-9 * - . _` as they are, space as `+`, every
/// other byte of the UTF-8 as `%XX`.
pub fn push_form_encoded(input: &str, out: &mut String) {
    for byte in input.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            _ => push_percent(byte, out),
        }
    }
}

/// Serialises name/value pairs as `new URLSearchParams(pairs).toString()` does.
pub fn form_encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        push_form_encoded(name, &mut out);
        out.push('=');
        push_form_encoded(value, &mut out);
    }
    out
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|d| d as u8)
}

/// Decodes a name or value as `URLSearchParams` parsing does: `+` is a space, `%XX` a byte, a `%`
/// without two hex digits stays as it is, and bytes that are not UTF-8 become U+FFFD.
pub fn form_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let high = bytes.get(i + 1).copied().and_then(hex_value);
                let low = bytes.get(i + 2).copied().and_then(hex_value);
                if let (Some(high), Some(low)) = (high, low) {
                    out.push(high << 4 | low);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(byte),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => utf8_lossy(e.as_bytes()),
    }
}

/// `String::from_utf8_lossy`, by way of `from_utf8` (which the crate has anyway): every
/// maximal invalid sequence becomes one U+FFFD, as in the WHATWG decoder.
pub fn utf8_lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match core::str::from_utf8(rest) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(e) => {
                let (valid, invalid) = rest
                    .split_at_checked(e.valid_up_to())
                    .unwrap_or((rest, &[]));
                out.push_str(core::str::from_utf8(valid).unwrap_or_default());
                out.push('\u{FFFD}');
                // No error length: the input ends inside a sequence.
                let skip = e.error_len().unwrap_or(invalid.len());
                rest = invalid.get(skip..).unwrap_or_default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_utf8_is_the_standard_library_s() {
        let cases: [&[u8]; 9] = [
            b"",
            b"plain",
            b"caf\xc3\xa9",
            b"\xff",
            b"a\xffb\xfe",
            b"\xe2\x82",
            b"x\xe2\x82",
            b"\xf0\x9f\x98\x80\xf0\x9f",
            b"\xed\xa0\x80z\xc0\xaf",
        ];
        for bytes in cases {
            assert_eq!(
                utf8_lossy(bytes),
                String::from_utf8_lossy(bytes),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn encode_uri_component_matches_javascript() {
        assert_eq!(
            encode_uri_component("a b/c?d=é&!~*'()#+"),
            "a%20b%2Fc%3Fd%3D%C3%A9%26!~*'()%23%2B"
        );
        assert_eq!(encode_uri_component(""), "");
        assert_eq!(encode_uri_component("AZaz09-_."), "AZaz09-_.");
        assert_eq!(encode_uri_component("😀"), "%F0%9F%98%80");
    }

    #[test]
    fn form_encoding_matches_url_search_params() {
        // new URLSearchParams([['k', v]]).toString() in a browser.
        let mut out = String::new();
        push_form_encoded("a b/c?d=é&!~*'()#+:%", &mut out);
        assert_eq!(out, "a+b%2Fc%3Fd%3D%C3%A9%26%21%7E*%27%28%29%23%2B%3A%25");
        assert_eq!(
            form_encode([
                ("redirect_uri", "http://localhost:8080/app?x=1#/r"),
                ("scope", "openid email")
            ]),
            "redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fapp%3Fx%3D1%23%2Fr&scope=openid+email"
        );
        assert_eq!(form_encode([]), "");
        assert_eq!(form_encode([("", "")]), "=");
    }

    #[test]
    fn form_decoding_matches_url_search_params() {
        assert_eq!(form_decode("a+b%20c"), "a b c");
        assert_eq!(form_decode("%C3%A9%e2%82%ac"), "é€");
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("%2B"), "+");
        assert_eq!(form_decode("%FF"), "\u{FFFD}");
        assert_eq!(form_decode("é"), "é");
        assert_eq!(form_decode(""), "");
    }

    #[test]
    fn form_round_trips() {
        for s in ["", "plain", "a b+c", "é€😀", "%25%", "&=?#", "\u{0}\u{7f}"] {
            let mut out = String::new();
            push_form_encoded(s, &mut out);
            assert_eq!(form_decode(&out), s);
        }
    }
}
