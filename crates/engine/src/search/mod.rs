//! The path of a query: parse `q` into terms, phrases and negations, derive what each term may
//! match from the term dictionary (typos, prefixes, splits, concatenations, synonyms), then order
//! the candidates with the ranking rules, bucket by bucket, fetching only the documents of the
//! requested page.

mod answers;
pub mod cache;
pub mod columns;
mod context;
mod derivations;
mod digest;
pub mod distinct;
pub mod facet_search;
pub mod facets;
pub mod first_keystrokes;
mod forward_positions;
mod forward_words;
mod id_order;
pub mod matching_words;
pub mod pins;
mod positions;
mod prefix_tops;
mod query;
pub mod ranking;
#[cfg(test)]
mod ranking_equivalence;
#[cfg(test)]
mod relevance;
mod segment_tables;
#[cfg(test)]
mod tests;
mod typo_dictionary;
mod value_ends;

use std::sync::Arc;
use std::time::Instant;

use roaring::RoaringBitmap;
use serde_json::{Map, Value};

pub use answers::ANSWERED_QUERY_CHARS;
pub use context::{AttributeFilter, Scan, SearchContext};
pub use derivations::{allowed_typos, DerivationKind, Query, Shape};
pub use id_order::documents_in_id_order;
pub use matching_words::{MatchingWord, MatchingWords};
pub use pins::Pin;
pub use query::{parse, parse_query, ParsedQuery, QueryPart, QueryWord, MAX_QUERY_WORDS};

use forward_positions::ForwardPositions;
use forward_words::ForwardWords;
use segment_tables::ready_table;
use typo_dictionary::TypoDictionary;

use crate::analysis::Analyzer;
use crate::error::{Result, UserError, UserErrorKind};
use crate::index::{read_source, source_cache, Index};
use crate::settings::{attribute_matches, IndexSettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchingStrategy {
    /// Drop query words from the end until documents match (Meilisearch's default).
    #[default]
    Last,
    /// Every query word must match.
    All,
    /// Drop the most frequent words first.
    Frequency,
}

#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// `None` or empty: a placeholder search, returning every document.
    pub query: Option<String>,
    pub offset: usize,
    pub limit: usize,
    pub matching_strategy: MatchingStrategy,
    /// Past this instant, return what is ranked so far and report the search as degraded.
    pub deadline: Option<Instant>,
    /// Restricts matching to these searchable attributes (`attributesToSearchOn`).
    pub attributes_to_search_on: Option<Vec<String>>,
    /// Compute `ranking_score` (and details) for each hit.
    pub compute_scores: bool,
    /// Leave out hits whose ranking score is below this (0.0..=1.0).
    pub ranking_score_threshold: Option<f64>,
    /// Only documents this filter selects (already checked against the filterable attributes).
    pub filter: Option<crate::filter::FilterExpr>,
    /// Attributes to count the values of over all candidates (`*`: every filterable one).
    pub facets: Option<Vec<String>>,
    /// The `sort` parameter: `field:asc` / `field:desc` criteria, most important first.
    pub sort: Option<Vec<String>>,
    /// The `distinct` parameter: overrides the `distinctAttribute` setting; must be filterable.
    pub distinct: Option<String>,
    /// Return the set of matching documents (`SearchResult::candidate_docs`).
    pub keep_candidates: bool,
    /// Documents to place at fixed positions (dynamic search rules), most important first.
    pub pins: Vec<Pin>,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The document's stored JSON: compact, keys in document order, as `serde_json` writes a
    /// `Map`. The server writes it to the response as it is when nothing is taken out of it.
    pub source: Arc<[u8]>,
    /// Between 0.0 and 1.0, when `compute_scores` was asked.
    pub ranking_score: Option<f64>,
    /// Per ranking rule, as `_rankingScoreDetails` shows it, when `compute_scores` was asked.
    pub ranking_score_details: Option<Map<String, Value>>,
    /// `_geoDistance`: metres to the point of the first `_geoPoint` sort criterion.
    pub geo_distance: Option<u64>,
    /// The position a pin placed this hit at; `None` for a hit ranked by relevance.
    pub pinned: Option<u32>,
}

