//! The `events-hub` binary: its help, configuration from the environment, the health endpoint,
//! JSON logs without tokens, and a shutdown that closes sockets with 1012.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Stdio;

use common::*;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

const BINARY: &str = env!("CARGO_BIN_EXE_events-hub");

#[tokio::test]
async fn help_documents_every_option() {
    let output = tokio::process::Command::new(BINARY)
        .arg("--help")
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for option in [
        "--listen",
        "--issuer",
        "--audience",
        "--ingest-token-file",
        "--ingest-client",
        "--heartbeat",
        "--auth-timeout",
        "--jwks-min-interval",
        "--max-connections",
        "--max-ingest-connections",
        "--queue-size",
        "--max-dropped",
        "--send-timeout",
        "--log-level",
        "HUB_INGEST_TOKEN",
        "/health",
        "1012",
    ] {
        assert!(help.contains(option), "{option} is documented");
    }
}

#[tokio::test]
async fn a_secret_on_the_command_line_is_refused() {
    let output = tokio::process::Command::new(BINARY)
        .args([
            "--issuer",
            "https://kc.example.com/realms/x",
            "--ingest-token",
            "s3cret",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(message.contains("HUB_INGEST_TOKEN"), "{message}");
    assert!(!message.contains("s3cret"));
}

#[tokio::test]
async fn configured_by_environment_it_serves_and_shuts_down_with_1012() {
    let issuer = Issuer::start().await;
    let mut child = tokio::process::Command::new(BINARY)
        .env("HUB_LISTEN", "127.0.0.1:0")
        .env("HUB_ISSUERS", issuer.issuer("demo"))
        .env("HUB_INGEST_TOKEN", "kete-secret")
        .env("HUB_LOG_LEVEL", "debug")
        .kill_on_drop(true)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(WAIT, stdout.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let base = line
        .strip_prefix("events-hub listening on ")
        .unwrap()
        .to_string();

    let health: Value = reqwest::get(format!("{base}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    let token = issuer.token("demo", "alice", false);
    let mut alice = subscribe(&base, &token).await;
    let mut kete = ingest(&base, "kete-secret").await;
    let event = kete_event("e-1", "demo", "alice");
    push(&mut kete, &event).await;
    assert_eq!(recv(&mut alice).await["event"], event);

    let status = tokio::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    assert_eq!(closed(&mut alice).await, 1012, "browsers reconnect at once");
    assert_eq!(closed(&mut kete).await, 1012);
    let exit = tokio::time::timeout(WAIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");

    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .await
        .unwrap();
    assert!(!log.contains(&token), "the token is never logged");
    assert!(!log.contains("kete-secret"), "nor the ingest secret");
    let records: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r["msg"] == "connected" && r["sub"] == "alice" && r["level"] == "debug"),
        "{log}"
    );
    assert!(records.iter().any(|r| r["msg"] == "shutting down"), "{log}");
}
