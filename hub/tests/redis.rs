//! Scale-out through Redis: hubs on one Redis (started here, on a free loopback port) deliver
//! every event once to every authorised subscriber, whichever hub either is on; a hub that
//! loses Redis keeps serving its own, reports itself unhealthy and catches up when Redis is back;
//! a restarted hub rejoins.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::*;
use events_hub::broker::BrokerState;
use events_hub::server::RunningHub;
use events_hub::{Host, Hub, HubConfig, Record};
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

/// A redis-server of our own on a loopback port, without persistence.
struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    async fn start() -> Redis {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        Redis::start_on(port).await
    }

    async fn start_on(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server runs (bash scripts/setup.sh installs it)");
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Redis { port, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    async fn stop(mut self) -> u16 {
        self.child.kill().await.unwrap();
        self.port
    }
}

/// A host that keeps the hub's log records.
#[derive(Default)]
struct Captured(Mutex<Vec<String>>);

impl Host for Captured {
    fn log(&self, record: &Record<'_>) {
        self.0.lock().unwrap().push(record.text());
    }
}

impl Captured {
    fn contains(&self, text: &str) -> bool {
        self.0
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.contains(text))
    }
}

async fn scaled_hub(issuer: &Issuer, redis: &str) -> (RunningHub, Arc<Captured>) {
    let log = Arc::new(Captured::default());
    let config = HubConfig {
        issuers: vec![issuer.issuer("demo")],
        ingest_token: Some("kete-secret".into()),
        redis_url: Some(redis.to_string()),
        ..HubConfig::default()
    };
    let hub = Arc::new(Hub::new(config, log.clone()));
    let running = events_hub::server::start("127.0.0.1:0", hub).await.unwrap();
    (running, log)
}

async fn until_state(hubs: &[&RunningHub], state: BrokerState) {
    let hubs: Vec<Arc<Hub>> = hubs.iter().map(|h| h.hub.clone()).collect();
    eventually(&format!("every hub's Redis is {state:?}"), || {
        hubs.iter().all(|hub| hub.broker_state() == state)
    })
    .await;
}

