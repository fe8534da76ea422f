//! The live-event hub: `/events`, a WebSocket that browsers open with an access token of an
//! allowed issuer and that fans out Keycloak events (everything of the realm for users with realm
//! role `admin`, their own events for everyone else), and `/ingest`, a WebSocket through which a
//! real Keycloak pushes its events (the KETE extension's WebSocket destination).
//!
//! Tokens are validated like a resource server validates them: the issuer's JWKS is fetched over
//! HTTP, cached, and refetched when a token names an unknown key. Events are routed by issuer.
//! The protocol is in [`protocol`] and in the README.
//!
//! The hub runs as its own binary (`events-hub`) or inside another server (devserver) that
//! plugs in its own realms, clock and log through [`Host`].

mod auth;
pub mod config;
mod connection;
mod ingest;
mod jwks;
pub mod log;
pub mod protocol;
pub mod server;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::Router;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

pub use auth::{realm_of_issuer, Identity, KeySource, Refusal};
pub use config::HubConfig;
pub use ingest::parse_event;
pub use jwks::SourceStatus;
pub use log::{Level, Record};

/// What the server around the hub provides. The defaults suit the standalone hub: the wall
/// clock, no issuers of its own, JSON log lines on stderr.
pub trait Host: Send + Sync + 'static {
    /// Milliseconds since the epoch by which tokens are judged.
    fn now_ms(&self) -> u64 {
        wall_clock_ms()
    }

    /// Wakes up when [`Host::now_ms`] jumps (a test clock), so expiry timers are re-armed.
    fn clock_changes(&self) -> Option<watch::Receiver<i64>> {
        None
    }

    /// An issuer the host serves itself, besides the configured ones.
    fn own_issuer(&self, _issuer: &str) -> Option<KeySource> {
        None
    }

    /// The issuer of the host's own realm of this name.
    fn own_realm_issuer(&self, _realm: &str) -> Option<String> {
        None
    }

    fn log(&self, record: &Record<'_>) {
        log::write_json(record);
    }
}

/// The standalone hub's host: nothing of its own.
pub struct Standalone;

impl Host for Standalone {}

/// Milliseconds since the epoch.
pub fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An event on its way to subscribers, already framed for the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubEvent {
    /// The issuer of the realm the event belongs to: subscribers of that issuer get it.
    pub issuer: String,
    pub user_id: Option<String>,
    /// Admin events (resource changes) go to admins only.
    pub admin_only: bool,
    pub frame: String,
}

impl HubEvent {
    /// A user event given as Keycloak's event JSON.
    pub fn user_event(issuer: String, user_id: Option<String>, event: &serde_json::Value) -> Self {
        HubEvent {
            issuer,
            user_id,
            admin_only: false,
            frame: protocol::event_frame(false, event),
        }
    }

    /// Whether a subscriber with this identity receives the event.
    pub fn visible_to(&self, identity: &Identity) -> bool {
        if self.issuer != identity.issuer {
            return false;
        }
        if identity.admin {
            return true;
        }
        !self.admin_only && self.user_id.as_deref() == Some(identity.sub.as_str())
    }
}

/// Tells every connection to close: a restart (subscribers only, 1012) or a shutdown (all,
/// with the given code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Running,
    Restart(u64),
    Shutdown(u16),
}

/// Whether `/events` accepts new connections (a restart takes it down for a while).
#[derive(Clone, Copy, Debug)]
enum Availability {
    Up,
    DownUntil(Instant),
    Down,
}

/// One open `/events` connection, for status pages.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    pub id: u64,
    pub realm: String,
    pub sub: String,
    pub admin: bool,
    pub strategy: &'static str,
    /// When the current token expires (seconds since the epoch, host clock).
    pub expires_at: u64,
    pub reauthentications: u64,
}

pub struct Hub {
    pub config: HubConfig,
    host: Arc<dyn Host>,
    keys: jwks::KeyCache,
    events: broadcast::Sender<HubEvent>,
    control: watch::Sender<Control>,
    availability: Mutex<Availability>,
    connections: Mutex<BTreeMap<u64, ConnectionInfo>>,
    next_id: AtomicU64,
    ingest_connections: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    pub fn new(config: HubConfig, host: Arc<dyn Host>) -> Hub {
        let (events, _) = broadcast::channel(1024);
        let (control, _) = watch::channel(Control::Running);
        Hub {
            keys: jwks::KeyCache::new(config.jwks_min_interval),
            config,
            host,
            events,
            control,
            availability: Mutex::new(Availability::Up),
            connections: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            ingest_connections: AtomicU64::new(0),
        }
    }

    /// A standalone hub: the wall clock, configured issuers only, JSON logs.
    pub fn standalone(config: HubConfig) -> Hub {
        Hub::new(config, Arc::new(Standalone))
    }

    pub fn host(&self) -> &dyn Host {
        self.host.as_ref()
    }

