//! The bridge between settings as the API speaks them (a patch where each key is set, reset or
//! absent) and the resolved settings an index stores. Kept in one place so that the two
//! directions cannot drift apart.

use quarry_api_types::settings::{
    FacetValuesSort, FacetingSettings, FilterFeatures, FilterableAttributesFeatures,
    FilterableAttributesPatterns, FilterableAttributesRule, ForeignKey as ForeignKeyView,
    LocalizedAttributesRule, MinWordSizeForTypos, PaginationSettings, PrefixSearchView,
    ProximityPrecisionView, RankingRuleView, Setting, Settings, TypoSettings,
};
use quarry_engine::settings::{
    ChatSettings, FacetOrder, Faceting, FilterableRule, ForeignKey, IndexSettings, LocalizedRule,
    Pagination, PrefixSearch, ProximityPrecision, RankingRule, TypoTolerance,
};

/// Applies `value` to `target`: `Set` replaces, `Reset` restores `default`, `NotSet` keeps.
fn apply<T: Clone>(target: &mut T, value: &Setting<T>, default: T) {
    match value {
        Setting::Set(v) => *target = v.clone(),
        Setting::Reset => *target = default,
        Setting::NotSet => {}
    }
}

fn apply_map<W, T>(target: &mut T, value: &Setting<W>, default: T, convert: impl FnOnce(&W) -> T) {
    match value {
        Setting::Set(v) => *target = convert(v),
        Setting::Reset => *target = default,
        Setting::NotSet => {}
    }
}

fn star_is_all(list: &[String]) -> Option<Vec<String>> {
    if list.iter().any(|a| a == "*") {
        None
    } else {
        Some(list.to_vec())
    }
}

/// The settings that result from applying `patch` to `current`.
pub fn apply_patch(current: &IndexSettings, patch: &Settings) -> IndexSettings {
    let defaults = IndexSettings::default();
    let mut s = current.clone();
    apply_map(
        &mut s.displayed_attributes,
        &patch.displayed_attributes,
        None,
        |l| star_is_all(l),
    );
    apply_map(
        &mut s.searchable_attributes,
        &patch.searchable_attributes,
        None,
        |l| star_is_all(l),
    );
    apply_map(
        &mut s.filterable_attributes,
        &patch.filterable_attributes,
        Vec::new(),
        |rules| rules.iter().map(filterable_to_engine).collect(),
    );
    apply(
        &mut s.sortable_attributes,
        &patch.sortable_attributes,
        defaults.sortable_attributes.clone(),
    );
    apply_map(
        &mut s.foreign_keys,
        &patch.foreign_keys,
        Vec::new(),
        |keys| {
            keys.iter()
                .map(|key| ForeignKey {
                    foreign_index_uid: key.foreign_index_uid.clone(),
                    field_name: key.field_name.clone(),
                })
                .collect()
        },
    );
    apply_map(
        &mut s.ranking_rules,
        &patch.ranking_rules,
        defaults.ranking_rules.clone(),
        |rules| rules.iter().map(ranking_rule_to_engine).collect(),
    );
    apply(&mut s.stop_words, &patch.stop_words, Default::default());
    apply(
        &mut s.non_separator_tokens,
        &patch.non_separator_tokens,
        Default::default(),
    );
    apply(
        &mut s.separator_tokens,
        &patch.separator_tokens,
        Default::default(),
    );
    apply(&mut s.dictionary, &patch.dictionary, Default::default());
    apply(&mut s.synonyms, &patch.synonyms, Default::default());
    apply_map(
        &mut s.distinct_attribute,
        &patch.distinct_attribute,
        None,
        |d| Some(d.clone()),
    );
    apply_map(
        &mut s.proximity_precision,
        &patch.proximity_precision,
        ProximityPrecision::ByWord,
        |p| match p {
            ProximityPrecisionView::ByWord => ProximityPrecision::ByWord,
            ProximityPrecisionView::ByAttribute => ProximityPrecision::ByAttribute,
        },
    );
    match &patch.typo_tolerance {
        Setting::Set(typo) => apply_typo(&mut s.typo_tolerance, typo),
        Setting::Reset => s.typo_tolerance = TypoTolerance::default(),
        Setting::NotSet => {}
    }
    match &patch.faceting {
        Setting::Set(f) => {
            apply(
                &mut s.faceting.max_values_per_facet,
                &f.max_values_per_facet,
                Faceting::default().max_values_per_facet,
            );
            apply_map(
                &mut s.faceting.sort_facet_values_by,
                &f.sort_facet_values_by,
                Faceting::default().sort_facet_values_by,
                |by| {
                    let mut map: std::collections::BTreeMap<String, FacetOrder> = by
                        .iter()
                        .map(|(k, v)| {
                            let order = match v {
                                FacetValuesSort::Alpha => FacetOrder::Alpha,
                                FacetValuesSort::Count => FacetOrder::Count,
                            };
                            (k.clone(), order)
                        })
                        .collect();
                    map.entry("*".to_string()).or_insert(FacetOrder::Alpha);
                    map
                },
            );
        }
        Setting::Reset => s.faceting = Faceting::default(),
        Setting::NotSet => {}
    }
    match &patch.pagination {
        Setting::Set(p) => apply(
            &mut s.pagination.max_total_hits,
            &p.max_total_hits,
            Pagination::default().max_total_hits,
        ),
        Setting::Reset => s.pagination = Pagination::default(),
        Setting::NotSet => {}
    }
    match &patch.embedders {
        Setting::Set(embedders) => {
            for (name, value) in embedders {
                match value {
                    Setting::Set(v) => {
                        let merged = merge_embedder(s.embedders.get(name), v);
                        s.embedders.insert(name.clone(), merged);
                    }
                    Setting::Reset => {
                        s.embedders.remove(name);
                    }
                    Setting::NotSet => {}
                }
            }
        }
        Setting::Reset => s.embedders.clear(),
        Setting::NotSet => {}
    }
    apply_map(
        &mut s.search_cutoff_ms,
        &patch.search_cutoff_ms,
        None,
        |v| Some(*v),
    );
    apply_map(
        &mut s.localized_attributes,
        &patch.localized_attributes,
        None,
        |rules| {
            Some(
                rules
                    .iter()
                    .map(|r| LocalizedRule {
                        attribute_patterns: r.attribute_patterns.clone(),
                        locales: r.locales.clone(),
                    })
                    .collect(),
            )
        },
    );
    apply(&mut s.facet_search, &patch.facet_search, true);
    apply_map(
        &mut s.prefix_search,
        &patch.prefix_search,
        PrefixSearch::IndexingTime,
        |p| match p {
            PrefixSearchView::IndexingTime => PrefixSearch::IndexingTime,
            PrefixSearchView::Disabled => PrefixSearch::Disabled,
        },
    );
    match &patch.chat {
        Setting::Set(chat) => apply_chat(&mut s.chat, chat),
        Setting::Reset => s.chat = ChatSettings::default(),
        Setting::NotSet => {}
    }
    s
}

