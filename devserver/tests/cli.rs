//! The binary: help, bad flags, bad realm files, a busy port, and the readiness line.

// Test code: a failed unwrap or index is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn devserver() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_devserver"));
    command.env_remove("RUST_LOG").kill_on_drop(true);
    command
}

async fn run(args: &[&str]) -> (i32, String, String) {
    let output = tokio::time::timeout(Duration::from_secs(30), devserver().args(args).output())
        .await
        .unwrap()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn help_and_bad_flags() {
    let (code, stdout, _) = run(&["--help"]).await;
    assert_eq!(code, 0);
    assert!(stdout.contains("--import-realm FILE"));
    let (code, _, stderr) = run(&["--port", "eighty"]).await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--port: 'eighty' is not a port number"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["--what"]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown argument '--what'"));
}

#[tokio::test]
async fn bad_realm_files_name_the_file_and_the_place() {
    let dir = std::env::temp_dir().join(format!("devserver-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\n  \"realm\": \"x\",\n  \"users\": [ { \"username\": \"a\", \"enabled\": \"yes\" } ]\n}\n").unwrap();
    let (code, _, stderr) = run(&["--port", "0", "--import-realm", bad.to_str().unwrap()]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("{}: at users[0].enabled (line 3", bad.display())),
        "{stderr}"
    );
    let (code, _, stderr) =
        run(&["--port", "0", "--import-realm", "/nonexistent/realm.json"]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("/nonexistent/realm.json: cannot read"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn starts_prints_its_address_and_reports_a_busy_port() {
    let demo = common::realm_file("demo");
    let mut child = devserver()
        .args([
            "--port",
            "0",
            "--import-realm",
            demo.to_str().unwrap(),
            "--log-level",
            "debug",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = line
        .strip_prefix("devserver listening on ")
        .unwrap()
        .to_string();
    let response = common::client()
        .get(format!(
            "{url}/realms/demo/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let port = url.rsplit(':').next().unwrap();
    let (code, _, stderr) = run(&["--port", port]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("the port is already in use"), "{stderr}");

    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("GET /realms/demo/.well-known/openid-configuration -> 200"),
        "one debug line per request: {log}"
    );
}
