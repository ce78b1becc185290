//! `GET/PATCH /network` (experimental feature `network`): this instance's name and the other
//! instances federated searches may send queries to, answered synchronously (no task) as in
//! Meilisearch. The network lives in the scheduler's store (see `quarry_scheduler::network`).

use axum::extract::State;
use axum::Json;
use quarry_scheduler::Feature;
use serde_json::Value;

use super::blocking;
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::AppState;

const ATTEMPT: &str = "Using the /network route";

pub async fn get(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let features = state.scheduler.experimental_features();
    features.check(Feature::Network, ATTEMPT)?;
    Ok(Json(state.scheduler.network().to_json()))
}

pub async fn patch(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let features = state.scheduler.experimental_features();
    features.check(Feature::Network, ATTEMPT)?;
    blocking(move || Ok(Json(state.scheduler.update_network(&body)?.to_json()))).await
}
