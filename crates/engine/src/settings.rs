//! The resolved settings of one index: every value present, Meilisearch's defaults filled in.
//! Stored with the index (in each commit's payload) so that documents and the settings they were
//! indexed with can never disagree after a crash.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IndexSettings {
    /// `None` means every field (`["*"]`).
    pub displayed_attributes: Option<Vec<String>>,
    /// `None` means every field (`["*"]`), ranked in the order fields were first seen.
    pub searchable_attributes: Option<Vec<String>>,
    pub filterable_attributes: Vec<FilterableRule>,
    pub sortable_attributes: BTreeSet<String>,
    /// `foreignKeys` (experimental): fields whose values are ids of another index's documents.
    pub foreign_keys: Vec<ForeignKey>,
    pub ranking_rules: Vec<RankingRule>,
    pub stop_words: BTreeSet<String>,
    pub non_separator_tokens: BTreeSet<String>,
    pub separator_tokens: BTreeSet<String>,
    pub dictionary: BTreeSet<String>,
    pub synonyms: BTreeMap<String, Vec<String>>,
    pub distinct_attribute: Option<String>,
    pub proximity_precision: ProximityPrecision,
    pub typo_tolerance: TypoTolerance,
    pub faceting: Faceting,
    pub pagination: Pagination,
    /// Embedder configurations, stored as given until vector search exists.
    pub embedders: BTreeMap<String, serde_json::Value>,
    pub search_cutoff_ms: Option<u64>,
    pub localized_attributes: Option<Vec<LocalizedRule>>,
    pub facet_search: bool,
    pub prefix_search: PrefixSearch,
    /// The index's `chat` settings: how the chat search tool describes and renders it.
    pub chat: ChatSettings,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            displayed_attributes: None,
            searchable_attributes: None,
            filterable_attributes: Vec::new(),
            sortable_attributes: BTreeSet::new(),
            foreign_keys: Vec::new(),
            ranking_rules: RankingRule::defaults(),
            stop_words: BTreeSet::new(),
            non_separator_tokens: BTreeSet::new(),
            separator_tokens: BTreeSet::new(),
            dictionary: BTreeSet::new(),
            synonyms: BTreeMap::new(),
            distinct_attribute: None,
            proximity_precision: ProximityPrecision::ByWord,
            typo_tolerance: TypoTolerance::default(),
            faceting: Faceting::default(),
            pagination: Pagination::default(),
            embedders: BTreeMap::new(),
            search_cutoff_ms: None,
            localized_attributes: None,
            facet_search: true,
            prefix_search: PrefixSearch::IndexingTime,
            chat: ChatSettings::default(),
        }
    }
}

/// A field of this index's documents holding ids of documents of another index: searches show
/// those documents in place of the ids, and `_foreign(field, filter)` filters through them.
/// Only answers change with it, never what is indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub foreign_index_uid: String,
    pub field_name: String,
}

/// The `chat` settings of an index (`description`, `documentTemplate`,
/// `documentTemplateMaxBytes`, `searchParameters`). They shape chat answers only, never what is
/// indexed. `search_parameters` is kept as the object the caller sent (validated on the way in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatSettings {
    pub description: String,
    pub document_template: String,
    pub document_template_max_bytes: usize,
    pub search_parameters: serde_json::Map<String, serde_json::Value>,
}

impl Default for ChatSettings {
    fn default() -> Self {
        ChatSettings {
            description: String::new(),
            document_template: crate::template::DEFAULT_DOCUMENT_TEMPLATE.to_string(),
            document_template_max_bytes: crate::template::DEFAULT_DOCUMENT_TEMPLATE_MAX_BYTES,
            search_parameters: serde_json::Map::new(),
        }
    }
}

