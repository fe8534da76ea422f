//! Bounded resources: a client that stops reading, a connection flood against the cap, the
//! ingest cap, and frames over the size limit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::*;
use events_hub::HubConfig;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// A subscriber whose socket takes in little until it reads: a small receive buffer.
async fn subscribe_with_small_buffer(
    base: &str,
    token: &str,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let addr = base.strip_prefix("http://").unwrap().parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let mut request = ws_url(base, "/events").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&format!("{APP}, bearer.{token}")).unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    let welcome = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(welcome.to_text().unwrap().contains("welcome"));
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_closed_and_the_others_keep_up() {
    let issuer = Issuer::start().await;
    let hub = start_hub(HubConfig {
        issuers: vec![issuer.issuer("demo")],
        ingest_token: Some("kete-secret".into()),
        queue_size: 32,
        max_dropped: 0,
        // Long enough that only the queue policy can end the slow connection.
        send_timeout: Duration::from_secs(60),
        ..HubConfig::default()
    })
    .await;
    let base = hub.url();
    let mut slow = subscribe_with_small_buffer(&base, &issuer.token("demo", "slow", true)).await;
    let mut fast = subscribe(&base, &issuer.token("demo", "fast", true)).await;

    // Enough data to fill the kernel's buffers towards the slow client many times over.
    const EVENTS: usize = 300;
    let padding = "x".repeat(60 * 1024);
    // The reading subscriber reports its progress; the pusher stays within 16 events of it, so
    // only the client that stopped reading can fall behind by the queue size.
    let (progress, mut received) = tokio::sync::watch::channel(0usize);
    let reader = tokio::spawn(async move {
        let mut ids = Vec::new();
        while ids.len() < EVENTS {
            let message = recv(&mut fast).await;
            ids.push(message["event"]["id"].as_str().unwrap().to_string());
            progress.send_replace(ids.len());
        }
        // The reading subscriber stays connected: it is the one connection left.
        (ids, fast)
    });
    let mut kete = ingest(&base, "kete-secret").await;
    for n in 0..EVENTS {
        tokio::time::timeout(WAIT, received.wait_for(|got| got + 16 >= n))
            .await
            .expect("the reading subscriber keeps up")
            .unwrap();
        let mut event = kete_event(&format!("e-{n}"), "demo", "someone");
        event["details"]["padding"] = json!(padding);
        push(&mut kete, &event).await;
    }
    let (ids, _fast) = tokio::time::timeout(WAIT, reader).await.unwrap().unwrap();
    let expected: Vec<String> = (0..EVENTS).map(|n| format!("e-{n}")).collect();
    assert_eq!(
        ids, expected,
        "the reading subscriber gets every event, in order"
    );

    let state = hub.hub.clone();
    eventually("the slow subscriber is closed", || {
        state.stats().slow_consumers == 1 && state.connections().len() == 1
    })
    .await;
    assert!(state.stats().dropped_events >= 1);

    // Once it reads again, the slow client finds fewer events, then the documented close.
    let mut received = 0;
    let code = loop {
        match tokio::time::timeout(WAIT, slow.next()).await.unwrap() {
            Some(Ok(Message::Text(_))) => received += 1,
            Some(Ok(Message::Close(Some(frame)))) => break u16::from(frame.code),
            Some(Ok(_)) => {}
            other => panic!("expected a close, got {other:?}"),
        }
    };
    assert_eq!(code, 4429);
    assert!(received < EVENTS, "{received} events");
    hub.shutdown().await;
}

#[tokio::test]
async fn a_connection_flood_is_bounded_by_the_cap() {
    let issuer = Issuer::start().await;
    let hub = start_hub(HubConfig {
        issuers: vec![issuer.issuer("demo")],
        max_connections: 5,
        ..HubConfig::default()
    })
    .await;
    let base = hub.url();
    let token = issuer.token("demo", "alice", false);
    let mut open = Vec::new();
    for _ in 0..5 {
        open.push(subscribe(&base, &token).await);
    }
    // A flood of unauthenticated upgrades: every one is refused before it costs a socket task.
    let flood = (0..50).map(|_| {
        let base = base.clone();
        tokio::spawn(async move {
            let request = ws_url(&base, "/events").into_client_request().unwrap();
            match tokio_tungstenite::connect_async(request).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => (
                    response.status().as_u16(),
                    response.headers().get("retry-after").is_some(),
                ),
                other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
            }
        })
    });
    for refusal in futures_util::future::join_all(flood).await {
        assert_eq!(refusal.unwrap(), (503, true));
    }
    assert_eq!(hub.hub.stats().sockets, 5);
    assert_eq!(hub.hub.stats().refused, 50);

    // A place frees up when a connection goes.
    let mut gone = open.pop().unwrap();
    gone.close(None).await.unwrap();
    let state = hub.hub.clone();
    eventually("the closed connection gives its place back", || {
        state.stats().sockets == 4
    })
    .await;
    let mut again = subscribe(&base, &token).await;
    again
        .send(Message::text(json!({"type": "ping"}).to_string()))
        .await
        .unwrap();
    assert_eq!(recv(&mut again).await["type"], "pong");
    hub.shutdown().await;
}

#[tokio::test]
async fn ingest_connections_are_capped() {
    let issuer = Issuer::start().await;
    let hub = start_hub(HubConfig {
        issuers: vec![issuer.issuer("demo")],
        ingest_token: Some("kete-secret".into()),
        max_ingest_connections: 1,
        ..HubConfig::default()
    })
    .await;
    let _kete = ingest(&hub.url(), "kete-secret").await;
    let mut request = ws_url(&hub.url(), "/ingest").into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_static("Bearer kete-secret"),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn frames_over_the_limit_end_the_connection() {
    let issuer = Issuer::start().await;
    let hub = start_hub(HubConfig {
        issuers: vec![issuer.issuer("demo")],
        ..HubConfig::default()
    })
    .await;
    let mut ws = subscribe(&hub.url(), &issuer.token("demo", "alice", false)).await;
    let huge = json!({"type": "ping", "pad": "x".repeat(100 * 1024)}).to_string();
    // The write may already fail if the server closed first.
    let _ = ws.send(Message::text(huge)).await;
    let end = tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(Message::Text(text))) => {
                    assert!(!text.contains("pong"), "an oversized ping is not answered")
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .unwrap();
    assert!(matches!(end, None | Some(1009)), "{end:?}");
    let state = hub.hub.clone();
    eventually("the connection is gone", || state.stats().sockets == 0).await;
    hub.shutdown().await;
}
