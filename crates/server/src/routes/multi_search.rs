//! `POST /multi-search`: runs each query with the single-index search, then answers one result
//! per query, or (with `federation`) one list merged by weighted ranking score.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::State;
use axum::Json;
use quarry_api_types::multi_search::{
    inside_query, Federation, MultiSearchQuery, MultiSearchRequest,
};
use quarry_api_types::{Code, ResponseError};
use serde_json::{json, Map, Value};

use super::blocking;
use super::search::{apply_tenant_filter, engine_request, perform_search};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::AppState;

pub async fn multi_search(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let mut request = MultiSearchRequest::from_json(&body)?;
    // Each query answers for its own index: the key must cover it, and a tenant token's
    // filter for that index is ANDed into the query's own.
    for (position, query) in request.queries.iter_mut().enumerate() {
        if !auth.is_index_authorized(&query.index_uid) {
            return Err(ApiError(inside_query(
                position,
                ResponseError::new(Code::InvalidApiKey, "The provided API key is invalid."),
            )));
        }
        apply_tenant_filter(&auth, &query.index_uid, &mut query.search)
            .map_err(|ApiError(e)| ApiError(inside_query(position, e)))?;
    }
    blocking(move || {
        let answer = match &request.federation {
            None => separate_results(&state, &request.queries)?,
            Some(federation) => federated_results(&state, &request.queries, federation)?,
        };
        Ok(Json(answer))
    })
    .await
}

/// Runs one query on its index; an error names the query it came from.
fn run_query(
    state: &AppState,
    position: usize,
    query: &MultiSearchQuery,
    search: &quarry_api_types::search::SearchQuery,
) -> ApiResult<Map<String, Value>> {
    let in_query = |e: ResponseError| ApiError(inside_query(position, e));
    let index = state.scheduler.index(&query.index_uid).map_err(in_query)?;
    let features = state.scheduler.experimental_features();
    match perform_search(&index, search, &features) {
        Ok(Value::Object(body)) => Ok(body),
        Ok(other) => unreachable!("a search answers an object, not {other}"),
        Err(ApiError(e)) => Err(in_query(e)),
    }
}

/// Without federation: `{"results": [...]}`, one search response per query, in query order.
fn separate_results(state: &AppState, queries: &[MultiSearchQuery]) -> ApiResult<Value> {
    let mut results = Vec::with_capacity(queries.len());
    for (position, query) in queries.iter().enumerate() {
        let body = run_query(state, position, query, &query.search)?;
        let mut result = Map::with_capacity(body.len() + 1);
        result.insert("indexUid".into(), json!(query.index_uid));
        result.extend(body);
        results.push(Value::Object(result));
    }
    Ok(json!({ "results": results }))
}

/// One hit of a federated search, before the merged list is cut to its window.
struct Candidate {
    weighted_score: f64,
    query_position: usize,
    rank: usize,
    hit: Map<String, Value>,
}

