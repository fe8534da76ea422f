//! Shared test helpers: a stand-in Keycloak that publishes a JWKS and signs tokens, hubs on free
//! loopback ports, and WebSocket clients for `/events` and `/ingest`.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use events_hub::server::RunningHub;
use events_hub::{Hub, HubConfig};
use futures_util::{SinkExt, StreamExt};
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Every wait in these tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(20);
pub const APP: &str = "keycloak-events.v1";
const KID: &str = "test-key";

/// Holds JWKS answers back while closed, and tells whether a held request was given up.
#[derive(Default)]
pub struct Gate {
    closed: std::sync::atomic::AtomicBool,
    open: tokio::sync::Notify,
    pub held: std::sync::atomic::AtomicUsize,
    pub abandoned: std::sync::atomic::AtomicBool,
}

/// Marks a held request as given up if it is dropped before the gate opens.
struct Held<'a>(&'a Gate);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if self.0.closed.load(std::sync::atomic::Ordering::SeqCst) {
            self.0
                .abandoned
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

impl Gate {
    pub fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn open(&self) {
        self.closed
            .store(false, std::sync::atomic::Ordering::SeqCst);
        self.open.notify_waiters();
    }

    async fn pass(&self) {
        if !self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let opened = self.open.notified();
        let _held = Held(self);
        self.held.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        opened.await;
    }
}

/// A stand-in Keycloak: one RSA key, served as the JWKS of every realm.
pub struct Issuer {
    pub base: String,
    key: SigningKey<Sha256>,
    pub gate: Arc<Gate>,
}

impl Issuer {
    pub async fn start() -> Issuer {
        let private = tokio::task::spawn_blocking(|| {
            RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap()
        })
        .await
        .unwrap();
        let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
        let jwks = json!({"keys": [{
            "kid": KID, "kty": "RSA", "use": "sig", "alg": "RS256",
            "n": b64(private.n().to_bytes_be()), "e": b64(private.e().to_bytes_be()),
        }]});
        let gate = Arc::new(Gate::default());
        let held = gate.clone();
        let app = Router::new().route(
            "/realms/{realm}/protocol/openid-connect/certs",
            get(move || {
                let jwks = jwks.clone();
                let gate = held.clone();
                async move {
                    gate.pass().await;
                    Json(jwks)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Issuer {
            base,
            key: SigningKey::new(private),
            gate,
        }
    }

    pub fn issuer(&self, realm: &str) -> String {
        format!("{}/realms/{realm}", self.base)
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_kid(claims, KID)
    }

    pub fn sign_with_kid(&self, claims: &Value, kid: &str) -> String {
        let header =
            URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT", "kid": kid}).to_string());
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let signature = self.key.sign(input.as_bytes()).to_bytes();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// An access token of `sub` in `realm`; `admin` adds the realm role.
    pub fn token(&self, realm: &str, sub: &str, admin: bool) -> String {
        let now = events_hub::wall_clock_ms() / 1000;
        let roles = if admin {
            json!(["admin"])
        } else {
            json!(["user"])
        };
        self.sign(&json!({
            "iss": self.issuer(realm), "sub": sub, "typ": "Bearer", "azp": "app",
            "exp": now + 600, "iat": now, "realm_access": {"roles": roles},
        }))
    }
}

pub async fn start_hub(config: HubConfig) -> RunningHub {
    events_hub::server::start("127.0.0.1:0", Arc::new(Hub::standalone(config)))
        .await
        .unwrap()
}

pub fn ws_url(base: &str, path: &str) -> String {
    format!("{}{path}", base.replacen("http://", "ws://", 1))
}

/// Opens `/events` with the token by subprotocol and waits for the welcome.
pub async fn subscribe(base: &str, token: &str) -> Ws {
    let mut ws = open_events(base, token).await.unwrap();
    let welcome = recv(&mut ws).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    ws
}

/// Opens `/events` with the token by subprotocol; `Err` is the refused handshake's status.
pub async fn open_events(base: &str, token: &str) -> Result<Ws, u16> {
    let mut request = ws_url(base, "/events").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&format!("{APP}, bearer.{token}")).unwrap(),
    );
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("handshake in time")
    {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("handshake failed: {other}"),
    }
}

/// Opens `/ingest` with a bearer token.
pub async fn ingest(base: &str, bearer: &str) -> Ws {
    let mut request = ws_url(base, "/ingest").into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {bearer}")).unwrap(),
    );
    let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("handshake in time")
        .unwrap();
    ws
}

/// The next JSON message, server pings skipped.
pub async fn recv(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .expect("the connection is open")
            .unwrap();
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(text.as_str()).unwrap();
                if value["type"] != "ping" {
                    return value;
                }
            }
            Message::Close(frame) => panic!("closed unexpectedly: {frame:?}"),
            _ => {}
        }
    }
}

/// Waits for the server's close; returns its code. Messages before it are skipped.
pub async fn closed(ws: &mut Ws) -> u16 {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a close in time");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
            Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
            Some(Ok(_)) => {}
            Some(Err(err)) => panic!("connection broke instead of closing: {err}"),
        }
    }
}

/// A user event as KETE's JSON serializer writes it.
pub fn kete_event(id: &str, realm: &str, user_id: &str) -> Value {
    json!({
        "id": id, "time": 1704816000000u64, "type": "LOGIN",
        "realmId": "3f1c9b1e", "realmName": realm, "clientId": "app",
        "userId": user_id, "sessionId": "s1", "ipAddress": "10.0.0.7", "error": null,
        "details": {"username": "someone"}
    })
}

pub async fn push(kete: &mut Ws, event: &Value) {
    kete.send(Message::text(event.to_string())).await.unwrap();
}

/// Polls `condition` every 20 ms until it holds; fails with `what` after [`WAIT`].
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
