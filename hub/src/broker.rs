//! Scale-out through Redis pub/sub: several hubs behind a load balancer share their events, so
//! that a subscriber gets each event once, whichever hub it is connected to and whichever hub
//! received the event.
//!
//! Each hub hands its own events (ingested, or its host's) to its own subscribers at once and
//! publishes them on one Redis channel, tagged with the hub's random origin id; what it receives
//! from the channel with another origin it hands to its subscribers, its own it skips. So every
//! subscriber gets every event exactly once while Redis is up. When Redis is lost, the hub keeps
//! serving its own subscribers with its own events, reports itself unhealthy, reconnects with
//! backoff, and logs which span of other hubs' events it may have missed and how many of its
//! own events it could not share.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::log::Level;
use crate::{Control, Hub, HubEvent};

/// Events waiting to be published; a hub whose Redis is slow loses sharing beyond this.
const OUTGOING_CAPACITY: usize = 4096;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A publish that takes longer counts as failed; it is not retried, since Redis may have taken
/// it (a retry could deliver it twice).
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// An event as it travels between hubs.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shared {
    origin: String,
    issuer: String,
    user_id: Option<String>,
    admin_only: bool,
    frame: String,
}

/// The Redis side of a hub.
pub struct Broker {
    origin: String,
    outgoing: mpsc::Sender<String>,
    /// The subscription is open.
    receiving: AtomicBool,
    /// The last publish went through (or none failed yet).
    publishing: AtomicBool,
    /// Own events that could not be handed to Redis.
    unshared: AtomicU64,
}

/// What `/health` says about Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BrokerState {
    /// Single-process mode: no Redis configured.
    Off,
    Up,
    Down,
}

fn random_origin() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Two std hashers with random keys: unique enough to tell hubs of one deployment apart.
    let mut id = String::new();
    for _ in 0..2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::UNIX_EPOCH
                .elapsed()
                .map_or(0, |d| d.as_nanos()),
        );
        id.push_str(&format!("{:016x}", hasher.finish()));
    }
    id
}

impl Broker {
    pub fn state(&self) -> BrokerState {
        if self.receiving.load(Ordering::Acquire) && self.publishing.load(Ordering::Acquire) {
            BrokerState::Up
        } else {
            BrokerState::Down
        }
    }

    pub fn unshared(&self) -> u64 {
        self.unshared.load(Ordering::Relaxed)
    }

    /// Queues one of this hub's events for the other hubs.
    pub(crate) fn share(&self, hub: &Hub, event: &HubEvent) {
        let shared = Shared {
            origin: self.origin.clone(),
            issuer: event.issuer.clone(),
            user_id: event.user_id.clone(),
            admin_only: event.admin_only,
            frame: event.frame.clone(),
        };
        let Ok(payload) = serde_json::to_string(&shared) else {
            return;
        };
        if self.outgoing.try_send(payload).is_err() {
            let before = self.unshared.fetch_add(1, Ordering::Relaxed);
            // Once per thousand is enough: the total comes with the reconnection too.
            if before % 1000 == 0 {
                hub.log(
                    Level::Warn,
                    "redis: the publishing queue is full; an event of this hub was not shared",
                    &[("unshared_total", &(before + 1))],
                );
            }
        }
    }
}

/// Opens the Redis side of `hub` and starts its two tasks: the publisher and the subscriber.
pub fn start(hub: &Arc<Hub>, url: &str, channel: &str) -> Result<Arc<Broker>, String> {
    let client = redis::Client::open(url)
        .map_err(|err| format!("redis: '{}' is not a Redis URL: {err}", redacted(url)))?;
    let (outgoing, queue) = mpsc::channel(OUTGOING_CAPACITY);
    let broker = Arc::new(Broker {
        origin: random_origin(),
        outgoing,
        receiving: AtomicBool::new(false),
        publishing: AtomicBool::new(true),
        unshared: AtomicU64::new(0),
    });
    tokio::spawn(publish(
        Arc::downgrade(hub),
        broker.clone(),
        client.clone(),
        channel.to_string(),
        queue,
    ));
    tokio::spawn(receive(
        Arc::downgrade(hub),
        broker.clone(),
        client,
        channel.to_string(),
    ));
    Ok(broker)
}

/// A Redis URL without its password, for messages.
pub fn redacted(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://…@{host}"),
        _ => url.to_string(),
    }
}

fn next_backoff(current: Duration) -> Duration {
    (current * 2).min(MAX_BACKOFF)
}

async fn connect(client: &redis::Client) -> Option<MultiplexedConnection> {
    // The crate's own response timeout (500 ms) would turn a slow answer into an error that
    // looks like a refusal: PUBLISH_TIMEOUT alone decides, and counts as "unknown".
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(None);
    tokio::time::timeout(
        CONNECT_TIMEOUT,
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await
    .ok()?
    .ok()
}

/// How one PUBLISH went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Published {
    Yes,
    /// Refused or the connection broke: Redis did not take it.
    No,
    /// No answer in time: Redis may or may not have taken it.
    Unknown,
}

async fn publish_once(
    redis: &mut MultiplexedConnection,
    channel: &str,
    payload: &str,
) -> Published {
    let mut command = redis::cmd("PUBLISH");
    command.arg(channel).arg(payload);
    match tokio::time::timeout(PUBLISH_TIMEOUT, command.query_async::<i64>(redis)).await {
        Ok(Ok(_)) => Published::Yes,
        Ok(Err(err)) if err.is_timeout() => Published::Unknown,
        Ok(Err(_)) => Published::No,
        Err(_) => Published::Unknown,
    }
}

