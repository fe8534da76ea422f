//! What serde_json reads from a JSON text, and whether `core::json` reads the same. Both read
//! RFC 8259 JSON; where `JSON.parse`, which ours follows, and serde_json part ways, the
//! difference is named and checked:
//! - a lone UTF-16 surrogate escape: serde_json refuses it, ours reads U+FFFD;
//! - a number beyond f64's range: serde_json refuses it, ours reads an infinity;
//! - nesting: serde_json reads 127 levels, ours `json::MAX_DEPTH`, which must be fewer.
//!
//! Anything ours accepts must also serialise to text that serde_json reads to the same value.
//! Shared by the property tests and the fuzz target.

use std::collections::BTreeSet;

use keycloak_wasm::core::json::{self, Value, MAX_DEPTH};
use serde_json::Value as Json;

/// Whether `ours` holds what `theirs` holds. Members: the last of a repeated key counts, as in
/// `JSON.parse` and serde_json. Numbers: the text ours kept must be the text serde_json read.
pub fn same(ours: &Value, theirs: &Json) -> Result<(), String> {
    match (ours, theirs) {
        (Value::Null, Json::Null) => Ok(()),
        (Value::Bool(a), Json::Bool(b)) if a == b => Ok(()),
        (Value::String(a), Json::String(b)) if a == b => Ok(()),
        (Value::Number(n), Json::Number(_)) => match serde_json::from_str::<Json>(n.text()) {
            Ok(again) if &again == theirs => Ok(()),
            _ => Err(format!("number {} vs {theirs}", n.text())),
        },
        (Value::Array(items), Json::Array(expected)) if items.len() == expected.len() => {
            items.iter().zip(expected).try_for_each(|(a, b)| same(a, b))
        }
        (Value::Object(members), Json::Object(expected)) => {
            let keys: BTreeSet<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
            let expected_keys: BTreeSet<&str> = expected.keys().map(String::as_str).collect();
            if keys != expected_keys {
                return Err(format!("keys {keys:?} vs {expected_keys:?}"));
            }
            expected
                .iter()
                .try_for_each(|(key, value)| match ours.get(key) {
                    Some(member) => same(member, value),
                    None => Err(format!("no member {key:?}")),
                })
        }
        _ => Err(format!("{} vs {theirs}", ours.to_json())),
    }
}

/// How deep containers nest in `value` (a scalar is 0).
fn depth(value: &Json) -> usize {
    match value {
        Json::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Json::Object(members) => 1 + members.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Whether some string in `value` (key or value) holds U+FFFD.
fn has_replacement_character(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\u{FFFD}'),
        Value::Array(items) => items.iter().any(has_replacement_character),
        Value::Object(members) => members
            .iter()
            .any(|(k, v)| k.contains('\u{FFFD}') || has_replacement_character(v)),
        _ => false,
    }
}

/// Whether some number in `value` is infinite.
fn has_infinity(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.value().is_infinite(),
        Value::Array(items) => items.iter().any(has_infinity),
        Value::Object(members) => members.iter().any(|(_, v)| has_infinity(v)),
        _ => false,
    }
}

/// Parses `text` with both: None when they agree, up to the named differences, else what
/// differs.
pub fn disagreement(text: &str) -> Option<String> {
    let ours = json::parse(text);
    let theirs = serde_json::from_str::<Json>(text);
    match (&ours, &theirs) {
        (Ok(value), Ok(expected)) => {
            if let Err(difference) = same(value, expected) {
                return Some(format!("{text:?}: {difference}"));
            }
            let written = value.to_json();
            match serde_json::from_str::<Json>(&written) {
                Ok(read_back) if &read_back == expected => None,
                _ => Some(format!("{text:?} written as {written:?}")),
            }
        }
        (Err(error), Err(_)) if error.position <= text.len() => None,
        (Err(error), Err(_)) => Some(format!("{text:?}: {error:?} past the end")),
        (Err(error), Ok(expected)) => {
            if error.reason == "JSON nested too deeply" && depth(expected) > MAX_DEPTH {
                None
            } else {
                Some(format!(
                    "{text:?} refused ({error}), serde_json reads {expected}"
                ))
            }
        }
        (Ok(value), Err(error)) => {
            let why = error.to_string();
            let named = if why.starts_with("lone leading surrogate")
                || why.starts_with("unexpected end of hex escape")
            {
                has_replacement_character(value)
            } else if why.starts_with("number out of range") {
                has_infinity(value)
            } else {
                false
            };
            if named {
                None
            } else {
                Some(format!(
                    "{text:?} read as {}, serde_json refuses: {why}",
                    value.to_json()
                ))
            }
        }
    }
}
