//! `GET/PATCH /experimental-features`: the runtime flags, answered synchronously (no task), as
//! in Meilisearch. The flags live in the scheduler's store, so they survive restarts and dumps.

use axum::extract::State;
use axum::Json;
use serde_json::Value;

use super::blocking;
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::AppState;

pub async fn get(State(state): State<AppState>) -> Json<Value> {
    Json(state.scheduler.experimental_features().to_json())
}

pub async fn patch(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    blocking(move || {
        let next = state
            .scheduler
            .update_experimental_features(|current| current.patch(&body))?;
        Ok(Json(next.to_json()))
    })
    .await
}
