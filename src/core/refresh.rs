//! `updateToken(minValidity)`: whether to refresh, what a failure does to the tokens, and the
//! single-flight queue that makes concurrent callers share one request.
//!
//! The order of `updateToken` in keycloak-js, which the facade follows:
//! 1. [`ensure_refresh_token`] (reject "Unable to update token, no refresh token available.");
//! 2. with the login iframe enabled, check the session (it may clear the tokens);
//! 3. [`decide_refresh`]; false resolves `false` at once;
//! 4. [`SingleFlight::join`]; the first caller POSTs [`crate::core::token::refresh_token_body`]
//!    and, with the result, [`SingleFlight::settle`]s everyone. On failure,
//!    [`clears_tokens`] says whether to clear the tokens.

use crate::prelude::*;

use super::error::Error;
use super::options::Flow;
use super::token::TokenSet;

/// `minValidity || 5`: none, 0 and NaN mean 5 seconds.
pub fn effective_min_validity(min_validity: f64) -> f64 {
    if min_validity == 0.0 || min_validity.is_nan() {
        5.0
    } else {
        min_validity
    }
}

/// The first check of `updateToken`.
pub fn ensure_refresh_token(tokens: &TokenSet) -> Result<(), Error> {
    if tokens.refresh_token.is_none() {
        return Err(Error::no_refresh_token());
    }
    Ok(())
}

/// Whether `updateToken(min_validity)` must refresh: always for −1 (forced), when there is no
/// access token, or when the token expires within the (effective) minimum validity. Without a
/// refresh token it fails, also when the session check just cleared the tokens (keycloak-js
/// would then send `refresh_token=undefined`).
pub fn decide_refresh(
    tokens: &TokenSet,
    flow: Flow,
    min_validity: f64,
    now_ms: f64,
) -> Result<bool, Error> {
    ensure_refresh_token(tokens)?;
    let min_validity = effective_min_validity(min_validity);
    if min_validity == -1.0 || tokens.token.is_none() {
        return Ok(true);
    }
    tokens.is_token_expired(flow, min_validity, now_ms)
}

/// Whether a failed refresh clears the tokens: only on an HTTP 400 reply (the refresh token
/// was refused). Network errors, timeouts and 5xx replies keep them for a later try.
pub fn clears_tokens(error: &Error) -> bool {
    error.status == Some(400)
}

/// Callers waiting for one shared request. `W` is whatever settles a caller (a promise's
/// resolve/reject pair, a channel, ...); no async runtime is needed.
#[derive(Debug)]
pub struct SingleFlight<W> {
    waiters: Vec<W>,
}

impl<W> Default for SingleFlight<W> {
    fn default() -> Self {
        SingleFlight::new()
    }
}

impl<W> SingleFlight<W> {
    pub const fn new() -> Self {
        SingleFlight {
            waiters: Vec::new(),
        }
    }

    /// Adds a waiter. True when it is the first: that caller performs the request.
    pub fn join(&mut self, waiter: W) -> bool {
        self.waiters.push(waiter);
        self.waiters.len() == 1
    }

    /// Whether a request is under way.
    pub fn is_pending(&self) -> bool {
        !self.waiters.is_empty()
    }

