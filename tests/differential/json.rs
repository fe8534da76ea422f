//! `core::json` against serde_json (see [`crate::json_oracle`]) on text that serde_json
//! writes, on every spelling of the same values, on edited text, on fragment soup and on any
//! string; lone surrogates against std's lossy UTF-16; the nesting limit against serde_json's.

use std::sync::OnceLock;

use keycloak_wasm::core::json::{self, Value, MAX_DEPTH};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value as Json;

use crate::json_oracle::{disagreement, same};

/// Checks that both parsers agree on `text`, up to the named differences.
fn agree(text: &str) -> Result<(), TestCaseError> {
    match disagreement(text) {
        None => Ok(()),
        Some(difference) => Err(TestCaseError::fail(difference)),
    }
}

/// Characters for strings: mostly printable ASCII, any character, control characters, and
/// the ones that escaping is about.
fn text_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range(' ', '~'),
        2 => any::<char>(),
        1 => proptest::char::range('\0', '\u{1f}'),
        1 => proptest::sample::select(vec![
            '"', '\\', '/', '\u{7f}', '\u{2028}', '\u{2029}', '\u{FFFD}', '\u{FEFF}', 'é', '😀',
        ]),
    ]
}

fn text_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(text_char(), 0..10).prop_map(|chars| chars.into_iter().collect())
}

/// Any JSON value that serde_json can hold, up to five levels deep.
fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Json::Number)),
        text_string().prop_map(Json::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            proptest::collection::vec((text_string(), inner), 0..6)
                .prop_map(|members| Json::Object(members.into_iter().collect())),
        ]
    })
}

/// A value built here (not read), as the adapter builds the values it writes: numbers made
/// from doubles, keys that may repeat.
fn built_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        text_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        let key = prop_oneof![
            text_string(),
            proptest::sample::select(vec!["a".to_owned(), "b".to_owned()])
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..6).prop_map(Value::Object),
        ]
    })
}

/// One of the many ways to spell a JSON value: any character of a string escaped or not
/// (short escapes, `\u` in either case, surrogate pairs), `/` escaped or not, whitespace of
/// all four kinds between tokens, and members repeated with a value that a later one replaces.
struct Speller {
    state: u64,
}

impl Speller {
    fn new(seed: u64) -> Self {
        Speller { state: seed | 1 }
    }

    /// A pseudo-random number below `n` (xorshift).
    fn below(&mut self, n: u64) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state % n
    }

    fn space(&mut self, out: &mut String) {
        for _ in 0..self.below(3) {
            out.push([' ', '\t', '\n', '\r'][self.below(4) as usize]);
        }
    }

    fn unicode_escape(&mut self, unit: u16, out: &mut String) {
        if self.below(2) == 0 {
            out.push_str(&format!("\\u{unit:04x}"));
        } else {
            out.push_str(&format!("\\u{unit:04X}"));
        }
    }

    fn string(&mut self, s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            let escape = self.below(3) == 0;
            match c {
                '"' if !escape => out.push_str("\\\""),
                '\\' if !escape => out.push_str("\\\\"),
                '/' if escape => out.push_str("\\/"),
                '\u{08}' if !escape => out.push_str("\\b"),
                '\u{0c}' if !escape => out.push_str("\\f"),
                '\n' if !escape => out.push_str("\\n"),
                '\r' if !escape => out.push_str("\\r"),
                '\t' if !escape => out.push_str("\\t"),
                c if escape || c < ' ' || c == '"' || c == '\\' => {
                    let mut units = [0u16; 2];
                    for &unit in c.encode_utf16(&mut units).iter() {
                        self.unicode_escape(unit, out);
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }

    fn value(&mut self, value: &Json, out: &mut String) {
        self.space(out);
        match value {
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.value(item, out);
                }
                self.space(out);
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, member)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if self.below(4) == 0 {
                        // A first value for the key, replaced by the one that follows.
                        self.space(out);
                        self.string(key, out);
                        out.push_str(":null,");
                    }
                    self.space(out);
                    self.string(key, out);
                    self.space(out);
                    out.push(':');
                    self.value(member, out);
                }
                self.space(out);
                out.push('}');
            }
            Json::String(s) => self.string(s, out),
            scalar => out.push_str(&scalar.to_string()),
        }
        self.space(out);
    }
}

/// Fragments of JSON and of near-JSON, for edits and for token soup.
const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "\"",
    "\\",
    "\"k\"",
    "\"\\u00e9\"",
    "\\u",
    "\\u00",
    "\\ud83d\\ude00",
    "\\ud83d",
    "\\ude00",
    "\\n",
    "\\x",
    "\\/",
    "0",
    "7",
    "-",
    "+",
    ".",
    "e",
    "E+",
    "1.5",
    "-0",
    "01",
    "1e400",
    "-1e400",
    "1e-400",
    "2.",
    ".5",
    "true",
    "false",
    "null",
    "nul",
    "tru",
    " ",
    "\t",
    "\n",
    "\r",
    "\u{a0}",
    "\u{FEFF}",
    "\u{0}",
    "\u{1f}",
    "\u{7f}",
    "é",
    "😀",
    "/",
    "x",
    "NaN",
    "Infinity",
    "'",
    "//",
    "/*",
];

