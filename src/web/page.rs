//! The page around the adapter: global event listeners as handles that detach when dropped (in
//! the spirit of [`super::timers::Timeout`]), and whether the page is hidden. The session iframe
//! watches the page.

use crate::prelude::*;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// An event of the page or an iframe, read through its fields.
    pub type Event;
    #[wasm_bindgen(method, getter = type)]
    pub fn kind(this: &Event) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn data(this: &Event) -> JsValue;

    // The global functions, so that this also works in a worker.
    #[wasm_bindgen(js_name = addEventListener)]
    fn add_listener(kind: &str, listener: &Function);
    #[wasm_bindgen(js_name = removeEventListener)]
    fn remove_listener(kind: &str, listener: &Function);
}

/// Global event listeners (on `window`, or a worker's global scope) that detach when dropped.
pub struct Listeners {
    kinds: &'static [&'static str],
    callback: Closure<dyn FnMut(Event)>,
}

impl Listeners {
    pub fn new(kinds: &'static [&'static str], on_event: impl FnMut(Event) + 'static) -> Self {
        let callback = Closure::<dyn FnMut(Event)>::new(on_event);
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
pub fn hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}
