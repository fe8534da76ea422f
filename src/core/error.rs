//! The one error type of the adapter, with stable codes that JavaScript sees as `error.code`.
//!
//! Every error carries a human-readable message; errors that come from an OAuth server also
//! carry its `error` and `error_description`, and errors that come from an HTTP reply carry the
//! status. Where keycloak-js has a message for the same failure, ours is identical, so code that
//! matches on `err.message` keeps working.

use crate::prelude::*;

use core::fmt;

/// What went wrong, as a stable machine-readable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The configuration given to the constructor or fetched during `init()` is unusable.
    InvalidConfig,
    /// An option passed to a method is unusable.
    InvalidOption,
    /// A request failed: no reply, or a non-2xx reply without an OAuth error body.
    NetworkError,
    /// The server answered with an OAuth error (`error`, `error_description`).
    ServerError,
    /// A reply (HTTP or postMessage) did not arrive in time.
    Timeout,
    /// The callback's `state` is unknown, expired or already used.
    InvalidState,
    /// The ID token's nonce differs from the one sent.
    InvalidNonce,
    /// The callback's `iss` differs from the expected issuer (RFC 9207).
    InvalidIssuer,
    /// A method that needs tokens was called without them.
    NotAuthenticated,
    /// `updateToken` was called without a refresh token.
    NoRefreshToken,
    /// The OpenID provider lacks the endpoint or feature that was asked for.
    NotSupported,
    /// A token could not be decoded.
    InvalidToken,
    /// A 2xx reply whose body is not what the protocol promises.
    InvalidResponse,
    /// The browser storage failed.
    Storage,
    /// `init()` was called a second time.
    AlreadyInitialized,
    /// A method that needs `init()` was called before it.
    NotInitialized,
}

impl ErrorCode {
    /// The code as JavaScript sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::InvalidOption => "invalid_option",
            ErrorCode::NetworkError => "network_error",
            ErrorCode::ServerError => "server_error",
            ErrorCode::Timeout => "timeout",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::InvalidNonce => "invalid_nonce",
            ErrorCode::InvalidIssuer => "invalid_issuer",
            ErrorCode::NotAuthenticated => "not_authenticated",
            ErrorCode::NoRefreshToken => "no_refresh_token",
            ErrorCode::NotSupported => "not_supported",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InvalidResponse => "invalid_response",
            ErrorCode::Storage => "storage",
            ErrorCode::AlreadyInitialized => "already_initialized",
            ErrorCode::NotInitialized => "not_initialized",
        }
    }
}

/// keycloak-js's message for a non-2xx reply; ours keeps it for replies without an OAuth body.
pub const INVALID_STATUS_MESSAGE: &str = "Server responded with an invalid status.";

/// An adapter error: a code, a message, and what the server said when it said something.
/// Boxed, so that a `Result` carrying it stays small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<ErrorData>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorData {
    pub code: ErrorCode,
    pub message: String,
    /// The OAuth `error` value (e.g. `invalid_grant`, `login_required`).
    pub error: Option<String>,
    /// The OAuth `error_description` value.
    pub error_description: Option<String>,
    /// The HTTP status of the reply that caused the error.
    pub status: Option<u16>,
}

