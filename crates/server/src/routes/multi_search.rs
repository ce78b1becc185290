//! `POST /multi-search`: runs each query with the single-index search, then answers one result
//! per query, or (with `federation`) one list merged by weighted ranking score. In a federated
//! search, queries whose `federationOptions.remote` names another instance of the network run
//! there (`remote_search.rs`) while the local ones run here.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::State;
use axum::http::HeaderMap;
use quarry_api_types::multi_search::{
    inside_query, Federation, MultiSearchQuery, MultiSearchRequest,
};
use quarry_api_types::{Code, ResponseError};
use quarry_engine::search::pins;
use quarry_scheduler::network::Remote;
use quarry_scheduler::Feature;
use serde_json::{json, Map, Value};

use super::remote_search::{self, PROXY_SEARCH_HEADER};
use super::search::{
    apply_rules, apply_tenant_filter, engine_request, search_with_pins, BodyAndPins, SearchEnv,
};
use super::search_body::{write_json, JsonBytes};
use super::{blocking, search_work};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::AppState;

pub async fn multi_search(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<JsonBytes> {
    // Sent by the instance that forwards queries here as its remote.
    let is_proxy = headers
        .get(PROXY_SEARCH_HEADER)
        .is_some_and(|v| v.as_bytes() == b"true");
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
    // Separate results are local searches, run like one search; a federation may wait on
    // remote instances, which must not hold a worker thread.
    let local_only = request.federation.is_none();
    let work = move || match &request.federation {
        None => separate_results(&state, &request.queries).map(JsonBytes),
        Some(federation) => {
            let answer = federated_results(&state, &request.queries, federation, is_proxy)?;
            Ok(JsonBytes::of(&answer))
        }
    };
    if local_only {
        search_work(work).await
    } else {
        blocking(work).await
    }
}

/// Runs one query on its index; an error names the query it came from. Answers the search's
/// body and, for each hit, the position a pin placed it at.
fn run_query(
    state: &AppState,
    env: &SearchEnv,
    position: usize,
    query: &MultiSearchQuery,
    search: &quarry_api_types::search::SearchQuery,
) -> ApiResult<BodyAndPins> {
    let in_query = |e: ResponseError| ApiError(inside_query(position, e));
    let index = state.scheduler.index(&query.index_uid).map_err(in_query)?;
    search_with_pins(&index, &query.index_uid, search, env).map_err(|ApiError(e)| in_query(e))
}

/// Without federation: `{"results": [...]}`, one search response per query, in query order.
fn separate_results(state: &AppState, queries: &[MultiSearchQuery]) -> ApiResult<Vec<u8>> {
    let env = SearchEnv::of(&state.scheduler);
    let mut out = b"{\"results\":[".to_vec();
    for (position, query) in queries.iter().enumerate() {
        let (body, _) = run_query(state, &env, position, query, &query.search)?;
        if position > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"indexUid\":");
        write_json(&mut out, &query.index_uid);
        out.push(b',');
        body.write_fields(&mut out);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// One hit of a federated search, before the merged list is cut to its window.
struct Candidate {
    weighted_score: f64,
    query_position: usize,
    rank: usize,
    /// Where a dynamic search rule pinned the hit; pinned hits are placed, not ranked.
    pinned: Option<u32>,
    hit: Map<String, Value>,
    /// The hit's values of `federation.distinct` (empty without it).
    distinct_values: Vec<String>,
}

/// The values of `attribute` (a dotted path) in `hit`, as `federation.distinct` compares them:
/// each element of an array on its own, strings case-folded as facet values are.
fn distinct_values(hit: &Map<String, Value>, attribute: &str) -> Vec<String> {
    fn collect(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Array(items) => items.iter().for_each(|item| collect(item, out)),
            Value::String(s) => out.push(format!("s{}", s.to_lowercase())),
            Value::Null | Value::Object(_) => {}
            other => out.push(format!("v{other}")),
        }
    }
    let mut out = Vec::new();
    if let Some(value) = hit.get(attribute) {
        collect(value, &mut out);
    } else if let Some((head, rest)) = attribute.split_once('.') {
        if let Some(Value::Object(inner)) = hit.get(head) {
            out = distinct_values(inner, rest);
        }
    }
    out
}

/// What the local queries of a federated search found.
struct LocalPart {
    candidates: Vec<Candidate>,
    total_hits: u64,
    degraded: bool,
    facets_by_index: BTreeMap<String, Map<String, Value>>,
}

/// The queries a remote runs, with their positions in the request.
type RemoteGroups<'q> = BTreeMap<String, (Remote, Vec<(usize, &'q MultiSearchQuery)>)>;

