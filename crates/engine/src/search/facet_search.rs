//! Facet search (`POST /indexes/{uid}/facet-search`): the string values of one facet that
//! start with what the user typed (typos allowed as for query words), each with how many of
//! the search's candidates have it. The candidates come from the same search as `/search`
//! (`q`, `filter`, matching strategy, `attributesToSearchOn`), run in the same snapshot as the
//! scan of the facet's terms so that document ids agree.

use std::sync::OnceLock;

use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder};
use roaring::RoaringBitmap;

use super::{SearchContext, SearchRequest};
use crate::analysis::normalize_word;
use crate::error::{Result, UserError, UserErrorKind};
use crate::facet;
use crate::index::Index;
use crate::settings::{attribute_matches, FacetOrder, FilterableRule, IndexSettings};

/// One value found, with its count among the candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetHit {
    pub value: String,
    pub count: u64,
}

fn automaton_builder(distance: u8) -> &'static LevenshteinAutomatonBuilder {
    static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 2] =
        [OnceLock::new(), OnceLock::new()];
    BUILDERS[usize::from(distance - 1)]
        .get_or_init(|| LevenshteinAutomatonBuilder::new(distance, true))
}

/// Whether facet search is allowed on `facet`: the first `filterableAttributes` rule selecting
/// it must enable it (a plain attribute name does). The error lists the facet-searchable
/// patterns, as Meilisearch words it.
pub fn check_facet_searchable(facet: &str, settings: &IndexSettings) -> Result<()> {
    let mut patterns: Vec<&str> = Vec::new();
    let mut matched_disabled = None;
    let mut allowed = None;
    for (i, rule) in settings.filterable_attributes.iter().enumerate() {
        let (names, enabled): (Vec<&str>, bool) = match rule {
            FilterableRule::Field(name) => (vec![name.as_str()], true),
            FilterableRule::Patterns {
                attribute_patterns,
                facet_search,
                ..
            } => (
                attribute_patterns.iter().map(String::as_str).collect(),
                *facet_search,
            ),
        };
        if enabled {
            patterns.extend(names.iter().copied());
        }
        if allowed.is_none()
            && matched_disabled.is_none()
            && names.iter().any(|p| attribute_matches(p, facet))
        {
            if enabled {
                allowed = Some(i);
            } else {
                matched_disabled = Some(i);
            }
        }
    }
    if allowed.is_some() {
        return Ok(());
    }
    patterns.sort_unstable();
    patterns.dedup();
    let reason = match (patterns.is_empty(), matched_disabled) {
        (_, Some(rule)) => format!(
            "Note: this attribute matches rule #{rule} in filterableAttributes, but this rule does not enable facetSearch.\nHint: enable facetSearch in rule #{rule} by adding `\"facetSearch\": true` to the rule.\nHint: prepend another rule matching {facet} with facetSearch: true before rule #{rule}"
        ),
        (true, None) => "This index does not have configured facet-searchable attributes. To make it facet-searchable add it to the `filterableAttributes` index settings.".to_string(),
        (false, None) => format!(
            "Available facet-searchable attributes patterns are: `{}`. To make it facet-searchable add it to the `filterableAttributes` index settings.",
            patterns.join(", ")
        ),
    };
    Err(UserError::new(
        UserErrorKind::InvalidFacetSearchFacetName,
        format!("Attribute `{facet}` is not facet-searchable. {reason}"),
    )
    .into())
}

impl Index {
    /// The values of `facet` matching `facet_query` (every value when `None`) among the
    /// candidates of `request`, at most `faceting.maxValuesPerFacet`, in the facet's
    /// `sortFacetValuesBy` order.
    pub fn facet_search(
        &self,
        request: &SearchRequest,
        facet: &str,
        facet_query: Option<&str>,
    ) -> Result<Vec<FacetHit>> {
        let ctx = SearchContext::new(self)?;
        let settings = &ctx.settings;
        if !settings.facet_search {
            return Err(UserError::new(
                UserErrorKind::FacetSearchDisabled,
                "The facet search is disabled for this index",
            )
            .into());
        }
        check_facet_searchable(facet, settings)?;
        let mut request = request.clone();
        request.offset = 0;
        request.limit = 0;
        request.facets = None;
        request.sort = None;
        request.keep_candidates = true;
        let result = self.search_in(&ctx, &request)?;
        let candidates = result.candidate_docs.unwrap_or_default();
        // Values and query are compared folded like query words (case and accents), so that
        // "àdventure" finds "Adventure".
        let query = facet_query
            .map(|q| normalize_word(&facet::normalize(q)))
            .unwrap_or_default();
        let typos = &settings.typo_tolerance;
        let length = query.chars().count();
        let allowed_typos: u8 = if !typos.enabled || query.is_empty() {
            0
        } else if length >= usize::from(typos.two_typos_min_len) {
            2
        } else if length >= usize::from(typos.one_typo_min_len) {
            1
        } else {
            0
        };
        let dfa =
            (allowed_typos > 0).then(|| automaton_builder(allowed_typos).build_prefix_dfa(&query));
        let matches = |normalized: &[u8]| {
            let folded = normalize_word(&String::from_utf8_lossy(normalized));
            match &dfa {
                Some(dfa) => matches!(dfa.eval(folded.as_bytes()), Distance::Exact(_)),
                None => folded.starts_with(&query),
            }
        };
        // Values by normalized form, with the first original spelling, across segments.
        let mut values: Vec<(Vec<u8>, String, RoaringBitmap)> = Vec::new();
        let prefix = facet::string_prefix(facet);
        ctx.for_each_facet_term(
            &prefix,
            &candidates,
            |rest| matches(facet::split_string_rest(rest).0),
            |rest, docs| {
                let (normalized, original) = facet::split_string_rest(rest);
                values.push((
                    normalized.to_vec(),
                    String::from_utf8_lossy(original).into_owned(),
                    docs,
                ));
            },
        )?;
        values.sort_by(|a, b| a.0.cmp(&b.0));
        let mut hits: Vec<(Vec<u8>, String, RoaringBitmap)> = Vec::new();
        for (normalized, original, docs) in values {
            match hits.last_mut() {
                Some(last) if last.0 == normalized => last.2 |= docs,
                _ => hits.push((normalized, original, docs)),
            }
        }
        let mut hits: Vec<FacetHit> = hits
            .into_iter()
            .map(|(_, value, docs)| FacetHit {
                value,
                count: docs.len(),
            })
            .collect();
        let orders = &settings.faceting.sort_facet_values_by;
        let order = orders
            .get(facet)
            .or_else(|| orders.get("*"))
            .copied()
            .unwrap_or(FacetOrder::Alpha);
        if order == FacetOrder::Count {
            hits.sort_by_key(|h| std::cmp::Reverse(h.count));
        }
        hits.truncate(settings.faceting.max_values_per_facet);
        Ok(hits)
    }
}
