//! Small `#[wasm_bindgen]` exports around the synchronous machines of [`crate::core`]: each
//! converts events in and effects out, and decides nothing.
//!
//! - [`socket`]: `SocketMachine`, driven by `KeycloakSocket` in js/keycloak.js.

pub mod socket;
