//! Browser I/O. The only part of the crate that touches `web-sys`; each function is a thin
//! wrapper that turns browser failures into [`crate::core::error::Error`] values.
//!
//! The iframes (silent check-sso, the third-party-cookie check, the session iframe) and their
//! `postMessage` exchanges will live in an `iframe` module beside these.

pub mod http;
pub mod navigation;
pub mod random;
pub mod storage;
pub mod timers;
