//! Load benchmark of the hub, loopback only, bounded in count and time: N sockets subscribed as
//! realm admins (so every event goes to every socket) across one hub alone, then across two hubs
//! sharing events through Redis. For each: memory per connection (the hubs' resident memory
//! before and after connecting), fan-out latency p50/p99 from the `/ingest` push to delivery of
//! paced events, and the rate of a burst of events ingested as fast as they go.
//!
//!     cargo bench -p events-hub --profile hub-bench --bench load
//!
//! SOCKETS (default 10000), PACED (default 20), PACE_MS (default 500), BURST (default 100)
//! change the counts. The hubs
//! are `events-hub` processes; the clients all live in this process. Writes
//! bench/results/hub-load.json.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ingest, push, Issuer, Ws, APP};
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// No phase may take longer than this.
const PHASE_LIMIT: Duration = Duration::from_secs(120);
const CONNECTING_AT_ONCE: usize = 200;

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct HubProcess {
    child: Child,
    url: String,
}

impl HubProcess {
    async fn start(issuer: &Issuer, redis: Option<&str>, sockets: usize) -> HubProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_events-hub"));
        command
            .env("HUB_LISTEN", "127.0.0.1:0")
            .env("HUB_ISSUERS", issuer.issuer("demo"))
            .env("HUB_INGEST_TOKEN", "bench-secret")
            .env("HUB_MAX_CONNECTIONS", (sockets + 100).to_string())
            .env("HUB_LOG_LEVEL", "warn")
            .kill_on_drop(true)
            .stdout(Stdio::piped());
        if let Some(redis) = redis {
            command.env("HUB_REDIS_URL", redis);
        }
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines.next_line().await.unwrap().unwrap();
        let url = line
            .strip_prefix("events-hub listening on ")
            .unwrap()
            .to_string();
        HubProcess { child, url }
    }

    /// Resident memory in KiB.
    fn rss_kib(&self) -> u64 {
        let pid = self.child.id().unwrap();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    async fn healthy(&self) -> bool {
        match reqwest::get(format!("{}/health", self.url)).await {
            Ok(response) => response.status().is_success(),
            Err(_) => false,
        }
    }
}

async fn connect(url: String, token: Arc<String>) -> Ws {
    let mut request = common::ws_url(&url, "/events")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&format!("{APP}, bearer.{token}")).unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    loop {
        if let Some(Ok(Message::Text(text))) = ws.next().await {
            if text.contains("welcome") {
                return ws;
            }
        } else {
            panic!("no welcome");
        }
    }
}

/// Reads `expected` events; returns the paced events' latencies in microseconds.
async fn read_events(
    mut ws: Ws,
    expected: usize,
    base: Instant,
    received: Arc<AtomicU64>,
) -> Vec<u64> {
    let mut latencies = Vec::new();
    let mut seen = 0;
    while seen < expected {
        let Some(Ok(message)) = ws.next().await else {
            break;
        };
        let Message::Text(text) = message else {
            continue;
        };
        let now = base.elapsed().as_micros() as u64;
        let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        if frame["type"] != "event" {
            continue;
        }
        seen += 1;
        received.fetch_add(1, Ordering::Relaxed);
        let details = &frame["event"]["details"];
        if details["phase"] == "paced" {
            if let Some(sent) = details["sentUs"]
                .as_str()
                .and_then(|s| s.parse::<u64>().ok())
            {
                latencies.push(now.saturating_sub(sent));
            }
        }
    }
    latencies
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)] as f64 / 1000.0
}

fn event(phase: &str, n: usize, base: Instant) -> Value {
    json!({
        "id": format!("{phase}-{n}"), "time": 1704816000000u64, "type": "LOGIN",
        "realmId": "bench", "realmName": "demo", "clientId": "app", "userId": "someone",
        "sessionId": "s", "ipAddress": "127.0.0.1", "error": null,
        "details": {"phase": phase, "sentUs": base.elapsed().as_micros().to_string()}
    })
}