impl SearchHit {
    /// The document, parsed from its stored JSON.
    pub fn document(&self) -> Result<Map<String, Value>> {
        Ok(serde_json::from_slice(&self.source)?)
    }
}

#[derive(Debug, Clone)]
pub struct SearchResult {
    pub hits: Vec<SearchHit>,
    /// Every document that matches, whatever the page.
    pub candidates: u64,
    pub degraded: bool,
    /// What counts as a match in a document, for highlighting and cropping.
    pub matching_words: MatchingWords,
    /// `facetDistribution` and `facetStats`, when facets were asked for.
    pub facets: Option<facets::FacetResult>,
    /// Every matching document (after distinct), when `keep_candidates` was asked; ids of the
    /// `SearchContext` the search ran in.
    pub candidate_docs: Option<RoaringBitmap>,
}

/// The searchable attributes, by rank: what `attributesToSearchOn` and `disableOnAttributes`
/// name, and how many ranks the attribute rule has.
struct AttributeRanks {
    /// The name (or pattern) of each rank.
    names: Vec<String>,
    /// Whether every field is searchable (`["*"]`): ranks are then fields in first-seen order.
    all: bool,
}

impl AttributeRanks {
    fn new(ctx: &SearchContext) -> AttributeRanks {
        match &ctx.settings.searchable_attributes {
            Some(list) if !list.iter().any(|a| a == "*") => AttributeRanks {
                names: list.clone(),
                all: false,
            },
            _ => AttributeRanks {
                names: ctx.state.fields.clone(),
                all: true,
            },
        }
    }

    /// The ranks an attribute name selects.
    fn select(&self, attribute: &str) -> Vec<bool> {
        self.names
            .iter()
            .map(|name| {
                attribute_matches(attribute, name)
                    || (!self.all && attribute_matches(name, attribute))
            })
            .collect()
    }

    /// The restriction of `attributesToSearchOn`, or an error naming an attribute that is not
    /// searchable.
    fn search_on(&self, attributes: &[String]) -> Result<Option<AttributeFilter>> {
        if attributes.iter().any(|a| a == "*") {
            return Ok(None);
        }
        let mut allowed = vec![false; self.names.len()];
        for attribute in attributes {
            let selected = self.select(attribute);
            if !self.all && !selected.iter().any(|s| *s) {
                let message = format!(
                    "Attribute `{attribute}` is not searchable. Available searchable attributes are: `{}`.",
                    self.names.join(", ")
                );
                return Err(UserError::new(
                    UserErrorKind::InvalidSearchAttributesToSearchOn,
                    message,
                )
                .into());
            }
            for (a, s) in allowed.iter_mut().zip(selected) {
                *a |= s;
            }
        }
        Ok(Some(AttributeFilter::new(allowed)))
    }
}

/// Drops the per-segment tables (columns, value orders, id orders, value ends, prefix tops,
/// forward words and positions, typo dictionaries, cached documents) of segments no snapshot
/// holds any more, and the search caches of the snapshots that held them.
pub(crate) fn forget_segment_tables(gone: &std::collections::HashSet<tantivy::index::SegmentId>) {
    segment_tables::forget_segments(gone);
    crate::index::source_cache::forget(gone);
    cache::forget_snapshots_with(gone);
}

impl Index {
    /// Builds the per-segment tables that the first searches of new segments would otherwise
    /// build while the user waits: each segment's value ends (digests need them), the column
    /// and value order of each sortable attribute, its short-prefix table, the words of each of
    /// its documents, with their positions when documents are long, and the copy of its
    /// dictionary the typo walks step through (these three read on the tables' background
    /// thread). Tables are kept by segment id, so segments already warm cost a lookup. Part of
    /// [`Index::warm`], after a background merge and a restart.
    pub fn warm_segment_tables(&self) -> Result<()> {
        let ctx = SearchContext::new(self)?;
        for view in ctx.segments() {
            prefix_tops::ready_prefix_tops(&ctx, view);
            ready_table::<ForwardWords>(&ctx, view);
            ready_table::<ForwardPositions>(&ctx, view);
            ready_table::<TypoDictionary>(&ctx, view);
            ctx.value_ends(view)?;
            // A sort over many documents walks the field's value order (read with its column).
            let segment = ctx.segment_reader(view).segment_id();
            for field in &ctx.settings.sortable_attributes {
                if field.contains('*') || field == "_geo" {
                    continue;
                }
                let column = ctx.column(view, field)?;
                columns::value_order(&column, segment, field)?;
            }
        }
        Ok(())
    }

