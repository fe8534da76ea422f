//! A minimal leveled logger on stderr: `--log-level` or `RUST_LOG` (error, warn, info, debug).

use std::sync::atomic::{AtomicU8, Ordering};

pub use events_hub::log::Level;

/// The level that `--log-level` or `RUST_LOG` names. RUST_LOG may carry targets
/// (`devserver=debug,tower=info`): take the first bare level or the one set for devserver.
pub fn parse_level(text: &str) -> Option<Level> {
    let mut chosen = None;
    for part in text.split(',').map(str::trim) {
        let level = match part.split_once('=') {
            Some(("devserver", level)) => level,
            Some(_) => continue,
            None => part,
        };
        chosen = Some(Level::parse(level)?);
    }
    chosen
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
        assert_eq!(parse_level("debug"), Some(Level::Debug));
        assert_eq!(
            parse_level("tower=info,devserver=debug"),
            Some(Level::Debug)
        );
        assert_eq!(parse_level("WARN"), Some(Level::Warn));
        assert_eq!(parse_level("loud"), None);
    }
}
