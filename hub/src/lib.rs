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
pub mod broker;
pub mod config;
mod connection;
mod ingest;
mod jwks;
pub mod log;
pub mod protocol;
pub mod server;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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

/// Events on their way to the connections' readers; a reader that falls this far behind loses
/// events (counted, see [`HubConfig::max_dropped`]).
const BUS_CAPACITY: usize = 4096;

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

/// Counters since the hub started, for `/health` and status pages.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Open `/events` sockets, authenticated or not yet.
    pub sockets: usize,
    pub ingest_connections: usize,
    /// Upgrades refused because a connection cap was reached.
    pub refused: u64,
    /// Events that did not reach a connection because it fell behind.
    pub dropped_events: u64,
    /// Connections closed with 4429.
    pub slow_consumers: u64,
    /// Own events that could not be shared through Redis.
    pub unshared_events: u64,
}

/// A place under a connection cap, given back when dropped.
pub(crate) struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn take_slot(open: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
    open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n < max).then_some(n + 1)
    })
    .ok()
    .map(|_| Slot(open.clone()))
}

pub struct Hub {
    pub config: HubConfig,
    host: Arc<dyn Host>,
    broker: std::sync::OnceLock<Arc<broker::Broker>>,
    keys: jwks::KeyCache,
    events: broadcast::Sender<Arc<HubEvent>>,
    control: watch::Sender<Control>,
    availability: Mutex<Availability>,
    connections: Mutex<BTreeMap<u64, ConnectionInfo>>,
    next_id: AtomicU64,
    sockets: Arc<AtomicUsize>,
    ingest_sockets: Arc<AtomicUsize>,
    refused: AtomicU64,
    dropped_events: AtomicU64,
    slow_consumers: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    pub fn new(config: HubConfig, host: Arc<dyn Host>) -> Hub {
        let (events, _) = broadcast::channel(BUS_CAPACITY);
        let (control, _) = watch::channel(Control::Running);
        Hub {
            keys: jwks::KeyCache::new(config.jwks_min_interval),
            config,
            host,
            broker: std::sync::OnceLock::new(),
            events,
            control,
            availability: Mutex::new(Availability::Up),
            connections: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            sockets: Arc::new(AtomicUsize::new(0)),
            ingest_sockets: Arc::new(AtomicUsize::new(0)),
            refused: AtomicU64::new(0),
            dropped_events: AtomicU64::new(0),
            slow_consumers: AtomicU64::new(0),
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
    /// Hands an event of this hub (ingested here, or the host's own) to its subscribers and,
    /// when scaled out, to the other hubs.
    pub fn publish(&self, event: HubEvent) {
        if let Some(broker) = self.broker.get() {
            broker.share(self, &event);
        }
        self.deliver(event);
    }

    /// Hands an event to this hub's own subscribers.
    fn deliver(&self, event: HubEvent) {
        // No subscribers is fine.
        let _ = self.events.send(Arc::new(event));
    }

    /// Shares events with other hubs through Redis pub/sub on `channel`.
    pub fn scale_out(self: &Arc<Self>, redis_url: &str, channel: &str) -> Result<(), String> {
        let broker = broker::start(self, redis_url, channel)?;
        self.broker
            .set(broker)
            .map_err(|_| "the hub is scaled out already".to_string())
    }

    /// Whether Redis is in use and reachable.
    pub fn broker_state(&self) -> broker::BrokerState {
        match self.broker.get() {
            Some(broker) => broker.state(),
            None => broker::BrokerState::Off,
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<HubEvent>> {
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
        self.ingest_sockets.load(Ordering::Acquire) as u64
    }

    /// A place for one more `/events` socket, if the cap allows.
    fn open_slot(&self) -> Option<Slot> {
        let slot = take_slot(&self.sockets, self.config.max_connections);
        if slot.is_none() {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        slot
    }

    /// A place for one more `/ingest` connection, if the cap allows.
    fn open_ingest_slot(&self) -> Option<Slot> {
        let slot = take_slot(&self.ingest_sockets, self.config.max_ingest_connections);
        if slot.is_none() {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        slot
    }

    fn count_dropped(&self, count: u64) {
        self.dropped_events.fetch_add(count, Ordering::Relaxed);
    }

    fn count_slow_consumer(&self) {
        self.slow_consumers.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stats(&self) -> Stats {
        Stats {
            sockets: self.sockets.load(Ordering::Acquire),
            ingest_connections: self.ingest_sockets.load(Ordering::Acquire),
            refused: self.refused.load(Ordering::Relaxed),
            dropped_events: self.dropped_events.load(Ordering::Relaxed),
            slow_consumers: self.slow_consumers.load(Ordering::Relaxed),
            unshared_events: self.broker.get().map_or(0, |broker| broker.unshared()),
        }
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