/// An edit of a text, at a character position.
#[derive(Debug, Clone)]
enum Edit {
    Delete(Index, usize),
    Insert(Index, &'static str),
    Replace(Index, &'static str),
    Truncate(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let fragment = proptest::sample::select(FRAGMENTS);
    prop_oneof![
        (any::<Index>(), 1usize..4).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<Index>(), fragment.clone()).prop_map(|(at, f)| Edit::Insert(at, f)),
        (any::<Index>(), fragment).prop_map(|(at, f)| Edit::Replace(at, f)),
        any::<Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        match edit {
            Edit::Delete(at, n) => {
                let start = at.index(chars.len() + 1);
                let end = (start + n).min(chars.len());
                chars.drain(start..end);
            }
            Edit::Insert(at, fragment) => {
                let start = at.index(chars.len() + 1);
                chars.splice(start..start, fragment.chars());
            }
            Edit::Replace(at, fragment) => {
                let start = at.index(chars.len() + 1);
                let end = (start + 1).min(chars.len());
                chars.splice(start..end, fragment.chars());
            }
            Edit::Truncate(at) => chars.truncate(at.index(chars.len() + 1)),
        }
    }
    chars.into_iter().collect()
}

/// The deepest nesting serde_json reads, measured once.
fn serde_json_depth_limit() -> usize {
    static LIMIT: OnceLock<usize> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        (1..1000)
            .find(|&depth| {
                let text = "[".repeat(depth + 1) + &"]".repeat(depth + 1);
                serde_json::from_str::<Json>(&text).is_err()
            })
            .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reads_what_serde_json_writes(value in json_value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        prop_assert!(json::parse(&text).is_ok(), "{:?}", text);
        agree(&text)?;
    }

    #[test]
    fn reads_every_spelling_as_serde_json_does(value in json_value(), seed in any::<u64>()) {
        let mut text = String::new();
        Speller::new(seed).value(&value, &mut text);
        prop_assert!(json::parse(&text).is_ok(), "{:?}", text);
        agree(&text)?;
    }

    #[test]
    fn agrees_on_edited_text(
        value in json_value(),
        seed in any::<u64>(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let mut text = String::new();
        Speller::new(seed).value(&value, &mut text);
        agree(&apply(&text, &edits))?;
    }

    #[test]
    fn agrees_on_fragment_soup(fragments in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..12)) {
        agree(&fragments.concat())?;
    }

    #[test]
    fn agrees_on_arbitrary_text(text in any::<String>()) {
        agree(&text)?;
    }

    #[test]
    fn writes_what_serde_json_reads(value in built_value()) {
        let text = value.to_json();
        let read = serde_json::from_str::<Json>(&text);
        prop_assert!(read.is_ok(), "{:?}: {:?}", text, read);
        let read = read.unwrap();
        if let Err(difference) = same(&value, &read) {
            return Err(TestCaseError::fail(format!("{text:?}: {difference}")));
        }
        // And ours reads its own text as serde_json does.
        let again = json::parse(&text).unwrap();
        if let Err(difference) = same(&again, &read) {
            return Err(TestCaseError::fail(format!("{text:?} read back: {difference}")));
        }
    }

    #[test]
    fn escapes_strings_as_serde_json_does(s in text_string()) {
        let mut ours = String::new();
        json::write_string(&s, &mut ours);
        prop_assert_eq!(ours, serde_json::to_string(&s).unwrap());
    }

    #[test]
    fn surrogates_read_as_lossy_utf16(
        units in proptest::collection::vec(
            prop_oneof![0xD800u16..0xDC00, 0xDC00u16..0xE000, 0x20u16..0x7f, any::<u16>()],
            0..8,
        ),
        seed in any::<u64>(),
    ) {
        // Each unit escaped, or written as itself where it is a character of its own.
        let mut speller = Speller::new(seed);
        let mut text = String::from("\"");
        for &unit in &units {
            match char::from_u32(u32::from(unit)) {
                Some(c) if c >= ' ' && c != '"' && c != '\\' && speller.below(2) == 0 => text.push(c),
                _ => speller.unicode_escape(unit, &mut text),
            }
        }
        text.push('"');
        let expected = String::from_utf16_lossy(&units);
        prop_assert_eq!(json::parse(&text), Ok(Value::String(expected.clone())), "{}", text);
        // Where the units are well-formed UTF-16, serde_json reads the same.
        if String::from_utf16(&units).is_ok() {
            prop_assert_eq!(serde_json::from_str::<Json>(&text).ok(), Some(Json::String(expected)));
        }
    }

    #[test]
    fn nesting_is_limited_below_serde_json(depth in 1usize..200, kinds in proptest::collection::vec(any::<bool>(), 200)) {
        let mut text = String::new();
        for &array in &kinds[..depth] {
            text.push_str(if array { "[" } else { "{\"k\":" });
        }
        text.push('0');
        for &array in kinds[..depth].iter().rev() {
            text.push(if array { ']' } else { '}' });
        }
        let ours = json::parse(&text);
        prop_assert_eq!(ours.is_ok(), depth <= MAX_DEPTH, "depth {}", depth);
        if let Err(error) = ours {
            prop_assert_eq!(error.reason, "JSON nested too deeply");
        }
        prop_assert_eq!(serde_json::from_str::<Json>(&text).is_ok(), depth <= serde_json_depth_limit());
    }
}

#[test]
fn the_nesting_limit_is_below_serde_json_s() {
    // serde_json's recursion limit of 128 lets 127 levels through.
    let serde_limit = serde_json_depth_limit();
    assert_eq!(serde_limit, 127);
    assert!(MAX_DEPTH < serde_limit);
    // Far past both limits, in one line of brackets: refused at once, without recursing on.
    let text = "[{\"a\":".repeat(50_000);
    assert_eq!(
        json::parse(&text).unwrap_err().reason,
        "JSON nested too deeply"
    );
}
