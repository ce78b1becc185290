//! The search routes: decode the request, run it on the engine off the async runtime, and
//! shape hits and pagination the way Meilisearch answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::Json;
use quarry_api_types::facet_search::FacetSearchQuery;
use quarry_api_types::search::{MatchingStrategy as WireStrategy, SearchQuery};
use quarry_api_types::Code;
use quarry_engine::analysis::Analyzer;
use quarry_engine::format::{format_document, FormatOptions};
use quarry_engine::search::{MatchingStrategy, SearchRequest};
use quarry_engine::Index;
use quarry_scheduler::dynamic_search_rules::{RuleSet, SearchFacts};
use quarry_scheduler::{ExperimentalFeatures, Feature, Scheduler};
use serde_json::{json, Map, Value};

use super::documents::select_fields;
use super::foreign_keys::{foreign_indexes, hydrate_hits, parse_request_filter};
use super::search_body::{HitBody, JsonBytes, SearchBody, WriteThrough};
use super::{index_uid, search_work};
use crate::auth::auth_error;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, RawQuery};
use crate::AppState;
use quarry_auth::AuthContext;

/// Meilisearch's effective search deadline when `searchCutoffMs` is not set.
const DEFAULT_SEARCH_CUTOFF: Duration = Duration::from_millis(1500);

pub async fn search_get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<JsonBytes> {
    index_uid(&uid)?;
    let mut query = SearchQuery::from_query_string(&query)?;
    apply_tenant_filter(&auth, &uid, &mut query)?;
    run(state, uid, query).await
}

pub async fn search_post(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<JsonBytes> {
    index_uid(&uid)?;
    let mut query = SearchQuery::from_json(&body)?;
    apply_tenant_filter(&auth, &uid, &mut query)?;
    run(state, uid, query).await
}

/// ANDs the tenant token's filter for `index` (if the caller used a tenant token with one)
/// into the query's own filter, so the caller can narrow but never widen what it sees.
pub fn apply_tenant_filter(
    auth: &AuthContext,
    index: &str,
    query: &mut SearchQuery,
) -> ApiResult<()> {
    let forced = auth.search_filter(index).map_err(auth_error)?;
    if let Some(forced) = forced.filter(|f| !filter_is_empty(f)) {
        query.filter = Some(match query.filter.take() {
            Some(own) if !filter_is_empty(&own) => and_filters(&forced, &own),
            _ => forced,
        });
    }
    Ok(())
}

fn filter_is_empty(filter: &Value) -> bool {
    match filter {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.iter().all(filter_is_empty),
        _ => false,
    }
}

/// Writes a filter in its string form: an array means AND of its items, a nested array OR.
fn filter_expression(filter: &Value) -> String {
    let group = |items: &[Value], op: &str| {
        items
            .iter()
            .filter(|i| !filter_is_empty(i))
            .map(|i| format!("({})", filter_expression(i)))
            .collect::<Vec<_>>()
            .join(op)
    };
    match filter {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let and: Vec<String> = items
                .iter()
                .filter(|i| !filter_is_empty(i))
                .map(|item| match item {
                    Value::Array(any) => format!("({})", group(any, " OR ")),
                    other => format!("({})", filter_expression(other)),
                })
                .collect();
            and.join(" AND ")
        }
        // Any other shape is refused by the filter parser; keep it as it is written.
        other => other.to_string(),
    }
}

/// `(forced) AND (own)`, in string form so any mix of string and array filters combines.
fn and_filters(forced: &Value, own: &Value) -> Value {
    Value::String(format!(
        "({}) AND ({})",
        filter_expression(forced),
        filter_expression(own)
    ))
}

/// What a search needs of the instance besides its index: the experimental features, the
/// dynamic search rules while their feature is on (Meilisearch ignores the rules otherwise),
/// and the other indexes while foreign keys are on (to resolve `_foreign` filters and show
/// the documents foreign keys name).
#[derive(Clone)]
pub struct SearchEnv {
    pub features: ExperimentalFeatures,
    pub rules: Option<Arc<RuleSet>>,
    pub foreign: Option<Scheduler>,
}

