//! Pure protocol logic. Nothing in here may depend on `web-sys` or `js-sys`: every function
//! takes plain values and returns plain values, so it is tested with a native `cargo test`.
//! Nothing in here draws randomness or reads the clock either: callers pass random bytes and
//! the current time in milliseconds.
//!
//! - [`json`], [`number`], [`base64`], [`encode`]: the data formats (JSON values, numbers as
//!   JavaScript writes them, base64url, `encodeURIComponent` and `URLSearchParams` encoding).
//! - [`error`]: the one error type, with stable codes and the server's OAuth fields.
//! - [`config`]: the constructor's three forms and the endpoints they lead to.
//! - [`options`]: validated `init()`, login, logout and account options.
//! - [`pkce`]: the code verifier, the S256 challenge, UUIDs for state and nonce; [`sha256`].
//! - [`urls`]: authorization (login, registration), logout and account URLs.
//! - [`callback`]: parsing the redirect, the stored login record, what a callback means.
//! - [`token`]: JWT payloads, the token set, roles, expiry and time skew, token endpoint I/O.
//! - [`refresh`]: `updateToken` decisions and the single-flight queue.
//! - [`iframe`]: the hidden iframes' messages and what follows from them.
//! - [`backoff`]: reconnect delays of the live-event socket.
//! - [`socket`]: the live-event socket's options, token strategies, close codes and timing.
//! - [`tabs`]: tokens that the tabs of one origin share after a refresh.
//! - [`text`]: splitting at ASCII delimiters without the standard library's `char` searcher.

pub mod backoff;
pub mod base64;
pub mod callback;
pub mod config;
pub mod encode;
pub mod error;
pub mod iframe;
pub mod json;
pub mod number;
pub mod options;
pub mod pkce;
pub mod refresh;
pub mod sha256;
pub mod socket;
pub mod tabs;
pub mod text;
pub mod token;
pub mod urls;
