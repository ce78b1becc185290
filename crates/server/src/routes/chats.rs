//! The `/chats` routes (experimental flag `chatCompletions`): list workspaces, show or delete
//! one, read, change or reset its settings, and `POST /chats/{workspace}/chat/completions`
//! (the conversation itself lives in `crate::chat`). Workspaces are one instance record in the
//! task store (`chat-workspaces`), so they are fsync'd before the answer, survive restarts and
//! travel in dumps like the other instance records. A provider API key is never answered in
//! full.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use quarry_api_types::chat::{ChatIndexSettings, ChatWorkspaceSettings};
use quarry_api_types::indexes::ListIndexesQuery;
use quarry_api_types::settings::Setting;
use quarry_api_types::{Code, ResponseError};
use quarry_engine::template::DocumentTemplate;
use quarry_scheduler::Feature;
use serde_json::{json, Value};

use super::{blocking, index_uid};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, RawQuery};
use crate::AppState;

/// The name of the workspaces' record in the instance table (and `instance/<name>.json` in
/// dumps).
pub const CHATS_KEY: &str = "chat-workspaces";

/// Workspaces by uid, as stored.
pub type Workspaces = BTreeMap<String, ChatWorkspaceSettings>;

/// Serializes read-modify-write cycles of the workspaces record.
static WRITE_LOCK: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

/// The stored workspaces (none when the record was never written).
pub fn workspaces(state: &AppState) -> Workspaces {
    state
        .scheduler
        .instance_record(CHATS_KEY)
        .and_then(|value| serde_json::from_value(value).ok())
        .unwrap_or_default()
}

/// Changes the workspaces with `edit` and stores them before returning.
fn update_workspaces<R>(
    state: &AppState,
    edit: impl FnOnce(&mut Workspaces) -> Result<R, ResponseError>,
) -> Result<R, ResponseError> {
    let _guard = WRITE_LOCK.lock();
    let mut all = workspaces(state);
    let result = edit(&mut all)?;
    let value = serde_json::to_value(&all)
        .map_err(|e| ResponseError::new(Code::Internal, e.to_string()))?;
    state.scheduler.put_instance_record(CHATS_KEY, value)?;
    Ok(result)
}

/// `feature_not_enabled` unless chat completions are on.
pub fn check_feature(state: &AppState, attempted: &str) -> ApiResult<()> {
    Ok(state
        .scheduler
        .experimental_features()
        .check(Feature::ChatCompletions, attempted)?)
}

fn not_found(workspace: &str) -> ApiError {
    ApiError::new(Code::ChatNotFound, format!("Chat `{workspace}` not found"))
}

/// One workspace's settings, or `chat_not_found`.
pub fn workspace(state: &AppState, uid: &str) -> ApiResult<ChatWorkspaceSettings> {
    workspaces(state).remove(uid).ok_or_else(|| not_found(uid))
}

pub async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    check_feature(&state, "listing the chats")?;
    let query = ListIndexesQuery::from_query_string(&query)?;
    let all = workspaces(&state);
    let results: Vec<Value> = all
        .keys()
        .skip(query.offset)
        .take(query.limit)
        .map(|uid| json!({ "uid": uid }))
        .collect();
    Ok(Json(json!({
        "results": results,
        "offset": query.offset,
        "limit": query.limit,
        "total": all.len(),
    })))
}

pub async fn get_one(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    check_feature(&state, "displaying a chat")?;
    index_uid(&uid)?;
    workspace(&state, &uid)?;
    Ok(Json(json!({ "uid": uid })))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<StatusCode> {
    check_feature(&state, "deleting a chat")?;
    index_uid(&uid)?;
    blocking(move || {
        update_workspaces(&state, |all| {
            all.remove(&uid).map(drop).ok_or_else(|| not_found(&uid).0)
        })?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

const SETTINGS_ROUTE: &str = "using the /chats/settings route";

pub async fn get_settings(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    check_feature(&state, SETTINGS_ROUTE)?;
    index_uid(&uid)?;
    Ok(Json(workspace(&state, &uid)?.view()))
}

/// Creates the workspace when it does not exist, as Meilisearch does.
pub async fn patch_settings(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    store_settings(state, uid, move |all, uid| {
        let next = all.get(uid).cloned().unwrap_or_default().patch(&body)?;
        all.insert(uid.to_string(), next.clone());
        Ok(next)
    })
    .await
}

/// Puts the workspace's settings back to their defaults (the workspace stays).
pub async fn reset_settings(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    store_settings(state, uid, |all, uid| {
        let slot = all.get_mut(uid).ok_or_else(|| not_found(uid).0)?;
        *slot = ChatWorkspaceSettings::default();
        Ok(slot.clone())
    })
    .await
}

/// The common part of the settings writes: checks, then `edit` applied and stored off the
/// async runtime; answers the settings `edit` returns, key hidden.
async fn store_settings(
    state: AppState,
    uid: String,
    edit: impl FnOnce(&mut Workspaces, &str) -> Result<ChatWorkspaceSettings, ResponseError>
        + Send
        + 'static,
) -> ApiResult<Json<Value>> {
    check_feature(&state, SETTINGS_ROUTE)?;
    index_uid(&uid)?;
    blocking(move || {
        let next = update_workspaces(&state, |all| edit(all, &uid))?;
        Ok(Json(next.view()))
    })
    .await
}

pub async fn completions(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    check_feature(&state, "using the /chats chat completions route")?;
    index_uid(&uid)?;
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    crate::chat::stream_completion(state, header, uid, body).await
}

/// The checks of an index's `chat` settings made when they are sent: the feature must be on
/// and a new document template must parse.
pub fn check_index_chat_settings(state: &AppState, chat: &ChatIndexSettings) -> ApiResult<()> {
    check_feature(state, "setting `chat` in the index settings")?;
    if let Setting::Set(text) = &chat.document_template {
        DocumentTemplate::parse(text)
            .map_err(|e| ApiError::new(Code::InvalidChatSettingDocumentTemplate, e.to_string()))?;
    }
    Ok(())
}