/// Splits the queries between this instance and the remotes of the network.
fn partition<'q>(
    state: &AppState,
    queries: &'q [MultiSearchQuery],
    is_proxy: bool,
) -> ApiResult<(Vec<(usize, &'q MultiSearchQuery)>, RemoteGroups<'q>)> {
    let features = state.scheduler.experimental_features();
    let attempt = "Performing a remote federated search";
    if is_proxy {
        features.check(Feature::Network, attempt)?;
    }
    let has_remote = queries.iter().any(|q| q.remote.is_some());
    let network = if has_remote {
        state.scheduler.network()
    } else {
        Default::default()
    };
    let mut local = Vec::new();
    let mut remotes = RemoteGroups::new();
    for (position, query) in queries.iter().enumerate() {
        let in_query = |e: ResponseError| ApiError(inside_query(position, e));
        if query.query_position.is_some() {
            features
                .check(Feature::Network, "Using `federationOptions.queryPosition`")
                .map_err(in_query)?;
        }
        let Some(name) = &query.remote else {
            local.push((position, query));
            continue;
        };
        features
            .check(Feature::Network, attempt)
            .map_err(in_query)?;
        if network.local.as_ref() == Some(name) {
            local.push((position, query));
            continue;
        }
        let Some(remote) = network.remotes.get(name) else {
            return Err(in_query(ResponseError::new(
                Code::InvalidMultiSearchRemote,
                format!("Invalid `.federation_options.remote`: remote `{name}` is not registered"),
            )));
        };
        remotes
            .entry(name.clone())
            .or_insert_with(|| (remote.clone(), Vec::new()))
            .1
            .push((position, query));
    }
    Ok((local, remotes))
}

/// With federation: every query's best `offset + limit` hits, merged by ranking score times
/// the query's weight (ties keep query order, then each query's own order). Remote queries run
/// on their instances meanwhile; a remote that fails is reported in `remoteErrors`.
fn federated_results(
    state: &AppState,
    queries: &[MultiSearchQuery],
    federation: &Federation,
    is_proxy: bool,
) -> ApiResult<Value> {
    let started = Instant::now();
    let (offset, limit) = federation.window();
    let needed = offset.saturating_add(limit);
    let (local, remotes) = partition(state, queries, is_proxy)?;
    let has_remote = queries.iter().any(|q| q.remote.is_some());
    // Local hits name this instance when the request involves remotes (not when this instance
    // answers as someone's remote).
    let local_name = (has_remote && !is_proxy).then(|| json!(state.scheduler.network().local));
    let (local_part, answers) = std::thread::scope(|scope| {
        let pending: Vec<_> = remotes
            .iter()
            .map(|(name, (remote, group))| {
                let body = remote_search::request_body(group, federation, needed);
                let handle = scope.spawn(move || remote_search::search(remote, &body));
                (name, group, handle)
            })
            .collect();
        let local_part = local_candidates(
            state,
            &local,
            federation,
            needed,
            is_proxy,
            local_name.as_ref(),
        );
        let answers: Vec<_> = pending
            .into_iter()
            .map(|(name, group, handle)| {
                let answer = handle.join().unwrap_or_else(|_| {
                    Err(ResponseError::new(
                        Code::Internal,
                        "the remote search panicked",
                    ))
                });
                (name, group, answer)
            })
            .collect();
        (local_part, answers)
    });
    let LocalPart {
        mut candidates,
        mut total_hits,
        degraded,
        mut facets_by_index,
    } = local_part?;
    let mut remote_errors = Map::new();
    for (name, group, answer) in answers {
        let sent: Vec<usize> = group.iter().map(|(position, _)| *position).collect();
        let merged = answer.and_then(|answer| {
            remote_candidates(name, &sent, federation.distinct.as_deref(), answer)
        });
        match merged {
            Ok((hits, total, facets)) => {
                candidates.extend(hits);
                total_hits += total;
                for (uid, remote_facets) in facets {
                    let merged = match facets_by_index.remove(&uid) {
                        None => remote_facets,
                        Some(local_facets) => {
                            let (distribution, stats) =
                                merge_facets([local_facets, remote_facets].into_iter(), None);
                            Map::from_iter([
                                ("distribution".to_string(), Value::Object(distribution)),
                                ("stats".to_string(), Value::Object(stats)),
                            ])
                        }
                    };
                    facets_by_index.insert(uid, merged);
                }
            }
            Err(error) => {
                tracing::warn!(remote = %name, code = error.code.name(), "a remote search failed");
                remote_errors.insert(
                    name.clone(),
                    serde_json::to_value(&error).unwrap_or_default(),
                );
            }
        }
    }
    // Pinned hits (of every query) take their positions in the merged list, as in one index.
    let (mut pinned, mut candidates): (Vec<Candidate>, Vec<Candidate>) =
        candidates.into_iter().partition(|c| c.pinned.is_some());
    pinned.sort_by_key(|c| c.pinned);
    candidates.sort_by(|a, b| {
        b.weighted_score
            .partial_cmp(&a.weighted_score)
            .unwrap_or(Ordering::Equal)
            .then(a.query_position.cmp(&b.query_position))
            .then(a.rank.cmp(&b.rank))
    });
    if federation.distinct.is_some() {
        // One hit per distinct value across every query, the best ranked kept, as in
        // Meilisearch; each rejected hit is taken off the total.
        let mut seen = std::collections::HashSet::new();
        let before = candidates.len();
        candidates.retain(|c| {
            let duplicate = c.distinct_values.iter().any(|v| seen.contains(v));
            if !duplicate {
                seen.extend(c.distinct_values.iter().cloned());
            }
            !duplicate
        });
        total_hits = total_hits.saturating_sub((before - candidates.len()) as u64);
    }
    let hits: Vec<Value> = if pinned.is_empty() {
        candidates
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|c| Value::Object(c.hit))
            .collect()
    } else {
        let positions: Vec<u32> = pinned.iter().filter_map(|c| c.pinned).collect();
        let end = offset.saturating_add(limit);
        let organic = candidates.len().min(end);
        let mut pinned: Vec<Option<Candidate>> = pinned.into_iter().map(Some).collect();
        let mut candidates: Vec<Option<Candidate>> = candidates.into_iter().map(Some).collect();
        pins::merge(&positions, organic, offset, end)
            .into_iter()
            .filter_map(|slot| match slot {
                pins::Slot::Organic(i) => candidates[i].take(),
                pins::Slot::Pinned(i) => pinned[i].take(),
            })
            .map(|c| Value::Object(c.hit))
            .collect()
    };
    let mut body = Map::new();
    body.insert("hits".into(), Value::Array(hits));
    body.insert(
        "processingTimeMs".into(),
        json!(started.elapsed().as_millis() as u64),
    );
    if federation.show_performance_details {
        body.insert(
            "performanceDetails".into(),
            json!({ "federated search": format!("{:.2?}", started.elapsed()) }),
        );
    }
    if federation.is_finite_pagination() {
        let hits_per_page = federation
            .hits_per_page
            .unwrap_or(quarry_api_types::search::DEFAULT_LIMIT);
        let total_pages = if hits_per_page == 0 {
            0
        } else {
            (total_hits as usize).div_ceil(hits_per_page)
        };
        body.insert("hitsPerPage".into(), json!(hits_per_page));
        body.insert("page".into(), json!(federation.page.unwrap_or(1)));
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
    if has_remote {
        body.insert("remoteErrors".into(), Value::Object(remote_errors));
    }
    Ok(Value::Object(body))
}

/// A remote's `facetsByIndex`: index uid → `{distribution, stats}`.
type RemoteFacets = BTreeMap<String, Map<String, Value>>;

/// The local queries' best `needed` hits as candidates, their totals and the facets of the
/// indexes of `facetsByIndex` they search.
fn local_candidates(
    state: &AppState,
    local: &[(usize, &MultiSearchQuery)],
    federation: &Federation,
    needed: usize,
    is_proxy: bool,
    local_name: Option<&Value>,
) -> ApiResult<LocalPart> {
    let env = SearchEnv::of(&state.scheduler);
    let mut part = LocalPart {
        candidates: Vec::new(),
        total_hits: 0,
        degraded: false,
        facets_by_index: BTreeMap::new(),
    };
    for &(request_position, query) in local {
        // A query forwarded by another instance reports the position it had there.
        let position = query.query_position.unwrap_or(request_position);
        let mut search = query.search.clone();
        search.offset = Some(0);
        search.limit = Some(needed);
        search.page = None;
        search.hits_per_page = None;
        search.show_ranking_score = true;
        // Facets of an index are computed over the documents of every query on it (below).
        search.facets = None;
        // `federation.distinct` applies to each query, and its values are needed for merging
        // even when the query does not retrieve the attribute.
        let mut strip_distinct = false;
        if let Some(distinct) = &federation.distinct {
            search.distinct = Some(distinct.clone());
            if let Some(retrieve) = &mut search.attributes_to_retrieve {
                if !retrieve
                    .iter()
                    .any(|a| a == "*" || quarry_engine::settings::attribute_matches(a, distinct))
                {
                    retrieve.push(distinct.clone());
                    strip_distinct = true;
                }
            }
        }
        let (body, pinned) = run_query(state, &env, request_position, query, &search)?;
        let mut body = body.into_map()?;
        part.total_hits += body
            .get("estimatedTotalHits")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        part.degraded |= body.get("degraded") == Some(&Value::Bool(true));
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
            let mut federation_info = json!({
                "indexUid": query.index_uid,
                "queriesPosition": position,
                "weightedRankingScore": weighted_score,
            });
            if let Some(name) = local_name {
                federation_info["remote"] = name.clone();
            }
            let pinned = pinned.get(rank).copied().flatten();
            if is_proxy {
                // What a Meilisearch caller needs to merge this hit with others.
                federation_info["weightedScoreValues"] =
                    json!([{ "weightedScore": weighted_score }]);
                if let Some(position) = pinned {
                    federation_info["pinnedPosition"] = json!(position);
                }
            }
            hit.insert("_federation".into(), federation_info);
            let distinct_values = match &federation.distinct {
                Some(distinct) => {
                    let values = distinct_values(&hit, distinct);
                    if strip_distinct {
                        hit.remove(distinct.split('.').next().unwrap_or(distinct));
                    }
                    values
                }
                None => Vec::new(),
            };
            part.candidates.push(Candidate {
                weighted_score,
                query_position: position,
                rank,
                pinned,
                hit,
                distinct_values,
            });
        }
    }
    for (index_uid, facets) in &federation.facets_by_index {
        let on_index: Vec<(usize, &MultiSearchQuery)> = local
            .iter()
            .filter(|(_, q)| &q.index_uid == index_uid)
            .copied()
            .collect();
        let Some(&(first_position, _)) = on_index.first() else {
            continue;
        };
        let mut facets_json = Map::new();
        let (distribution, stats) = if facets.is_empty() {
            (json!({}), json!({}))
        } else {
            let result = union_facets(state, &env, &on_index, facets)
                .map_err(|ApiError(e)| ApiError(inside_query(first_position, e)))?;
            (
                Value::Object(result.distribution),
                Value::Object(result.stats),
            )
        };
        facets_json.insert("distribution".into(), distribution);
        facets_json.insert("stats".into(), stats);
        part.facets_by_index.insert(index_uid.clone(), facets_json);
    }
    Ok(part)
}

