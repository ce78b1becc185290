//! Facet distribution and facet stats of a search: for each asked attribute, how many of the
//! candidates (all of them, not the page) have each value, and the smallest and largest
//! numeric value among them. Read from the facet terms (`crate::facet`) by scanning the terms
//! of the attribute and intersecting each term's documents with the candidates.

use roaring::RoaringBitmap;
use serde_json::{json, Map, Value};

use super::context::SearchContext;
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

/// Counts the candidates of each value of each facet.
pub fn compute(
    ctx: &SearchContext,
    candidates: &RoaringBitmap,
    facets: &[String],
    settings: &IndexSettings,
) -> Result<FacetResult> {
    let mut result = FacetResult::default();
    let max_values = settings.faceting.max_values_per_facet;
    for name in facets {
        // Numbers first (in numeric order), then strings (in normalized order): the "alpha"
        // order.
        let mut values: Vec<(String, u64)> = Vec::new();
        let mut min: Option<f64> = None;
        let mut max: Option<f64> = None;
        let prefix = facet::number_prefix(name);
        let mut numbers: Vec<(f64, u64)> = Vec::new();
        for_each_term(ctx, &prefix, candidates, |rest, count| {
            if let Some(n) = std::str::from_utf8(rest)
                .ok()
                .and_then(facet::decode_number)
            {
                numbers.push((n, count));
            }
        })?;
        numbers.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (n, count) in merge_counts(numbers, |a, b| a == b) {
            min = Some(min.map_or(n, |m: f64| m.min(n)));
            max = Some(max.map_or(n, |m: f64| m.max(n)));
            values.push((facet::format_number(n), count));
        }
        let prefix = facet::string_prefix(name);
        let mut strings: Vec<(Vec<u8>, String, u64)> = Vec::new();
        for_each_term(ctx, &prefix, candidates, |rest, count| {
            let (normalized, original) = facet::split_string_rest(rest);
            strings.push((
                normalized.to_vec(),
                String::from_utf8_lossy(original).into_owned(),
                count,
            ));
        })?;
        // Several segments list the same value: merge them, keeping one original spelling.
        strings.sort_by(|a, b| a.0.cmp(&b.0));
        let mut merged: Vec<(Vec<u8>, String, u64)> = Vec::new();
        for (normalized, original, count) in strings {
            match merged.last_mut() {
                Some(last) if last.0 == normalized => last.2 += count,
                _ => merged.push((normalized, original, count)),
            }
        }
        let mut numeric: std::collections::HashMap<String, usize> = values
            .iter()
            .enumerate()
            .map(|(i, (v, _))| (v.clone(), i))
            .collect();
        for (_, original, count) in merged {
            match numeric.get(&original) {
                Some(&i) => values[i].1 += count,
                None => {
                    numeric.insert(original.clone(), values.len());
                    values.push((original, count));
                }
            }
        }
        if order_of(settings, name) == FacetOrder::Count {
            // Stable: equal counts keep the alpha order.
            values.sort_by_key(|v| std::cmp::Reverse(v.1));
        }
        values.truncate(max_values);
        let map: Map<String, Value> = values
            .into_iter()
            .map(|(value, count)| (value, json!(count)))
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

/// Calls `f` with the rest of each term under `prefix` (after it) and how many candidates
/// have it, for every term that some candidate has.
fn for_each_term(
    ctx: &SearchContext,
    prefix: &str,
    candidates: &RoaringBitmap,
    mut f: impl FnMut(&[u8], u64),
) -> Result<()> {
    let upper = super::context::prefix_upper_bound(prefix.as_bytes());
    for view in ctx.segments() {
        let range = view.range();
        let mut local = RoaringBitmap::new();
        local.insert_range(range);
        let local = &local & candidates;
        if local.is_empty() {
            continue;
        }
        let mut builder = view.facets.terms().range().ge(prefix.as_bytes());
        if let Some(upper) = &upper {
            builder = builder.lt(upper);
        }
        let mut stream = builder.into_stream()?;
        while stream.advance() {
            let mut docs = RoaringBitmap::new();
            ctx.push_keyword_docs(view, stream.value(), &mut docs)?;
            let count = docs.intersection_len(&local);
            if count > 0 {
                f(&stream.key()[prefix.len()..], count);
            }
        }
    }
    Ok(())
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