impl SearchEnv {
    pub fn of(scheduler: &Scheduler) -> SearchEnv {
        let features = scheduler.experimental_features();
        let rules = features
            .is_enabled(Feature::DynamicSearchRules)
            .then(|| scheduler.dynamic_search_rules())
            .filter(|rules| !rules.is_empty());
        let foreign = foreign_indexes(scheduler, &features);
        SearchEnv {
            features,
            rules,
            foreign,
        }
    }
}

/// Adds to `request` the pins of the rules that apply to this search of `uid`.
pub fn apply_rules(
    request: &mut SearchRequest,
    uid: &str,
    settings: &quarry_engine::IndexSettings,
    q: Option<&str>,
    env: &SearchEnv,
) {
    let Some(rules) = env.rules.as_ref().filter(|rules| rules.has_active_rules()) else {
        return;
    };
    // The query is analyzed for the rules' conditions only when some rule may apply.
    let now = time::OffsetDateTime::now_utc();
    let facts = SearchFacts::new(uid, settings, q, request.filter.as_ref(), now);
    request.pins = rules.pins_for(&facts);
}

async fn run(state: AppState, uid: String, query: SearchQuery) -> ApiResult<JsonBytes> {
    search_work(move || {
        let index = state.scheduler.index(&uid)?;
        let started = Instant::now();
        let env = SearchEnv::of(&state.scheduler);
        let result = search_with_pins(&index, &uid, &query, &env).map(|(body, _)| body.to_bytes());
        let elapsed = started.elapsed();
        crate::metrics::registry().observe_search(elapsed.as_secs_f64());
        if let Some(threshold) = state.config.slow_search_ms {
            if elapsed >= Duration::from_millis(threshold) {
                log_slow_search(&uid, &query, elapsed, result.is_ok());
            }
        }
        Ok(JsonBytes(result?))
    })
    .await
}

/// One `warn` line for a slow search, with the parameters that shape its cost. Only the
/// decoded query is logged: headers (and so keys) never reach this function.
fn log_slow_search(uid: &str, query: &SearchQuery, elapsed: Duration, ok: bool) {
    let json_or_null = |v: Option<&Value>| v.map_or_else(|| "null".to_string(), Value::to_string);
    tracing::warn!(
        index_uid = uid,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        q = query.q.as_deref().unwrap_or(""),
        filter = %json_or_null(query.filter.as_ref()),
        sort = ?query.sort,
        limit = query.limit_or_default(),
        offset = query.offset_or_default(),
        page = ?query.page,
        hits_per_page = ?query.hits_per_page,
        matching_strategy = ?query.matching_strategy,
        attributes_to_search_on = ?query.attributes_to_search_on,
        facets = ?query.facets,
        ok,
        "slow search"
    );
}

/// `POST /indexes/{uid}/facet-search`: the values of one facet matching `facetQuery` among
/// the candidates of the search the other parameters describe.
pub async fn facet_search(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    index_uid(&uid)?;
    let mut query = FacetSearchQuery::from_json(&body)?;
    apply_tenant_filter(&auth, &uid, &mut query.search)?;
    let features = state.scheduler.experimental_features();
    if let Some(filter) = &query.search.filter {
        check_contains_operator(filter, &features)?;
    }
    search_work(move || {
        let index = state.scheduler.index(&uid)?;
        let started = Instant::now();
        let settings = index.settings();
        let search = &query.search;
        let foreign = foreign_indexes(&state.scheduler, &features);
        let filter = match &search.filter {
            Some(filter) => parse_request_filter(
                filter,
                &settings,
                foreign.as_ref(),
                Code::InvalidSearchFilter,
            )?,
            None => None,
        };
        let cutoff = settings
            .search_cutoff_ms
            .map_or(DEFAULT_SEARCH_CUTOFF, Duration::from_millis);
        let request = SearchRequest {
            query: search.q.clone(),
            matching_strategy: engine_strategy(search.matching_strategy),
            deadline: Some(started + cutoff),
            attributes_to_search_on: search.attributes_to_search_on.clone(),
            ranking_score_threshold: search.ranking_score_threshold,
            filter,
            ..SearchRequest::default()
        };
        let hits = index.facet_search(&request, &query.facet_name, query.facet_query.as_deref())?;
        let hits: Vec<Value> = hits
            .into_iter()
            .map(|hit| json!({"value": hit.value, "count": hit.count}))
            .collect();
        Ok(Json(json!({
            "facetHits": hits,
            "facetQuery": query.facet_query,
            "processingTimeMs": started.elapsed().as_millis() as u64,
        })))
    })
    .await
}