/// Applies a `chat` change key by key; search parameters merge one by one (`null` removes
/// one), as Meilisearch merges them.
fn apply_chat(chat: &mut ChatSettings, patch: &quarry_api_types::chat::ChatIndexSettings) {
    let defaults = ChatSettings::default();
    apply(
        &mut chat.description,
        &patch.description,
        defaults.description,
    );
    apply(
        &mut chat.document_template,
        &patch.document_template,
        defaults.document_template,
    );
    apply(
        &mut chat.document_template_max_bytes,
        &patch.document_template_max_bytes,
        defaults.document_template_max_bytes,
    );
    match &patch.search_parameters {
        Setting::Set(parameters) => {
            for (name, value) in parameters {
                if value.is_null() {
                    chat.search_parameters.remove(name);
                } else {
                    chat.search_parameters.insert(name.clone(), value.clone());
                }
            }
        }
        Setting::Reset => chat.search_parameters.clear(),
        Setting::NotSet => {}
    }
}

fn apply_typo(t: &mut TypoTolerance, patch: &TypoSettings) {
    let d = TypoTolerance::default();
    apply(&mut t.enabled, &patch.enabled, d.enabled);
    match &patch.min_word_size_for_typos {
        Setting::Set(sizes) => {
            apply(&mut t.one_typo_min_len, &sizes.one_typo, d.one_typo_min_len);
            apply(
                &mut t.two_typos_min_len,
                &sizes.two_typos,
                d.two_typos_min_len,
            );
        }
        Setting::Reset => {
            t.one_typo_min_len = d.one_typo_min_len;
            t.two_typos_min_len = d.two_typos_min_len;
        }
        Setting::NotSet => {}
    }
    apply(
        &mut t.disable_on_words,
        &patch.disable_on_words,
        d.disable_on_words.clone(),
    );
    apply(
        &mut t.disable_on_attributes,
        &patch.disable_on_attributes,
        d.disable_on_attributes.clone(),
    );
    apply(
        &mut t.disable_on_numbers,
        &patch.disable_on_numbers,
        d.disable_on_numbers,
    );
}

