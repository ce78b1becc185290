//! The route table: every Meilisearch v1 route Quarry serves, with the layers every request
//! goes through (authorization, request logging, gzip bodies, panics caught as 500s).

pub(crate) mod chats;
mod documents;
mod dynamic_search_rules;
mod export;
mod features;
mod fields;
mod foreign_keys;
mod indexes;
mod keys;
mod multi_search;
mod network;
mod remote_search;
mod render;
pub(crate) mod search;
pub(crate) mod search_body;
mod settings;
mod system;
mod tasks;
mod webhooks;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use quarry_api_types::index_uid::validate_index_uid;
use quarry_api_types::Code;
use quarry_scheduler::{Task, TaskKind};

use crate::error::{ApiError, ApiResult};
use crate::{auth, limits, logging, AppState};

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(system::health))
        .route("/version", get(system::version))
        .route("/stats", get(system::stats))
        .route("/swap-indexes", post(system::swap_indexes))
        .route(
            "/experimental-features",
            get(features::get).patch(features::patch),
        )
        .route("/multi-search", post(multi_search::multi_search))
        .route("/export", post(export::export))
        .route("/network", get(network::get).patch(network::patch))
        .route("/indexes", get(indexes::list).post(indexes::create))
        .route(
            "/indexes/{uid}",
            get(indexes::get_one)
                .patch(indexes::update)
                .delete(indexes::delete),
        )
        .route("/indexes/{uid}/stats", get(indexes::stats))
        .route("/indexes/{uid}/compact", post(indexes::compact))
        .route("/indexes/{uid}/fields", post(fields::list))
        .route(
            "/indexes/{uid}/documents",
            get(documents::browse)
                .post(documents::add_or_replace)
                .put(documents::add_or_update)
                .delete(documents::clear),
        )
        .route("/indexes/{uid}/documents/fetch", post(documents::fetch))
        .route("/indexes/{uid}/documents/edit", post(documents::edit))
        .route(
            "/indexes/{uid}/documents/delete-batch",
            post(documents::delete_batch),
        )
        .route(
            "/indexes/{uid}/documents/delete",
            post(documents::delete_by_filter),
        )
        .route(
            "/indexes/{uid}/documents/{id}",
            get(documents::get_one).delete(documents::delete_one),
        )
        .route(
            "/indexes/{uid}/search",
            get(search::search_get).post(search::search_post),
        )
        .route("/indexes/{uid}/facet-search", post(search::facet_search))
        .route(
            "/indexes/{uid}/settings",
            get(settings::get_all)
                .patch(settings::update_all)
                .delete(settings::reset_all),
        )
        .route(
            "/indexes/{uid}/settings/{setting}",
            get(settings::get_one)
                .put(settings::update_one)
                .patch(settings::update_one)
                .delete(settings::reset_one),
        )
        .route("/tasks", get(tasks::list).delete(tasks::delete))
        .route("/tasks/cancel", post(tasks::cancel))
        .route("/tasks/compact", post(tasks::compact))
        .route("/tasks/{uid}", get(tasks::get_one))
        .route("/tasks/{uid}/documents", get(tasks::documents))
        .route("/batches", get(tasks::list_batches))
        .route("/batches/{uid}", get(tasks::get_batch))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/dumps", post(system::create_dump))
        .route("/snapshots", post(system::create_snapshot))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{uuid}",
            get(webhooks::get_one)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/dynamic-search-rules",
            post(dynamic_search_rules::list).delete(dynamic_search_rules::clear),
        )
        .route(
            "/dynamic-search-rules/{uid}",
            get(dynamic_search_rules::get_one)
                .patch(dynamic_search_rules::update)
                .delete(dynamic_search_rules::delete_one),
        )
        .route("/chats", get(chats::list))
        .route(
            "/chats/{workspace}",
            get(chats::get_one).delete(chats::delete),
        )
        .route(
            "/chats/{workspace}/settings",
            get(chats::get_settings)
                .patch(chats::patch_settings)
                .delete(chats::reset_settings),
        )
        .route(
            "/chats/{workspace}/chat/completions",
            post(chats::completions),
        )
        .route("/render-template", post(render::render))
        .route("/keys", get(keys::list).post(keys::create))
        .route(
            "/keys/{key}",
            get(keys::get_one).patch(keys::update).delete(keys::delete),
        )
        // Route layers run inside routing, where the route pattern is known; the last one
        // added runs first, so even refused requests are logged with their request id.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            limits::limit_in_flight,
        ))
        .route_layer(middleware::from_fn(logging::log_requests));
    // The preview page is open to everyone (it asks for a key itself); it is still logged.
    let api = if state.config.dashboard {
        api.merge(
            Router::new()
                .route("/", get(crate::preview::page))
                .route_layer(middleware::from_fn(logging::log_requests)),
        )
    } else {
        api
    };
    api.fallback(not_found)
        .layer(middleware::map_response(json_rejections))
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::new(Code::Internal, "An internal error occurred.").into_response()
        }))
        .with_state(state)
}

