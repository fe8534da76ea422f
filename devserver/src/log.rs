//! A minimal leveled logger on stderr: `--log-level` or `RUST_LOG` (error, warn, info, debug).

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        // RUST_LOG may carry targets (`devserver=debug,tower=info`): take the first bare level
        // or the one set for devserver.
        let mut chosen = None;
        for part in text.split(',').map(str::trim) {
            let level = match part.split_once('=') {
                Some(("devserver", level)) => level,
                Some(_) => continue,
                None => part,
            };
            chosen = match level.to_ascii_lowercase().as_str() {
                "error" => Some(Level::Error),
                "warn" | "warning" => Some(Level::Warn),
                "info" => Some(Level::Info),
                "debug" | "trace" => Some(Level::Debug),
                _ => return None,
            };
        }
        chosen
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

pub fn log(level: Level, message: &str) {
    if enabled(level) {
        let tag = match level {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        };
        eprintln!("devserver {tag} {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_targeted_levels() {
        assert_eq!(Level::parse("debug"), Some(Level::Debug));
        assert_eq!(
            Level::parse("tower=info,devserver=debug"),
            Some(Level::Debug)
        );
        assert_eq!(Level::parse("WARN"), Some(Level::Warn));
        assert_eq!(Level::parse("loud"), None);
    }
}
