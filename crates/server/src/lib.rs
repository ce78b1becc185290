//! Quarry's HTTP server: the Meilisearch v1 routes over axum. Handlers are thin: decode with
//! `quarry-api-types`, hand the work to the scheduler or the engine (off the async runtime),
//! and map the result to the wire shape.

mod auth;
pub mod error;
mod extract;
mod logging;
pub mod metrics;
mod preview;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use quarry_scheduler::Scheduler;

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            master_key: None,
            payload_size_limit: 100_000_000,
            production: false,
            dashboard: true,
            slow_search_ms: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub scheduler: Scheduler,
    pub config: Arc<ServerConfig>,
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
    tokio::task::spawn_blocking(move || scheduler.shutdown())
        .await
        .ok();
    Ok(())
}