impl IndexSettings {
    /// Whether going from `self` to `new` changes what is written into the index, so the
    /// documents must be indexed again. Settings that only shape answers apply at once.
    pub fn needs_reindex(&self, new: &IndexSettings) -> bool {
        self.searchable_attributes != new.searchable_attributes
            || self.filterable_attributes != new.filterable_attributes
            || self.sortable_attributes != new.sortable_attributes
            || self.stop_words != new.stop_words
            || self.non_separator_tokens != new.non_separator_tokens
            || self.separator_tokens != new.separator_tokens
            || self.dictionary != new.dictionary
            || self.proximity_precision != new.proximity_precision
            || self.localized_attributes != new.localized_attributes
            || self.distinct_attribute != new.distinct_attribute
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterableRule {
    Field(String),
    Patterns {
        attribute_patterns: Vec<String>,
        facet_search: bool,
        equality: bool,
        comparison: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RankingRule {
    Words,
    Typo,
    Proximity,
    Attribute,
    AttributeRank,
    WordPosition,
    Sort,
    Exactness,
    Asc(String),
    Desc(String),
}

impl RankingRule {
    pub fn defaults() -> Vec<RankingRule> {
        // Meilisearch's default since 1.36: attribute split into its two halves.
        vec![
            RankingRule::Words,
            RankingRule::Typo,
            RankingRule::Proximity,
            RankingRule::AttributeRank,
            RankingRule::Sort,
            RankingRule::WordPosition,
            RankingRule::Exactness,
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProximityPrecision {
    ByWord,
    ByAttribute,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TypoTolerance {
    pub enabled: bool,
    pub one_typo_min_len: u8,
    pub two_typos_min_len: u8,
    pub disable_on_words: BTreeSet<String>,
    pub disable_on_attributes: BTreeSet<String>,
    pub disable_on_numbers: bool,
}

impl Default for TypoTolerance {
    fn default() -> Self {
        TypoTolerance {
            enabled: true,
            one_typo_min_len: 5,
            two_typos_min_len: 9,
            disable_on_words: BTreeSet::new(),
            disable_on_attributes: BTreeSet::new(),
            disable_on_numbers: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FacetOrder {
    Alpha,
    Count,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faceting {
    pub max_values_per_facet: usize,
    pub sort_facet_values_by: BTreeMap<String, FacetOrder>,
}

impl Default for Faceting {
    fn default() -> Self {
        Faceting {
            max_values_per_facet: 100,
            sort_facet_values_by: BTreeMap::from([("*".to_string(), FacetOrder::Alpha)]),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pagination {
    pub max_total_hits: usize,
}

impl Default for Pagination {
    fn default() -> Self {
        Pagination {
            max_total_hits: 1000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedRule {
    pub attribute_patterns: Vec<String>,
    pub locales: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrefixSearch {
    IndexingTime,
    Disabled,
}

/// Whether `field` is selected by `pattern` as Meilisearch reads attribute lists: an exact name,
/// `*`, a parent object (`a` selects `a.b`), or a pattern with `*` at its start or end.
pub fn attribute_matches(pattern: &str, field: &str) -> bool {
    if pattern == "*" || pattern == field {
        return true;
    }
    if field.len() > pattern.len()
        && field.starts_with(pattern)
        && field.as_bytes()[pattern.len()] == b'.'
    {
        return true;
    }
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(rest), _) if rest.ends_with('*') && rest.len() > 1 => {
            field.contains(&rest[..rest.len() - 1])
        }
        (Some(suffix), _) => field.ends_with(suffix),
        (None, Some(prefix)) => field.starts_with(prefix),
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_patterns() {
        let cases = [
            ("*", "title", true),
            ("title", "title", true),
            ("title", "titles", false),
            ("author", "author.name", true),
            ("author.name", "author", false),
            ("genre*", "genres", true),
            ("*_id", "movie_id", true),
            ("*_id", "movie", false),
            ("*at*", "rating", true),
        ];
        for (pattern, field, expected) in cases {
            assert_eq!(
                attribute_matches(pattern, field),
                expected,
                "{pattern} ~ {field}"
            );
        }
    }

    #[test]
    fn reindex_only_for_indexing_settings() {
        let base = IndexSettings::default();
        let mut shaped = base.clone();
        shaped.ranking_rules.reverse();
        shaped.displayed_attributes = Some(vec!["title".into()]);
        assert!(!base.needs_reindex(&shaped));
        let mut indexed = base.clone();
        indexed.searchable_attributes = Some(vec!["title".into()]);
        assert!(base.needs_reindex(&indexed));
    }
}
