//! keycloak-wasm: a drop-in replacement for the `keycloak-js` browser adapter.
//!
//! The crate is split by what a module may touch:
//! - [`core`]: pure protocol logic (configuration, URLs, PKCE, callback parsing, token maths,
//!   refresh decisions). No browser APIs; compiled and unit-tested natively.
//! - `web` (wasm32 only): thin browser I/O: storage, fetch, timers, iframes, navigation.
//! - `api` (wasm32 only): the `#[wasm_bindgen]` facade that the JavaScript wrapper in `js/`
//!   drives. It validates what JavaScript hands in, asks `core` to decide and `web` to act.
//! - `bindings` (wasm32 only): exports around `core`'s synchronous machines (the socket's),
//!   which convert events and effects and decide nothing; the JavaScript wrapper drives them.
//!
//! The crate is `no_std` (with `alloc`): see `tiny` in Cargo.toml. Modules take `String`, `Vec`,
//! `Box` and `ToOwned` from [`prelude`].

#![no_std]

extern crate alloc;
// std only for its panic handler in builds without `tiny` (unnamed, so that no code can come to
// depend on it), and for tests (with its macros).
#[cfg(not(any(test, all(target_arch = "wasm32", feature = "tiny"))))]
extern crate std as _;
#[cfg(test)]
#[macro_use]
extern crate std;

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
pub mod web;

/// What `std`'s prelude would give every module.
pub(crate) mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

/// A panic aborts, without formatting a message nobody reads. Library code does not panic
/// (clippy denies the ways to), so this is reached only if a dependency does.
#[cfg(all(target_arch = "wasm32", feature = "tiny"))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}