impl core::ops::Deref for Error {
    type Target = ErrorData;
    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl core::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorData {
            code,
            message: message.into(),
            error: None,
            error_description: None,
            status: None,
        }))
    }

    /// An OAuth error reply: from the authorization callback (`status` None) or from an HTTP
    /// endpoint. The message is the description when there is one, else the error value.
    pub fn oauth(error: &str, error_description: Option<&str>, status: Option<u16>) -> Self {
        let message = match error_description {
            Some(description) if !description.is_empty() => description,
            _ => error,
        };
        Error(Box::new(ErrorData {
            code: ErrorCode::ServerError,
            message: message.to_owned(),
            error: Some(error.to_owned()),
            error_description: error_description.map(str::to_owned),
            status,
        }))
    }

    /// A non-2xx reply without an OAuth error body (keycloak-js's `NetworkError`).
    pub fn http_status(status: u16) -> Self {
        Error::new(ErrorCode::NetworkError, INVALID_STATUS_MESSAGE).with_status(status)
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// "Not authenticated", from `isTokenExpired` without tokens.
    pub fn not_authenticated() -> Self {
        Error::new(ErrorCode::NotAuthenticated, "Not authenticated")
    }

    /// From `updateToken` without a refresh token.
    pub fn no_refresh_token() -> Self {
        Error::new(
            ErrorCode::NoRefreshToken,
            "Unable to update token, no refresh token available.",
        )
    }

    /// An endpoint that the OpenID provider's metadata does not list.
    pub fn not_supported() -> Self {
        Error::new(ErrorCode::NotSupported, "Not supported by the OIDC server")
    }

    /// The ID token's nonce differs from the stored one.
    pub fn invalid_nonce() -> Self {
        Error::new(ErrorCode::InvalidNonce, "Invalid nonce.")
    }

    /// A method that needs the configuration, called before `init()` loaded it.
    pub fn not_initialized() -> Self {
        Error::new(
            ErrorCode::NotInitialized,
            "The 'Keycloak' instance is not initialized: call init() first.",
        )
    }

    /// A wait that ran out, with the message that says which wait.
    pub fn timeout(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Timeout, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ErrorCode; 16] = [
        ErrorCode::InvalidConfig,
        ErrorCode::InvalidOption,
        ErrorCode::NetworkError,
        ErrorCode::ServerError,
        ErrorCode::Timeout,
        ErrorCode::InvalidState,
        ErrorCode::InvalidNonce,
        ErrorCode::InvalidIssuer,
        ErrorCode::NotAuthenticated,
        ErrorCode::NoRefreshToken,
        ErrorCode::NotSupported,
        ErrorCode::InvalidToken,
        ErrorCode::InvalidResponse,
        ErrorCode::Storage,
        ErrorCode::AlreadyInitialized,
        ErrorCode::NotInitialized,
    ];

    /// Where `code` is in [`ALL`]. The match has no catch-all: a new code does not compile
    /// until it is given a place here, and the test below fails until it is in [`ALL`].
    fn position(code: ErrorCode) -> usize {
        match code {
            ErrorCode::InvalidConfig => 0,
            ErrorCode::InvalidOption => 1,
            ErrorCode::NetworkError => 2,
            ErrorCode::ServerError => 3,
            ErrorCode::Timeout => 4,
            ErrorCode::InvalidState => 5,
            ErrorCode::InvalidNonce => 6,
            ErrorCode::InvalidIssuer => 7,
            ErrorCode::NotAuthenticated => 8,
            ErrorCode::NoRefreshToken => 9,
            ErrorCode::NotSupported => 10,
            ErrorCode::InvalidToken => 11,
            ErrorCode::InvalidResponse => 12,
            ErrorCode::Storage => 13,
            ErrorCode::AlreadyInitialized => 14,
            ErrorCode::NotInitialized => 15,
        }
    }

    /// The string literals of `KeycloakErrorCode` in js/keycloak.d.ts.
    fn declared_codes() -> std::collections::BTreeSet<&'static str> {
        let dts = include_str!("../../js/keycloak.d.ts");
        let start = dts
            .find("export type KeycloakErrorCode =")
            .expect("the d.ts declares KeycloakErrorCode");
        let union = &dts[start..];
        let union = &union[..union.find("(string & {})").expect("the union is open")];
        union.split('\'').skip(1).step_by(2).collect()
    }

    #[test]
    fn every_code_is_listed() {
        for code in ALL {
            assert_eq!(ALL.get(position(code)), Some(&code), "{code:?}");
        }
    }

    #[test]
    fn the_typescript_union_has_exactly_the_codes() {
        let rust: std::collections::BTreeSet<&str> = ALL.iter().map(|c| c.as_str()).collect();
        let declared = declared_codes();
        assert!(declared.len() > 10, "read the union: {declared:?}");
        assert_eq!(
            declared.difference(&rust).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "codes in js/keycloak.d.ts that ErrorCode lacks"
        );
        assert_eq!(
            rust.difference(&declared).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "codes of ErrorCode that js/keycloak.d.ts lacks"
        );
    }

    #[test]
    fn codes_are_distinct_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "not snake_case: {s}"
            );
        }
        assert_eq!(ErrorCode::ServerError.as_str(), "server_error");
        assert_eq!(ErrorCode::InvalidNonce.as_str(), "invalid_nonce");
    }

    #[test]
    fn keycloak_js_messages_are_reproduced() {
        assert_eq!(Error::invalid_nonce().message, "Invalid nonce.");
        assert_eq!(Error::not_authenticated().message, "Not authenticated");
        assert_eq!(
            Error::no_refresh_token().message,
            "Unable to update token, no refresh token available."
        );
        assert_eq!(
            Error::not_supported().message,
            "Not supported by the OIDC server"
        );
        assert_eq!(
            Error::not_initialized().message,
            "The 'Keycloak' instance is not initialized: call init() first."
        );
        assert_eq!(Error::not_initialized().code.as_str(), "not_initialized");
        assert_eq!(Error::not_supported().code, ErrorCode::NotSupported);
    }

    #[test]
    fn oauth_errors_carry_the_server_fields() {
        let err = Error::oauth("invalid_grant", Some("Token is not active"), Some(400));
        assert_eq!(err.code, ErrorCode::ServerError);
        assert_eq!(err.message, "Token is not active");
        assert_eq!(err.error.as_deref(), Some("invalid_grant"));
        assert_eq!(
            err.error_description.as_deref(),
            Some("Token is not active")
        );
        assert_eq!(err.status, Some(400));

        let bare = Error::oauth("login_required", None, None);
        assert_eq!(bare.message, "login_required");
        assert_eq!(bare.error_description, None);
        assert_eq!(bare.status, None);

        let empty_description = Error::oauth("access_denied", Some(""), None);
        assert_eq!(empty_description.message, "access_denied");
        assert_eq!(empty_description.error_description.as_deref(), Some(""));
    }

    #[test]
    fn http_status_errors_are_network_errors_with_status() {
        let err = Error::http_status(503);
        assert_eq!(err.code, ErrorCode::NetworkError);
        assert_eq!(err.message, "Server responded with an invalid status.");
        assert_eq!(err.status, Some(503));
        assert_eq!(err.to_string(), err.message);
    }
}
