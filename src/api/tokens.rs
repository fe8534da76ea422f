//! Token methods: `updateToken` with its single shared refresh, `isTokenExpired`, roles, and
//! the two user documents (`loadUserProfile`, `loadUserInfo`).

use crate::prelude::*;

use alloc::rc::Rc;

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::convert::parse_js;
use super::http::{get, post_token};
use super::state::{now_ms, Engine, Job};
use crate::core::error::{Error, ErrorCode};
use crate::core::refresh::{clears_tokens, decide_refresh};
use crate::core::token::{
    bearer_header, parse_json_reply, parse_token_response, refresh_token_body,
};

/// Which user document to load.
#[derive(Clone, Copy)]
pub enum UserDocument {
    /// `loadUserProfile()`: the account endpoint, stored in `profile`.
    Profile,
    /// `loadUserInfo()`: the userinfo endpoint, stored in `userInfo`.
    UserInfo,
}

impl Engine {
    /// `isTokenExpired(minValidity)`. The argument is coerced as keycloak-js's arithmetic
    /// does (`if (minValidity) { if (isNaN(minValidity)) throw ...; expiresIn -= minValidity }`):
    /// with JavaScript's own unary `+`, so `"30"`, `" 30 "`, `[30]` and `true` count as numbers.
    pub fn is_token_expired(&self, min_validity: &JsValue) -> Result<bool, JsValue> {
        let min_validity = if min_validity.is_truthy() {
            let n = min_validity.unchecked_into_f64();
            if n.is_nan() {
                return Err(Error::new(ErrorCode::InvalidOption, "Invalid minValidity").into());
            }
            n
        } else {
            0.0
        };
        let state = self.state.borrow();
        state
            .tokens
            .is_token_expired(state.init.flow, min_validity, now_ms())
            .map_err(JsValue::from)
    }

    /// `updateToken(minValidity)`: refreshes when the token expires within `minValidity`
    /// seconds (`0` and absent mean 5, `-1` forces). Concurrent callers share one request and
    /// settle together.
    pub fn update_token(self: &Rc<Self>, min_validity: Option<f64>) -> Job<bool> {
        let engine = self.clone();
        Box::pin(async move { engine.update_token_now(min_validity).await })
    }

    async fn update_token_now(self: Rc<Self>, min_validity: Option<f64>) -> Result<bool, JsValue> {
        {
            let state = self.state.borrow();
            crate::core::refresh::ensure_refresh_token(&state.tokens)?;
        }
        // The session iframe, when enabled, is asked first; it may clear the tokens.
        self.check_session().await?;
        let in_flight = {
            let state = self.state.borrow();
            let needed = decide_refresh(
                &state.tokens,
                state.init.flow,
                min_validity.unwrap_or(0.0),
                now_ms(),
            )?;
            if !needed {
                return Ok(false);
            }
            state.refreshing.clone()
        };
        self.log(false, "Refreshing token");
        let shared = match in_flight {
            Some(shared) => shared,
            None => {
                let engine = self.clone();
                let shared = super::promise(engine.refresh());
                self.state.borrow_mut().refreshing = Some(shared.clone());
                shared
            }
        };
        JsFuture::from(shared).await.map(|v| v.is_truthy())
    }

    /// The refresh request itself. Tokens are dropped only when the server answers 400 (the
    /// refresh token is no longer valid); a network error or a 5xx keeps them for a retry.
    async fn refresh(self: Rc<Self>) -> Result<JsValue, JsValue> {
        // Held until the new tokens are shared: another tab refreshing the same session waits,
        // then finds them already taken over.
        let before = self.current_refresh_token();
        let _lock = self.refresh_lock(&before).await;
        if self.current_refresh_token() != before && self.state.borrow().tokens.authenticated() {
            self.state.borrow_mut().refreshing = None;
            return Ok(JsValue::TRUE);
        }
        let request = self.with_config(|config, state| {
            let refresh_token = state
                .tokens
                .refresh_token
                .as_ref()
                .ok_or_else(Error::no_refresh_token)?;
            Ok((
                config.endpoints.token()?.to_owned(),
                refresh_token_body(refresh_token.raw(), &config.client_id),
                state.init.message_receive_timeout,
            ))
        });
        let started = now_ms();
        // A failure is a core error (to decide on the tokens) and, when there was a reply, its
        // Response; or an error of the transport, already made for JavaScript.
        let outcome: Result<(), (Result<Error, JsValue>, Option<JsValue>)> = match request {
            Ok((url, body, timeout)) => match post_token(url, body, timeout).await {
                Ok(reply) => parse_token_response(reply.status, &reply.body)
                    .map_err(|e| (Ok(e), Some(reply.response.into())))
                    .and_then(|response| {
                        self.set_tokens(
                            Some(&response.access_token),
                            response.refresh_token.as_deref(),
                            response.id_token.as_deref(),
                            Some((started, now_ms())),
                        )
                        .map_err(|e| (Ok(e), None))
                    }),
                Err(error) => Err((Err(error), None)),
            },
            Err(e) => Err((Ok(e), None)),
        };
        self.state.borrow_mut().refreshing = None;
        match outcome {
            Ok(()) => {
                self.log(false, "Token refreshed");
                self.share_tokens();
                self.host.fire("onAuthRefreshSuccess", &[]);
                Ok(JsValue::TRUE)
            }
            Err((error, response)) => {
                self.log(true, "Failed to refresh token");
                let error = match error {
                    Ok(error) => {
                        if clears_tokens(&error) {
                            self.clear_token();
                        }
                        self.host.error_with(&error, response.as_ref())
                    }
                    Err(error) => error,
                };
                self.host.fire("onAuthRefreshError", &[]);
                Err(error)
            }
        }
    }

    /// `loadUserProfile()` / `loadUserInfo()`: GETs the document with the access token and
    /// stores it on the instance.
    pub async fn load_user_document(
        self: &Rc<Self>,
        which: UserDocument,
    ) -> Result<JsValue, JsValue> {
        let (url, authorization, timeout) = self.with_config(|config, state| {
            let url = match which {
                UserDocument::Profile => config.endpoints.user_profile()?,
                UserDocument::UserInfo => config.endpoints.userinfo()?.to_owned(),
            };
            let token = state.tokens.token.as_ref().map(|t| t.raw());
            Ok((
                url,
                bearer_header(token)?,
                state.init.message_receive_timeout,
            ))
        })?;
        let reply = get(url, Some(authorization), timeout).await?;
        parse_json_reply(reply.status, &reply.body)
            .map_err(|e| self.host.error_with(&e, Some(&reply.response)))?;
        let document = parse_js(&reply.body);
        let property = match which {
            UserDocument::Profile => "profile",
            UserDocument::UserInfo => "userInfo",
        };
        self.host.set(property, &document);
        Ok(document)
    }

    pub fn has_realm_role(&self, role: &str) -> bool {
        self.state.borrow().tokens.has_realm_role(role)
    }

    pub fn has_resource_role(&self, role: &str, resource: Option<String>) -> bool {
        let state = self.state.borrow();
        let client_id = match &state.phase {
            super::state::Phase::Ready(config) => config.client_id.as_str(),
            super::state::Phase::Configuring(source) => source.client_id().unwrap_or_default(),
        };
        let resource = resource
            .as_deref()
            .filter(|r| !r.is_empty())
            .unwrap_or(client_id);
        state.tokens.has_resource_role(role, resource)
    }
}
