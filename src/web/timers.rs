//! `setTimeout` as a handle that cancels itself when dropped, and a sleep future.
//!
//! Tying the timer to a value's lifetime means a replaced or forgotten timer can never fire
//! into state that moved on (the expiry timer of an old token, the deadline of a finished
//! request).

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    // The global functions, so timers also work where there is no `window` (a worker).
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// The longest delay `setTimeout` honours; a longer one overflows and fires at once.
pub const MAX_DELAY_MS: f64 = 2_147_483_647.0;

/// Clamps a delay in milliseconds to what `setTimeout` accepts (negative and NaN become 0).
pub fn clamp_delay(ms: f64) -> i32 {
    if ms.is_nan() || ms <= 0.0 {
        0
    } else if ms >= MAX_DELAY_MS {
        i32::MAX
    } else {
        ms as i32
    }
}

/// A pending `setTimeout`; dropping it clears the timer.
pub struct Timeout {
    id: JsValue,
    // Kept alive until the timer fires or is cleared.
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Runs `callback` once after `ms` milliseconds, unless the handle is dropped first.
    pub fn new(ms: f64, callback: impl FnOnce() + 'static) -> Timeout {
        let callback = Closure::once(callback);
        let id = set_timeout(callback.as_ref().unchecked_ref(), clamp_delay(ms));
        Timeout {
            id,
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: f64) {
    let delay = clamp_delay(ms);
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, delay);
    });
    // The promise never rejects.
    let _ = JsFuture::from(promise).await;
}