async fn scenario(issuer: &Issuer, hubs: usize, redis: Option<&str>, sockets: usize) -> Value {
    let paced = env_count("PACED", 20);
    let burst = env_count("BURST", 100);
    let mut processes = Vec::new();
    for _ in 0..hubs {
        processes.push(HubProcess::start(issuer, redis, sockets / hubs).await);
    }
    let deadline = Instant::now() + PHASE_LIMIT;
    for process in &processes {
        while !process.healthy().await {
            assert!(Instant::now() < deadline, "hub not healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let rss_before: u64 = processes.iter().map(HubProcess::rss_kib).sum();

    // Connect: round robin over the hubs, a bounded number at a time.
    let token = Arc::new(issuer.token("demo", "bench-admin", true));
    let urls: Vec<String> = processes.iter().map(|p| p.url.clone()).collect();
    let started = Instant::now();
    let sockets_list: Vec<Ws> = tokio::time::timeout(
        PHASE_LIMIT,
        stream::iter(0..sockets)
            .map(|n| connect(urls[n % hubs].clone(), token.clone()))
            .buffer_unordered(CONNECTING_AT_ONCE)
            .collect(),
    )
    .await
    .expect("connected in time");
    let connect_secs = started.elapsed().as_secs_f64();
    let rss_after: u64 = processes.iter().map(HubProcess::rss_kib).sum();

    let base = Instant::now();
    let received = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = sockets_list
        .into_iter()
        .map(|ws| tokio::spawn(read_events(ws, paced + burst, base, received.clone())))
        .collect();
    let mut pushers = Vec::new();
    for url in &urls {
        pushers.push(ingest(url, "bench-secret").await);
    }

    // Paced events, one every PACE_MS, round robin over the hubs: latency without queueing (as
    // long as SOCKETS frames per PACE_MS stay well below the burst's rate).
    let pace = Duration::from_millis(env_count("PACE_MS", 500) as u64);
    let mut tick = tokio::time::interval(pace);
    for n in 0..paced {
        tick.tick().await;
        push(&mut pushers[n % hubs], &event("paced", n, base)).await;
    }
    let paced_target = (sockets * paced) as u64;
    let wait_until = |target: u64| {
        let received = received.clone();
        async move {
            while received.load(Ordering::Relaxed) < target {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let paced_done = tokio::time::timeout(PHASE_LIMIT, wait_until(paced_target))
        .await
        .is_ok();

    // A burst as fast as the pushers go: events per second until the last delivery.
    let burst_started = Instant::now();
    for n in 0..burst {
        push(&mut pushers[n % hubs], &event("burst", n, base)).await;
    }
    let total_target = (sockets * (paced + burst)) as u64;
    let burst_done = tokio::time::timeout(PHASE_LIMIT, wait_until(total_target))
        .await
        .is_ok();
    let burst_secs = burst_started.elapsed().as_secs_f64();
    let delivered = received.load(Ordering::Relaxed);

    let mut latencies = Vec::new();
    for reader in readers {
        reader.abort();
        if let Ok(mut some) = reader.await {
            latencies.append(&mut some);
        }
    }
    latencies.sort_unstable();
    let healthy = {
        let mut all = true;
        for process in &processes {
            all &= process.healthy().await;
        }
        all
    };
    drop(processes);
    json!({
        "hubs": hubs,
        "sockets": sockets,
        "connectSeconds": (connect_secs * 100.0).round() / 100.0,
        "memoryPerConnectionKiB": ((rss_after.saturating_sub(rss_before)) as f64 / sockets as f64 * 10.0).round() / 10.0,
        "pacedEvents": paced,
        "pacedDelivered": paced_done,
        "latencyMs": {
            "p50": percentile(&latencies, 0.50),
            "p99": percentile(&latencies, 0.99),
            "max": percentile(&latencies, 1.0),
            "samples": latencies.len(),
        },
        "burstEvents": burst,
        "burstDelivered": burst_done,
        "burstEventsPerSecond": (burst as f64 / burst_secs).round(),
        "burstFramesPerSecond": ((sockets * burst) as f64 / burst_secs).round(),
        "framesDelivered": delivered,
        "framesExpected": total_target,
        "hubsHealthyAfter": healthy,
    })
}

async fn redis_server() -> (Child, String) {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server runs (bash scripts/setup.sh installs it)");
    let deadline = Instant::now() + PHASE_LIMIT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "redis-server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (child, format!("redis://127.0.0.1:{port}/"))
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let sockets = env_count("SOCKETS", 10_000);
    let issuer = Issuer::start().await;
    let (_redis, redis_url) = redis_server().await;
    let mut results = Vec::new();
    for (hubs, redis) in [(1, None), (2, Some(redis_url.as_str()))] {
        eprintln!("hub load: {hubs} hub(s), {sockets} sockets…");
        let result = scenario(&issuer, hubs, redis, sockets).await;
        println!("{result}");
        results.push(result);
    }
    println!();
    println!("| hubs | sockets | memory/conn | paced p50 | paced p99 | burst events/s | frames/s | all delivered |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &results {
        println!(
            "| {} | {} | {} KiB | {:.1} ms | {:.1} ms | {} | {} | {} |",
            r["hubs"],
            r["sockets"],
            r["memoryPerConnectionKiB"],
            r["latencyMs"]["p50"].as_f64().unwrap_or(f64::NAN),
            r["latencyMs"]["p99"].as_f64().unwrap_or(f64::NAN),
            r["burstEventsPerSecond"],
            r["burstFramesPerSecond"],
            r["framesDelivered"] == r["framesExpected"],
        );
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/results");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("hub-load.json"),
        serde_json::to_string_pretty(&json!({ "results": results })).unwrap(),
    );
}