    /// Runs a search against the committed documents.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResult> {
        let ctx = SearchContext::new(self)?;
        self.search_in(&ctx, request)
    }

    /// Runs a search in a given snapshot (several searches can then share document ids). The
    /// answers of the requests every user sends alike (an empty query, one or two letters) are
    /// kept in the snapshot's cache and given again to the same request (`answers.rs`).
    pub fn search_in(&self, ctx: &SearchContext, request: &SearchRequest) -> Result<SearchResult> {
        // Only the production ranking keeps answers: tests compare the other modes with it.
        let key = match ranking::ranking_mode() {
            ranking::RankingMode::Fast => answers::answer_key(request),
            _ => None,
        };
        let Some(key) = key else {
            return self.compute_answer(ctx, request);
        };
        if let Some(kept) = answers::kept(ctx, &key) {
            return Ok(kept.result.clone());
        }
        let result = self.compute_answer(ctx, request)?;
        answers::keep(ctx, key, &result);
        Ok(result)
    }

    /// Ranks the candidates of `request` and reads its page of hits and its facets.
    fn compute_answer(&self, ctx: &SearchContext, request: &SearchRequest) -> Result<SearchResult> {
        let analyzer = Analyzer::new(&ctx.settings);
        let facet_names = match &request.facets {
            Some(names) => Some(facets::resolve_facets(
                names,
                &ctx.settings,
                &ctx.state.fields,
            )?),
            None => None,
        };
        let sort = match &request.sort {
            Some(criteria) => parse_sort(criteria, &ctx.settings)?,
            None => Vec::new(),
        };
        if let Some(field) = &request.distinct {
            distinct::check_distinct_parameter(field, &ctx.settings)?;
        }
        let distinct_field = request
            .distinct
            .as_deref()
            .or(ctx.settings.distinct_attribute.as_deref());
        let parsed = parse(&analyzer, request.query.as_deref().unwrap_or(""));
        let ranks = AttributeRanks::new(ctx);
        let search_on = match &request.attributes_to_search_on {
            Some(attributes) => ranks.search_on(attributes)?,
            None => None,
        };
        let disabled = &ctx.settings.typo_tolerance.disable_on_attributes;
        let typo_filter = if disabled.is_empty() {
            search_on.clone()
        } else {
            let mut allowed = match &search_on {
                Some(_) => (0..ranks.names.len() as u32)
                    .map(|r| search_on.as_ref().is_some_and(|f| f.allows(r << 16)))
                    .collect(),
                None => vec![true; ranks.names.len()],
            };
            for attribute in disabled {
                for (a, s) in allowed.iter_mut().zip(ranks.select(attribute)) {
                    *a &= !s;
                }
            }
            Some(AttributeFilter::new(allowed))
        };
        let search_on = search_on.map(Arc::new);
        let typo_filter = typo_filter.map(Arc::new);
        let build = |relaxed: bool| {
            derivations::QueryBuilder::new(ctx, &analyzer, search_on.clone(), typo_filter.clone())
                .relaxed(relaxed)
                .build(&parsed)
        };
        let mut query = build(false)?;
        let max_total_hits = ctx.settings.pagination.max_total_hits;
        let window_end = request
            .offset
            .saturating_add(request.limit)
            .min(max_total_hits);
        let placeholder = query.terms.is_empty();
        let mut words_rule = None;
        let universe = if placeholder {
            ctx.universe() - &query.negated
        } else {
            let mut words = ranking::WordsRule::new(&query, request.matching_strategy);
            // Beyond Meilisearch: when no document has every term, a short word was likely
            // mistyped ("lcky you"); try again with a typo allowed on short words too.
            if !words.has_full_matches()
                && query.terms.iter().any(|t| !t.is_phrase && t.max_typos == 0)
            {
                let relaxed = build(true)?;
                let relaxed_words = ranking::WordsRule::new(&relaxed, request.matching_strategy);
                if relaxed_words.has_full_matches() {
                    query = relaxed;
                    words = relaxed_words;
                }
            }
            let candidates = words.candidates() - &query.negated;
            words_rule = Some(words);
            candidates
        };
        let selected = match &request.filter {
            // Only the candidates' answers matter, unless pinned documents (which may not be
            // candidates) ask the filter too.
            Some(filter) if request.pins.is_empty() => {
                Some(crate::filter::FilterEvaluator::within(ctx, &universe).evaluate(filter)?)
            }
            Some(filter) => Some(crate::filter::FilterEvaluator::new(ctx).evaluate(filter)?),
            None => None,
        };
        let mut universe = match &selected {
            Some(selected) => universe & selected,
            None => universe,
        };
        // Pinned documents the filter allows take their own places, whatever the query: they
        // leave the organic candidates, which are ranked up to the end of the page.
        let pinned = if request.pins.is_empty() {
            Vec::new()
        } else {
            pins::resolve(ctx, &request.pins, |doc| {
                selected.as_ref().is_none_or(|s| s.contains(doc))
            })?
        };
        for pin in &pinned {
            universe.remove(pin.doc);
        }
        let rank_from = if pinned.is_empty() { request.offset } else { 0 };
        let mut distinct = match distinct_field {
            Some(field) => Some(distinct::Distinct::new(ctx, field, &universe)?),
            None => None,
        };
        let mut rules =
            ranking::rules_for(words_rule, &ctx.settings.ranking_rules, placeholder, &sort);
        // With every field searchable, Meilisearch weighs all fields the same.
        let attribute_count = if ranks.all {
            1
        } else {
            ranks.names.len() as u32
        };
        let mut rank_ctx = ranking::RankCtx::new(ctx, &query, attribute_count);
        let scoring = ranking::Scoring {
            details: request.compute_scores,
            threshold: request.ranking_score_threshold.filter(|t| *t > 0.0),
        };
        let outcome = ranking::bucket_sort(
            &mut rank_ctx,
            &mut rules,
            &universe,
            query.all_terms(),
            rank_from,
            window_end,
            request.deadline,
            scoring,
            distinct.as_mut(),
        )?;
        // Hits are counted, and facets computed, after distinct: one document per value.
        let mut candidates = match &mut distinct {
            Some(distinct) => distinct.reduce(&universe),
            None => universe,
        };
        candidates.extend(pinned.iter().map(|p| p.doc));
        let facet_result = match &facet_names {
            Some(names) => Some(facets::compute(ctx, &candidates, names, &ctx.settings)?),
            None => None,
        };
        let fields = self.schema_fields();
        let geo_target = sort.iter().find_map(|c| match c {
            SortCriterion::GeoPoint { lat, lng, .. } => Some((*lat, *lng)),
            SortCriterion::Field { .. } => None,
        });
        let slots = if pinned.is_empty() {
            (0..outcome.documents.len())
                .map(pins::Slot::Organic)
                .collect()
        } else {
            let positions: Vec<u32> = pinned.iter().map(|p| p.position).collect();
            pins::merge(
                &positions,
                outcome.documents.len(),
                request.offset,
                window_end,
            )
        };
        let mut hits = Vec::with_capacity(slots.len());
        for slot in slots {
            let (id, scores, pinned_at) = match slot {
                pins::Slot::Organic(i) => {
                    let scores = match outcome.details.get(i) {
                        Some(details) if request.compute_scores => Some((
                            ranking::global_score(details),
                            ranking::details_json(details),
                        )),
                        _ => None,
                    };
                    (outcome.documents[i], scores, None)
                }
                // A pin is a placement, not a score: Meilisearch shows it with the full score.
                pins::Slot::Pinned(i) => {
                    let pin = pinned[i];
                    let scores = request
                        .compute_scores
                        .then(|| (1.0, pins::details(pin.position)));
                    (pin.doc, scores, Some(pin.position))
                }
            };
            // Hits repeat from keystroke to keystroke: their stored bytes are cached.
            let source = source_cache::source_bytes(&ctx.searcher, fields, ctx.address(id))?;
            let geo_distance = match geo_target {
                Some(target) => geo_distance(&source, target)?,
                None => None,
            };
            let (ranking_score, ranking_score_details) = match scores {
                Some((score, details)) => (Some(score), Some(details)),
                None => (None, None),
            };
            hits.push(SearchHit {
                geo_distance,
                source,
                ranking_score,
                ranking_score_details,
                pinned: pinned_at,
            });
        }
        Ok(SearchResult {
            hits,
            candidates: candidates.len().saturating_sub(outcome.dropped),
            degraded: outcome.degraded,
            matching_words: matching_words_of(&query),
            facets: facet_result,
            candidate_docs: request.keep_candidates.then_some(candidates),
        })
    }
}

