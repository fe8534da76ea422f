//! devserver's live-event hub: the `events-hub` crate, serving `/events` and `/ingest` on
//! devserver's port, with devserver's own realms as allowed issuers (keys fetched from its own
//! listening address), its shiftable clock, its log, and its events fanned out to subscribers.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, OnceLock, Weak};

use axum::Router;
pub use events_hub::{protocol, ConnectionInfo, HubConfig, HubEvent, Identity, SourceStatus};
use events_hub::{Host, Hub, KeySource, Record};

use crate::events::Event;
use crate::log;
use crate::state::{AppState, Shared};

/// What the hub needs from devserver.
struct DevHost {
    state: OnceLock<Weak<AppState>>,
    /// Set once the listener is bound: where devserver fetches its own realms' keys.
    local_addr: OnceLock<SocketAddr>,
    /// The host given to `--host` (issuers naming it count as devserver's own).
    bound_host: String,
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.starts_with("127.")
}

/// Splits `scheme://host[:port]/path` into (lowercased host without port, path).
fn host_and_path(url: &str) -> Option<(String, &str)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let host = if authority.starts_with('[') {
        authority.split_once(']').map(|(h, _)| format!("{h}]"))?
    } else {
        authority.split(':').next().unwrap_or_default().to_string()
    };
    Some((host.to_ascii_lowercase(), path))
}

impl DevHost {
    fn state(&self) -> Option<Shared> {
        self.state.get()?.upgrade()
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

    fn has_realm(&self, realm: &str) -> bool {
        self.state()
            .is_some_and(|state| state.realms().contains_key(realm))
    }
}

impl Host for DevHost {
    fn now_ms(&self) -> u64 {
        match self.state() {
            Some(state) => state.now_ms(),
            None => events_hub::wall_clock_ms(),
        }
    }

    fn clock_changes(&self) -> Option<tokio::sync::watch::Receiver<i64>> {
        Some(self.state()?.clock_changes())
    }

    /// devserver's own realms on a loopback or bound host, whatever host the token was issued
    /// through: one issuer per realm, keys from devserver's own listening address.
    fn own_issuer(&self, issuer: &str) -> Option<KeySource> {
        let own = self.local_base()?;
        let (host, path) = host_and_path(issuer)?;
        let realm = path.strip_prefix("/realms/")?;
        if realm.is_empty() || realm.contains('/') {
            return None;
        }
        if !(is_loopback(&host) || self.is_bound_host(&host)) || !self.has_realm(realm) {
            return None;
        }
        Some(KeySource {
            issuer: format!("{own}/realms/{realm}"),
            certs_url: format!("{own}/realms/{realm}/protocol/openid-connect/certs"),
            realm: realm.to_string(),
        })
    }

    fn own_realm_issuer(&self, realm: &str) -> Option<String> {
        if !self.has_realm(realm) {
            return None;
        }
        Some(format!("{}/realms/{realm}", self.local_base()?))
    }

    fn log(&self, record: &Record<'_>) {
        if log::enabled(record.level) {
            log::log(record.level, &format!("hub: {}", record.text()));
        }
    }
}

/// The hub inside devserver; derefs to the hub itself.
pub struct DevHub {
    hub: Arc<Hub>,
    host: Arc<DevHost>,
}

impl Deref for DevHub {
    type Target = Hub;

    fn deref(&self) -> &Hub {
        &self.hub
    }
}

impl DevHub {
    pub fn new(config: HubConfig, bound_host: &str) -> DevHub {
        let host = Arc::new(DevHost {
            state: OnceLock::new(),
            local_addr: OnceLock::new(),
            bound_host: bound_host.to_ascii_lowercase(),
        });
        DevHub {
            hub: Arc::new(Hub::new(config, host.clone())),
            host,
        }
    }

    /// Connects the hub to the state it lives in (its realms and clock).
    pub fn attach(&self, state: &Shared) {
        let _ = self.host.state.set(Arc::downgrade(state));
    }

    pub fn set_local_addr(&self, addr: SocketAddr) {
        let _ = self.host.local_addr.set(addr);
    }

    /// Hands one of devserver's own events to the subscribers of its realm.
    pub fn publish_local(&self, event: &Event) {
        // The realm is devserver's own: no lookup (the caller may hold the realms' lock).
        let Some(base) = self.host.local_base() else {
            return;
        };
        let issuer = format!("{base}/realms/{}", event.realm_name);
        let json = serde_json::to_value(event).unwrap_or_default();
        self.hub
            .publish(HubEvent::user_event(issuer, event.user_id.clone(), &json));
    }

    pub fn routes(&self) -> Router<Shared> {
        events_hub::routes(self.hub.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_parts() {
        assert_eq!(
            host_and_path("http://LocalHost:8080/realms/demo"),
            Some(("localhost".into(), "/realms/demo"))
        );
        assert_eq!(
            host_and_path("https://[::1]:9/realms/x"),
            Some(("[::1]".into(), "/realms/x"))
        );
        assert_eq!(host_and_path("ftp://x/realms/y"), None);
        assert!(is_loopback("127.0.0.2") && is_loopback("app.localhost"));
        assert!(!is_loopback("example.com"));
    }
}