/// With federation: every query's best `offset + limit` hits, merged by ranking score times
/// the query's weight (ties keep query order, then each query's own order).
fn federated_results(
    state: &AppState,
    queries: &[MultiSearchQuery],
    federation: &Federation,
) -> ApiResult<Value> {
    let started = Instant::now();
    let (offset, limit) = federation.window();
    let needed = offset.saturating_add(limit);
    let mut candidates = Vec::new();
    let mut total_hits = 0u64;
    let mut degraded = false;
    let mut facets_by_index: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (position, query) in queries.iter().enumerate() {
        let mut search = query.search.clone();
        search.offset = Some(0);
        search.limit = Some(needed);
        search.page = None;
        search.hits_per_page = None;
        search.show_ranking_score = true;
        // Facets of an index are computed over the documents of every query on it (below).
        search.facets = None;
        let mut body = run_query(state, position, query, &search)?;
        total_hits += body
            .get("estimatedTotalHits")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        degraded |= body.get("degraded") == Some(&Value::Bool(true));
        let weight = query.weight.unwrap_or(1.0);
        let hits = match body.remove("hits") {
            Some(Value::Array(hits)) => hits,
            _ => Vec::new(),
        };
        for (rank, hit) in hits.into_iter().enumerate() {
            let Value::Object(mut hit) = hit else {
                continue;
            };
            let score = if query.search.show_ranking_score {
                hit.get("_rankingScore").and_then(Value::as_f64)
            } else {
                hit.remove("_rankingScore").and_then(|v| v.as_f64())
            }
            .unwrap_or(0.0);
            let weighted_score = score * weight;
            hit.insert(
                "_federation".into(),
                json!({
                    "indexUid": query.index_uid,
                    "queriesPosition": position,
                    "weightedRankingScore": weighted_score,
                }),
            );
            candidates.push(Candidate {
                weighted_score,
                query_position: position,
                rank,
                hit,
            });
        }
    }
    for (index_uid, facets) in &federation.facets_by_index {
        let on_index: Vec<(usize, &MultiSearchQuery)> = queries
            .iter()
            .enumerate()
            .filter(|(_, q)| &q.index_uid == index_uid)
            .collect();
        let Some(&(first_position, _)) = on_index.first() else {
            continue;
        };
        let mut facets_json = Map::new();
        let (distribution, stats) = if facets.is_empty() {
            (json!({}), json!({}))
        } else {
            let result = union_facets(state, &on_index, facets)
                .map_err(|ApiError(e)| ApiError(inside_query(first_position, e)))?;
            (
                Value::Object(result.distribution),
                Value::Object(result.stats),
            )
        };
        facets_json.insert("distribution".into(), distribution);
        facets_json.insert("stats".into(), stats);
        facets_by_index.insert(index_uid.clone(), facets_json);
    }
    candidates.sort_by(|a, b| {
        b.weighted_score
            .partial_cmp(&a.weighted_score)
            .unwrap_or(Ordering::Equal)
            .then(a.query_position.cmp(&b.query_position))
            .then(a.rank.cmp(&b.rank))
    });
    let hits: Vec<Value> = candidates
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|c| Value::Object(c.hit))
        .collect();
    let mut body = Map::new();
    body.insert("hits".into(), Value::Array(hits));
    body.insert(
        "processingTimeMs".into(),
        json!(started.elapsed().as_millis() as u64),
    );
    if federation.is_finite_pagination() {
        let total_pages = if limit == 0 {
            0
        } else {
            (total_hits as usize).div_ceil(limit)
        };
        body.insert("hitsPerPage".into(), json!(limit));
        body.insert("page".into(), json!(federation.page.unwrap_or(1).max(1)));
        body.insert("totalPages".into(), json!(total_pages));
        body.insert("totalHits".into(), json!(total_hits));
    } else {
        body.insert("limit".into(), json!(limit));
        body.insert("offset".into(), json!(offset));
        body.insert("estimatedTotalHits".into(), json!(total_hits));
    }
    if !federation.facets_by_index.is_empty() {
        match &federation.merge_facets {
            None => {
                body.insert(
                    "facetsByIndex".into(),
                    Value::Object(
                        facets_by_index
                            .into_iter()
                            .map(|(k, v)| (k, Value::Object(v)))
                            .collect(),
                    ),
                );
            }
            Some(merge) => {
                let (distribution, stats) =
                    merge_facets(facets_by_index.into_values(), merge.max_values_per_facet);
                body.insert("facetDistribution".into(), Value::Object(distribution));
                body.insert("facetStats".into(), Value::Object(stats));
            }
        }
    }
    if degraded {
        body.insert("degraded".into(), json!(true));
    }
    Ok(Value::Object(body))
}

/// The facets of every document matched by at least one of `queries` (all on one index).
fn union_facets(
    state: &AppState,
    queries: &[(usize, &MultiSearchQuery)],
    facets: &[String],
) -> ApiResult<quarry_engine::search::facets::FacetResult> {
    let index = state.scheduler.index(&queries[0].1.index_uid)?;
    let settings = index.settings();
    let started = Instant::now();
    let mut requests = Vec::with_capacity(queries.len());
    for (position, query) in queries {
        let request = engine_request(&settings, &query.search, started)
            .map_err(|ApiError(e)| ApiError(inside_query(*position, e)))?;
        requests.push(request);
    }
    Ok(index.facets_of_union(&requests, facets)?)
}

/// Adds the counts of every index's facet values together and widens the numeric stats, then
/// keeps at most `max_values` values per facet (highest counts first, then by value).
fn merge_facets(
    per_index: impl Iterator<Item = Map<String, Value>>,
    max_values: Option<usize>,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut stats: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for facets in per_index {
        if let Some(Value::Object(distribution)) = facets.get("distribution") {
            for (facet, values) in distribution {
                let merged = counts.entry(facet.clone()).or_default();
                for (value, count) in values.as_object().into_iter().flatten() {
                    *merged.entry(value.clone()).or_default() += count.as_u64().unwrap_or(0);
                }
            }
        }
        if let Some(Value::Object(facet_stats)) = facets.get("stats") {
            for (facet, range) in facet_stats {
                let (Some(min), Some(max)) = (
                    range.get("min").and_then(Value::as_f64),
                    range.get("max").and_then(Value::as_f64),
                ) else {
                    continue;
                };
                let entry = stats.entry(facet.clone()).or_insert((min, max));
                entry.0 = entry.0.min(min);
                entry.1 = entry.1.max(max);
            }
        }
    }
    let max_values = max_values.unwrap_or(100);
    let distribution = counts
        .into_iter()
        .map(|(facet, values)| {
            let mut values: Vec<(String, u64)> = values.into_iter().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            values.truncate(max_values);
            values.sort_by(|a, b| a.0.cmp(&b.0));
            let values: Map<String, Value> =
                values.into_iter().map(|(v, c)| (v, json!(c))).collect();
            (facet, Value::Object(values))
        })
        .collect();
    let stats = stats
        .into_iter()
        .map(|(facet, (min, max))| (facet, json!({"min": min, "max": max})))
        .collect();
    (distribution, stats)
}