impl Index {
    /// The documents a filter selects, restricted to `ids` when given, in primary key order
    /// (`id_order`), the window `[offset, offset+limit)` read; with the total. Only the page's
    /// documents are read.
    pub fn documents_matching(
        &self,
        filter: &crate::filter::FilterExpr,
        ids: Option<&[String]>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Map<String, Value>>, u64)> {
        let ctx = SearchContext::new(self)?;
        let mut selected = crate::filter::FilterEvaluator::new(&ctx).evaluate(filter)?;
        if let Some(ids) = ids {
            selected &= ids_bitmap(&ctx, ids)?;
        }
        id_order::documents_in_id_order(&ctx, &selected, offset, limit)
    }
}

/// The documents with these ids (those that exist).
fn ids_bitmap(ctx: &SearchContext, ids: &[String]) -> Result<RoaringBitmap> {
    let mut wanted = RoaringBitmap::new();
    for id in ids {
        if let Some(address) = crate::index::find_document(&ctx.searcher, ctx.fields, id)? {
            wanted.insert(ctx.global_id(address));
        }
    }
    Ok(wanted)
}

impl Index {
    /// The ids of the documents `filter` selects, when they are at most `max`; otherwise
    /// `Err(count)` with how many it selects (foreign filters turn these ids into an `IN`
    /// list, which must stay small). Nothing is read when there are too many.
    pub fn ids_matching(
        &self,
        filter: &crate::filter::FilterExpr,
        max: u64,
    ) -> Result<std::result::Result<Vec<String>, u64>> {
        let ctx = SearchContext::new(self)?;
        let selected = crate::filter::FilterEvaluator::new(&ctx).evaluate(filter)?;
        if selected.len() > max {
            return Ok(Err(selected.len()));
        }
        let Some(primary_key) = self.primary_key() else {
            return Ok(Ok(Vec::new()));
        };
        let fields = self.schema_fields();
        let mut ids = Vec::with_capacity(selected.len() as usize);
        for doc in &selected {
            let document = read_source(&ctx.searcher, fields, ctx.address(doc))?;
            if let Ok(id) = crate::documents::extract_document_id(&document, &primary_key) {
                ids.push(id);
            }
        }
        Ok(Ok(ids))
    }
}

