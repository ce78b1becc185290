//! Task and batch routes: listing with Meilisearch's filters, one by uid, cancelation and
//! deletion (themselves tasks).

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::Json;
use quarry_api_types::tasks::{missing_filters_error, TaskFilter, TaskQueryMode};
use quarry_api_types::Code;
use quarry_scheduler::view::{batch_view, task_view};
use quarry_scheduler::{Feature, TaskKind};
use serde_json::{json, Value};

use super::enqueue;
use crate::auth::{task_visible, Auth};
use crate::error::{ApiError, ApiResult};
use crate::extract::RawQuery;
use crate::AppState;

fn parse_uid(raw: &str, what: &str, code: Code) -> ApiResult<u32> {
    raw.parse().map_err(|_| {
        ApiError::new(
            code,
            format!("{what} uid `{raw}` is invalid. It should only contain numeric characters."),
        )
    })
}

pub async fn list(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let filter = TaskFilter::from_query_string(&query, TaskQueryMode::List)?;
    let (tasks, total, next) = state
        .scheduler
        .tasks_where(&filter, |t| task_visible(&auth, t));
    let results: Vec<Value> = tasks.iter().map(task_view).collect();
    let from = tasks.first().map(|t| t.uid);
    Ok(Json(
        json!({"results": results, "total": total, "limit": filter.limit, "from": from, "next": next}),
    ))
}

pub async fn get_one(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let uid = parse_uid(&uid, "Task", Code::InvalidTaskUids)?;
    let task = state
        .scheduler
        .task(uid)
        .filter(|t| task_visible(&auth, t))
        .ok_or_else(|| ApiError::new(Code::TaskNotFound, format!("Task `{uid}` not found.")))?;
    Ok(Json(task_view(&task)))
}

/// `GET /tasks/{uid}/documents`: the documents a document task received, as NDJSON, while it
/// waits or runs (its payload is removed once it has finished). Behind the
/// `getTaskDocumentsRoute` experimental feature.
pub async fn documents(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(uid): Path<String>,
) -> ApiResult<impl IntoResponse> {
    state.scheduler.experimental_features().check(
        Feature::GetTaskDocumentsRoute,
        "Getting the documents of an enqueued task",
    )?;
    let uid = parse_uid(&uid, "Task", Code::InvalidTaskUids)?;
    let task = state
        .scheduler
        .task(uid)
        .filter(|t| task_visible(&auth, t))
        .ok_or_else(|| ApiError::new(Code::TaskNotFound, format!("Task `{uid}` not found.")))?;
    let no_documents = || {
        ApiError::new(
            Code::TaskFileNotFound,
            format!("Task `{uid}` does not contain any documents. Only `documentAdditionOrUpdate` tasks with the statuses `enqueued` or `processing` contain documents"),
        )
    };
    let TaskKind::DocumentAdditionOrUpdate { payload, .. } = task.kind else {
        return Err(no_documents());
    };
    if task.status.is_finished() {
        return Err(no_documents());
    }
    let path = state.scheduler.payload_path(payload);
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_documents()),
        Err(e) => return Err(ApiError::new(Code::Internal, e.to_string())),
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        bytes,
    ))
}

/// `POST /tasks/compact`: a `taskCompaction` task rewrites the task store without its free
/// pages. Behind the `taskQueueCompactionRoute` experimental feature.
pub async fn compact(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    state.scheduler.experimental_features().check(
        Feature::TaskQueueCompactionRoute,
        "Using the /tasks/compact route",
    )?;
    enqueue(&state, TaskKind::TaskCompaction).await
}

pub async fn cancel(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RawQuery(query): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let filter = TaskFilter::from_query_string(&query, TaskQueryMode::Cancel)?;
    if filter.is_empty() {
        return Err(missing_filters_error("cancel").into());
    }
    let tasks = state
        .scheduler
        .matching_task_uids_where(&filter, |t| task_visible(&auth, t));
    enqueue_ok(
        &state,
        TaskKind::TaskCancelation {
            query: format!("?{query}"),
            tasks,
        },
    )
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RawQuery(query): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let filter = TaskFilter::from_query_string(&query, TaskQueryMode::Delete)?;
    if filter.is_empty() {
        return Err(missing_filters_error("delete").into());
    }
    let tasks = state
        .scheduler
        .matching_task_uids_where(&filter, |t| task_visible(&auth, t));
    enqueue_ok(
        &state,
        TaskKind::TaskDeletion {
            query: format!("?{query}"),
            tasks,
        },
    )
    .await
}

/// Cancelation and deletion are tasks too, but Meilisearch answers them with `200 OK` (the
/// official SDKs expect it).
async fn enqueue_ok(state: &AppState, kind: TaskKind) -> ApiResult<impl IntoResponse> {
    let (_, body) = enqueue(state, kind).await?;
    Ok((axum::http::StatusCode::OK, body))
}

pub async fn list_batches(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let filter = TaskFilter::from_query_string(&query, TaskQueryMode::List)?;
    let (batches, total, next) = state
        .scheduler
        .batches_where(&filter, |t| task_visible(&auth, t));
    let results: Vec<Value> = batches.iter().map(batch_view).collect();
    let from = batches.first().map(|b| b.uid);
    Ok(Json(
        json!({"results": results, "total": total, "limit": filter.limit, "from": from, "next": next}),
    ))
}

pub async fn get_batch(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let uid = parse_uid(&uid, "Batch", Code::InvalidBatchUids)?;
    let batch = state
        .scheduler
        .batch(uid)
        .filter(|b| {
            b.task_uids.iter().any(|t| {
                state
                    .scheduler
                    .task(*t)
                    .is_some_and(|t| task_visible(&auth, &t))
            })
        })
        .ok_or_else(|| ApiError::new(Code::BatchNotFound, format!("Batch `{uid}` not found.")))?;
    Ok(Json(batch_view(&batch)))
}
