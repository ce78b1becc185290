//! `/dynamic-search-rules` (experimental feature `dynamicSearchRules`), as in Meilisearch 1.50:
//! `POST /dynamic-search-rules` lists the rules (a body with `offset`, `limit` and `filter`),
//! `DELETE /dynamic-search-rules` deletes them all, and `GET/PATCH/DELETE
//! /dynamic-search-rules/{uid}` read, create-or-update and delete one. Reads answer at once;
//! changes are `dsrUpdate` / `dsrClear` tasks. The rules live in the scheduler (see
//! `quarry_scheduler::dynamic_search_rules`); searches apply them (`search.rs`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use quarry_api_types::decode::{for_each_param, parse_query_string};
use quarry_api_types::dynamic_search_rules::{list_view, not_found, ListRules, RuleUpdate};
use quarry_api_types::index_uid::is_valid_index_uid;
use quarry_scheduler::{Feature, TaskKind};
use serde_json::Value;

use super::enqueue;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, RawQuery};
use crate::AppState;

/// What the `feature_not_enabled` refusal of each route says was attempted.
const LIST_ATTEMPT: &str = "Calling the `POST /dynamic-search-rules` route";
const GET_ATTEMPT: &str = "Calling the `GET /dynamic-search-rules/{:ruleUid}` route";
const CHANGE_ATTEMPT: &str = "Using the `/dynamic-search-rules` routes";

fn check_feature(state: &AppState, attempted: &str) -> ApiResult<()> {
    Ok(state
        .scheduler
        .experimental_features()
        .check(Feature::DynamicSearchRules, attempted)?)
}

/// A rule uid follows the index uid rule. Meilisearch cannot even route a malformed one
/// (`404`); it names no rule here either.
fn rule_uid(uid: &str) -> ApiResult<()> {
    if is_valid_index_uid(uid) {
        Ok(())
    } else {
        Err(ApiError(not_found(uid)))
    }
}

/// The query string of the routes that enqueue a task: `customMetadata` is accepted (Quarry
/// does not show it on tasks), anything else is `bad_request`, as in Meilisearch.
fn task_params(query: &str) -> ApiResult<()> {
    let params = parse_query_string(query);
    Ok(for_each_param(&params, &["customMetadata"], |_, _| Ok(()))?)
}

/// `POST /dynamic-search-rules`: `{results, offset, limit, total}`.
pub async fn list(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let request = ListRules::from_json(&body)?;
    check_feature(&state, LIST_ATTEMPT)?;
    let rules = state.scheduler.dynamic_search_rules();
    let (page, total) = rules.list(&request);
    let results = page.into_iter().map(|rule| rule.to_json()).collect();
    Ok(Json(list_view(
        results,
        request.offset,
        request.limit,
        total,
    )))
}

/// `GET /dynamic-search-rules/{uid}`.
pub async fn get_one(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    rule_uid(&uid)?;
    check_feature(&state, GET_ATTEMPT)?;
    let rules = state.scheduler.dynamic_search_rules();
    match rules.get(&uid) {
        Some(rule) => Ok(Json(rule.to_json())),
        None => Err(ApiError(not_found(&uid))),
    }
}

/// `PATCH /dynamic-search-rules/{uid}`: a `dsrUpdate` task creates the rule or changes the
/// fields the body names.
pub async fn update(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    rule_uid(&uid)?;
    task_params(&query)?;
    let update = RuleUpdate::from_json(&body)?;
    check_feature(&state, CHANGE_ATTEMPT)?;
    let kind = TaskKind::DynamicSearchRuleUpdate {
        uid,
        update: update.to_json(),
    };
    enqueue(&state, kind).await
}

/// `DELETE /dynamic-search-rules/{uid}`: a `dsrUpdate` task that succeeds whether the rule
/// exists or not, as in Meilisearch.
pub async fn delete_one(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<(StatusCode, Json<Value>)> {
    rule_uid(&uid)?;
    task_params(&query)?;
    check_feature(&state, CHANGE_ATTEMPT)?;
    enqueue(&state, TaskKind::DynamicSearchRuleDeletion { uid }).await
}

/// `DELETE /dynamic-search-rules`: a `dsrClear` task.
pub async fn clear(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> ApiResult<(StatusCode, Json<Value>)> {
    task_params(&query)?;
    check_feature(&state, CHANGE_ATTEMPT)?;
    enqueue(&state, TaskKind::DynamicSearchRulesClear).await
}
