//! keycloak-wasm: a drop-in replacement for the `keycloak-js` browser adapter.
//!
//! The crate is split by what a module may touch:
//! - [`core`]: pure protocol logic (configuration, URLs, PKCE, callback parsing, token maths,
//!   refresh decisions). No browser APIs; compiled and unit-tested natively.
//! - `web` (wasm32 only): thin browser I/O: storage, fetch, timers, iframes, navigation.
//! - `api` (wasm32 only): the `#[wasm_bindgen]` facade that the JavaScript wrapper in `js/`
//!   drives. It validates what JavaScript hands in, asks `core` to decide and `web` to act.

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
pub mod web;
