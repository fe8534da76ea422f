//! Hidden iframes and the events they answer with, as handles that clean up after themselves:
//! an iframe leaves the page, a listener leaves its target and a deadline is cleared when the
//! handle is dropped, so every wait ends without leftovers, whether it succeeded, failed or
//! timed out.
//!
//! The iframe's properties are reached through `Reflect`, and the window's events through the
//! global listeners of [`super::page`], to keep the JavaScript glue small.

use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Element;

use super::page::{Event, Listeners};
use super::timers::Timeout;
use crate::core::error::{Error, ErrorCode};

fn get(target: &JsValue, name: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// An iframe hidden in the page; dropping the handle removes it.
pub struct HiddenIframe {
    element: Element,
}

impl HiddenIframe {
    /// Adds a hidden iframe loading `src` to the page's body, sandboxed as keycloak-js's are.
    pub fn open(src: &str, title: &str) -> Result<HiddenIframe, Error> {
        let open = || -> Result<HiddenIframe, JsValue> {
            let document = web_sys::window()
                .and_then(|w| w.document())
                .ok_or(JsValue::NULL)?;
            let element = document.create_element("iframe")?;
            element.set_attribute(
                "sandbox",
                "allow-storage-access-by-user-activation allow-scripts allow-same-origin",
            )?;
            element.set_attribute("title", title)?;
            // Through the style object, which a Content-Security-Policy without
            // 'unsafe-inline' allows (a style attribute it would not).
            Reflect::set(&get(&element, "style"), &"display".into(), &"none".into())?;
            element.set_attribute("src", src)?;
            document
                .body()
                .ok_or(JsValue::NULL)?
                .append_child(&element)?;
            Ok(HiddenIframe { element })
        };
        open().map_err(|_| {
            let mut message = String::from("The hidden iframe could not be added: ");
            message.push_str(title);
            Error::new(ErrorCode::NotSupported, message)
        })
    }

    /// The iframe's window: the `source` of the messages it posts.
    pub fn window(&self) -> JsValue {
        get(&self.element, "contentWindow")
    }

    /// Posts `message` to the iframe's window, for `origin` only.
    pub fn post(&self, message: &str, origin: &str) {
        let window = self.window();
        if let Ok(post) = get(&window, "postMessage").dyn_into::<Function>() {
            let _ = post.call2(&window, &message.into(), &origin.into());
        }
    }

    /// Starts waiting for the iframe's `load` event.
    pub fn loaded(&self, timeout_ms: f64) -> EventWait {
        let wait = EventWait::new(timeout_ms);
        let settle = wait.settler();
        let callback = Closure::<dyn FnMut(Event)>::new(move |_| settle(JsValue::TRUE));
        let _ = Reflect::set(&self.element, &"onload".into(), callback.as_ref());
        wait.with(Subscription::OnLoad {
            element: self.element.clone(),
            _callback: callback,
        })
    }
}

impl HiddenIframe {
    /// Takes the iframe out of the page now, while other handles may still hold it.
    pub fn remove(&self) {
        self.element.remove();
    }
}

impl Drop for HiddenIframe {
    fn drop(&mut self) {
        self.remove();
    }
}

/// What a wait listens with (held for its drop, which stops the listening).
enum Subscription {
    None,
    Global {
        _listeners: Listeners,
    },
    OnLoad {
        element: Element,
        _callback: Closure<dyn FnMut(Event)>,
    },
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Subscription::OnLoad { element, .. } = self {
            let _ = Reflect::set(element, &"onload".into(), &JsValue::NULL);
        }
    }
}

/// A wait for the first event that is accepted, or for the deadline. The listening starts when
/// the wait is created (so nothing that happens after that is missed) and stops when it is
/// dropped.
pub struct EventWait {
    done: Promise,
    settle: Function,
    value: Rc<RefCell<Option<JsValue>>>,
    _subscription: Subscription,
    _deadline: Timeout,
}

impl EventWait {
    fn new(timeout_ms: f64) -> Self {
        // The executor runs at once, so `settle` is the promise's resolve function.
        let mut settle = JsValue::UNDEFINED;
        let done = Promise::new(&mut |resolve, _| settle = resolve.into());
        let settle: Function = settle.unchecked_into();
        let deadline = {
            let settle = settle.clone();
            Timeout::new(timeout_ms, move || {
                let _ = settle.call0(&JsValue::UNDEFINED);
            })
        };
        EventWait {
            done,
            settle,
            value: Rc::default(),
            _subscription: Subscription::None,
            _deadline: deadline,
        }
    }

    /// Ends the wait with `value` (the first one wins).
    fn settler(&self) -> impl Fn(JsValue) + 'static {
        let (value, settle) = (self.value.clone(), self.settle.clone());
        move |v| {
            if value.borrow().is_none() {
                *value.borrow_mut() = Some(v);
                let _ = settle.call0(&JsValue::UNDEFINED);
            }
        }
    }

    fn with(mut self, subscription: Subscription) -> Self {
        self._subscription = subscription;
        self
    }

    /// Waits for a message posted to this window by `source` from `origin` whose text `accept`
    /// takes.
    pub fn message(
        source: JsValue,
        origin: String,
        timeout_ms: f64,
        accept: impl Fn(&str) -> bool + 'static,
    ) -> Self {
        let wait = EventWait::new(timeout_ms);
        let settle = wait.settler();
        let listeners = Listeners::new(&["message"], move |event| {
            let text = event.data().as_string().unwrap_or_default();
            if source.is_object()
                && get(&event, "source") == source
                && get(&event, "origin").as_string().as_deref() == Some(origin.as_str())
                && accept(&text)
            {
                settle(text.into());
            }
        });
        wait.with(Subscription::Global {
            _listeners: listeners,
        })
    }

    /// The accepted event's value, or None when the deadline came first. The listener and the
    /// deadline are gone when this returns.
    pub async fn finish(self) -> Option<JsValue> {
        // The promise only ever resolves.
        let _ = JsFuture::from(self.done.clone()).await;
        self.value.borrow_mut().take()
    }
}

/// The origin of `url` (resolved against the page), as `event.origin` spells it: the answers
/// of a server page loaded from `url` come from there.
pub fn origin_of(url: &str) -> String {
    super::navigation::href()
        .and_then(|base| web_sys::Url::new_with_base(url, &base).ok())
        .map(|u| u.origin())
        .unwrap_or_default()
}