/// The hits of a remote's answer as candidates, its total, and its facets by index. A hit
/// without what merging needs discards the whole answer, as in Meilisearch.
fn remote_candidates(
    name: &str,
    sent: &[usize],
    distinct: Option<&str>,
    mut answer: Map<String, Value>,
) -> Result<(Vec<Candidate>, u64, RemoteFacets), ResponseError> {
    let hits = match answer.remove("hits") {
        Some(Value::Array(hits)) => hits,
        _ => Vec::new(),
    };
    let mut candidates = Vec::with_capacity(hits.len());
    for (rank, hit) in hits.into_iter().enumerate() {
        let Value::Object(mut hit) = hit else {
            continue;
        };
        let (weighted_score, query_position, pinned) =
            remote_search::remote_hit(&mut hit, name, sent)?;
        let distinct_values = distinct
            .map(|d| distinct_values(&hit, d))
            .unwrap_or_default();
        candidates.push(Candidate {
            weighted_score,
            query_position,
            rank,
            pinned,
            hit,
            distinct_values,
        });
    }
    let total = answer
        .get("estimatedTotalHits")
        .or_else(|| answer.get("totalHits"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let facets = match answer.remove("facetsByIndex") {
        Some(Value::Object(facets)) => facets
            .into_iter()
            .filter_map(|(uid, f)| match f {
                Value::Object(f) => Some((uid, f)),
                _ => None,
            })
            .collect(),
        _ => RemoteFacets::new(),
    };
    Ok((candidates, total, facets))
}

/// The facets of every document matched by at least one of `queries` (all on one index).
fn union_facets(
    state: &AppState,
    env: &SearchEnv,
    queries: &[(usize, &MultiSearchQuery)],
    facets: &[String],
) -> ApiResult<quarry_engine::search::facets::FacetResult> {
    let uid = &queries[0].1.index_uid;
    let index = state.scheduler.index(uid)?;
    let settings = index.settings();
    let started = Instant::now();
    let mut requests = Vec::with_capacity(queries.len());
    for (position, query) in queries {
        let mut request = engine_request(&settings, &query.search, started, env)
            .map_err(|ApiError(e)| ApiError(inside_query(*position, e)))?;
        // Pinned documents are candidates too, so they are counted.
        apply_rules(&mut request, uid, &settings, query.search.q.as_deref(), env);
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
