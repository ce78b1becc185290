//! `POST /export`: enqueues an `export` task that pushes indexes to another instance (see
//! `quarry_scheduler::export`). The body is decoded and every filter's syntax checked here;
//! filterability is checked against each index when the task runs. As Meilisearch does, the
//! answer is `200 OK` with the task summary (not `202`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use quarry_api_types::export::ExportRequest;
use quarry_api_types::Code;
use quarry_scheduler::export::ExportIndexSettings;
use quarry_scheduler::TaskKind;
use serde_json::Value;

use super::enqueue;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::AppState;

pub async fn export(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request = ExportRequest::from_json(&body)?;
    let mut indexes = std::collections::BTreeMap::new();
    for (pattern, settings) in request.indexes {
        if let Some(filter) = &settings.filter {
            quarry_engine::filter::parse_filter_json(filter).map_err(|e| {
                ApiError::new(
                    Code::InvalidExportIndexFilter,
                    format!(
                        "Invalid value at `.indexes.{pattern}.filter`: {}",
                        e.message
                    ),
                )
            })?;
        }
        indexes.insert(
            pattern,
            ExportIndexSettings {
                filter: settings.filter,
                override_settings: settings.override_settings,
            },
        );
    }
    let kind = TaskKind::Export {
        url: request.url,
        api_key: request.api_key,
        payload_size: request.payload_size,
        indexes,
    };
    let (_, summary) = enqueue(&state, kind).await?;
    Ok((StatusCode::OK, summary))
}
