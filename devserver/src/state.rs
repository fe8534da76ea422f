//! The shared state of a running server.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::events::{Event, EventBuilder, EventBus};
use crate::faults::Faults;
use crate::hub::DevHub;
use crate::keys::KeySet;
use crate::model::Realm;

pub type Shared = Arc<AppState>;

pub struct AppState {
    realms: Mutex<BTreeMap<String, Realm>>,
    pub keys: RwLock<KeySet>,
    pub events: EventBus,
    pub faults: Faults,
    /// Seconds added to the wall clock (the `clock` fault knob), so tests can age tokens and
    /// sessions without sleeping.
    clock_offset: AtomicI64,
    /// Tells waiters (the hub's expiry timers) that the clock offset changed.
    clock_changes: tokio::sync::watch::Sender<i64>,
    /// Ask the user to confirm every logout, even one with a valid `id_token_hint` (the
    /// `logout-confirmation` knob), as providers that always confirm do.
    pub confirm_logouts: AtomicBool,
    pub hub: DevHub,
    pub www: Option<PathBuf>,
    pub pkg: Option<PathBuf>,
}

impl AppState {
    pub fn new(
        realms: Vec<Realm>,
        keys: KeySet,
        hub: DevHub,
        www: Option<PathBuf>,
        pkg: Option<PathBuf>,
    ) -> AppState {
        AppState {
            realms: Mutex::new(realms.into_iter().map(|r| (r.name.clone(), r)).collect()),
            keys: RwLock::new(keys),
            events: EventBus::new(),
            faults: Faults::default(),
            clock_offset: AtomicI64::new(0),
            clock_changes: tokio::sync::watch::channel(0).0,
            confirm_logouts: AtomicBool::new(false),
            hub,
            www,
            pkg,
        }
    }

    /// All realms, locked. Never hold the guard across an `.await`.
    pub fn realms(&self) -> MutexGuard<'_, BTreeMap<String, Realm>> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters for a development server, so a poisoned lock is simply taken over.
        self.realms
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn keys(&self) -> std::sync::RwLockReadGuard<'_, KeySet> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn keys_mut(&self) -> std::sync::RwLockWriteGuard<'_, KeySet> {
        self.keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn now_ms(&self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        (wall + self.clock_offset.load(Ordering::Relaxed) * 1000).max(0) as u64
    }

    /// Seconds since the epoch, shifted by the clock offset.
    pub fn now(&self) -> u64 {
        self.now_ms() / 1000
    }

    pub fn clock_offset(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    pub fn set_clock_offset(&self, seconds: i64) {
        self.clock_offset.store(seconds, Ordering::Relaxed);
        self.clock_changes.send_replace(seconds);
    }

    /// Wakes up when the clock offset changes.
    pub fn clock_changes(&self) -> tokio::sync::watch::Receiver<i64> {
        self.clock_changes.subscribe()
    }

    pub fn emit(&self, builder: EventBuilder) -> Event {
        let event = builder.build(self.now_ms());
        crate::log::log(
            crate::log::Level::Debug,
            &format!(
                "event {} realm={} client={} user={} error={}",
                event.kind,
                event.realm_name,
                event.client_id.as_deref().unwrap_or("-"),
                event.user_id.as_deref().unwrap_or("-"),
                event.error.as_deref().unwrap_or("-")
            ),
        );
        self.hub.publish_local(&event);
        self.events.publish(event.clone());
        event
    }
}

/// Milliseconds since the epoch, unshifted.
pub fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
