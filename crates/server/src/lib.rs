//! Quarry's HTTP server: the Meilisearch v1 routes over axum. Handlers are thin: decode with
//! `quarry-api-types`, hand the work to the scheduler or the engine (off the async runtime),
//! and map the result to the wire shape.

mod auth;
mod chat;
mod dump_keys;
pub mod error;
mod extract;
mod limits;
mod logging;
pub mod metrics;
mod preview;
mod routes;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use quarry_auth::PersistentKeyStore;
use quarry_scheduler::Scheduler;

pub use auth::{IndexFrom, RoutePolicy, ROUTE_POLICIES};
pub use dump_keys::DumpKeys;
pub use logging::REQUEST_ID_HEADER;

/// Everything the server needs to know, validated by the binary.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub master_key: Option<String>,
    /// Largest accepted request body, in bytes.
    pub payload_size_limit: usize,
    /// Whether the instance runs with `--env production`.
    pub production: bool,
    /// Whether `/` serves the search preview page (`--no-dashboard` turns it off).
    pub dashboard: bool,
    /// Searches slower than this are logged at `warn` with their parameters.
    pub slow_search_ms: Option<u64>,
    /// Requests handled at the same time; one more is answered `503 too_many_requests`
    /// at once instead of queuing without bound. `/health` is not counted.
    pub max_concurrent_requests: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            master_key: None,
            payload_size_limit: 100_000_000,
            production: false,
            dashboard: true,
            slow_search_ms: None,
            max_concurrent_requests: 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub scheduler: Scheduler,
    pub config: Arc<ServerConfig>,
    /// The API keys, persisted in `<db>/auth.redb`.
    pub keys: Arc<PersistentKeyStore>,
    /// Permits for in-flight requests (see [`ServerConfig::max_concurrent_requests`]).
    pub in_flight: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Builds the state around an opened scheduler: opens (creating on first start) the key
    /// store in the scheduler's data directory, with the default keys when a master key is set.
    pub fn new(scheduler: Scheduler, config: ServerConfig) -> anyhow::Result<AppState> {
        let keys = PersistentKeyStore::open(scheduler.db_path(), config.master_key.clone())?;
        Ok(AppState::with_keys(scheduler, config, Arc::new(keys)))
    }

    /// Builds the state around an opened scheduler and an opened key store (the binary opens
    /// the store first, so that dumps can carry the keys).
    pub fn with_keys(
        scheduler: Scheduler,
        config: ServerConfig,
        keys: Arc<PersistentKeyStore>,
    ) -> AppState {
        let permits = limits::permits(config.max_concurrent_requests);
        AppState {
            scheduler,
            config: Arc::new(config),
            keys,
            in_flight: Arc::new(tokio::sync::Semaphore::new(permits)),
        }
    }
}

/// The whole application, as the binary serves it and as tests drive it.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// `GET /metrics` alone, for `--metrics-addr` (same authorization as the main port).
pub fn metrics_app(state: AppState) -> Router {
    routes::metrics_router(state)
}

/// Serves [`metrics_app`] on its own listener until the process stops.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> std::io::Result<()> {
    axum::serve(listener, metrics_app(state)).await
}

/// Serves `app` on an already bound listener until `shutdown` resolves, then lets the writer
/// finish its batch.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let scheduler = state.scheduler.clone();
    let router = app(state);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    finish(scheduler).await;
    Ok(())
}

/// [`serve`] over HTTPS: `listener` completes TLS handshakes before axum sees a connection.
pub async fn serve_tls(
    listener: tls::TlsListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let scheduler = state.scheduler.clone();
    let router = app(state);
    axum::serve(listener, router.into_make_service())
        .with_graceful_shutdown(shutdown)
        .await?;
    finish(scheduler).await;
    Ok(())
}

async fn finish(scheduler: Scheduler) {
    tokio::task::spawn_blocking(move || scheduler.shutdown())
        .await
        .ok();
}
