//! Pure protocol logic. Nothing in here may depend on `web-sys` or `js-sys`: every function
//! takes plain values and returns plain values, so it is tested with a native `cargo test`.
//! Nothing in here draws randomness or reads the clock either: callers pass random bytes and
//! the current time in milliseconds.

pub mod backoff;
pub mod base64;
pub mod callback;
pub mod config;
pub mod encode;
pub mod error;
pub mod json;
pub mod number;
pub mod options;
pub mod pkce;
pub mod refresh;
pub mod token;
pub mod urls;
