//! Building and running the server: realms, keys, routes, the listener.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use axum::ServiceExt;
use rsa::RsaPrivateKey;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::services::ServeDir;

use crate::hub::{protocol::close, DevHub, HubConfig};
use crate::import::load_realm_file;
use crate::keys::{generate_rsa_key, KeySet};
use crate::log::{self, Level};
use crate::model::{Password, Realm};
use crate::state::{AppState, Shared};

/// Everything the server needs to start.
#[derive(Clone)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// Served at `/` (the demo app); `None` serves nothing there.
    pub www: Option<PathBuf>,
    /// Served at `/pkg` (the built npm package).
    pub pkg: Option<PathBuf>,
    /// Keycloak realm-export files to import.
    pub realm_files: Vec<PathBuf>,
    pub admin_user: String,
    pub admin_password: String,
    /// Use this signing key instead of generating one (tests share one key).
    pub signing_key: Option<RsaPrivateKey>,
    /// The live-event hub (`/events`, `/ingest`).
    pub hub: HubConfig,
    /// Serve only the hub, in front of another Keycloak: no realms of devserver's own.
    pub hub_only: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 8080,
            www: None,
            pkg: None,
            realm_files: Vec::new(),
            admin_user: "admin".into(),
            admin_password: "admin".into(),
            signing_key: None,
            hub: HubConfig::default(),
            hub_only: false,
        }
    }
}

/// A started server. Dropping it does not stop it; call `shutdown`.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), std::io::Error>>,
}

impl RunningServer {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn shutdown(mut self) {
        // Upgraded WebSocket connections outlive axum's graceful shutdown: close them.
        self.state.hub.shutdown(close::GOING_AWAY);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }

    /// Runs until the server stops by itself (an I/O error).
    pub async fn wait(self) -> Result<(), String> {
        match self.task.await {
            Ok(result) => result.map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        }
    }
}

/// The master realm (Keycloak's built-ins, `admin-cli` among them) with the admin user, unless a
/// realm file provided one.
fn master_realm(config: &ServerConfig, now_ms: u64) -> Realm {
    let mut master = Realm::new(crate::admin::MASTER);
    master.settings.access_token_lifespan = 60;
    master.settings.display_name = Some("Keycloak".into());
    let mut admin = master.new_user(&config.admin_user, now_ms);
    admin.password = Some(Password::new(&config.admin_password));
    admin.realm_roles.insert("admin".into());
    admin.realm_roles.insert("create-realm".into());
    master.users.push(admin);
    master
}

pub fn load_realms(config: &ServerConfig, now_ms: u64) -> Result<Vec<Realm>, String> {
    if config.hub_only {
        return Ok(Vec::new());
    }
    let mut realms: Vec<Realm> = Vec::new();
    for path in &config.realm_files {
        let realm = load_realm_file(path, now_ms)?;
        if realms.iter().any(|r| r.name == realm.name) {
            return Err(format!(
                "{}: realm '{}' is already imported from another file",
                path.display(),
                realm.name
            ));
        }
        realms.push(realm);
    }
    if !realms.iter().any(|r| r.name == crate::admin::MASTER) {
        realms.push(master_realm(config, now_ms));
    }
    Ok(realms)
}

async fn log_requests(request: Request, next: Next) -> Response {
    if !log::enabled(Level::Debug) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().clone();
    // The path only: a query may hold a token (the hub's query strategy, `access_token=`).
    let uri = request.uri().path().to_string();
    let response = next.run(request).await;
    log::log(
        Level::Debug,
        &format!(
            "{method} {uri} -> {} ({:.1} ms)",
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        ),
    );
    response
}

pub fn router(state: Shared, hub_only: bool) -> Router {
    if hub_only {
        return state
            .hub
            .routes()
            .layer(middleware::from_fn(log_requests))
            .with_state(state);
    }
    let mut app = crate::oidc::routes()
        .merge(crate::admin::routes())
        .merge(state.hub.routes());
    if let Some(pkg) = &state.pkg {
        app = app.nest_service("/pkg", ServeDir::new(pkg));
    }
    if let Some(www) = &state.www {
        app = app.fallback_service(ServeDir::new(www));
    }
    app.layer(middleware::from_fn(log_requests))
        .with_state(state)
}

/// Loads the realms, makes the keys, binds and starts serving in the background.
pub async fn start(config: ServerConfig) -> Result<RunningServer, String> {
    let now_ms = crate::state::wall_clock_ms();
    let realms = load_realms(&config, now_ms)?;
    let key = match config.signing_key.clone() {
        Some(key) => key,
        None => tokio::task::spawn_blocking(generate_rsa_key)
            .await
            .map_err(|err| err.to_string())??,
    };
    let state: Shared = Arc::new(AppState::new(
        realms,
        KeySet::new(key),
        DevHub::new(config.hub.clone(), &config.host),
        config.www.clone(),
        config.pkg.clone(),
    ));
    state.hub.attach(&state);
    let addr = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|err| {
        if err.kind() == std::io::ErrorKind::AddrInUse {
            format!("cannot listen on {addr}: the port is already in use (choose another with --port, or 0 for any free port)")
        } else {
            format!("cannot listen on {addr}: {err}")
        }
    })?;
    let local = listener.local_addr().map_err(|err| err.to_string())?;
    state.hub.set_local_addr(local);
    let (tx, rx) = oneshot::channel::<()>();
    // Keycloak (JAX-RS) ignores a trailing slash and clients rely on it
    // (`@keycloak/keycloak-admin-client` posts to `/admin/realms/`): trim it before routing.
    let app =
        NormalizePathLayer::trim_trailing_slash().layer(router(state.clone(), config.hub_only));
    let app = ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningServer {
        addr: local,
        state,
        shutdown: Some(tx),
        task,
    })
}
