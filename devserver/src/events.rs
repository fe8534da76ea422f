//! Keycloak-style user events on an in-process bus, plus a bounded history per realm for
//! `GET /admin/realms/{realm}/events`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::broadcast;

/// Keycloak's EventRepresentation.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    /// Milliseconds since the epoch.
    pub time: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub realm_id: String,
    /// The realm's name, for subscribers that route by name (not part of Keycloak's JSON).
    #[serde(skip)]
    pub realm_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

/// Builds an event step by step, like Keycloak's EventBuilder.
#[derive(Clone, Debug)]
pub struct EventBuilder {
    event: Event,
}

impl EventBuilder {
    pub fn new(kind: &str, realm_id: &str, realm_name: &str, ip: &str) -> EventBuilder {
        EventBuilder {
            event: Event {
                id: crate::util::uuid(),
                time: 0,
                kind: kind.to_string(),
                realm_id: realm_id.to_string(),
                realm_name: realm_name.to_string(),
                client_id: None,
                user_id: None,
                session_id: None,
                ip_address: Some(ip.to_string()),
                error: None,
                details: BTreeMap::new(),
            },
        }
    }

    pub fn client(mut self, client_id: &str) -> Self {
        self.event.client_id = Some(client_id.to_string());
        self
    }

    pub fn user(mut self, user_id: &str) -> Self {
        self.event.user_id = Some(user_id.to_string());
        self
    }

    pub fn session(mut self, session_id: &str) -> Self {
        self.event.session_id = Some(session_id.to_string());
        self
    }

    pub fn detail(mut self, key: &str, value: &str) -> Self {
        self.event
            .details
            .insert(key.to_string(), value.to_string());
        self
    }

    /// Turns `LOGIN` into `LOGIN_ERROR` with the given error code, as Keycloak does.
    pub fn error(mut self, error: &str) -> Self {
        if !self.event.kind.ends_with("_ERROR") {
            self.event.kind.push_str("_ERROR");
        }
        self.event.error = Some(error.to_string());
        self
    }

    pub fn build(mut self, time_ms: u64) -> Event {
        self.event.time = time_ms;
        self.event
    }
}

const HISTORY_PER_REALM: usize = 1000;

pub struct EventBus {
    sender: broadcast::Sender<Event>,
    history: Mutex<HashMap<String, VecDeque<Event>>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new()
    }
}

impl EventBus {
    pub fn new() -> EventBus {
        let (sender, _) = broadcast::channel(1024);
        EventBus {
            sender,
            history: Mutex::new(HashMap::new()),
        }
    }

    /// A live stream of every event from now on (all realms).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    pub fn publish(&self, event: Event) {
        if let Ok(mut history) = self.history.lock() {
            let list = history.entry(event.realm_name.clone()).or_default();
            if list.len() >= HISTORY_PER_REALM {
                list.pop_front();
            }
            list.push_back(event.clone());
        }
        // No subscribers is fine: the history still has it.
        let _ = self.sender.send(event);
    }

    /// Events of a realm, newest first.
    pub fn recent(&self, realm_name: &str) -> Vec<Event> {
        self.history
            .lock()
            .ok()
            .and_then(|h| h.get(realm_name).map(|l| l.iter().rev().cloned().collect()))
            .unwrap_or_default()
    }

    pub fn clear(&self, realm_name: &str) {
        if let Ok(mut history) = self.history.lock() {
            history.remove(realm_name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn published_events_reach_subscribers_and_history() {
        let bus = EventBus::new();
        let mut rx = bus.subscribe();
        let event = EventBuilder::new("LOGIN", "rid", "demo", "127.0.0.1")
            .client("app")
            .error("invalid_user_credentials")
            .build(5);
        assert_eq!(event.kind, "LOGIN_ERROR");
        bus.publish(event.clone());
        assert_eq!(rx.recv().await.unwrap(), event);
        assert_eq!(bus.recent("demo"), vec![event]);
        assert!(bus.recent("other").is_empty());
        let json = serde_json::to_value(&bus.recent("demo")[0]).unwrap();
        assert_eq!(json["type"], "LOGIN_ERROR");
        assert_eq!(json["realmId"], "rid");
        assert!(json.get("realmName").is_none());
    }
}
