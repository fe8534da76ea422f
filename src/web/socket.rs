//! A browser `WebSocket` as a handle that detaches when dropped, in the spirit of
//! [`super::timers::Timeout`]: a replaced connection can never call into the state that moved
//! on.

use crate::prelude::*;

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;

use super::page::Event;

#[wasm_bindgen]
extern "C" {
    type WebSocket;
    #[wasm_bindgen(constructor, catch)]
    fn new(url: &str, protocols: &Array) -> Result<WebSocket, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn send(this: &WebSocket, data: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn close(this: &WebSocket, code: u16, reason: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, getter)]
    fn protocol(this: &WebSocket) -> String;
    #[wasm_bindgen(method, getter)]
    fn extensions(this: &WebSocket) -> String;
}

const HANDLERS: [&str; 4] = ["onopen", "onmessage", "onclose", "onerror"];

/// An open (or opening) `WebSocket` whose four events all go to one callback. Dropping it
/// detaches the callback and closes the socket with the code given to [`Socket::close`]
/// (1000 by default).
pub struct Socket {
    raw: WebSocket,
    close_code: u16,
    _callback: Closure<dyn FnMut(Event)>,
}

impl Socket {
    /// Opens `url` offering `protocols`; binary messages arrive as `ArrayBuffer`s. The
    /// browser's exception is not passed on: its message may quote the URL or a subprotocol,
    /// and so the token.
    pub fn open(
        url: &str,
        protocols: &[String],
        on_event: impl FnMut(Event) + 'static,
    ) -> Option<Socket> {
        let offered: Array = protocols.iter().map(|p| JsValue::from_str(p)).collect();
        let raw = WebSocket::new(url, &offered).ok()?;
        let _ = Reflect::set(&raw, &"binaryType".into(), &"arraybuffer".into());
        let callback = Closure::<dyn FnMut(Event)>::new(on_event);
        for name in HANDLERS {
            let _ = Reflect::set(&raw, &name.into(), callback.as_ref());
        }
        Some(Socket {
            raw,
            close_code: 1000,
            _callback: callback,
        })
    }

    /// Sends a string, `ArrayBuffer`, view or `Blob`; false if the browser refused it.
    pub fn send(&self, data: &JsValue) -> bool {
        self.raw.send(data).is_ok()
    }

    /// Sets the code the socket is closed with when dropped.
    pub fn close_with(&mut self, code: u16) {
        self.close_code = code;
    }

    /// The subprotocol and extensions the server chose.
    pub fn negotiated(&self) -> (String, String) {
        (self.raw.protocol(), self.raw.extensions())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        for name in HANDLERS {
            let _ = Reflect::set(&self.raw, &name.into(), &JsValue::NULL);
        }
        // The reason is left empty: it is sent to the server and need not say more than the code.
        let _ = self.raw.close(self.close_code, "");
    }
}
