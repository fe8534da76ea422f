//! Issuers' keys: a token whose key is cached is checked at once while another token's unknown
//! `kid` is being fetched, i.e. no lock is held over the network.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use events_hub::HubConfig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_key_is_used_while_another_kid_is_fetched() {
    let issuer = Issuer::start().await;
    let hub = start_hub(HubConfig {
        issuers: vec![issuer.issuer("demo")],
        jwks_min_interval: Duration::ZERO,
        ..HubConfig::default()
    })
    .await;
    let base = hub.url();
    let token = issuer.token("demo", "alice", false);
    let _first = subscribe(&base, &token).await;

    // A token naming an unknown kid sends the hub to the issuer, which holds the answer back.
    issuer.gate.close();
    let now = events_hub::wall_clock_ms() / 1000;
    let unknown = issuer.sign_with_kid(
        &json!({"iss": issuer.issuer("demo"), "sub": "mallory", "typ": "Bearer", "exp": now + 60}),
        "rotated-away",
    );
    let waiting = tokio::spawn({
        let base = base.clone();
        async move {
            let mut ws = open_events(&base, &unknown).await.unwrap();
            closed(&mut ws).await
        }
    });
    let gate = issuer.gate.clone();
    eventually("the key fetch is held at the issuer", || {
        gate.held.load(Ordering::SeqCst) == 1
    })
    .await;

    // Meanwhile a token with the cached kid is welcomed, and the held fetch is still going.
    let _second = subscribe(&base, &token).await;
    assert!(
        !issuer.gate.abandoned.load(Ordering::SeqCst),
        "the welcome did not wait for the fetch to give up"
    );
    issuer.gate.open();
    assert_eq!(
        waiting.await.unwrap(),
        4401,
        "the unknown kid stays unknown"
    );
    hub.shutdown().await;
}
