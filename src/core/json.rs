//! A small JSON value type with a parser and a serialiser.
//!
//! Everything JSON-shaped passes through here: server replies, token payloads, keycloak.json,
//! the stored callback record, and the option objects that the JavaScript wrapper hands over
//! as `JSON.stringify` output. It behaves like `JSON.parse` / `JSON.stringify` where that
//! matters to us: objects keep their key order, a repeated key resolves to its last value, lone
//! UTF-16 surrogates (which a Rust string cannot hold) become U+FFFD, and strings are escaped
//! exactly as `JSON.stringify` escapes them.

use crate::prelude::*;

use core::fmt;

use super::number;

/// Nesting deeper than this is rejected: it only ever comes from hostile input, and the parser
/// recurses once per level.
pub const MAX_DEPTH: usize = 64;

/// A JSON value. Objects are kept as an ordered list of members.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// A JSON number, with its text. A number read from JSON keeps the text it was read from and is
/// written back with it, so that what `JSON.parse` reads from our output is the very number it
/// read from the input, to the last bit (our own text-to-number conversion is exact only for the
/// usual range; see [`number`]). Options arrive through `JSON.stringify`, whose text for a
/// number is JavaScript's `String(n)`: the text is what a URL parameter must carry, and the
/// adapter needs no float formatting of its own. Numbers are equal when their values are.
#[derive(Debug, Clone)]
pub struct Number {
    value: f64,
    text: String,
}

impl Number {
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The number as JSON text: as read, or as [`number::write`] writes it (`null` for NaN and
    /// the infinities, as `JSON.stringify` writes them).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl From<f64> for Number {
    fn from(value: f64) -> Self {
        let mut text = String::new();
        if value.is_finite() {
            number::write(value, &mut text);
        } else {
            text.push_str("null");
        }
        Number { value, text }
    }
}

/// Why a text is not JSON, and the byte offset where that became clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub reason: &'static str,
    pub position: usize,
}

impl JsonError {
    /// `<reason> at position <n>`.
    pub fn message(&self) -> String {
        let mut out = String::from(self.reason);
        out.push_str(" at position ");
        number::push_u64(self.position as u64, &mut out);
        out
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for JsonError {}

impl Value {
    /// The member `key` of an object; the last one when the key is repeated, as in `JSON.parse`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.value),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// The string member `key`, if it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// The number member `key`, if it is a number.
    pub fn get_f64(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Value::as_f64)
    }

    /// The boolean member `key`, if it is a boolean.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    /// The array member `key`, if it is an array.
    pub fn get_array(&self, key: &str) -> Option<&[Value]> {
        self.get(key).and_then(Value::as_array)
    }

    /// The member `key`, if it is an object (returned as a value, so that `get` chains).
    pub fn get_object(&self, key: &str) -> Option<&Value> {
        self.get(key).filter(|v| v.is_object())
    }

    /// JavaScript truthiness: false for null, false, 0, NaN and "".
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.value != 0.0 && !n.value.is_nan(),
            Value::String(s) => !s.is_empty(),
            Value::Array(_) | Value::Object(_) => true,
        }
    }

    /// Sets member `key` of an object, replacing every existing member of that name in place
    /// (or appending it). Does nothing on a non-object.
    pub fn set(&mut self, key: &str, value: Value) {
        if let Value::Object(members) = self {
            members.retain(|(k, _)| k != key);
            members.push((key.to_owned(), value));
        }
    }

    /// The value as JSON text, as `JSON.stringify(value)` writes it.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends the value as JSON text.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => out.push_str(&n.text),
            Value::String(s) => write_string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(Number::from(n))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// Appends `s` as a JSON string literal, escaped as `JSON.stringify` does: `"` and `\`, the