fn filterable_to_engine(rule: &FilterableAttributesRule) -> FilterableRule {
    match rule {
        FilterableAttributesRule::Field(name) => FilterableRule::Field(name.clone()),
        FilterableAttributesRule::Pattern(p) => FilterableRule::Patterns {
            attribute_patterns: p.attribute_patterns.clone(),
            facet_search: p.features.facet_search,
            equality: p.features.filter.equality,
            comparison: p.features.filter.comparison,
        },
    }
}

fn ranking_rule_to_engine(rule: &RankingRuleView) -> RankingRule {
    match rule {
        RankingRuleView::Words => RankingRule::Words,
        RankingRuleView::Typo => RankingRule::Typo,
        RankingRuleView::Proximity => RankingRule::Proximity,
        RankingRuleView::Attribute => RankingRule::Attribute,
        RankingRuleView::AttributeRank => RankingRule::AttributeRank,
        RankingRuleView::WordPosition => RankingRule::WordPosition,
        RankingRuleView::Sort => RankingRule::Sort,
        RankingRuleView::Exactness => RankingRule::Exactness,
        RankingRuleView::Asc(f) => RankingRule::Asc(f.clone()),
        RankingRuleView::Desc(f) => RankingRule::Desc(f.clone()),
    }
}

/// The full wire view of resolved settings: every key set.
pub fn to_wire(s: &IndexSettings) -> Settings {
    let all = || vec!["*".to_string()];
    Settings {
        displayed_attributes: Setting::Set(s.displayed_attributes.clone().unwrap_or_else(all)),
        searchable_attributes: Setting::Set(s.searchable_attributes.clone().unwrap_or_else(all)),
        filterable_attributes: Setting::Set(
            s.filterable_attributes
                .iter()
                .map(|r| match r {
                    FilterableRule::Field(f) => FilterableAttributesRule::Field(f.clone()),
                    FilterableRule::Patterns {
                        attribute_patterns,
                        facet_search,
                        equality,
                        comparison,
                    } => FilterableAttributesRule::Pattern(FilterableAttributesPatterns {
                        attribute_patterns: attribute_patterns.clone(),
                        features: FilterableAttributesFeatures {
                            facet_search: *facet_search,
                            filter: FilterFeatures {
                                equality: *equality,
                                comparison: *comparison,
                            },
                        },
                    }),
                })
                .collect(),
        ),
        sortable_attributes: Setting::Set(s.sortable_attributes.clone()),
        foreign_keys: Setting::Set(
            s.foreign_keys
                .iter()
                .map(|key| ForeignKeyView {
                    foreign_index_uid: key.foreign_index_uid.clone(),
                    field_name: key.field_name.clone(),
                })
                .collect(),
        ),
        ranking_rules: Setting::Set(
            s.ranking_rules
                .iter()
                .map(|r| match r {
                    RankingRule::Words => RankingRuleView::Words,
                    RankingRule::Typo => RankingRuleView::Typo,
                    RankingRule::Proximity => RankingRuleView::Proximity,
                    RankingRule::Attribute => RankingRuleView::Attribute,
                    RankingRule::AttributeRank => RankingRuleView::AttributeRank,
                    RankingRule::WordPosition => RankingRuleView::WordPosition,
                    RankingRule::Sort => RankingRuleView::Sort,
                    RankingRule::Exactness => RankingRuleView::Exactness,
                    RankingRule::Asc(f) => RankingRuleView::Asc(f.clone()),
                    RankingRule::Desc(f) => RankingRuleView::Desc(f.clone()),
                })
                .collect(),
        ),
        stop_words: Setting::Set(s.stop_words.clone()),
        non_separator_tokens: Setting::Set(s.non_separator_tokens.clone()),
        separator_tokens: Setting::Set(s.separator_tokens.clone()),
        dictionary: Setting::Set(s.dictionary.clone()),
        synonyms: Setting::Set(s.synonyms.clone()),
        distinct_attribute: match &s.distinct_attribute {
            Some(d) => Setting::Set(d.clone()),
            None => Setting::Reset,
        },
        proximity_precision: Setting::Set(match s.proximity_precision {
            ProximityPrecision::ByWord => ProximityPrecisionView::ByWord,
            ProximityPrecision::ByAttribute => ProximityPrecisionView::ByAttribute,
        }),
        typo_tolerance: Setting::Set(TypoSettings {
            enabled: Setting::Set(s.typo_tolerance.enabled),
            min_word_size_for_typos: Setting::Set(MinWordSizeForTypos {
                one_typo: Setting::Set(s.typo_tolerance.one_typo_min_len),
                two_typos: Setting::Set(s.typo_tolerance.two_typos_min_len),
            }),
            disable_on_words: Setting::Set(s.typo_tolerance.disable_on_words.clone()),
            disable_on_attributes: Setting::Set(s.typo_tolerance.disable_on_attributes.clone()),
            disable_on_numbers: Setting::Set(s.typo_tolerance.disable_on_numbers),
        }),
        faceting: Setting::Set(FacetingSettings {
            max_values_per_facet: Setting::Set(s.faceting.max_values_per_facet),
            sort_facet_values_by: Setting::Set(
                s.faceting
                    .sort_facet_values_by
                    .iter()
                    .map(|(k, v)| {
                        let order = match v {
                            FacetOrder::Alpha => FacetValuesSort::Alpha,
                            FacetOrder::Count => FacetValuesSort::Count,
                        };
                        (k.clone(), order)
                    })
                    .collect(),
            ),
        }),
        pagination: Setting::Set(PaginationSettings {
            max_total_hits: Setting::Set(s.pagination.max_total_hits),
        }),
        embedders: Setting::Set(
            s.embedders
                .iter()
                .map(|(k, v)| (k.clone(), Setting::Set(v.clone())))
                .collect(),
        ),
        search_cutoff_ms: match s.search_cutoff_ms {
            Some(ms) => Setting::Set(ms),
            None => Setting::Reset,
        },
        localized_attributes: match &s.localized_attributes {
            Some(rules) => Setting::Set(
                rules
                    .iter()
                    .map(|r| LocalizedAttributesRule {
                        attribute_patterns: r.attribute_patterns.clone(),
                        locales: r.locales.clone(),
                    })
                    .collect(),
            ),
            None => Setting::Reset,
        },
        facet_search: Setting::Set(s.facet_search),
        prefix_search: Setting::Set(match s.prefix_search {
            PrefixSearch::IndexingTime => PrefixSearchView::IndexingTime,
            PrefixSearch::Disabled => PrefixSearchView::Disabled,
        }),
        chat: Setting::Set(quarry_api_types::chat::ChatIndexSettings {
            description: Setting::Set(s.chat.description.clone()),
            document_template: Setting::Set(s.chat.document_template.clone()),
            document_template_max_bytes: Setting::Set(s.chat.document_template_max_bytes),
            search_parameters: Setting::Set(s.chat.search_parameters.clone()),
        }),
    }
}

