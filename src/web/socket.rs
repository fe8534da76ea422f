//! A browser `WebSocket` and global event listeners as handles that detach when dropped, in the
//! spirit of [`super::timers::Timeout`]: a replaced connection can never call into the state
//! that moved on.

use crate::prelude::*;

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

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

    /// The events of a socket and of the page, read through their fields.
    pub type SocketEvent;
    #[wasm_bindgen(method, getter = type)]
    pub fn kind(this: &SocketEvent) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn data(this: &SocketEvent) -> JsValue;
    #[wasm_bindgen(method, getter)]
    pub fn code(this: &SocketEvent) -> u16;

    // The global functions, so that this also works in a worker.
    #[wasm_bindgen(js_name = addEventListener)]
    fn add_listener(kind: &str, listener: &Function);
    #[wasm_bindgen(js_name = removeEventListener)]
    fn remove_listener(kind: &str, listener: &Function);
}

const HANDLERS: [&str; 4] = ["onopen", "onmessage", "onclose", "onerror"];

/// An open (or opening) `WebSocket` whose four events all go to one callback. Dropping it
/// detaches the callback and closes the socket with the code given to [`Socket::close`]
/// (1000 by default).
pub struct Socket {
    raw: WebSocket,
    close_code: u16,
    _callback: Closure<dyn FnMut(SocketEvent)>,
}

impl Socket {
    /// Opens `url` offering `protocols`; binary messages arrive as `ArrayBuffer`s. The
    /// browser's exception is not passed on: its message may quote the URL or a subprotocol,
    /// and so the token.
    pub fn open(
        url: &str,
        protocols: &[String],
        on_event: impl FnMut(SocketEvent) + 'static,
    ) -> Option<Socket> {
        let offered: Array = protocols.iter().map(|p| JsValue::from_str(p)).collect();
        let raw = WebSocket::new(url, &offered).ok()?;
        let _ = Reflect::set(&raw, &"binaryType".into(), &"arraybuffer".into());
        let callback = Closure::<dyn FnMut(SocketEvent)>::new(on_event);
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

/// Global event listeners (on `window`, or a worker's global scope) that detach when dropped.
pub struct Listeners {
    kinds: &'static [&'static str],
    callback: Closure<dyn FnMut(SocketEvent)>,
}

impl Listeners {
    pub fn new(
        kinds: &'static [&'static str],
        on_event: impl FnMut(SocketEvent) + 'static,
    ) -> Self {
        let callback = Closure::<dyn FnMut(SocketEvent)>::new(on_event);
        for kind in kinds {
            add_listener(kind, callback.as_ref().unchecked_ref());
        }
        Listeners { kinds, callback }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for kind in self.kinds {
            remove_listener(kind, self.callback.as_ref().unchecked_ref());
        }
    }
}

/// Whether the page is hidden (`document.hidden`); false where there is no document.
pub fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}