/// short escapes for \b \f \n \r \t, `\u00xx` for the other control characters, nothing else.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let code = u32::from(c);
                out.push_str("\\u00");
                out.push(hex_lower(code >> 4));
                out.push(hex_lower(code & 0xf));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn hex_lower(nibble: u32) -> char {
    char::from_digit(nibble, 16).unwrap_or('0')
}

/// Parses JSON text, as `JSON.parse` would (within [`MAX_DEPTH`]).
pub fn parse(input: &str) -> Result<Value, JsonError> {
    let mut parser = Parser {
        text: input,
        bytes: input.as_bytes(),
        pos: 0,
    };
    parser.skip_whitespace();
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos < parser.bytes.len() {
        return Err(parser.error("Unexpected data after the JSON value"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> JsonError {
        JsonError {
            reason,
            position: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `literal` (e.g. `true`) or fails.
    fn expect_literal(&mut self, literal: &str, value: Value) -> Result<Value, JsonError> {
        let end = self.pos + literal.len();
        if self.bytes.get(self.pos..end) == Some(literal.as_bytes()) {
            self.pos = end;
            Ok(value)
        } else {
            Err(self.error("Unexpected token"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek() {
            None => Err(self.error("Unexpected end of JSON input")),
            Some(b'n') => self.expect_literal("null", Value::Null),
            Some(b't') => self.expect_literal("true", Value::Bool(true)),
            Some(b'f') => self.expect_literal("false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => self.container(depth + 1, b']'),
            Some(b'{') => self.container(depth + 1, b'}'),
            Some(_) => Err(self.error("Unexpected token")),
        }
    }

    /// An array (`close` is `]`) or an object (`}`); `pos` is at the opening bracket. One loop
    /// for both: the two are the same apart from the keys.
    fn container(&mut self, depth: usize, close: u8) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("JSON nested too deeply"));
        }
        let object = close == b'}';
        self.pos += 1;
        let mut items = Vec::new();
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() != Some(close) {
            loop {
                self.skip_whitespace();
                if object {
                    let key = match self.peek() {
                        Some(b'"') => self.string()?,
                        None => return Err(self.error("Unexpected end of JSON input")),
                        Some(_) => return Err(self.error("Expected a string key")),
                    };
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b':') => self.pos += 1,
                        None => return Err(self.error("Unexpected end of JSON input")),
                        Some(_) => return Err(self.error("Expected ':'")),
                    }
                    self.skip_whitespace();
                    members.push((key, self.value(depth)?));
                } else {
                    items.push(self.value(depth)?);
                }
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b) if b == close => break,
                    None => return Err(self.error("Unexpected end of JSON input")),
                    Some(_) if object => return Err(self.error("Expected ',' or '}'")),
                    Some(_) => return Err(self.error("Expected ',' or ']'")),
                }
            }
        }
        self.pos += 1;
        Ok(if object {
            Value::Object(members)
        } else {
            Value::Array(items)
        })
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(self.error("Invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("Invalid number"));
            }
            self.skip_digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("Invalid number"));
            }
            self.skip_digits();
        }
        self.text
            .get(start..self.pos)
            .and_then(|text| {
                number::parse(text).map(|value| {
                    Value::Number(Number {
                        value,
                        text: text.to_owned(),
                    })
                })
            })
            .ok_or(JsonError {
                reason: "Invalid number",
                position: start,
            })
    }

    fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// A string literal; `pos` is at the opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run of plain characters in one go. It ends at an ASCII byte, so both
            // ends are character boundaries.
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            if let Some(run) = self.text.get(run_start..self.pos) {
                out.push_str(run);
            }
            match self.peek() {
                None => return Err(self.error("Unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.error("Bad control character in string")),
            }
        }
    }

    /// One escape sequence; `pos` is just past the backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{08}',
            Some(b'f') => '\u{0c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let unit = self.hex4()?;
                out.push(self.utf16_unit(unit));
                return Ok(());
            }
            None => return Err(self.error("Unterminated string")),
            Some(_) => return Err(self.error("Bad escape in string")),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    /// Turns a UTF-16 code unit (already consumed) into a character, consuming the low half of
    /// a surrogate pair when it follows. Lone surrogates become U+FFFD.
    fn utf16_unit(&mut self, unit: u16) -> char {
        if (0xD800..0xDC00).contains(&unit) {
            let save = self.pos;
            if self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u") {
                self.pos += 2;
                if let Ok(low) = self.hex4() {
                    if (0xDC00..0xE000).contains(&low) {
                        let code = 0x10000
                            + ((u32::from(unit) - 0xD800) << 10)
                            + (u32::from(low) - 0xDC00);
                        return char::from_u32(code).unwrap_or('\u{FFFD}');
                    }
                }
            }
            // Not a pair: leave whatever follows to be read on its own.
            self.pos = save;
            return '\u{FFFD}';
        }
        char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}')
    }

    fn hex4(&mut self) -> Result<u16, JsonError> {
        let mut unit: u16 = 0;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or(self.error("Bad Unicode escape in string"))?;
            unit = (unit << 4) | digit as u16;
            self.pos += 1;
        }
        Ok(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(members: Vec<(&str, Value)>) -> Value {
        Value::Object(
            members
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    #[test]
    fn parses_every_kind_of_value() {
        let v =
            parse(r#" {"a": null, "b": [true, false], "c": -1.5e2, "d": "x", "e": {}} "#).unwrap();
        assert_eq!(
            v,
            obj(vec![
                ("a", Value::Null),
                (
                    "b",
                    Value::Array(vec![Value::Bool(true), Value::Bool(false)])
                ),
                ("c", Value::from(-150.0)),
                ("d", Value::from("x")),
                ("e", Value::Object(vec![])),
            ])
        );
        assert_eq!(parse("0").unwrap(), Value::from(0.0));
        assert_eq!(parse("-0.25").unwrap(), Value::from(-0.25));
        assert_eq!(parse("1E+3").unwrap(), Value::from(1000.0));
        assert_eq!(parse("[]").unwrap(), Value::Array(vec![]));
        assert_eq!(parse("\"\"").unwrap(), Value::from(""));
        assert_eq!(parse("\t\r\n true \n").unwrap(), Value::Bool(true));
    }

    #[test]
    fn keeps_key_order_and_last_duplicate_wins() {
        let v = parse(r#"{"z":1,"a":2,"z":3}"#).unwrap();
        let keys: Vec<&str> = v
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["z", "a", "z"]);
        assert_eq!(v.get_f64("z"), Some(3.0));
        assert_eq!(v.get_f64("a"), Some(2.0));
    }

    #[test]
    fn decodes_escapes_and_surrogate_pairs() {
        let v = parse(r#""\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00""#).unwrap();
        assert_eq!(
            v.as_str().unwrap(),
            "\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{20ac}\u{1F600}"
        );
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(parse(r#""\ud83d""#).unwrap().as_str().unwrap(), "\u{FFFD}");
        assert_eq!(
            parse(r#""\ude00x""#).unwrap().as_str().unwrap(),
            "\u{FFFD}x"
        );
        // A high surrogate followed by an escape that is not a low surrogate: both are kept.
        assert_eq!(
            parse(r#""\ud83d\u0041""#).unwrap().as_str().unwrap(),
            "\u{FFFD}A"
        );
        assert_eq!(
            parse(r#""\ud83d\n""#).unwrap().as_str().unwrap(),
            "\u{FFFD}\n"
        );
        assert_eq!(
            parse(r#""\ud83d\ud83d\ude00""#).unwrap().as_str().unwrap(),
            "\u{FFFD}\u{1F600}"
        );
    }

    #[test]
    fn keeps_raw_utf8() {
        assert_eq!(parse("\"héllo €\"").unwrap().as_str().unwrap(), "héllo €");
    }

    #[test]
    fn errors_name_the_position() {
        let cases: &[(&str, &str, usize)] = &[
            ("", "Unexpected end of JSON input", 0),
            ("  ", "Unexpected end of JSON input", 2),
            ("{", "Unexpected end of JSON input", 1),
            ("[1,", "Unexpected end of JSON input", 3),
            ("[1 2]", "Expected ',' or ']'", 3),
            (r#"{"a" 1}"#, "Expected ':'", 5),
            (r#"{"a":1 "b":2}"#, "Expected ',' or '}'", 7),
            ("{a:1}", "Expected a string key", 1),
            ("tru", "Unexpected token", 0),
            ("nul", "Unexpected token", 0),
            ("x", "Unexpected token", 0),
            ("01", "Unexpected data after the JSON value", 1),
            ("1.", "Invalid number", 2),
            ("1e", "Invalid number", 2),
            ("-", "Invalid number", 1),
            ("+1", "Unexpected token", 0),
            (".5", "Unexpected token", 0),
            ("\"abc", "Unterminated string", 4),
            ("\"a\\", "Unterminated string", 3),
            ("\"\\x\"", "Bad escape in string", 2),
            ("\"\\u12g4\"", "Bad Unicode escape in string", 5),
            ("\"a\nb\"", "Bad control character in string", 2),
            ("[1,]", "Unexpected token", 3),
            ("{\"a\":1,}", "Expected a string key", 7),
            ("true false", "Unexpected data after the JSON value", 5),
        ];
        for (input, reason, position) in cases {
            let err = parse(input).unwrap_err();
            assert_eq!(
                (err.reason, err.position),
                (*reason, *position),
                "input {input:?}"
            );
        }
        assert_eq!(
            parse("[1 2]").unwrap_err().to_string(),
            "Expected ',' or ']' at position 3"
        );
    }

    #[test]
    fn nesting_is_limited() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&deep).unwrap_err().reason, "JSON nested too deeply");
        let deep_objects = r#"{"a":"#.repeat(100_000);
        assert_eq!(
            parse(&deep_objects).unwrap_err().reason,
            "JSON nested too deeply"
        );
    }

    #[test]
    fn serialises_like_json_stringify() {
        let v = obj(vec![
            (
                "s",
                Value::from("q\"b\\n\n\r\t\u{8}\u{c}\u{1}\u{1f} é/€\u{2028}"),
            ),
            ("n", Value::from(3600.0)),
            ("f", Value::from(0.5)),
            ("neg", Value::from(-0.0)),
            ("nan", Value::from(f64::NAN)),
            ("inf", Value::from(f64::INFINITY)),
            (
                "a",
                Value::Array(vec![Value::Null, Value::Bool(true), Value::Bool(false)]),
            ),
            ("o", Value::Object(vec![])),
        ]);
        assert_eq!(
            v.to_json(),
            "{\"s\":\"q\\\"b\\\\n\\n\\r\\t\\b\\f\\u0001\\u001f é/€\u{2028}\",\"n\":3600,\"f\":0.5,\
             \"neg\":0,\"nan\":null,\"inf\":null,\"a\":[null,true,false],\"o\":{}}"
        );
    }

    #[test]
    fn round_trips() {
        let text = r#"{"state":"a-b","expires":1700000000123,"nested":{"x":[1,2.5,"\u0000"]},"e":"\ud83d\ude00"}"#;
        let v = parse(text).unwrap();
        assert_eq!(parse(&v.to_json()).unwrap(), v);
        assert_eq!(v.get_f64("expires"), Some(1_700_000_000_123.0));
        assert_eq!(v.to_json(), "{\"state\":\"a-b\",\"expires\":1700000000123,\"nested\":{\"x\":[1,2.5,\"\\u0000\"]},\"e\":\"\u{1F600}\"}");
    }

    #[test]
    fn numbers_read_are_written_back_with_their_text() {
        let text =
            "[1.0,1E3,-0,0.30000000000000004,1.7976931348623157e308,5e-324,123456789012345678901]";
        let v = parse(text).unwrap();
        assert_eq!(v.to_json(), text);
        let values: Vec<f64> = v
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        assert_eq!(values[..4], [1.0, 1000.0, 0.0, 0.30000000000000004]);
        // Numbers made here are written as JavaScript writes them.
        let made = Value::Array(vec![
            Value::from(1000.0),
            Value::from(0.5),
            Value::from(-0.0),
        ]);
        assert_eq!(made.to_json(), "[1000,0.5,0]");
        // Equality is by value.
        assert_eq!(parse("1.0").unwrap(), Value::from(1.0));
    }

    #[test]
    fn getters_check_types() {
        let v = parse(r#"{"s":"x","n":2,"b":true,"a":[1],"o":{"k":"v"},"z":null}"#).unwrap();
        assert_eq!(v.get_str("s"), Some("x"));
        assert_eq!(v.get_str("n"), None);
        assert_eq!(v.get_f64("n"), Some(2.0));
        assert_eq!(v.get_f64("s"), None);
        assert_eq!(v.get_bool("b"), Some(true));
        assert_eq!(v.get_bool("z"), None);
        assert_eq!(v.get_array("a").map(<[Value]>::len), Some(1));
        assert_eq!(v.get_array("o"), None);
        assert_eq!(v.get_object("o").and_then(|o| o.get_str("k")), Some("v"));
        assert_eq!(v.get_object("a"), None);
        assert!(v.get("z").unwrap().is_null());
        assert_eq!(v.get("missing"), None);
        assert_eq!(Value::from("x").get("s"), None);
    }

    #[test]
    fn truthiness_matches_javascript() {
        for falsy in ["null", "false", "0", "-0", "\"\""] {
            assert!(!parse(falsy).unwrap().is_truthy(), "{falsy}");
        }
        assert!(!Value::from(f64::NAN).is_truthy());
        for truthy in ["true", "1", "-1", "\"0\"", "\"false\"", "[]", "{}"] {
            assert!(parse(truthy).unwrap().is_truthy(), "{truthy}");
        }
    }

    #[test]
    fn set_replaces_or_appends() {
        let mut v = parse(r#"{"action":"x","a":1,"action":"y"}"#).unwrap();
        v.set("action", Value::from("register"));
        assert_eq!(v.to_json(), r#"{"a":1,"action":"register"}"#);
        v.set("b", Value::Bool(false));
        assert_eq!(v.to_json(), r#"{"a":1,"action":"register","b":false}"#);
        let mut not_object = Value::Null;
        not_object.set("a", Value::Null);
        assert_eq!(not_object, Value::Null);
    }

    #[test]
    fn truncated_and_mutated_inputs_never_panic() {
        let samples = [
            r#"{"a":[1,2,{"b":"c\u00e9\ud83d\ude00"}],"d":-1.25e-3,"e":null,"f":true}"#,
            "[\"\\u\", \"\\ud83d\\u\", 1e+, -, {\"\":\"\"}]",
            "\"é€😀\\\"\"",
        ];
        for sample in samples {
            for end in 0..=sample.len() {
                if let Some(prefix) = sample.get(..end) {
                    let _ = parse(prefix);
                }
                if let Some(suffix) = sample.get(end..) {
                    let _ = parse(suffix);
                }
            }
            // Every single-byte substitution with a structural character.
            for i in 0..sample.len() {
                for sub in [b'"', b'\\', b'{', b'[', b']', b'}', b',', b':', b'u', b'0'] {
                    let mut bytes = sample.as_bytes().to_vec();
                    bytes[i] = sub;
                    if let Ok(text) = String::from_utf8(bytes) {
                        if let Ok(v) = parse(&text) {
                            // Whatever parses must serialise back to something that parses.
                            assert!(parse(&v.to_json()).is_ok(), "{text}");
                        }
                    }
                }
            }
        }
    }
}
