//! The in-flight request limit: a server that accepts every request at once under a flood
//! runs out of memory or threads and stops answering everyone. Past the limit a request is
//! refused at once with `503 too_many_requests` (and `Retry-After`), so clients back off and
//! the requests already admitted finish normally. `/health` is never refused.

use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quarry_api_types::Code;

use crate::error::ApiError;
use crate::AppState;

/// How many permits admitted requests hold right now (the `quarry_http_requests_in_flight`
/// gauge; tests read it to know that requests they left open are really counted).
pub fn requests_in_flight(state: &AppState) -> usize {
    permits(state.config.max_concurrent_requests) - state.in_flight.available_permits()
}

/// The number of permits a `--max-concurrent-requests` value gives (at least one).
pub fn permits(max_concurrent_requests: usize) -> usize {
    max_concurrent_requests.clamp(1, tokio::sync::Semaphore::MAX_PERMITS)
}

pub async fn limit_in_flight(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == "/health" {
        return next.run(request).await;
    }
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        let mut response = ApiError::new(
            Code::TooManyRequests,
            format!(
                "Too many requests are being processed at the same time (limit: {}). Retry later.",
                state.config.max_concurrent_requests
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    next.run(request).await
}
