//! `localStorage` access that never throws: private browsing, disabled storage and sandboxed
//! frames make the getter itself fail, and that must not break the adapter.

use web_sys::Storage;

/// The page's `localStorage`, or `None` when it is unavailable or unusable.
pub fn local_storage() -> Option<Storage> {
    let storage = web_sys::window()?.local_storage().ok()??;
    // A probe write: Safari's private mode used to expose a storage that throws on every write.
    let probe = "kc-test";
    storage.set_item(probe, probe).ok()?;
    storage.remove_item(probe).ok()?;
    Some(storage)
}