    /// How many callers wait.
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Takes every waiter, in the order they joined, to settle them all with one result. The
    /// queue is empty afterwards, so a caller that joins while they are being settled starts a
    /// new request.
    pub fn settle(&mut self) -> Vec<W> {
        core::mem::take(&mut self.waiters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::base64;
    use crate::core::error::ErrorCode;

    fn jwt(payload: &str) -> String {
        format!("h.{}.s", base64::encode_url(payload.as_bytes()))
    }

    /// Access token expiring at 1000 s, skew 0.
    fn tokens() -> TokenSet {
        let mut set = TokenSet::new(Some(0.0));
        set.set(
            Some(&jwt(r#"{"exp":1000,"iat":700}"#)),
            Some(&jwt(r#"{"exp":2000}"#)),
            None,
            None,
        )
        .unwrap();
        set
    }

    #[test]
    fn min_validity_defaults_to_five() {
        assert_eq!(effective_min_validity(0.0), 5.0);
        assert_eq!(effective_min_validity(f64::NAN), 5.0);
        assert_eq!(effective_min_validity(30.0), 30.0);
        assert_eq!(effective_min_validity(-1.0), -1.0);
    }

    #[test]
    fn refresh_when_expiring_within_min_validity() {
        let t = tokens();
        // 10 s left at 990 s.
        assert!(!decide_refresh(&t, Flow::Standard, 0.0, 990_000.0).unwrap());
        assert!(!decide_refresh(&t, Flow::Standard, 10.0, 990_000.0).unwrap());
        assert!(decide_refresh(&t, Flow::Standard, 11.0, 990_000.0).unwrap());
        // 0 means 5: 4 s left refreshes, 5 s left does not.
        assert!(decide_refresh(&t, Flow::Standard, 0.0, 996_000.0).unwrap());
        assert!(!decide_refresh(&t, Flow::Standard, 0.0, 995_000.0).unwrap());
        // Expired.
        assert!(decide_refresh(&t, Flow::Standard, 5.0, 1_100_000.0).unwrap());
    }

    #[test]
    fn minus_one_forces() {
        assert!(decide_refresh(&tokens(), Flow::Standard, -1.0, 0.0).unwrap());
    }

    #[test]
    fn unknown_skew_refreshes() {
        let mut t = tokens();
        t.time_skew = None;
        assert!(decide_refresh(&t, Flow::Standard, 5.0, 0.0).unwrap());
    }

    #[test]
    fn no_access_token_refreshes() {
        let mut t = tokens();
        t.token = None;
        assert!(decide_refresh(&t, Flow::Standard, 5.0, 0.0).unwrap());
    }

    #[test]
    fn no_refresh_token_rejects() {
        let mut t = tokens();
        t.refresh_token = None;
        for min in [5.0, -1.0] {
            let err = decide_refresh(&t, Flow::Standard, min, 0.0).unwrap_err();
            assert_eq!(err.code, ErrorCode::NoRefreshToken);
            assert_eq!(
                err.message,
                "Unable to update token, no refresh token available."
            );
        }
        assert!(ensure_refresh_token(&t).is_err());
        assert!(ensure_refresh_token(&tokens()).is_ok());
        t.clear();
        assert!(decide_refresh(&t, Flow::Standard, 5.0, 0.0).is_err());
    }

    #[test]
    fn only_a_400_clears_tokens() {
        assert!(clears_tokens(&Error::http_status(400)));
        assert!(clears_tokens(&Error::oauth(
            "invalid_grant",
            None,
            Some(400)
        )));
        assert!(!clears_tokens(&Error::http_status(401)));
        assert!(!clears_tokens(&Error::http_status(500)));
        assert!(!clears_tokens(&Error::http_status(503)));
        assert!(!clears_tokens(&Error::new(
            ErrorCode::NetworkError,
            "offline"
        )));
        assert!(!clears_tokens(&Error::timeout("slow")));
    }

    #[test]
    fn single_flight_shares_one_request() {
        let mut flight = SingleFlight::new();
        assert!(!flight.is_pending());
        assert!(flight.join("a"), "the first caller performs the request");
        assert!(!flight.join("b"));
        assert!(!flight.join("c"));
        assert!(flight.is_pending());
        assert_eq!(flight.len(), 3);
        assert_eq!(flight.settle(), ["a", "b", "c"]);
        assert!(flight.is_empty());
        assert!(!flight.is_pending());
        // After settling, the next caller starts a new request.
        assert!(flight.join("d"));
        assert_eq!(flight.settle(), ["d"]);
        assert!(SingleFlight::<u8>::default().settle().is_empty());
    }
}
