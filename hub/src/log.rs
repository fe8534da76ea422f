//! Structured log records. The standalone hub writes them as JSON lines on stderr; a host may
//! render them its own way. Records carry identifiers (connection number, realm, subject), never
//! a token.

use std::fmt::Display;
use std::sync::atomic::{AtomicU8, Ordering};

use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text.trim().to_ascii_lowercase().as_str() {
            "error" => Some(Level::Error),
            "warn" | "warning" => Some(Level::Warn),
            "info" => Some(Level::Info),
            "debug" | "trace" => Some(Level::Debug),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

/// One thing that happened: a fixed message and its fields.
pub struct Record<'a> {
    pub level: Level,
    pub message: &'a str,
    pub fields: &'a [(&'a str, &'a dyn Display)],
}

impl Record<'_> {
    /// `message k=v k=v`, for hosts that log plain text.
    pub fn text(&self) -> String {
        let mut line = self.message.to_string();
        for (name, value) in self.fields {
            line.push_str(&format!(" {name}={value}"));
        }
        line
    }

    /// `{"ts":…,"level":"info","msg":"…",fields…}`
    pub fn json(&self, now_ms: u64) -> String {
        let mut object = Map::new();
        object.insert("ts".into(), Value::from(now_ms));
        object.insert("level".into(), Value::from(self.level.name()));
        object.insert("msg".into(), Value::from(self.message));
        for (name, value) in self.fields {
            object.insert((*name).to_string(), Value::from(value.to_string()));
        }
        Value::Object(object).to_string()
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// The least severe level the standalone hub writes.
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// Writes a record as one JSON line on stderr, if its level is enabled.
pub fn write_json(record: &Record<'_>) {
    if enabled(record.level) {
        eprintln!("{}", record.json(crate::wall_clock_ms()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_render_as_json_and_text() {
        let record = Record {
            level: Level::Warn,
            message: "ingest: event dropped",
            fields: &[("realm", &"demo"), ("count", &2)],
        };
        let json: Value = serde_json::from_str(&record.json(5)).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"ts": 5, "level": "warn", "msg": "ingest: event dropped", "realm": "demo", "count": "2"})
        );
        assert_eq!(record.text(), "ingest: event dropped realm=demo count=2");
        assert_eq!(Level::parse("WARNING"), Some(Level::Warn));
        assert_eq!(Level::parse("loud"), None);
    }
}
