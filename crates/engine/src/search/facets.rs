//! Facet distribution and facet stats of a search: for each asked attribute, how many of the
//! candidates (all of them, not the page) have each value, and the smallest and largest
//! numeric value among them. Counted from the attribute's facet columns (`columns.rs`): one
//! pass over the candidates, whatever the number of values.

use roaring::RoaringBitmap;
use serde_json::{json, Map, Value};

use std::sync::Arc;

use super::columns::{ColumnValue, FieldColumn};
use super::context::{for_each_batch, SearchContext, SegmentView};
use crate::error::{Result, UserError, UserErrorKind};
use crate::facet;
use crate::filter::filterable_rule;
use crate::settings::{FacetOrder, IndexSettings};

/// Distribution and stats, shaped as the `facetDistribution` and `facetStats` of a response.
#[derive(Debug, Clone, Default)]
pub struct FacetResult {
    pub distribution: Map<String, Value>,
    pub stats: Map<String, Value>,
}

/// The attributes `facets` names, `*` standing for every known filterable attribute. An
/// attribute that is not filterable is an `invalid_search_facets` error.
pub fn resolve_facets(
    requested: &[String],
    settings: &IndexSettings,
    known_fields: &[String],
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for name in requested {
        if name == "*" {
            for field in known_fields {
                if filterable_rule(settings, field).is_some() && !out.contains(field) {
                    out.push(field.clone());
                }
            }
            continue;
        }
        if filterable_rule(settings, name).is_none() {
            return Err(UserError::new(
                UserErrorKind::InvalidFacets,
                format!(
                    "Invalid facet distribution: Attribute `{name}` is not filterable. {}",
                    crate::filter::available_filterable(settings)
                ),
            )
            .into());
        }
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    Ok(out)
}

/// The order the values of `facet` are listed in.
fn order_of(settings: &IndexSettings, facet: &str) -> FacetOrder {
    let orders = &settings.faceting.sort_facet_values_by;
    orders
        .get(facet)
        .or_else(|| orders.get("*"))
        .copied()
        .unwrap_or(FacetOrder::Alpha)
}

/// How a value is shown: a number formatted once, or the original spelling of a string,
/// borrowed from its column until it makes the page of values.
enum Label<'a> {
    Number(String),
    Text(&'a str),
}

impl Label<'_> {
    fn as_str(&self) -> &str {
        match self {
            Label::Number(s) => s,
            Label::Text(s) => s,
        }
    }
}

/// Counts the candidates of each value of each facet.
pub fn compute(
    ctx: &SearchContext,
    candidates: &RoaringBitmap,
    facets: &[String],
    settings: &IndexSettings,
) -> Result<FacetResult> {
    let mut result = FacetResult::default();
    let max_values = settings.faceting.max_values_per_facet;
    let segments = candidate_segments(ctx, candidates);
    for name in facets {
        let columns = candidate_columns(ctx, name, &segments)?;
        let mut numbers: Vec<(f64, u64)> = Vec::new();
        // (normalized form, original spelling, count), borrowed from the columns.
        let mut strings: Vec<(&[u8], &str, u64)> = Vec::new();
        for (segment, column) in &columns {
            count_values(ctx, segment, column, |value, count| match value {
                ColumnValue::Number(n) => numbers.push((n, count)),
                ColumnValue::Text(normalized, original) => {
                    strings.push((normalized, original, count))
                }
            });
        }
        // Numbers first (in numeric order), then strings (in normalized order): the "alpha"
        // order.
        numbers.sort_by(|a, b| a.0.total_cmp(&b.0));
        let numbers = merge_counts(numbers, |a, b| a == b);
        let min = numbers.first().map(|(n, _)| *n);
        let max = numbers.last().map(|(n, _)| *n);
        let mut values: Vec<(Label<'_>, u64)> = numbers
            .into_iter()
            .map(|(n, count)| (Label::Number(facet::format_number(n)), count))
            .collect();
        // Several segments list the same value: merge them, keeping one original spelling.
        strings.sort_by(|a, b| a.0.cmp(b.0));
        let mut merged: Vec<(&[u8], &str, u64)> = Vec::new();
        for (normalized, original, count) in strings {
            match merged.last_mut() {
                Some(last) if last.0 == normalized => last.2 += count,
                _ => merged.push((normalized, original, count)),
            }
        }
        // A string spelt like a number (`"2016"` beside `2016`) is that number's value.
        let numeric: std::collections::HashMap<String, usize> = values
            .iter()
            .enumerate()
            .map(|(i, (v, _))| (v.as_str().to_string(), i))
            .collect();
        for (_, original, count) in merged {
            match numeric.get(original) {
                Some(&i) => values[i].1 += count,
                None => values.push((Label::Text(original), count)),
            }
        }
        if order_of(settings, name) == FacetOrder::Count {
            // Stable: equal counts keep the alpha order.
            values.sort_by_key(|v| std::cmp::Reverse(v.1));
        }
        values.truncate(max_values);
        let map: Map<String, Value> = values
            .into_iter()
            .map(|(label, count)| {
                let label = match label {
                    Label::Number(s) => s,
                    Label::Text(s) => s.to_string(),
                };
                (label, json!(count))
            })
            .collect();
        result.distribution.insert(name.clone(), Value::Object(map));
        if let (Some(min), Some(max)) = (min, max) {
            result
                .stats
                .insert(name.clone(), json!({"min": min, "max": max}));
        }
    }
    Ok(result)
}

/// Merges neighbours that `same` says are equal, adding their counts.
fn merge_counts<T: Copy>(items: Vec<(T, u64)>, same: impl Fn(T, T) -> bool) -> Vec<(T, u64)> {
    let mut out: Vec<(T, u64)> = Vec::new();
    for (v, c) in items {
        match out.last_mut() {
            Some(last) if same(last.0, v) => last.1 += c,
            _ => out.push((v, c)),
        }
    }
    out
}

/// One segment's candidates, walked once for every facet asked: the roaring iterator costs
/// several times what counting a document does.
struct SegmentCandidates<'c> {
    view: &'c SegmentView,
    members: Members,
}

