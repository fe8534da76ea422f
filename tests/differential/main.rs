//! Differential property tests: the hand-written data formats of `src/core` against the crates
//! they stand in for (serde_json, base64, sha2) and against the standard library's float
//! parsing and formatting, on random and on structured input. The oracles are native-only
//! dev-dependencies: the wasm build never sees them.
#![cfg(not(target_arch = "wasm32"))]
// Tests may unwrap and index: a failure is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod base64_oracle;
mod base64url;
mod json;
mod json_oracle;
mod json_suite;
mod number;
mod number_oracle;
mod sha256;