fn engine_strategy(strategy: WireStrategy) -> MatchingStrategy {
    match strategy {
        WireStrategy::Last => MatchingStrategy::Last,
        WireStrategy::All => MatchingStrategy::All,
        WireStrategy::Frequency => MatchingStrategy::Frequency,
    }
}

/// Refuses `CONTAINS` while the `containsFilter` experimental feature is off, as Meilisearch
/// does (`feature_not_enabled`, pointing at the operator).
pub fn check_contains_operator(filter: &Value, features: &ExperimentalFeatures) -> ApiResult<()> {
    if features.is_enabled(Feature::ContainsFilter) {
        return Ok(());
    }
    let refusal = quarry_scheduler::features::not_enabled(
        Feature::ContainsFilter,
        "Using `CONTAINS` in a filter",
    );
    match quarry_engine::filter::contains_operator_error(filter, &refusal.message) {
        Some(located) => Err(ApiError::new(Code::FeatureNotEnabled, located.message)),
        None => Ok(()),
    }
}

/// The engine's request for a decoded search: the filter parsed and checked, the page turned
/// into an offset and a limit, the deadline set from `searchCutoffMs`.
pub fn engine_request(
    settings: &quarry_engine::IndexSettings,
    query: &SearchQuery,
    started: Instant,
    env: &SearchEnv,
) -> ApiResult<SearchRequest> {
    let filter = match &query.filter {
        Some(filter) => parse_request_filter(
            filter,
            settings,
            env.foreign.as_ref(),
            Code::InvalidSearchFilter,
        )?,
        None => None,
    };
    let (offset, limit) = if query.is_finite_pagination() {
        let hits_per_page = query
            .hits_per_page
            .unwrap_or(quarry_api_types::search::DEFAULT_LIMIT);
        // Page 0 is valid and holds no hits, as in Meilisearch.
        match query.page.unwrap_or(1).checked_sub(1) {
            Some(before) => (before.saturating_mul(hits_per_page), hits_per_page),
            None => (0, 0),
        }
    } else {
        (query.offset_or_default(), query.limit_or_default())
    };
    let cutoff = settings
        .search_cutoff_ms
        .map_or(DEFAULT_SEARCH_CUTOFF, Duration::from_millis);
    Ok(SearchRequest {
        query: query.q.clone(),
        offset,
        limit,
        matching_strategy: engine_strategy(query.matching_strategy),
        deadline: Some(started + cutoff),
        attributes_to_search_on: query.attributes_to_search_on.clone(),
        compute_scores: query.show_ranking_score
            || query.show_ranking_score_details
            || query.ranking_score_threshold.is_some(),
        ranking_score_threshold: query.ranking_score_threshold,
        filter,
        facets: query.facets.clone(),
        sort: query.sort.clone(),
        distinct: query.distinct.clone(),
        keep_candidates: false,
        pins: Vec::new(),
    })
}

/// Runs one search of the index `uid` and builds its response body.
pub fn perform_search(
    index: &Index,
    uid: &str,
    query: &SearchQuery,
    env: &SearchEnv,
) -> ApiResult<Value> {
    let (body, _) = search_with_pins(index, uid, query, env)?;
    Ok(Value::Object(body.into_map()?))
}

/// A search's response body and, for each of its hits, the position a pin placed it at
/// (`None` for a ranked hit).
pub type BodyAndPins = (SearchBody, Vec<Option<u32>>);