async fn health(hub: &RunningHub) -> (u16, Value) {
    let response = reqwest::get(format!("{}/health", hub.url())).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Event ids until every one of `sentinels` has arrived; then a ping must be answered before any
/// further event, so that a late duplicate shows too.
async fn ids_until(ws: &mut Ws, sentinels: &[String]) -> Vec<String> {
    let mut ids = Vec::new();
    while !sentinels.iter().all(|s| ids.contains(s)) {
        let message = recv(ws).await;
        ids.push(message["event"]["id"].as_str().unwrap().to_string());
    }
    ws.send(Message::text(json!({"type": "ping"}).to_string()))
        .await
        .unwrap();
    let next = recv(ws).await;
    assert_eq!(next["type"], "pong", "nothing after the sentinels: {next}");
    ids.retain(|id| !sentinels.contains(id));
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hubs_deliver_each_event_once_to_each_allowed_subscriber() {
    let issuer = Issuer::start().await;
    let redis = Redis::start().await;
    let mut hubs = Vec::new();
    for _ in 0..3 {
        hubs.push(scaled_hub(&issuer, &redis.url()).await.0);
    }
    until_state(&hubs.iter().collect::<Vec<_>>(), BrokerState::Up).await;
    let mut admins = Vec::new();
    for (n, hub) in hubs.iter().enumerate() {
        admins.push(
            subscribe(
                &hub.url(),
                &issuer.token("demo", &format!("admin-{n}"), true),
            )
            .await,
        );
    }
    let mut alice = subscribe(&hubs[1].url(), &issuer.token("demo", "alice", false)).await;
    let mut bob = subscribe(&hubs[2].url(), &issuer.token("demo", "bob", false)).await;

    // Each hub receives one event from "its" Keycloak connection, then a sentinel per user.
    let users = ["alice", "bob", "carol"];
    let mut sentinels = BTreeMap::new();
    for (n, hub) in hubs.iter().enumerate() {
        let mut kete = ingest(&hub.url(), "kete-secret").await;
        push(&mut kete, &kete_event(&format!("e-{n}"), "demo", users[n])).await;
        for user in ["alice", "bob"] {
            let id = format!("end-{n}-{user}");
            push(&mut kete, &kete_event(&id, "demo", user)).await;
            sentinels.entry(user).or_insert_with(Vec::new).push(id);
        }
    }
    let all: Vec<String> = sentinels.values().flatten().cloned().collect();
    for admin in &mut admins {
        assert_eq!(
            ids_until(admin, &all).await,
            ["e-0", "e-1", "e-2"],
            "admins get all, once"
        );
    }
    assert_eq!(
        ids_until(&mut alice, &sentinels["alice"]).await,
        ["e-0"],
        "alice: hers only"
    );
    assert_eq!(
        ids_until(&mut bob, &sentinels["bob"]).await,
        ["e-1"],
        "bob: his only"
    );
    for hub in hubs {
        hub.shutdown().await;
    }
    redis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_restarted_mid_stream() {
    let issuer = Issuer::start().await;
    let redis = Redis::start().await;
    let (one, one_log) = scaled_hub(&issuer, &redis.url()).await;
    let (two, two_log) = scaled_hub(&issuer, &redis.url()).await;
    until_state(&[&one, &two], BrokerState::Up).await;
    assert_eq!(health(&one).await.0, 200);
    let mut on_one = subscribe(&one.url(), &issuer.token("demo", "admin-1", true)).await;
    let mut on_two = subscribe(&two.url(), &issuer.token("demo", "admin-2", true)).await;
    let mut kete = ingest(&one.url(), "kete-secret").await;
    push(&mut kete, &kete_event("before", "demo", "u")).await;
    assert_eq!(recv(&mut on_one).await["event"]["id"], "before");
    assert_eq!(recv(&mut on_two).await["event"]["id"], "before");

    let port = redis.stop().await;
    until_state(&[&one, &two], BrokerState::Down).await;
    let (status, body) = health(&one).await;
    assert_eq!(
        (status, body["status"].clone(), body["redis"].clone()),
        (503, json!("degraded"), json!("down"))
    );
    // Its own subscribers still get this hub's events.
    push(&mut kete, &kete_event("during", "demo", "u")).await;
    assert_eq!(recv(&mut on_one).await["event"]["id"], "during");

    let redis = Redis::start_on(port).await;
    until_state(&[&one, &two], BrokerState::Up).await;
    assert_eq!(health(&two).await.0, 200);
    push(&mut kete, &kete_event("after", "demo", "u")).await;
    assert_eq!(recv(&mut on_one).await["event"]["id"], "after");
    assert_eq!(
        recv(&mut on_two).await["event"]["id"],
        "after",
        "the other hub's subscriber missed the event of the outage and gets the next"
    );
    let mut kete_two = ingest(&two.url(), "kete-secret").await;
    push(&mut kete_two, &kete_event("from-two", "demo", "u")).await;
    assert_eq!(recv(&mut on_one).await["event"]["id"], "from-two");

    assert!(two_log.contains("redis: subscription lost"));
    assert!(two_log.contains("while the subscription was down were missed missed_from_ms="));
    assert!(one_log.contains("redis: cannot publish"));
    assert!(one.hub.stats().unshared_events >= 1);
    one.shutdown().await;
    two.shutdown().await;
    redis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_hub_rejoins() {
    let issuer = Issuer::start().await;
    let redis = Redis::start().await;
    let (one, _) = scaled_hub(&issuer, &redis.url()).await;
    let (two, _) = scaled_hub(&issuer, &redis.url()).await;
    until_state(&[&one, &two], BrokerState::Up).await;
    let token = issuer.token("demo", "admin-1", true);
    let mut on_one = subscribe(&one.url(), &token).await;
    let mut on_two = subscribe(&two.url(), &issuer.token("demo", "admin-2", true)).await;

    let shutting = tokio::spawn(one.shutdown());
    assert_eq!(closed(&mut on_one).await, 1012, "told to reconnect");
    shutting.await.unwrap();
    let (again, _) = scaled_hub(&issuer, &redis.url()).await;
    until_state(&[&again, &two], BrokerState::Up).await;
    let mut on_again = subscribe(&again.url(), &token).await;

    let mut kete_two = ingest(&two.url(), "kete-secret").await;
    push(&mut kete_two, &kete_event("to-again", "demo", "u")).await;
    assert_eq!(recv(&mut on_again).await["event"]["id"], "to-again");
    assert_eq!(recv(&mut on_two).await["event"]["id"], "to-again");
    let mut kete_again = ingest(&again.url(), "kete-secret").await;
    push(&mut kete_again, &kete_event("from-again", "demo", "u")).await;
    assert_eq!(recv(&mut on_two).await["event"]["id"], "from-again");
    assert_eq!(recv(&mut on_again).await["event"]["id"], "from-again");
    again.shutdown().await;
    two.shutdown().await;
    redis.stop().await;
}
