//! The other tabs of the origin, through the wrapper's `tabs` helper (js/keycloak.js, where the
//! promise and callback plumbing of `BroadcastChannel` and Web Locks costs a fraction of what it
//! costs in wasm): a channel that closes when dropped, and a lock held while a guard lives.

use crate::prelude::*;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Calls `target[method](a, b)`; None if it is missing, throws, or returns `undefined`.
fn call(target: &JsValue, method: &str, a: &JsValue, b: &JsValue) -> Option<JsValue> {
    Reflect::get(target, &method.into())
        .ok()?
        .dyn_into::<Function>()
        .ok()?
        .call2(target, a, b)
        .ok()
        .filter(|value| !value.is_undefined())
}

/// A `BroadcastChannel` to the other tabs of this origin. Dropping it closes the channel.
pub struct Channel {
    raw: JsValue,
    _receive: Closure<dyn FnMut(JsValue)>,
}

impl Channel {
    /// Opens `name`; every string message goes to `on_message`. None where the browser has no
    /// `BroadcastChannel`.
    pub fn open(
        helper: &JsValue,
        name: &str,
        mut on_message: impl FnMut(String) + 'static,
    ) -> Option<Channel> {
        let receive = Closure::<dyn FnMut(JsValue)>::new(move |data: JsValue| {
            if let Some(text) = data.as_string() {
                on_message(text);
            }
        });
        let raw = call(helper, "open", &name.into(), receive.as_ref())?;
        Some(Channel {
            raw,
            _receive: receive,
        })
    }

    /// Sends `message` to the other tabs (never to this one).
    pub fn post(&self, message: &str) {
        let _ = call(
            &self.raw,
            "postMessage",
            &message.into(),
            &JsValue::UNDEFINED,
        );
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        let _ = call(&self.raw, "close", &JsValue::UNDEFINED, &JsValue::UNDEFINED);
    }
}

/// A held Web Lock; dropping it releases the lock.
pub struct LockGuard {
    release: Function,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

/// Takes the exclusive lock `name` of this origin: `(guard, false)` when it was free, `(guard,
/// true)` after waiting for another holder (at most `timeout_ms`). None when the browser has no
/// Web Locks, or the wait ran out: the caller goes on without the lock.
pub async fn lock(helper: &JsValue, name: &str, timeout_ms: f64) -> Option<(LockGuard, bool)> {
    let pending = call(helper, "lock", &name.into(), &timeout_ms.into())?;
    let held = JsFuture::from(pending.dyn_into::<Promise>().ok()?)
        .await
        .ok()?;
    let release = Reflect::get_u32(&held, 0)
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    let waited = Reflect::get_u32(&held, 1).ok()?.is_truthy();
    Some((LockGuard { release }, waited))
}
