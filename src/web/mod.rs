//! Browser I/O. The only part of the crate that touches `web-sys`; each function is a thin
//! wrapper that turns browser failures into [`crate::core::error::Error`] values.
//!
//! `iframe` holds the hidden iframes (silent check-sso, the third-party-cookie check, the
//! session iframe) and the waits for their `postMessage` answers; `page` the global listeners
//! and the page's visibility that the session iframe watches; `tabs` the channel and the lock
//! that the tabs of one origin share.

pub mod http;
pub mod iframe;
pub mod navigation;
pub mod page;
pub mod random;
pub mod storage;
pub mod tabs;
pub mod timers;

// The page runs the module on one thread (wasm32 without atomics), which is what
// `AssumeSingleThreaded` requires.
#[global_allocator]
// SAFETY: wasm32-unknown-unknown without the atomics feature has a single thread.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