    pub(crate) fn log(
        &self,
        level: Level,
        message: &str,
        fields: &[(&str, &dyn std::fmt::Display)],
    ) {
        self.host.log(&Record {
            level,
            message,
            fields,
        });
    }

    pub fn now_ms(&self) -> u64 {
        self.host.now_ms()
    }

    /// Seconds since the epoch by the host's clock.
    pub fn now(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Hands an event to every subscriber allowed to see it.
    pub fn publish(&self, event: HubEvent) {
        // No subscribers is fine.
        let _ = self.events.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.events.subscribe()
    }

    fn control(&self) -> watch::Receiver<Control> {
        self.control.subscribe()
    }

    /// How long until `/events` is back, `Some(None)` when down until told, `None` when up.
    pub fn down_for(&self) -> Option<Option<Duration>> {
        let mut availability = lock(&self.availability);
        match *availability {
            Availability::Up => None,
            Availability::Down => Some(None),
            Availability::DownUntil(until) => {
                let now = Instant::now();
                if now >= until {
                    *availability = Availability::Up;
                    None
                } else {
                    Some(Some(until - now))
                }
            }
        }
    }

    /// Closes every `/events` connection with 1012 and refuses new ones for `down`
    /// (`None`: until [`Hub::start`]). Returns how many connections were told to close.
    pub fn restart(&self, down: Option<Duration>) -> usize {
        *lock(&self.availability) = match down {
            Some(d) if d.is_zero() => Availability::Up,
            Some(d) => Availability::DownUntil(Instant::now() + d),
            None => Availability::Down,
        };
        let closing = lock(&self.connections).len();
        self.control.send_modify(|control| {
            *control = match *control {
                Control::Restart(n) => Control::Restart(n + 1),
                _ => Control::Restart(1),
            }
        });
        closing
    }

    /// Ends the downtime of a restart.
    pub fn start(&self) {
        *lock(&self.availability) = Availability::Up;
    }

    /// Closes every connection, `/events` and `/ingest`, with `code` and refuses new ones: the
    /// server stops. devserver closes with 1001, the standalone hub with 1012 so that browsers
    /// reconnect at once to another hub.
    pub fn shutdown(&self, code: u16) {
        *lock(&self.availability) = Availability::Down;
        self.control.send_replace(Control::Shutdown(code));
    }

    fn register(&self, info: ConnectionInfo) {
        lock(&self.connections).insert(info.id, info);
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut ConnectionInfo)) {
        if let Some(info) = lock(&self.connections).get_mut(&id) {
            change(info);
        }
    }

    fn unregister(&self, id: u64) {
        lock(&self.connections).remove(&id);
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn connections(&self) -> Vec<ConnectionInfo> {
        lock(&self.connections).values().cloned().collect()
    }

    pub fn ingest_connections(&self) -> u64 {
        self.ingest_connections.load(Ordering::Relaxed)
    }

    pub fn key_sources(&self) -> Vec<SourceStatus> {
        self.keys.status()
    }
}

/// `/events` and `/ingest`, ready to merge into a router of any state.
pub fn routes<S: Clone + Send + Sync + 'static>(hub: Arc<Hub>) -> Router<S> {
    Router::new()
        .route("/events", get(connection::events))
        .route("/ingest", get(ingest::ingest))
        .with_state(hub)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(sub: &str, admin: bool) -> Identity {
        Identity {
            issuer: "http://localhost/realms/demo".into(),
            realm: "demo".into(),
            sub: sub.into(),
            session_id: None,
            admin,
            exp: 0,
            client: None,
            service_account_of: None,
        }
    }

    #[test]
    fn admins_see_the_realm_others_their_own_events() {
        let event = HubEvent {
            issuer: "http://localhost/realms/demo".into(),
            user_id: Some("alice".into()),
            admin_only: false,
            frame: String::new(),
        };
        assert!(event.visible_to(&identity("alice", false)));
        assert!(!event.visible_to(&identity("carol", false)));
        assert!(event.visible_to(&identity("bob", true)));
        let other_issuer = HubEvent {
            issuer: "http://elsewhere/realms/demo".into(),
            ..event.clone()
        };
        assert!(!other_issuer.visible_to(&identity("bob", true)));
        let admin_event = HubEvent {
            admin_only: true,
            ..event
        };
        assert!(!admin_event.visible_to(&identity("alice", false)));
        assert!(admin_event.visible_to(&identity("bob", true)));
    }

    #[test]
    fn restart_takes_the_hub_down_for_a_while_or_until_started() {
        let hub = Hub::standalone(HubConfig::default());
        assert!(hub.down_for().is_none());
        hub.restart(Some(Duration::from_secs(60)));
        assert!(matches!(hub.down_for(), Some(Some(d)) if d > Duration::from_secs(50)));
        hub.restart(None);
        assert_eq!(hub.down_for(), Some(None));
        hub.start();
        assert!(hub.down_for().is_none());
        assert_eq!(*hub.control().borrow(), Control::Restart(2));
    }
}
