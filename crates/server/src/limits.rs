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