enum Members {
    /// Every live document of the segment (a placeholder search, the first page of a catalog):
    /// counted by walking the column itself, which is faster than any list of them.
    Every,
    /// The candidates, as global ids ascending.
    Listed(Vec<u32>),
}

/// The segments holding candidates, with their candidates.
fn candidate_segments<'c>(
    ctx: &'c SearchContext,
    candidates: &RoaringBitmap,
) -> Vec<SegmentCandidates<'c>> {
    let mut out = Vec::new();
    for view in ctx.segments() {
        let in_segment = candidates.range_cardinality(view.range());
        if in_segment == 0 {
            continue;
        }
        let members = if in_segment == u64::from(ctx.segment_reader(view).num_docs()) {
            Members::Every
        } else {
            let mut listed = Vec::with_capacity(in_segment as usize);
            for_each_batch(candidates, view.range(), |docs| {
                listed.extend_from_slice(docs)
            });
            Members::Listed(listed)
        };
        out.push(SegmentCandidates { view, members });
    }
    out
}

/// The segments holding candidates, with the column of `field` in each (skipping empty ones).
fn candidate_columns<'s, 'c>(
    ctx: &SearchContext,
    field: &str,
    segments: &'s [SegmentCandidates<'c>],
) -> Result<Vec<(&'s SegmentCandidates<'c>, Arc<FieldColumn>)>> {
    let mut out = Vec::new();
    for segment in segments {
        let column = ctx.column(segment.view, field)?;
        if !column.is_empty() {
            out.push((segment, column));
        }
    }
    Ok(out)
}

/// Calls `f` with each value of the column some candidate of the segment has and how many
/// candidates have it: one pass over the candidates, whatever the number of values.
fn count_values<'a>(
    ctx: &SearchContext,
    segment: &SegmentCandidates<'_>,
    column: &'a FieldColumn,
    mut f: impl FnMut(ColumnValue<'a>, u64),
) {
    let mut counts: Vec<u32> = vec![0; column.len()];
    let view = segment.view;
    match &segment.members {
        Members::Every => {
            let alive = ctx.segment_reader(view).alive_bitset();
            column.count_every(view.max_doc, alive, &mut counts)
        }
        Members::Listed(docs) => column.count_ords(docs, view.base, &mut counts),
    }
    for (ord, count) in counts.iter().enumerate() {
        if *count > 0 {
            f(column.value(ord as u32), u64::from(*count));
        }
    }
}

impl crate::index::Index {
    /// The facets of the documents any of `requests` matches, each document counted once:
    /// what a federated search shows for an index several of its queries target. The searches
    /// run in one snapshot so that their candidates can be united.
    pub fn facets_of_union(
        &self,
        requests: &[super::SearchRequest],
        facets: &[String],
    ) -> Result<FacetResult> {
        let ctx = SearchContext::new(self)?;
        let names = resolve_facets(facets, &ctx.settings, &ctx.state.fields)?;
        let mut union = RoaringBitmap::new();
        for request in requests {
            let mut request = request.clone();
            request.offset = 0;
            request.limit = 0;
            request.facets = None;
            request.keep_candidates = true;
            let result = self.search_in(&ctx, &request)?;
            union |= result.candidate_docs.unwrap_or_default();
        }
        compute(&ctx, &union, &names, &ctx.settings)
    }
}