impl Index {
    /// The documents routes with `sort`: the documents `filter` selects (all without one),
    /// restricted to `ids` when given, ordered by `sort`, the window `[offset, offset+limit)`
    /// read; with the total.
    pub fn documents_sorted(
        &self,
        filter: Option<&crate::filter::FilterExpr>,
        ids: Option<&[String]>,
        sort: &[SortCriterion],
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Map<String, Value>>, u64)> {
        let ctx = SearchContext::new(self)?;
        let mut universe = match filter {
            Some(filter) => crate::filter::FilterEvaluator::new(&ctx).evaluate(filter)?,
            None => ctx.universe(),
        };
        if let Some(ids) = ids {
            universe &= ids_bitmap(&ctx, ids)?;
        }
        let query = Query {
            terms: Vec::new(),
            derivations: Vec::new(),
            words: Vec::new(),
            word_docs: Vec::new(),
            negated: RoaringBitmap::new(),
        };
        let mut rules = ranking::rules_for(None, &[crate::settings::RankingRule::Sort], true, sort);
        let mut rank_ctx = ranking::RankCtx::new(&ctx, &query, 1);
        let outcome = ranking::bucket_sort(
            &mut rank_ctx,
            &mut rules,
            &universe,
            0,
            offset,
            offset.saturating_add(limit),
            None,
            ranking::Scoring::default(),
            None,
        )?;
        let fields = self.schema_fields();
        let mut documents = Vec::with_capacity(outcome.documents.len());
        for id in outcome.documents {
            documents.push(read_source(&ctx.searcher, fields, ctx.address(id))?);
        }
        Ok((documents, universe.len()))
    }
}

