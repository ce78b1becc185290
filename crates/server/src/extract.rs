//! Reading request bodies and query strings the way Meilisearch does: JSON with precise
//! `missing_payload` / `malformed_payload` / `invalid_content_type` errors, and the raw query
//! string handed to the decoders of `quarry-api-types`.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use quarry_api_types::Code;
use serde_json::Value;

use crate::error::ApiError;
use crate::AppState;

/// The raw query string (empty when absent).
pub struct RawQuery(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RawQuery {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(RawQuery(parts.uri.query().unwrap_or("").to_string()))
    }
}

/// A JSON body, decoded to a `serde_json::Value` for the typed decoders.
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        check_json_content_type(req.headers())?;
        let limit = state.config.payload_size_limit;
        let bytes = read_body(req.into_body(), limit).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            Code::MissingPayload,
            "A json payload is missing.",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            Code::MalformedPayload,
            format!("The json payload provided is malformed. `{e}`."),
        )
    })
}

fn check_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let value = value.to_str().unwrap_or("");
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || mime.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::InvalidContentType,
            format!("The Content-Type `{value}` is invalid. Accepted values for the Content-Type header are: `application/json`"),
        ))
    }
}

/// Reads a whole body, refusing more than `limit` bytes with `payload_too_large`.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if too_large {
            payload_too_large(limit)
        } else {
            ApiError::new(
                Code::BadRequest,
                format!("The request body could not be read: {e}"),
            )
        }
    })
}

pub fn payload_too_large(limit: usize) -> ApiError {
    ApiError::new(
        Code::PayloadTooLarge,
        format!(
            "The provided payload reached the size limit. The maximum accepted payload size is {}.",
            human_size(limit)
        ),
    )
}

/// Sizes as Meilisearch prints them in errors ("100 MB").
pub fn human_size(bytes: usize) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}
