//! The standalone hub's HTTP server: `/events`, `/ingest` and `/health` on one listener, and a
//! graceful shutdown that closes every socket with 1012 before the listener stops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::broker::BrokerState;
use crate::log::Level;
use crate::protocol::close;
use crate::Hub;

/// How long a shutdown waits for connections to finish their close handshake.
const DRAIN: Duration = Duration::from_secs(5);

/// `GET /health`: 200 while the hub serves; 503 once it is shutting down, or while the
/// configured Redis is unreachable (the hub then serves its own events only).
async fn health(State(hub): State<Arc<Hub>>) -> Response {
    let redis = hub.broker_state();
    let (status, word) = if hub.down_for().is_some() {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    } else if redis == BrokerState::Down {
        (StatusCode::SERVICE_UNAVAILABLE, "degraded")
    } else {
        (StatusCode::OK, "ok")
    };
    let body = json!({
        "status": word,
        "redis": redis,
        "connections": hub.connections().len(),
        "stats": hub.stats(),
    });
    (status, Json(body)).into_response()
}

pub fn router(hub: Arc<Hub>) -> Router {
    crate::routes(hub.clone()).merge(Router::new().route("/health", get(health)).with_state(hub))
}

/// A started hub. Dropping it does not stop it; call `shutdown`.
pub struct RunningHub {
    pub addr: SocketAddr,
    pub hub: Arc<Hub>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), std::io::Error>>,
}

impl RunningHub {
    /// `http://ADDR`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Closes every connection with 1012 (browsers reconnect at once, to another hub behind
    /// the balancer), waits a little for them to go, and stops listening.
    pub async fn shutdown(mut self) {
        self.hub.shutdown(close::SERVICE_RESTART);
        let drained = tokio::time::timeout(DRAIN, async {
            while !self.hub.connections().is_empty() || self.hub.ingest_connections() > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        if drained.is_err() {
            self.hub.log(
                Level::Warn,
                "shutdown: connections still open after the drain time",
                &[("connections", &self.hub.connections().len())],
            );
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }

    /// Waits until the server stops by itself (an I/O error).
    pub async fn stopped(&mut self) -> Result<(), String> {
        match (&mut self.task).await {
            Ok(result) => result.map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        }
    }
}

/// Binds `listen` and serves the hub in the background.
pub async fn start(listen: &str, hub: Arc<Hub>) -> Result<RunningHub, String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|err| format!("cannot listen on {listen}: {err}"))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    if let Some(url) = &hub.config.redis_url {
        hub.scale_out(url, &hub.config.redis_channel)?;
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(hub.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningHub {
        addr,
        hub,
        stop: Some(stop),
        task,
    })
}