/// An embedder update as Meilisearch applies it: a new embedder, or one whose `source`
/// changes, takes the new configuration (with the default `openAi` source when it names
/// none); otherwise the given fields replace the old ones and a `null` field goes back to its
/// default (it is removed).
fn merge_embedder(old: Option<&serde_json::Value>, new: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let (Some(Value::Object(old)), Value::Object(new)) = (old, new) else {
        let mut fresh = new.clone();
        if let Value::Object(fields) = &mut fresh {
            fields.retain(|_, v| !v.is_null());
            fields
                .entry("source")
                .or_insert_with(|| Value::from("openAi"));
        }
        return fresh;
    };
    let new_source = new.get("source").filter(|s| !s.is_null());
    if new_source.is_some_and(|s| Some(s) != old.get("source")) {
        let mut fresh = new.clone();
        fresh.retain(|_, v| !v.is_null());
        return Value::Object(fresh);
    }
    let mut merged = old.clone();
    for (field, value) in new {
        if value.is_null() && field != "source" {
            merged.remove(field);
        } else if !value.is_null() {
            merged.insert(field.clone(), value.clone());
        }
    }
    Value::Object(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_the_wire() {
        let defaults = IndexSettings::default();
        assert_eq!(apply_patch(&defaults, &to_wire(&defaults)), defaults);
        let json = to_wire(&defaults).to_json();
        assert_eq!(json["displayedAttributes"], serde_json::json!(["*"]));
        assert_eq!(json["distinctAttribute"], serde_json::Value::Null);
        assert_eq!(json["pagination"]["maxTotalHits"], 1000);
        assert_eq!(json["typoTolerance"]["minWordSizeForTypos"]["oneTypo"], 5);
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_reset_restores() {
        let base = IndexSettings::default();
        let patch = Settings::from_json(&serde_json::json!({
            "searchableAttributes": ["title", "overview"],
            "typoTolerance": {"minWordSizeForTypos": {"oneTypo": 4}},
            "pagination": {"maxTotalHits": 50}
        }))
        .unwrap();
        let changed = apply_patch(&base, &patch);
        assert_eq!(
            changed.searchable_attributes,
            Some(vec!["title".into(), "overview".into()])
        );
        assert_eq!(changed.typo_tolerance.one_typo_min_len, 4);
        assert_eq!(changed.typo_tolerance.two_typos_min_len, 9);
        assert_eq!(changed.pagination.max_total_hits, 50);
        assert_eq!(changed.ranking_rules, base.ranking_rules);
        assert_eq!(apply_patch(&changed, &Settings::reset_all()), base);
    }
}
