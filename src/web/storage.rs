//! The callback store: the login state saved before a redirect to the server and read back,
//! once, when the browser returns with the callback.
//!
//! Entries live under `kc-callback-<state>` in `localStorage`, as keycloak-js keeps them, so a
//! login begun by either adapter can be finished by the other. What an entry means (its record
//! format, when it has expired) is decided by the caller through an `is_live` predicate; this
//! module only does the I/O: the sweep of dead entries, the single-use read, the retry after a
//! quota error, and a cookie fallback where `localStorage` is unusable (disabled storage,
//! sandboxed frames, some private modes).

use crate::prelude::*;

use wasm_bindgen::JsCast;
use web_sys::{HtmlDocument, Storage};

use crate::core::callback::{is_callback_key, storage_key};
use crate::core::encode::{encode_uri_component, form_decode};
use crate::core::error::{Error, ErrorCode};
use crate::core::text;

/// Lifetime of a cookie entry, in seconds (the record itself carries its own expiry too).
const COOKIE_MAX_AGE: &str = "3600";

/// The page's `localStorage`, or `None` when it is unavailable or unusable.
pub fn local_storage() -> Option<Storage> {
    let storage = web_sys::window()?.local_storage().ok()??;
    // A probe write: Safari's private mode used to expose a storage that throws on every write.
    let probe = "kc-test";
    storage.set_item(probe, probe).ok()?;
    storage.remove_item(probe).ok()?;
    Some(storage)
}

/// The tab's `sessionStorage`, which lasts across the navigations of one tab, or None.
pub fn session_storage() -> Option<Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn storage_error(message: &str) -> Error {
    Error::new(ErrorCode::Storage, message)
}

/// Where the entries go.
pub enum CallbackStore {
    Local(Storage),
    Cookie(HtmlDocument),
    /// Neither storage nor cookies: a login cannot be started from here.
    Unavailable,
}

impl CallbackStore {
    /// `localStorage` when it works, else cookies.
    pub fn open() -> CallbackStore {
        if let Some(storage) = local_storage() {
            return CallbackStore::Local(storage);
        }
        Self::cookies()
    }

    /// The cookie store (also used directly by tests).
    pub fn cookies() -> CallbackStore {
        match web_sys::window().and_then(|w| w.document()) {
            Some(document) => CallbackStore::Cookie(document.unchecked_into()),
            None => CallbackStore::Unavailable,
        }
    }

    /// Saves `record` under `state`, after sweeping dead entries. On a quota error every callback
    /// entry is cleared and the write retried once.
    pub fn add(
        &self,
        state: &str,
        record: &str,
        is_live: impl Fn(&str) -> bool,
    ) -> Result<(), Error> {
        let key = storage_key(state);
        match self {
            CallbackStore::Local(storage) => {
                sweep(storage, &|value| !is_live(value));
                if storage.set_item(&key, record).is_err() {
                    sweep(storage, &|_| true);
                    storage
                        .set_item(&key, record)
                        .map_err(|_| storage_error("The login state could not be stored: localStorage is full."))?;
                }
                Ok(())
            }
            CallbackStore::Cookie(document) => {
                // Our own cookie format: the value is URI-encoded, so a `;` or `,` in the record
                // cannot cut it short.
                let mut cookie = key;
                cookie.push('=');
                cookie.push_str(&encode_uri_component(record));
                cookie.push_str("; max-age=");
                cookie.push_str(COOKIE_MAX_AGE);
                cookie.push_str("; path=/; samesite=lax");
                document
                    .set_cookie(&cookie)
                    .map_err(|_| storage_error("The login state could not be stored in a cookie."))
            }
            CallbackStore::Unavailable => Err(storage_error(
                "The login state could not be stored: neither localStorage nor cookies are available.",
            )),
        }
    }

    /// Reads and deletes the entry of `state`: a state is usable once. Dead entries are swept
    /// first, so an expired state is never returned.
    pub fn take(&self, state: &str, is_live: impl Fn(&str) -> bool) -> Option<String> {
        if state.is_empty() {
            return None;
        }
        let key = storage_key(state);
        match self {
            CallbackStore::Local(storage) => {
                sweep(storage, &|value| !is_live(value));
                let value = storage.get_item(&key).ok()??;
                storage.remove_item(&key).ok()?;
                Some(value)
            }
            CallbackStore::Cookie(document) => {
                let cookies = document.cookie().ok()?;
                let mut expired = key.clone();
                expired.push_str("=; max-age=0; path=/");
                let _ = document.set_cookie(&expired);
                let value = find_cookie(&cookies, &key)?;
                let value = form_decode(value);
                is_live(&value).then_some(value)
            }
            CallbackStore::Unavailable => None,
        }
    }
}

/// The value of cookie `name` in a `document.cookie` string.
pub fn find_cookie<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    text::split(cookies, b';').find_map(|pair| {
        let pair = pair.trim_start_matches(' ');
        let (key, value) = text::split_once(pair, b'=')?;
        (key == name).then_some(value)
    })
}

/// Removes every callback entry whose value `dead` says is dead.
/// (One copy in the binary: `dead` is a trait object, not a generic.)
fn sweep(storage: &Storage, dead: &dyn Fn(&str) -> bool) {
    let count = storage.length().unwrap_or(0);
    let mut doomed = Vec::new();
    for index in 0..count {
        if let Ok(Some(key)) = storage.key(index) {
            if is_callback_key(&key) {
                let value = storage.get_item(&key).ok().flatten().unwrap_or_default();
                if dead(&value) {
                    doomed.push(key);
                }
            }
        }
    }
    // Removal shifts the indices, so it happens after the scan.
    for key in doomed {
        let _ = storage.remove_item(&key);
    }
}