/// One criterion of the `sort` parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SortCriterion {
    /// `field:asc` / `field:desc`.
    Field { field: String, ascending: bool },
    /// `_geoPoint(lat, lng):asc|desc`: by distance to the point.
    GeoPoint { lat: f64, lng: f64, ascending: bool },
}

/// Parses the `_geoPoint(lat, lng)` part of a sort criterion: `None` when it is not one,
/// an error message when it is a malformed one.
fn parse_geo_point(member: &str) -> Option<std::result::Result<(f64, f64), String>> {
    let inner = member.strip_prefix("_geoPoint(")?.strip_suffix(')')?;
    let bad = || {
        format!(
            "Invalid syntax for the geo parameter: expected expression formated like `_geoPoint(latitude, longitude)` and ending by `:asc` or `:desc`, found `{member}`."
        )
    };
    let parsed = inner.split_once(',').and_then(|(lat, lng)| {
        Some((
            lat.trim().parse::<f64>().ok()?,
            lng.trim().parse::<f64>().ok()?,
        ))
    });
    Some(match parsed {
        None => Err(bad()),
        Some((lat, _)) if !(-90.0..=90.0).contains(&lat) => {
            Err("Latitude must be contained between -90 and 90 degrees.".to_string())
        }
        Some((_, lng)) if !(-180.0..=180.0).contains(&lng) => {
            Err("Longitude must be contained between -180 and 180 degrees.".to_string())
        }
        Some(point) => Ok(point),
    })
}

/// The criteria of the `sort` search parameter: `parse_sort_criteria`, and the `sort` ranking
/// rule must be in `rankingRules` to say where they apply.
pub fn parse_sort(criteria: &[String], settings: &IndexSettings) -> Result<Vec<SortCriterion>> {
    let out = parse_sort_criteria(criteria, settings)?;
    if !out.is_empty()
        && !settings
            .ranking_rules
            .contains(&crate::settings::RankingRule::Sort)
    {
        return Err(UserError::new(
            UserErrorKind::InvalidSort,
            "You must specify where `sort` is listed in the rankingRules setting to use the sort parameter at search time.",
        )
        .into());
    }
    Ok(out)
}

