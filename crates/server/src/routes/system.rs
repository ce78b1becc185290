//! Instance-wide routes: health, version, global stats, and index swaps.

use axum::extract::State;
use axum::Json;
use quarry_api_types::indexes::SwapIndexesRequest;
use quarry_scheduler::view::format_date;
use quarry_scheduler::{Swap, TaskKind};
use serde_json::{json, Map, Value};

use super::{blocking, enqueue, indexes::index_stats};
use crate::auth::{invalid_api_key, Auth};
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::AppState;

pub async fn health() -> Json<Value> {
    Json(json!({"status": "available"}))
}

pub async fn version() -> Json<Value> {
    Json(json!({
        "commitSha": option_env!("QUARRY_COMMIT_SHA").unwrap_or("unknown"),
        "commitDate": option_env!("QUARRY_COMMIT_DATE").unwrap_or("unknown"),
        "pkgVersion": env!("CARGO_PKG_VERSION"),
    }))
}

pub async fn stats(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Value>> {
    blocking(move || {
        let scheduler = &state.scheduler;
        let mut indexes = Map::new();
        for (info, index) in scheduler.indexes() {
            if !auth.is_index_authorized(&info.uid) {
                continue;
            }
            indexes.insert(info.uid.clone(), index_stats(scheduler, &info.uid, &index)?);
        }
        let size = quarry_engine::index::dir_size(scheduler.db_path());
        Ok(Json(json!({
            "databaseSize": size,
            "usedDatabaseSize": size,
            "lastUpdate": scheduler.last_update().map(format_date),
            "indexes": indexes,
        })))
    })
    .await
}

/// `POST /dumps`: a `dumpCreation` task writes `<dump-dir>/<dumpUid>.dump`.
pub async fn create_dump(
    State(state): State<AppState>,
) -> ApiResult<impl axum::response::IntoResponse> {
    enqueue(&state, TaskKind::DumpCreation).await
}

/// `POST /snapshots`: a `snapshotCreation` task writes `<snapshot-dir>/<name>.snapshot`.
pub async fn create_snapshot(
    State(state): State<AppState>,
) -> ApiResult<impl axum::response::IntoResponse> {
    enqueue(&state, TaskKind::SnapshotCreation).await
}

pub async fn swap_indexes(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<impl axum::response::IntoResponse> {
    let request = SwapIndexesRequest::from_json(&body)?;
    let all_covered = request
        .0
        .iter()
        .flat_map(|pair| pair.indexes.iter())
        .all(|uid| auth.is_index_authorized(uid));
    if !all_covered {
        return Err(invalid_api_key());
    }
    let swaps = request
        .0
        .into_iter()
        .map(|p| Swap {
            indexes: p.indexes,
            rename: p.rename,
        })
        .collect();
    enqueue(&state, TaskKind::IndexSwap { swaps }).await
}