/// The metrics route with the same authorization and logging as on the main port.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(crate::metrics::metrics))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ))
        .route_layer(middleware::from_fn(logging::log_requests))
        .fallback(not_found)
        .with_state(state)
}

/// axum's own extractor rejections (an undecodable path parameter, for instance) are plain
/// text; every client error must carry Meilisearch's JSON error body instead.
async fn json_rejections(response: Response) -> Response {
    let status = response.status();
    let is_text = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !is_text {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let message = String::from_utf8_lossy(&body).trim().to_string();
    let mut out = ApiError::new(Code::BadRequest, message).into_response();
    *out.status_mut() = status;
    out
}

/// An unknown route: `404` with an empty body, exactly what Meilisearch (actix-web's default
/// service) answers.
async fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// Checks an index uid taken from a path.
fn index_uid(uid: &str) -> ApiResult<()> {
    validate_index_uid(uid).map_err(ApiError)
}

/// Registers a task and answers `202 Accepted` with its summary.
async fn enqueue(
    state: &AppState,
    kind: TaskKind,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    enqueue_with_metadata(state, kind, None).await
}

/// [`enqueue`] with the client's `customMetadata` kept on the task.
async fn enqueue_with_metadata(
    state: &AppState,
    kind: TaskKind,
    custom_metadata: Option<String>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let scheduler = state.scheduler.clone();
    let task: Task = tokio::task::spawn_blocking(move || {
        scheduler.register_with_metadata(kind, custom_metadata)
    })
    .await??;
    Ok(accepted(&task))
}

fn accepted(task: &Task) -> (StatusCode, Json<serde_json::Value>) {
    (
        StatusCode::ACCEPTED,
        Json(quarry_scheduler::view::summary_view(task)),
    )
}

/// Runs blocking engine work off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await?
}

/// Runs local search work (a search, a facet search, a multi-search without federation): on
/// the request's own worker thread when a search slot is free, else on the blocking pool.
/// Handing work to the pool and back costs two thread wake-ups, a fifth of a keystroke's
/// latency (PyPI `numpy`: p50 0.32 → 0.26 ms); the slots (half the workers, at least one, and
/// only on the multi-threaded runtime) keep other workers free for every other request while
/// searches run, however long they take.
pub(crate) async fn search_work<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    match InlineSearch::claim() {
        Some(_slot) => f(),
        None => blocking(f).await,
    }
}

/// One search running on a worker thread; the slot is given back when dropped (panics too).
struct InlineSearch;

static INLINE_SEARCHES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl InlineSearch {
    fn claim() -> Option<InlineSearch> {
        use std::sync::atomic::Ordering;
        let handle = tokio::runtime::Handle::try_current().ok()?;
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return None;
        }
        let slots = (handle.metrics().num_workers() / 2).max(1);
        INLINE_SEARCHES
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |running| {
                (running < slots).then_some(running + 1)
            })
            .ok()
            .map(|_| InlineSearch)
    }
}

impl Drop for InlineSearch {
    fn drop(&mut self) {
        INLINE_SEARCHES.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

#[cfg(test)]
mod inline_search_tests {
    use super::InlineSearch;

    /// Half the workers may run a search on their own thread at once; a slot comes back when
    /// its search ends; a single-threaded runtime never runs one on its only thread.
    #[test]
    fn searches_claim_at_most_half_the_workers() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        runtime.block_on(async {
            let first = InlineSearch::claim().expect("a free slot");
            let second = InlineSearch::claim().expect("a second slot of four workers");
            assert!(
                InlineSearch::claim().is_none(),
                "two of four workers at most"
            );
            drop(first);
            let third = InlineSearch::claim().expect("the slot given back");
            assert!(InlineSearch::claim().is_none());
            drop((second, third));
        });
        let single = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        single.block_on(async {
            assert!(InlineSearch::claim().is_none());
        });
        // Outside a runtime there is no worker to run on.
        assert!(InlineSearch::claim().is_none());
    }
}
