//! devserver: a Keycloak 26 stand-in for development and tests.
//!
//! It imports Keycloak realm-export JSON, speaks Keycloak's OpenID Connect endpoints (login page,
//! tokens, logout, the session iframe and third-party-cookie pages, account and userinfo), keeps
//! SSO sessions in cookies as Keycloak does, offers a subset of the Admin REST API, publishes
//! Keycloak-style events on an in-process bus and, through the live-event hub, on an
//! authenticated WebSocket, and has fault knobs for tests.
//!
//! Start it in-process with [`start`]; the binary wraps the same function.

// Handlers return axum `Response`s as their error values; boxing them buys nothing here.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod cli;
pub mod events;
pub mod faults;
pub mod http;
pub mod hub;
pub mod import;
pub mod keys;
pub mod log;
pub mod model;
pub mod oidc;
pub mod pages;
pub mod redirect_uri;
pub mod representations;
pub mod server;
pub mod sessions;
pub mod state;
#[doc(hidden)]
pub mod testkey;
pub mod tokens;
pub mod util;

pub use server::{start, RunningServer, ServerConfig};
