//! Who may call what. With no master key every route is open (development); with one, every
//! route but `/health` wants `Authorization: Bearer <key>`. API keys with actions and tenant
//! tokens extend this check in the auth crate.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quarry_api_types::Code;

use crate::error::ApiError;
use crate::AppState;

pub async fn require_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(master_key) = state.config.master_key.as_deref() else {
        return next.run(request).await;
    };
    if request.uri().path() == "/health" {
        return next.run(request).await;
    }
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(header) = header else {
        return ApiError::new(
            Code::MissingAuthorizationHeader,
            "The Authorization header is missing. It must use the bearer authorization method.",
        )
        .into_response();
    };
    let token = header.strip_prefix("Bearer ").unwrap_or("").trim();
    if quarry_auth::constant_time_eq(token.as_bytes(), master_key.as_bytes()) {
        next.run(request).await
    } else {
        ApiError::new(Code::InvalidApiKey, "The provided API key is invalid.").into_response()
    }
}