/// Sort criteria checked against the sortable attributes (a geo criterion needs `_geo`), with
/// Meilisearch's messages.
pub fn parse_sort_criteria(
    criteria: &[String],
    settings: &IndexSettings,
) -> Result<Vec<SortCriterion>> {
    let error = |message: String| -> crate::error::EngineError {
        UserError::new(UserErrorKind::InvalidSort, message).into()
    };
    let mut out = Vec::new();
    for criterion in criteria {
        let parsed = criterion
            .rsplit_once(':')
            .and_then(|(field, order)| match order {
                "asc" => Some((field, true)),
                "desc" => Some((field, false)),
                _ => None,
            });
        let Some((member, ascending)) = parsed.filter(|(f, _)| !f.is_empty()) else {
            return Err(error(format!(
                "Invalid syntax for the sort parameter: expected expression ending by `:asc` or `:desc`, found `{criterion}`."
            )));
        };
        let (parsed, field) = match parse_geo_point(member) {
            Some(Ok((lat, lng))) => (
                SortCriterion::GeoPoint {
                    lat,
                    lng,
                    ascending,
                },
                "_geo",
            ),
            Some(Err(message)) => return Err(error(message)),
            None => {
                let reserved = match member {
                    "_geo" => Some(format!("`{member}` is a reserved keyword and thus can't be used as a sort expression. Use the _geoPoint(latitude, longitude) built-in rule to sort on _geo field coordinates.")),
                    m if m.starts_with("_geoPoint") => Some(format!("Invalid syntax for the geo parameter: expected expression formated like `_geoPoint(latitude, longitude)` and ending by `:asc` or `:desc`, found `{m}`.")),
                    m if m.starts_with("_geoRadius") || m.starts_with("_geoBoundingBox") || m.starts_with("_geoPolygon") => {
                        let name = m.split('(').next().unwrap_or(m);
                        Some(format!("`{name}` is a reserved keyword and thus can't be used as a sort expression. Use the _geoPoint(latitude, longitude) built-in rule to sort on _geo field coordinates."))
                    }
                    "_geoDistance" => Some(format!("`{member}` is a reserved keyword and thus can't be used as a sort expression.")),
                    _ => None,
                };
                if let Some(message) = reserved {
                    return Err(error(message));
                }
                (
                    SortCriterion::Field {
                        field: member.to_string(),
                        ascending,
                    },
                    member,
                )
            }
        };
        let sortable = &settings.sortable_attributes;
        if !sortable.iter().any(|s| attribute_matches(s, field)) {
            let message = if sortable.is_empty() {
                format!("Attribute `{field}` is not sortable. This index does not have configured sortable attributes.")
            } else {
                let names: Vec<&str> = sortable.iter().map(String::as_str).collect();
                format!(
                    "Attribute `{field}` is not sortable. Available sortable attributes are: `{}`.",
                    names.join(", ")
                )
            };
            return Err(error(message));
        }
        out.push(parsed);
    }
    Ok(out)
}

/// `_geoDistance`: metres from `target` to the `_geo` point of a stored document, reading only
/// that field of its JSON (a hit written from its stored bytes is never parsed whole).
pub fn geo_distance(source: &[u8], target: (f64, f64)) -> Result<Option<u64>> {
    #[derive(serde::Deserialize)]
    struct GeoField {
        #[serde(rename = "_geo")]
        geo: Option<Value>,
    }
    let field: GeoField = serde_json::from_slice(source)?;
    Ok(field
        .geo
        .as_ref()
        .and_then(crate::facet::geo_point)
        .map(|point| crate::filter::haversine(target, point).round() as u64))
}

/// The smallest byte string after every string starting with `prefix` (facet prefixes always
/// have one).
pub(crate) fn context_prefix_upper(prefix: &str) -> Vec<u8> {
    context::prefix_upper_bound(prefix.as_bytes()).unwrap_or_else(|| vec![0xFF; 8])
}

/// For each query term, the document words that match it.
fn matching_words_of(query: &Query) -> MatchingWords {
    let mut words = Vec::new();
    for (i, term) in query.terms.iter().enumerate() {
        if term.is_phrase {
            for word in term.text.split(' ') {
                words.push(MatchingWord {
                    query: word.to_string(),
                    derivations: vec![word.to_string()],
                    is_prefix: false,
                });
            }
            continue;
        }
        let mut derivations: Vec<String> = vec![term.text.clone()];
        for d in query
            .derivations
            .iter()
            .filter(|d| d.covers & (1 << i) != 0)
        {
            let ids: Vec<u32> = match &d.shape {
                // A prefix matches every word starting with the term; `is_prefix` says so.
                Shape::Any(_) if d.kind == DerivationKind::Prefix => continue,
                Shape::Any(ids) => ids.clone(),
                Shape::Sequence(seq) => seq.iter().flatten().copied().collect(),
            };
            for id in ids {
                let word = &query.words[id as usize];
                if !derivations.contains(word) {
                    derivations.push(word.clone());
                }
            }
        }
        words.push(MatchingWord {
            query: term.text.clone(),
            derivations,
            is_prefix: term.is_prefix,
        });
    }
    MatchingWords { words }
}

/// A set of documents, identified by their place across all segments of one searcher.
pub type DocSet = RoaringBitmap;
