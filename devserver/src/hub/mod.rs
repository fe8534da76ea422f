//! The live-event hub: `/events`, a WebSocket that browsers open with a realm's access token
//! and that fans out Keycloak events (everything of the realm for users with realm role
//! `admin`, their own events for everyone else), and `/ingest`, a WebSocket through which a
//! real Keycloak pushes its events (the KETE extension's WebSocket destination). With
//! `--hub-only` the hub runs alone in front of a real Keycloak.
//!
//! Tokens are validated like a resource server validates them: the issuer's JWKS is fetched over
//! HTTP (devserver's own realms from devserver's own listening address), cached, and refetched
//! when a token names an unknown key. The protocol is in [`protocol`] and in the README.

mod auth;
mod connection;
mod ingest;
mod jwks;
pub mod protocol;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

pub use auth::{realm_of_issuer, Identity, Refusal};
pub use jwks::SourceStatus;

use crate::state::Shared;

/// The hub's settings (command-line flags `--hub-*` and `--ingest-token`).
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// How often the server sends `{"type":"ping"}`.
    pub heartbeat: Duration,
    /// First-message strategy: how long the server waits for `{"type":"auth"}`.
    pub auth_timeout: Duration,
    /// Issuers besides devserver's own realms whose tokens are accepted, without trailing slash.
    pub issuers: Vec<String>,
    /// When set, a token's `azp` or `aud` must name this client.
    pub audience: Option<String>,
    /// A static secret that `/ingest` accepts as its bearer token.
    pub ingest_token: Option<String>,
    /// The least time between two fetches of an issuer's JWKS.
    pub jwks_min_interval: Duration,
    /// Serve only `/events` and `/ingest`: no realms of devserver's own.
    pub only: bool,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            heartbeat: Duration::from_secs(25),
            auth_timeout: Duration::from_secs(10),
            issuers: Vec::new(),
            audience: None,
            ingest_token: None,
            jwks_min_interval: Duration::from_secs(10),
            only: false,
        }
    }
}

/// An event on its way to subscribers, already framed for the wire.
#[derive(Clone, Debug)]
pub struct HubEvent {
    pub realm: String,
    pub user_id: Option<String>,
    /// Admin events (resource changes) go to admins only.
    pub admin_only: bool,
    pub frame: String,
}

impl HubEvent {
    pub fn from_local(event: &crate::events::Event) -> HubEvent {
        let json = serde_json::to_value(event).unwrap_or_default();
        HubEvent {
            realm: event.realm_name.clone(),
            user_id: event.user_id.clone(),
            admin_only: false,
            frame: protocol::event_frame(false, &json),
        }
    }

    /// Whether a subscriber with this identity receives the event.
    pub fn visible_to(&self, identity: &Identity) -> bool {
        if self.realm != identity.realm {
            return false;
        }
        if identity.admin {
            return true;
        }
        !self.admin_only && self.user_id.as_deref() == Some(identity.sub.as_str())
    }
}

/// Tells every connection to close: the restart knob (subscribers only) or a shutdown (all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Running,
    Restart(u64),
    Shutdown,
}

/// Whether `/events` accepts new connections (the restart knob takes it down for a while).
#[derive(Clone, Copy, Debug)]
enum Availability {
    Up,
    DownUntil(Instant),
    Down,
}

/// One open `/events` connection, for the status knob.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    pub id: u64,
    pub realm: String,
    pub sub: String,
    pub admin: bool,
    pub strategy: &'static str,
    /// When the current token expires (seconds since the epoch, server clock).
    pub expires_at: u64,
    pub reauthentications: u64,
}

pub struct Hub {
    pub config: HubConfig,
    keys: jwks::KeyCache,
    /// Set once the listener is bound: where devserver fetches its own realms' keys.
    local_addr: OnceLock<SocketAddr>,
    /// The host given to `--host` (issuers naming it count as devserver's own).
    bound_host: String,
    ingested: broadcast::Sender<HubEvent>,
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
    pub fn new(config: HubConfig, bound_host: &str) -> Hub {
        let (ingested, _) = broadcast::channel(1024);
        let (control, _) = watch::channel(Control::Running);
        Hub {
            keys: jwks::KeyCache::new(config.jwks_min_interval),
            config,
            local_addr: OnceLock::new(),
            bound_host: bound_host.to_ascii_lowercase(),
            ingested,
            control,
            availability: Mutex::new(Availability::Up),
            connections: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            ingest_connections: AtomicU64::new(0),
        }
    }

    pub fn set_local_addr(&self, addr: SocketAddr) {
        let _ = self.local_addr.set(addr);
    }

    /// `http://ADDR` of the listener, with a wildcard address replaced by loopback.
    fn local_base(&self) -> Option<String> {
        let mut addr = *self.local_addr.get()?;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        Some(format!("http://{addr}"))
    }

    fn is_bound_host(&self, host: &str) -> bool {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let bound = self
            .bound_host
            .trim_start_matches('[')
            .trim_end_matches(']');
        bare == bound
            || self
                .local_addr
                .get()
                .is_some_and(|addr| addr.ip().to_string() == bare)
    }

    pub fn publish(&self, event: HubEvent) {
        // No subscribers is fine.
        let _ = self.ingested.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.ingested.subscribe()
    }

    pub fn control(&self) -> watch::Receiver<Control> {
        self.control.subscribe()
    }

    /// Milliseconds until `/events` is back, `Some(None)` when down until told, `None` when up.
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

    /// Closes every connection (`/events` with 1001, `/ingest` too): the server stops.
    pub fn shutdown(&self) {
        self.control.send_replace(Control::Shutdown);
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

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/events", get(connection::events))
        .route("/ingest", get(ingest::ingest))
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
            service_account: false,
        }
    }

    #[test]
    fn admins_see_the_realm_others_their_own_events() {
        let event = HubEvent {
            realm: "demo".into(),
            user_id: Some("alice".into()),
            admin_only: false,
            frame: String::new(),
        };
        assert!(event.visible_to(&identity("alice", false)));
        assert!(!event.visible_to(&identity("carol", false)));
        assert!(event.visible_to(&identity("bob", true)));
        let other_realm = HubEvent {
            realm: "test".into(),
            ..event.clone()
        };
        assert!(!other_realm.visible_to(&identity("bob", true)));
        let admin_event = HubEvent {
            admin_only: true,
            ..event
        };
        assert!(!admin_event.visible_to(&identity("alice", false)));
        assert!(admin_event.visible_to(&identity("bob", true)));
    }

    #[test]
    fn restart_takes_the_hub_down_for_a_while_or_until_started() {
        let hub = Hub::new(HubConfig::default(), "127.0.0.1");
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