/// [`perform_search`], also answering where pins placed hits: federated searches merge pinned
/// and ranked hits differently.
pub fn search_with_pins(
    index: &Index,
    uid: &str,
    query: &SearchQuery,
    env: &SearchEnv,
) -> ApiResult<BodyAndPins> {
    let started = Instant::now();
    let settings = index.settings();
    if let Some(filter) = &query.filter {
        check_contains_operator(filter, &env.features)?;
    }
    let max_total_hits = settings.pagination.max_total_hits;
    let mut request = engine_request(&settings, query, started, env)?;
    apply_rules(&mut request, uid, &settings, query.q.as_deref(), env);
    let (offset, limit) = (request.offset, request.limit);
    let engine_started = Instant::now();
    let result = index.search(&request)?;
    let engine_time = engine_started.elapsed();
    let format_started = Instant::now();
    let pinned: Vec<Option<u32>> = result.hits.iter().map(|hit| hit.pinned).collect();
    let displayed = settings.displayed_attributes.clone();
    let format = format_options(query);
    let analyzer = format.as_ref().map(|_| Analyzer::new(&settings));
    let foreign_keys = match &env.foreign {
        Some(_) => settings.foreign_keys.as_slice(),
        None => &[],
    };
    // A hit is written from its stored bytes when nothing is taken out of it or added inside
    // it: every field displayed and retrieved, no formatting, no foreign documents.
    let shows_all = |fields: Option<&[String]>| fields.is_none_or(|f| f.iter().any(|f| f == "*"));
    let write_through = (format.is_none()
        && foreign_keys.is_empty()
        && shows_all(displayed.as_deref())
        && shows_all(query.attributes_to_retrieve.as_deref()))
    .then(|| {
        let mut added = vec!["_geoDistance"];
        if query.show_ranking_score {
            added.push("_rankingScore");
        }
        if query.show_ranking_score_details {
            added.push("_rankingScoreDetails");
        }
        WriteThrough::new(&added)
    });
    let mut hits = Vec::with_capacity(result.hits.len());
    for mut hit in result.hits {
        // The scores come last, after `_formatted` and `_matchesPosition`.
        let mut scores = Map::new();
        if query.show_ranking_score {
            scores.insert(
                "_rankingScore".into(),
                json!(hit.ranking_score.unwrap_or(0.0)),
            );
        }
        if query.show_ranking_score_details {
            scores.insert(
                "_rankingScoreDetails".into(),
                Value::Object(hit.ranking_score_details.take().unwrap_or_default()),
            );
        }
        if write_through
            .as_ref()
            .is_some_and(|w| w.allows(&hit.source))
        {
            let mut extra = Map::new();
            if query.retrieve_vectors {
                // The document stores none (`WriteThrough`).
                extra.insert("_vectors".into(), Value::Object(Map::new()));
            }
            if let Some(distance) = hit.geo_distance {
                extra.insert("_geoDistance".into(), json!(distance));
            }
            extra.extend(scores);
            hits.push(HitBody::Stored {
                source: hit.source,
                extra,
            });
            continue;
        }
        let mut document = hit.document()?;
        let vectors = document.remove("_vectors");
        let visible = select_fields(document, displayed.as_deref());
        // Formatting reads the visible fields after the retrieved ones are taken: only then
        // is a copy needed.
        let (mut out, visible) = match &format {
            Some(_) => (
                select_fields(visible.clone(), query.attributes_to_retrieve.as_deref()),
                Some(visible),
            ),
            None => (
                select_fields(visible, query.attributes_to_retrieve.as_deref()),
                None,
            ),
        };
        if query.retrieve_vectors {
            // Reserved, shown only on demand, whatever `attributesToRetrieve` says.
            let vectors = match vectors {
                Some(Value::Object(vectors)) => vectors,
                _ => Map::new(),
            };
            out.insert("_vectors".into(), Value::Object(vectors));
        }
        if let Some(distance) = hit.geo_distance {
            out.insert("_geoDistance".into(), json!(distance));
        }
        if let (Some(options), Some(analyzer), Some(visible)) = (&format, &analyzer, visible) {
            let source = formatting_source(visible, query);
            let formatted = format_document(&source, analyzer, &result.matching_words, options);
            if let Some(f) = formatted.formatted {
                out.insert("_formatted".into(), Value::Object(f));
            }
            if let Some(positions) = formatted.matches_position {
                out.insert("_matchesPosition".into(), Value::Object(positions));
            }
        }
        out.extend(scores);
        hits.push(HitBody::Parsed(out));
    }
    if let Some(scheduler) = &env.foreign {
        // With foreign keys, every hit was built field by field.
        let mut maps: Vec<&mut Map<String, Value>> =
            hits.iter_mut().filter_map(HitBody::parsed_mut).collect();
        hydrate_hits(scheduler, foreign_keys, &mut maps)?;
    }
    let format_time = format_started.elapsed();
    let mut body = Map::new();
    body.insert("query".into(), json!(query.q.clone().unwrap_or_default()));
    body.insert(
        "processingTimeMs".into(),
        json!(started.elapsed().as_millis() as u64),
    );
    if query.is_finite_pagination() {
        let hits_per_page = query
            .hits_per_page
            .unwrap_or(quarry_api_types::search::DEFAULT_LIMIT);
        let total_hits = (result.candidates as usize).min(max_total_hits);
        let total_pages = if hits_per_page == 0 {
            0
        } else {
            total_hits.div_ceil(hits_per_page)
        };
        body.insert("hitsPerPage".into(), json!(hits_per_page));
        body.insert("page".into(), json!(query.page.unwrap_or(1)));
        body.insert("totalPages".into(), json!(total_pages));
        body.insert("totalHits".into(), json!(total_hits));
    } else {
        body.insert("limit".into(), json!(limit));
        body.insert("offset".into(), json!(offset));
        body.insert("estimatedTotalHits".into(), json!(result.candidates));
    }
    if let Some(facets) = result.facets {
        body.insert(
            "facetDistribution".into(),
            Value::Object(facets.distribution),
        );
        body.insert("facetStats".into(), Value::Object(facets.stats));
    }
    if result.degraded {
        body.insert("degraded".into(), json!(true));
    }
    if query.show_performance_details {
        // The steps Quarry times, named and written as Meilisearch writes its own (`1.23ms`).
        body.insert(
            "performanceDetails".into(),
            json!({
                "search": format!("{:.2?}", started.elapsed()),
                "search > keyword search": format!("{engine_time:.2?}"),
                "search > format": format!("{format_time:.2?}"),
            }),
        );
    }
    Ok((SearchBody { hits, rest: body }, pinned))
}

