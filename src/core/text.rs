//! Splitting strings at an ASCII delimiter by plain byte scans.
//!
//! The standard library's `char` patterns (`s.split('&')`, `s.split_once('#')`,
//! `s.strip_suffix('/')`, ...) go through its `CharSearcher`, `memchr` and UTF-8 encoding of the
//! pattern: about 2 KB of WebAssembly for delimiters that are all single ASCII bytes. These do
//! the same by comparing bytes. An ASCII byte never occurs inside a multi-byte UTF-8 sequence,
//! so every split lands on a character boundary.

/// `s.split_once(delimiter)`.
pub fn split_once(s: &str, delimiter: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == delimiter)?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// `s.contains(delimiter)`.
pub fn contains(s: &str, delimiter: u8) -> bool {
    s.bytes().any(|b| b == delimiter)
}

/// `s.strip_prefix(delimiter)`.
pub fn strip_prefix(s: &str, delimiter: u8) -> Option<&str> {
    match s.as_bytes().first() {
        Some(&b) if b == delimiter => s.get(1..),
        _ => None,
    }
}

/// `s.strip_suffix(delimiter)`.
pub fn strip_suffix(s: &str, delimiter: u8) -> Option<&str> {
    match s.as_bytes().last() {
        Some(&b) if b == delimiter => s.get(..s.len() - 1),
        _ => None,
    }
}

/// `s.split(delimiter)`: the pieces between delimiters, from either end.
pub fn split(s: &str, delimiter: u8) -> Split<'_> {
    Split {
        rest: Some(s),
        delimiter,
    }
}

/// The iterator of [`split`].
pub struct Split<'a> {
    /// What is not yet returned; None once everything is.
    rest: Option<&'a str>,
    delimiter: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match split_once(rest, self.delimiter) {
            Some((piece, after)) => {
                self.rest = Some(after);
                Some(piece)
            }
            None => self.rest.take(),
        }
    }
}

impl<'a> DoubleEndedIterator for Split<'a> {
    fn next_back(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match rest.bytes().rposition(|b| b == self.delimiter) {
            Some(at) => {
                self.rest = rest.get(..at);
                rest.get(at + 1..)
            }
            None => self.rest.take(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    const SAMPLES: [&str; 10] = [
        "",
        "&",
        "&&",
        "a",
        "a&b",
        "&a&&b&",
        "ünï&cödé&✓",
        "#/route?tab=2&x",
        "?a=1&b=2#f",
        "no delimiters at all",
    ];

    #[test]
    fn split_is_str_split_both_ways() {
        for s in SAMPLES {
            for d in [b'&', b'#', b'?', b'='] {
                let c = char::from(d);
                let ours: Vec<&str> = split(s, d).collect();
                assert_eq!(ours, s.split(c).collect::<Vec<_>>(), "{s:?} {c:?}");
                let back: Vec<&str> = split(s, d).rev().collect();
                assert_eq!(back, s.split(c).rev().collect::<Vec<_>>(), "{s:?} {c:?}");
                // Mixed ends meet in the middle without losing or repeating a piece.
                let mut it = split(s, d);
                let (first, last) = (it.next(), it.next_back());
                let middle: Vec<&str> = it.collect();
                let mut std_it = s.split(c);
                assert_eq!((first, last), (std_it.next(), std_it.next_back()));
                assert_eq!(middle, std_it.collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn the_others_are_str_s() {
        for s in SAMPLES {
            for d in [b'&', b'#', b'?', b'/'] {
                let c = char::from(d);
                assert_eq!(split_once(s, d), s.split_once(c), "{s:?} {c:?}");
                assert_eq!(contains(s, d), s.contains(c));
                assert_eq!(strip_prefix(s, d), s.strip_prefix(c));
                assert_eq!(strip_suffix(s, d), s.strip_suffix(c));
            }
        }
        assert_eq!(strip_suffix("http://kc/", b'/'), Some("http://kc"));
        assert_eq!(strip_prefix("?x", b'?'), Some("x"));
    }
}
