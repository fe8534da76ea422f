//! Pure protocol logic. Nothing in here may depend on `web-sys` or `js-sys`: every function
//! takes plain values and returns plain values, so it is tested with a native `cargo test`.

pub mod config;
pub mod error;