/// What the formatter is asked to do, or `None` when the request wants no formatting at all.
fn format_options(query: &SearchQuery) -> Option<FormatOptions> {
    let highlight = query.attributes_to_highlight.clone().unwrap_or_default();
    let crop: Vec<(String, Option<usize>)> = query
        .attributes_to_crop
        .iter()
        .flatten()
        .map(|item| match item.rsplit_once(':') {
            Some((name, len)) => match len.parse::<usize>() {
                Ok(len) => (name.to_string(), Some(len)),
                Err(_) => (item.clone(), None),
            },
            None => (item.clone(), None),
        })
        .collect();
    if highlight.is_empty() && crop.is_empty() && !query.show_matches_position {
        return None;
    }
    Some(FormatOptions {
        highlight,
        crop,
        crop_length: query.crop_length,
        crop_marker: query.crop_marker.clone(),
        pre_tag: query.highlight_pre_tag.clone(),
        post_tag: query.highlight_post_tag.clone(),
        show_matches_position: query.show_matches_position,
    })
}

/// The fields `_formatted` shows: those retrieved plus those highlighted or cropped, among the
/// displayed ones. `*` in the highlight or crop list means every displayed attribute, retrieved
/// or not, as in Meilisearch.
fn formatting_source(visible: Map<String, Value>, query: &SearchQuery) -> Map<String, Value> {
    let Some(retrieve) = &query.attributes_to_retrieve else {
        return visible;
    };
    let highlighted = query.attributes_to_highlight.iter().flatten().cloned();
    let cropped = query
        .attributes_to_crop
        .iter()
        .flatten()
        .map(|c| c.rsplit_once(':').map_or(c.clone(), |(n, _)| n.to_string()));
    let mut wanted = retrieve.clone();
    for name in highlighted.chain(cropped) {
        if name == "*" {
            return visible;
        }
        wanted.push(name);
    }
    select_fields(visible, Some(&wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_combine_with_and() {
        let cases = [
            (json!("a = 1"), json!("b = 2"), "(a = 1) AND (b = 2)"),
            (
                json!(["a = 1", ["b = 2", "c = 3"]]),
                json!("d = 4 OR e = 5"),
                "((a = 1) AND ((b = 2) OR (c = 3))) AND (d = 4 OR e = 5)",
            ),
            (
                json!("a = 1"),
                json!([["x = 1"]]),
                "(a = 1) AND (((x = 1)))",
            ),
        ];
        for (forced, own, expected) in cases {
            assert_eq!(and_filters(&forced, &own), json!(expected));
        }
        assert!(filter_is_empty(&json!(["", [" "]])));
    }
}
