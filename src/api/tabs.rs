//! The other tabs of the origin: after a refresh this tab shares its tokens, tabs of the same
//! session take them, and refreshes wait for each other (see `core::tabs`).

use crate::prelude::*;

use alloc::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen_futures::JsFuture;

use super::state::now_ms;
use super::state::Engine;
use crate::core::tabs::{
    channel_name, logout_marker_key, logout_message, parse_message, share_message, should_adopt,
    should_verify_session, TabMessage, SHARED_TOKENS_WAIT_MS,
};
use crate::core::token::{ParsedToken, TokenSet};
use crate::web::storage::session_storage;
use crate::web::tabs::{lock, Channel, LockGuard};
use crate::web::timers::Timeout;

impl Engine {
    /// The channel's and the lock's name, and the longest wait for the lock.
    fn tabs_name(&self) -> Option<(String, f64)> {
        self.with_config(|config, state| {
            Ok((
                channel_name(config.endpoints.token()?, &config.client_id),
                state.init.message_receive_timeout,
            ))
        })
        .ok()
    }

    /// Starts listening to the other tabs, once the configuration is loaded. A tab back from
    /// the provider's logout tells the others to check their session now.
    pub fn open_tabs(self: &Rc<Self>) {
        let Some((name, _)) = self.tabs_name() else {
            return;
        };
        let engine = Rc::downgrade(self);
        let channel = Channel::open(&self.tabs_helper, &name, move |text| {
            if let Some(engine) = engine.upgrade() {
                engine.hear(&text);
            }
        });
        *self.tabs.borrow_mut() = channel;
        if let Some(session_id) = take_logout_marker(&name) {
            self.post(&logout_message(&session_id));
        }
    }

    /// What another tab (or any page of the origin) said: refreshed tokens, taken when they fit
    /// this tab's login, or a logout of this tab's session, which makes this tab ask the server
    /// whether the session really ended.
    fn hear(self: &Rc<Self>, text: &str) {
        let shared = match parse_message(text) {
            Some(TabMessage::Tokens(shared)) => shared,
            Some(TabMessage::Logout(session_id)) => {
                if should_verify_session(&self.state.borrow().tokens, &session_id) {
                    self.log(false, "Another tab logs out: checking the session");
                    self.verify_session();
                }
                return;
            }
            None => return,
        };
        let id_token = shared.id_token.as_deref();
        let mut theirs = TokenSet::new(None);
        let parsed = theirs.set(
            Some(&shared.token),
            Some(&shared.refresh_token),
            id_token,
            None,
        );
        let adopt = parsed.is_ok()
            && self
                .with_config(|config, state| {
                    Ok(should_adopt(
                        &state.tokens,
                        &theirs,
                        &config.client_id,
                        now_ms(),
                    ))
                })
                .unwrap_or(false);
        if !adopt {
            return;
        }
        // No request timing: the time skew stays this tab's own.
        if self
            .set_tokens(
                Some(&shared.token),
                Some(&shared.refresh_token),
                id_token,
                None,
            )
            .is_ok()
        {
            self.log(false, "Token refreshed by another tab");
            if let Some(wake) = self.shared_waiter.borrow_mut().take() {
                let _ = wake.call0(&wasm_bindgen::JsValue::UNDEFINED);
            }
            self.host.fire("onAuthRefreshSuccess", &[]);
        }
    }

    /// Waits until another tab's tokens arrive, at most [`SHARED_TOKENS_WAIT_MS`].
    async fn await_shared(&self) {
        let mut wake: Option<Function> = None;
        let arrived = Promise::new(&mut |resolve, _| wake = Some(resolve));
        let Some(wake) = wake else {
            return;
        };
        *self.shared_waiter.borrow_mut() = Some(wake.clone());
        let _deadline = Timeout::new(SHARED_TOKENS_WAIT_MS, move || {
            let _ = wake.call0(&wasm_bindgen::JsValue::UNDEFINED);
        });
        let _ = JsFuture::from(arrived).await;
        *self.shared_waiter.borrow_mut() = None;
    }

    /// Asks the server whether this tab's session still lives, with a refresh once any refresh
    /// in flight has settled (its answer may predate the logout): a session that has ended
    /// refuses it, which ends the login here as any refused refresh does (`onAuthLogout`, and
    /// with login-required a new login); a live one gives new tokens.
    fn verify_session(self: &Rc<Self>) {
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let in_flight = engine.state.borrow().refreshing.clone();
            if let Some(in_flight) = in_flight {
                let _ = JsFuture::from(in_flight).await;
            }
            let _ = engine.update_token(Some(-1.0)).await;
        });
    }

    fn post(&self, message: &str) {
        if let Some(channel) = self.tabs.borrow().as_ref() {
            channel.post(message);
        }
    }

    /// Tells the other tabs that this tab is logging out of its session, and leaves a note
    /// for its own return from the provider, when it tells them again.
    pub fn share_logout(&self) {
        let Some(session_id) = self.state.borrow().tokens.session_id.clone() else {
            return;
        };
        if let (Some((name, _)), Some(storage)) = (self.tabs_name(), session_storage()) {
            let _ = storage.set_item(&logout_marker_key(&name), &session_id);
        }
        self.post(&logout_message(&session_id));
    }

    /// Tells the other tabs about this tab's new tokens.
    pub fn share_tokens(&self) {
        let message = {
            let state = self.state.borrow();
            let tokens = &state.tokens;
            let (Some(token), Some(refresh_token)) = (&tokens.token, &tokens.refresh_token) else {
                return;
            };
            let id_token = tokens.id_token.as_ref().map(ParsedToken::raw);
            share_message(token.raw(), refresh_token.raw(), id_token)
        };
        self.post(&message);
    }

    /// The refresh token this tab holds now.
    pub fn current_refresh_token(&self) -> Option<String> {
        let state = self.state.borrow();
        state
            .tokens
            .refresh_token
            .as_ref()
            .map(|t| t.raw().to_owned())
    }

    /// Waits until no other tab of the origin is refreshing (bounded by
    /// `messageReceiveTimeout`), and, when one was and its tokens have not replaced `before`
    /// yet, for them. The guard is None when the browser cannot tell or the wait ran out.
    pub async fn refresh_lock(&self, before: &Option<String>) -> Option<LockGuard> {
        let (name, timeout) = self.tabs_name()?;
        let (guard, waited) = lock(&self.tabs_helper, &name, timeout).await?;
        if waited && self.current_refresh_token() == *before {
            self.await_shared().await;
        }
        Some(guard)
    }
}

/// The session id of the logout this tab went to the provider for, if it left a note (which is
/// removed).
fn take_logout_marker(channel_name: &str) -> Option<String> {
    let storage = session_storage()?;
    let key = logout_marker_key(channel_name);
    let session_id = storage.get_item(&key).ok()??;
    let _ = storage.remove_item(&key);
    Some(session_id).filter(|s| !s.is_empty())
}