/// Hands queued events to Redis. While Redis is down, reconnects at most once per backoff
/// period; events in between are counted as unshared.
async fn publish(
    hub: Weak<Hub>,
    broker: Arc<Broker>,
    client: redis::Client,
    channel: String,
    mut queue: mpsc::Receiver<String>,
) {
    let mut connection: Option<MultiplexedConnection> = None;
    let mut backoff = FIRST_BACKOFF;
    let mut next_attempt = Instant::now();
    while let Some(payload) = queue.recv().await {
        let Some(hub) = hub.upgrade() else { return };
        // An open subscription says Redis is back: no need to wait out the backoff.
        let reachable = broker.receiving.load(Ordering::Acquire);
        if connection.is_none() && (reachable || Instant::now() >= next_attempt) {
            connection = connect(&client).await;
            if connection.is_none() {
                next_attempt = Instant::now() + backoff;
                backoff = next_backoff(backoff);
            }
        }
        let mut published = match connection.as_mut() {
            Some(redis) => publish_once(redis, &channel, &payload).await,
            None => Published::No,
        };
        if published == Published::No && connection.is_some() {
            // A connection from before an outage fails at once: retry on a fresh one.
            connection = connect(&client).await;
            if let Some(redis) = connection.as_mut() {
                published = publish_once(redis, &channel, &payload).await;
            }
        }
        if published == Published::Yes {
            backoff = FIRST_BACKOFF;
            if !broker.publishing.swap(true, Ordering::AcqRel) {
                hub.log(Level::Info, "redis: publishing again", &[]);
            }
        } else {
            connection = None;
            broker.unshared.fetch_add(1, Ordering::Relaxed);
            if broker.publishing.swap(false, Ordering::AcqRel) {
                let outcome = match published {
                    Published::Unknown => "no answer in time",
                    _ => "refused or disconnected",
                };
                hub.log(
                    Level::Error,
                    "redis: cannot publish; this hub's events reach its own subscribers only",
                    &[("outcome", &outcome)],
                );
            }
        }
    }
}

/// Keeps a subscription open and hands other hubs' events to this hub's subscribers.
async fn receive(hub: Weak<Hub>, broker: Arc<Broker>, client: redis::Client, channel: String) {
    let Some(mut control) = hub.upgrade().map(|hub| hub.control()) else {
        return;
    };
    let mut backoff = FIRST_BACKOFF;
    // Wall-clock milliseconds since the subscription was lost, if it was.
    let mut lost_at: Option<u64> = None;
    let mut attempts: u64 = 0;
    loop {
        if matches!(*control.borrow_and_update(), Control::Shutdown(_)) {
            return;
        }
        let subscribed = async {
            let mut pubsub = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub())
                .await
                .ok()?
                .ok()?;
            tokio::time::timeout(CONNECT_TIMEOUT, pubsub.subscribe(&channel))
                .await
                .ok()?
                .ok()?;
            Some(pubsub.into_on_message())
        }
        .await;
        let Some(hub_now) = hub.upgrade() else { return };
        let Some(mut messages) = subscribed else {
            attempts += 1;
            if attempts == 1 && lost_at.is_none() {
                lost_at = Some(crate::wall_clock_ms());
                hub_now.log(
                    Level::Error,
                    "redis: cannot subscribe; serving this hub's own events only, retrying",
                    &[],
                );
            }
            drop(hub_now);
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = control.changed() => {}
            }
            backoff = next_backoff(backoff);
            continue;
        };
        broker.receiving.store(true, Ordering::Release);
        // Publishing reconnects with the next event; until one fails, count it as working.
        broker.publishing.store(true, Ordering::Release);
        match lost_at.take() {
            Some(since) => {
                let until = crate::wall_clock_ms();
                hub_now.log(
                    Level::Warn,
                    "redis: subscribed again; events that other hubs published while the subscription was down were missed",
                    &[
                        ("missed_from_ms", &since),
                        ("missed_until_ms", &until),
                        ("attempts", &attempts),
                        ("unshared_total", &broker.unshared()),
                    ],
                );
            }
            None => hub_now.log(Level::Info, "redis: subscribed", &[("channel", &channel)]),
        }
        drop(hub_now);
        backoff = FIRST_BACKOFF;
        attempts = 0;
        loop {
            let message = tokio::select! {
                message = messages.next() => message,
                _ = control.changed() => {
                    if matches!(*control.borrow_and_update(), Control::Shutdown(_)) {
                        return;
                    }
                    continue;
                }
            };
            let Some(hub) = hub.upgrade() else { return };
            let Some(message) = message else {
                broker.receiving.store(false, Ordering::Release);
                lost_at = Some(crate::wall_clock_ms());
                hub.log(
                    Level::Error,
                    "redis: subscription lost; serving this hub's own events only, reconnecting",
                    &[],
                );
                break;
            };
            match serde_json::from_slice::<Shared>(message.get_payload_bytes()) {
                Ok(shared) if shared.origin == broker.origin => {}
                Ok(shared) => hub.deliver(HubEvent {
                    issuer: shared.issuer,
                    user_id: shared.user_id,
                    admin_only: shared.admin_only,
                    frame: shared.frame,
                }),
                Err(_) => hub.log(
                    Level::Warn,
                    "redis: a message on the channel is not a hub event; dropped",
                    &[],
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redacted("redis://:hunter2@cache.internal:6379/0"),
            "redis://…@cache.internal:6379/0"
        );
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(next_backoff(FIRST_BACKOFF), Duration::from_millis(200));
        assert_eq!(next_backoff(Duration::from_secs(4)), MAX_BACKOFF);
        assert_ne!(random_origin(), random_origin());
    }
}
