//! Index routes: list, create, show, update (primary key, rename), delete, and stats.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::Json;
use quarry_api_types::indexes::{CreateIndexRequest, ListIndexesQuery, UpdateIndexRequest};
use quarry_engine::Index;
use quarry_scheduler::view::format_date;
use quarry_scheduler::{IndexInfo, Scheduler, TaskKind};
use serde_json::{json, Value};

use super::{blocking, enqueue, index_uid};
use crate::auth::{invalid_api_key, Auth};
use crate::error::ApiResult;
use crate::extract::{JsonBody, RawQuery};
use crate::AppState;

fn info_view(info: &IndexInfo) -> Value {
    json!({
        "uid": info.uid,
        "createdAt": format_date(info.created_at),
        "updatedAt": format_date(info.updated_at),
        "primaryKey": info.primary_key,
    })
}

pub async fn list(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let query = ListIndexesQuery::from_query_string(&query)?;
    let mut infos = state.scheduler.index_infos();
    infos.retain(|info| auth.is_index_authorized(&info.uid));
    let results: Vec<Value> = infos
        .iter()
        .skip(query.offset)
        .take(query.limit)
        .map(info_view)
        .collect();
    Ok(Json(
        json!({"results": results, "offset": query.offset, "limit": query.limit, "total": infos.len()}),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let request = CreateIndexRequest::from_json(&body)?;
    if !auth.is_index_authorized(&request.uid) {
        return Err(invalid_api_key());
    }
    enqueue(
        &state,
        TaskKind::IndexCreation {
            index_uid: request.uid,
            primary_key: request.primary_key,
        },
    )
    .await
}

pub async fn get_one(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    index_uid(&uid)?;
    Ok(Json(info_view(&state.scheduler.index_info(&uid)?)))
}

pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    let request = UpdateIndexRequest::from_json(&body)?;
    // Renaming needs the right on the new name too.
    if request
        .uid
        .as_deref()
        .is_some_and(|new| !auth.is_index_authorized(new))
    {
        return Err(invalid_api_key());
    }
    enqueue(
        &state,
        TaskKind::IndexUpdate {
            index_uid: uid,
            primary_key: request.primary_key.flatten(),
            new_index_uid: request.uid,
        },
    )
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    enqueue(&state, TaskKind::IndexDeletion { index_uid: uid }).await
}

/// `POST /indexes/{uid}/compact`: an `indexCompaction` task.
pub async fn compact(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<impl IntoResponse> {
    index_uid(&uid)?;
    enqueue(&state, TaskKind::IndexCompaction { index_uid: uid }).await
}

pub async fn stats(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    index_uid(&uid)?;
    blocking(move || {
        let index = state.scheduler.index(&uid)?;
        Ok(Json(index_stats(&state.scheduler, &uid, &index)?))
    })
    .await
}

/// The stats object of one index, shared by `/indexes/{uid}/stats` and `/stats`.
pub fn index_stats(scheduler: &Scheduler, uid: &str, index: &Index) -> ApiResult<Value> {
    let documents = index.number_of_documents();
    let size = index.document_store_size();
    Ok(json!({
        "numberOfDocuments": documents,
        "rawDocumentDbSize": size,
        "avgDocumentSize": size.checked_div(documents).unwrap_or(0),
        "isIndexing": scheduler.is_indexing(uid),
        "numberOfEmbeddings": 0,
        "numberOfEmbeddedDocuments": 0,
        "fieldDistribution": index.field_distribution()?,
    }))
}
