//! Turning every failure into Meilisearch's error body with the right HTTP status. A 4xx is the
//! caller's mistake and is answered precisely; a 5xx is logged with everything we know.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use quarry_api_types::{Code, ResponseError};

/// The error type of every handler.
#[derive(Debug)]
pub struct ApiError(pub ResponseError);

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError(ResponseError::new(code, message))
    }
}

impl From<ResponseError> for ApiError {
    fn from(e: ResponseError) -> Self {
        ApiError(e)
    }
}

impl From<quarry_engine::EngineError> for ApiError {
    fn from(e: quarry_engine::EngineError) -> Self {
        ApiError(quarry_scheduler::engine_error(e))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        tracing::error!(error = %e, "a blocking task panicked");
        ApiError::new(Code::Internal, "An internal error occurred.")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A route that does not exist (an unknown settings route too) answers as Meilisearch's
        // actix-web default service does: 404 with an empty body.
        if self.0.code == Code::NotFound {
            return StatusCode::NOT_FOUND.into_response();
        }
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = self.0.code.name(), message = %self.0.message, "request failed");
        }
        (status, Json(self.0)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
