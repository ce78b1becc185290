//! The index settings as they travel over the wire: the body of `PATCH /indexes/{uid}/settings`,
//! the body of each per-key route (`PUT /settings/ranking-rules`, `PATCH /settings/faceting`, ...),
//! the `details` of a `settingsUpdate` task and the answer of `GET /settings`.
//!
//! Meilisearch rejects a bad settings payload synchronously and precisely: the error carries the
//! `invalid_settings_<key>` code of the offending key and a message naming the JSON path of the
//! bad value (`.typoTolerance.minWordSizeForTypos.oneTypo`). SDK test suites match on both, so
//! this file decodes the JSON by hand rather than through serde: every helper knows the path it
//! is decoding and the code to blame.
//!
//! Each value is three-state ([`Setting`]): set, reset to its default (`null`), or left untouched
//! (key absent). Which defaults apply and how a partial update merges into the stored settings is
//! the engine's business, not this file's.

use crate::decode::{
    backticked_list, describe_value as describe, field_path as child, index_path as item,
};
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::error::{Code, ResponseError};

type Result<T> = std::result::Result<T, ResponseError>;

/// One settings value in an update: set to a value, reset to the default (`null` on the wire),
/// or not mentioned at all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Setting<T> {
    Set(T),
    Reset,
    #[default]
    NotSet,
}

impl<T> Setting<T> {
    /// The value, if one was given.
    pub fn set(self) -> Option<T> {
        match self {
            Setting::Set(value) => Some(value),
            Setting::Reset | Setting::NotSet => None,
        }
    }

    pub fn as_ref(&self) -> Setting<&T> {
        match self {
            Setting::Set(value) => Setting::Set(value),
            Setting::Reset => Setting::Reset,
            Setting::NotSet => Setting::NotSet,
        }
    }

    pub fn is_not_set(&self) -> bool {
        matches!(self, Setting::NotSet)
    }
}

/// A string-valued enum of the API: its variants, their camelCase wire names, and the first
/// variant as the default.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $first:ident = $first_wire:literal $(, $variant:ident = $wire:literal)* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            #[default]
            $first,
            $($variant,)*
        }

        impl $name {
            /// The wire names, in the order Meilisearch lists them in errors.
            const WIRE_NAMES: &'static [&'static str] = &[$first_wire $(, $wire)*];

            /// The name on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $name::$first => $first_wire,
                    $($name::$variant => $wire,)*
                }
            }

            /// Reads a wire name back; `None` for anything else.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $first_wire => Some($name::$first),
                    $($wire => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

wire_enum! {
    /// `proximityPrecision`: how precisely word distances are recorded.
    ProximityPrecisionView { ByWord = "byWord", ByAttribute = "byAttribute" }
}

wire_enum! {
    /// `prefixSearch`: whether prefix matches are prepared at indexing time.
    PrefixSearchView { IndexingTime = "indexingTime", Disabled = "disabled" }
}

wire_enum! {
    /// How the values of one facet are ordered in `facetDistribution`.
    FacetValuesSort { Alpha = "alpha", Count = "count" }
}

/// Every settings key Meilisearch accepts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub displayed_attributes: Setting<Vec<String>>,
    pub searchable_attributes: Setting<Vec<String>>,
    pub filterable_attributes: Setting<Vec<FilterableAttributesRule>>,
    pub sortable_attributes: Setting<BTreeSet<String>>,
    /// `foreignKeys` (experimental): fields holding ids of another index's documents.
    pub foreign_keys: Setting<Vec<ForeignKey>>,
    pub ranking_rules: Setting<Vec<RankingRuleView>>,
    pub stop_words: Setting<BTreeSet<String>>,
    pub non_separator_tokens: Setting<BTreeSet<String>>,
    pub separator_tokens: Setting<BTreeSet<String>>,
    pub dictionary: Setting<BTreeSet<String>>,
    pub synonyms: Setting<BTreeMap<String, Vec<String>>>,
    pub distinct_attribute: Setting<String>,
    pub proximity_precision: Setting<ProximityPrecisionView>,
    pub typo_tolerance: Setting<TypoSettings>,
    pub faceting: Setting<FacetingSettings>,
    pub pagination: Setting<PaginationSettings>,
    /// Embedder configurations by name, each kept as the JSON object it was given (or reset).
    pub embedders: Setting<BTreeMap<String, Setting<Value>>>,
    pub search_cutoff_ms: Setting<u64>,
    pub localized_attributes: Setting<Vec<LocalizedAttributesRule>>,
    pub facet_search: Setting<bool>,
    pub prefix_search: Setting<PrefixSearchView>,
    /// The `chat` key (conversational search), decoded by `crate::chat`.
    pub chat: Setting<crate::chat::ChatIndexSettings>,
}

/// One entry of `foreignKeys`: the documents of this index hold, under `field_name`, ids of
/// documents of the index `foreign_index_uid`. Searches show those documents in place of the
/// ids and may filter on them with `_foreign(field_name, filter)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForeignKey {
    pub foreign_index_uid: String,
    pub field_name: String,
}

/// `typoTolerance`; every field may be updated on its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypoSettings {
    pub enabled: Setting<bool>,
    pub min_word_size_for_typos: Setting<MinWordSizeForTypos>,
    pub disable_on_words: Setting<BTreeSet<String>>,
    pub disable_on_attributes: Setting<BTreeSet<String>>,
    pub disable_on_numbers: Setting<bool>,
}

/// `typoTolerance.minWordSizeForTypos`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MinWordSizeForTypos {
    pub one_typo: Setting<u8>,
    pub two_typos: Setting<u8>,
}

/// `faceting`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacetingSettings {
    pub max_values_per_facet: Setting<usize>,
    /// Facet name (or `*`) to ordering.
    pub sort_facet_values_by: Setting<BTreeMap<String, FacetValuesSort>>,
}

/// `pagination`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaginationSettings {
    /// Never zero once decoded: Meilisearch rejects `0`.
    pub max_total_hits: Setting<usize>,
}

/// One entry of `filterableAttributes`: a plain attribute name (every filter feature on), or
/// attribute patterns with explicit features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterableAttributesRule {
    Field(String),
    Pattern(FilterableAttributesPatterns),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterableAttributesPatterns {
    pub attribute_patterns: Vec<String>,
    pub features: FilterableAttributesFeatures,
}

/// What a pattern rule allows; a missing `features` means facet search off, equality on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilterableAttributesFeatures {
    pub facet_search: bool,
    pub filter: FilterFeatures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterFeatures {
    /// `=`, `!=`, `IN` (and the operators every filterable field has).
    pub equality: bool,
    /// `<`, `<=`, `>`, `>=`, `TO`.
    pub comparison: bool,
}

impl Default for FilterFeatures {
    fn default() -> Self {
        FilterFeatures {
            equality: true,
            comparison: false,
        }
    }
}

/// One entry of `localizedAttributes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalizedAttributesRule {
    pub attribute_patterns: Vec<String>,
    /// Locale codes as given (ISO 639-1 or 639-3, see [`SUPPORTED_LOCALES`]).
    pub locales: Vec<String>,
}

/// The locale codes Meilisearch accepts, in the order its error messages list them: ISO 639-1
/// codes, then ISO 639-3 codes, then `cmn`.
pub const SUPPORTED_LOCALES: &[&str] = &[
    "af", "ak", "am", "ar", "az", "be", "bn", "bg", "ca", "cs", "da", "de", "el", "en", "eo", "et",
    "fi", "fr", "gu", "he", "hi", "hr", "hu", "hy", "id", "it", "jv", "ja", "kn", "ka", "km", "ko",
    "la", "lv", "lt", "ml", "mr", "mk", "my", "ne", "nl", "nb", "or", "pa", "fa", "pl", "pt", "ro",
    "ru", "si", "sk", "sl", "sn", "es", "sr", "sv", "ta", "te", "tl", "th", "tk", "tr", "uk", "ur",
    "uz", "vi", "yi", "zh", "zu", "afr", "aka", "amh", "ara", "aze", "bel", "ben", "bul", "cat",
    "ces", "dan", "deu", "ell", "eng", "epo", "est", "fin", "fra", "guj", "heb", "hin", "hrv",
    "hun", "hye", "ind", "ita", "jav", "jpn", "kan", "kat", "khm", "kor", "lat", "lav", "lit",
    "mal", "mar", "mkd", "mya", "nep", "nld", "nob", "ori", "pan", "pes", "pol", "por", "ron",
    "rus", "sin", "slk", "slv", "sna", "spa", "srp", "swe", "tam", "tel", "tgl", "tha", "tuk",
    "tur", "ukr", "urd", "uzb", "vie", "yid", "zho", "zul", "cmn",
];

/// One ranking rule: a built-in rule or a custom `field:asc` / `field:desc` rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RankingRuleView {
    Words,
    Typo,
    Proximity,
    /// The legacy rule: attribute rank then word position, as one rule.
    Attribute,
    AttributeRank,
    WordPosition,
    Sort,
    Exactness,
    Asc(String),
    Desc(String),
}

impl RankingRuleView {
    /// Parses a ranking rule as Meilisearch accepts it, plus the pre-v0.21 `asc(field)` /
    /// `desc(field)` form still found in old dumps. HTTP bodies go through the stricter
    /// decoder of [`Settings::from_json`], which rejects the legacy form as Meilisearch does.
    pub fn parse(s: &str) -> Option<Self> {
        Self::parse_current(s)
            .ok()
            .or_else(|| Self::parse_legacy(s))
    }

    /// The wire form: `words`, ..., `release_date:asc`.
    pub fn as_string(&self) -> String {
        let name = match self {
            RankingRuleView::Words => "words",
            RankingRuleView::Typo => "typo",
            RankingRuleView::Proximity => "proximity",
            RankingRuleView::Attribute => "attribute",
            RankingRuleView::AttributeRank => "attributeRank",
            RankingRuleView::WordPosition => "wordPosition",
            RankingRuleView::Sort => "sort",
            RankingRuleView::Exactness => "exactness",
            RankingRuleView::Asc(field) => return format!("{field}:asc"),
            RankingRuleView::Desc(field) => return format!("{field}:desc"),
        };
        name.to_string()
    }

    /// The current syntax; the error is the sentence Meilisearch answers with.
    fn parse_current(s: &str) -> std::result::Result<Self, String> {
        let rule = match s {
            "words" => RankingRuleView::Words,
            "typo" => RankingRuleView::Typo,
            "proximity" => RankingRuleView::Proximity,
            "attribute" => RankingRuleView::Attribute,
            "attributeRank" => RankingRuleView::AttributeRank,
            "wordPosition" => RankingRuleView::WordPosition,
            "sort" => RankingRuleView::Sort,
            "exactness" => RankingRuleView::Exactness,
            _ => {
                // The last colon separates the direction, so field names may contain colons.
                let (field, ascending) = match s.rsplit_once(':') {
                    Some((field, "asc")) => (field, true),
                    Some((field, "desc")) => (field, false),
                    _ => {
                        return Err(format!(
                            "`{s}` ranking rule is invalid. Valid ranking rules are words, typo, \
                             sort, proximity, attribute, exactness and custom ranking rules."
                        ))
                    }
                };
                if let Some(why) = reserved_ranking_field(field) {
                    return Err(why);
                }
                if ascending {
                    RankingRuleView::Asc(field.to_string())
                } else {
                    RankingRuleView::Desc(field.to_string())
                }
            }
        };
        Ok(rule)
    }

    fn parse_legacy(s: &str) -> Option<Self> {
        let (inner, ascending) = match (s.strip_prefix("asc("), s.strip_prefix("desc(")) {
            (Some(inner), _) => (inner, true),
            (_, Some(inner)) => (inner, false),
            _ => return None,
        };
        let field = inner.strip_suffix(')')?;
        if field.is_empty() || reserved_ranking_field(field).is_some() {
            return None;
        }
        let field = field.to_string();
        Some(if ascending {
            RankingRuleView::Asc(field)
        } else {
            RankingRuleView::Desc(field)
        })
    }
}

/// Why `field` cannot be sorted on by a custom ranking rule, if it is one of the reserved geo
/// names. Geo sorting is a search-time feature (`_geoPoint(lat, lng):asc` in `sort`).
fn reserved_ranking_field(field: &str) -> Option<String> {
    const RESERVED: &[&str] = &[
        "_geo",
        "_geojson",
        "_geoDistance",
        "_geoPoint",
        "_geoRadius",
        "_geoBoundingBox",
        "_geoPolygon",
    ];
    // Calls of the geo functions are reserved too, whatever their arguments.
    const RESERVED_CALLS: &[&str] = &["_geoRadius(", "_geoBoundingBox(", "_geo(", "_geoDistance("];
    let geo_point = field.starts_with("_geoPoint(") && field.ends_with(')');
    let reserved = geo_point
        || RESERVED.contains(&field)
        || RESERVED_CALLS.iter().any(|call| field.starts_with(call));
    if !reserved {
        return None;
    }
    let cannot = "is a reserved keyword and thus can't be used as a ranking rule";
    let only_for = |name: &str, usage: &str| {
        format!("`{name}` {cannot}. `{name}` can only be used for {usage} at search time")
    };
    Some(if field.starts_with("_geoPoint") {
        only_for("_geoPoint", "sorting")
    } else if field.starts_with("_geoRadius") {
        only_for("_geoRadius", "filtering")
    } else if field.starts_with("_geoBoundingBox") {
        only_for("_geoBoundingBox", "filtering")
    } else {
        format!("`{field}` {cannot}")
    })
}

/// (route path segment, camelCase key, HTTP method used to update it), in Meilisearch's order.
pub const SETTINGS_ROUTES: &[(&str, &str, &str)] = &[
    ("displayed-attributes", "displayedAttributes", "PUT"),
    ("searchable-attributes", "searchableAttributes", "PUT"),
    ("filterable-attributes", "filterableAttributes", "PUT"),
    ("sortable-attributes", "sortableAttributes", "PUT"),
    ("foreign-keys", "foreignKeys", "PUT"),
    ("ranking-rules", "rankingRules", "PUT"),
    ("stop-words", "stopWords", "PUT"),
    ("non-separator-tokens", "nonSeparatorTokens", "PUT"),
    ("separator-tokens", "separatorTokens", "PUT"),
    ("dictionary", "dictionary", "PUT"),
    ("synonyms", "synonyms", "PUT"),
    ("distinct-attribute", "distinctAttribute", "PUT"),
    ("proximity-precision", "proximityPrecision", "PUT"),
    ("typo-tolerance", "typoTolerance", "PATCH"),
    ("faceting", "faceting", "PATCH"),
    ("pagination", "pagination", "PATCH"),
    ("embedders", "embedders", "PATCH"),
    ("search-cutoff-ms", "searchCutoffMs", "PUT"),
    ("localized-attributes", "localizedAttributes", "PUT"),
    ("facet-search", "facetSearch", "PUT"),
    ("prefix-search", "prefixSearch", "PUT"),
    ("chat", "chat", "PATCH"),
];

/// The camelCase key updated through `route`.
fn route_key(route: &str) -> Option<&'static str> {
    SETTINGS_ROUTES
        .iter()
        .find(|(r, _, _)| *r == route)
        .map(|(_, key, _)| *key)
}

/// The error code of a bad value under `key`.
fn key_code(key: &str) -> Option<Code> {
    let code = match key {
        "displayedAttributes" => Code::InvalidSettingsDisplayedAttributes,
        "searchableAttributes" => Code::InvalidSettingsSearchableAttributes,
        "filterableAttributes" => Code::InvalidSettingsFilterableAttributes,
        "sortableAttributes" => Code::InvalidSettingsSortableAttributes,
        "foreignKeys" => Code::InvalidSettingsForeignKeys,
        "rankingRules" => Code::InvalidSettingsRankingRules,
        "stopWords" => Code::InvalidSettingsStopWords,
        "nonSeparatorTokens" => Code::InvalidSettingsNonSeparatorTokens,
        "separatorTokens" => Code::InvalidSettingsSeparatorTokens,
        "dictionary" => Code::InvalidSettingsDictionary,
        "synonyms" => Code::InvalidSettingsSynonyms,
        "distinctAttribute" => Code::InvalidSettingsDistinctAttribute,
        "proximityPrecision" => Code::InvalidSettingsProximityPrecision,
        "typoTolerance" => Code::InvalidSettingsTypoTolerance,
        "faceting" => Code::InvalidSettingsFaceting,
        "pagination" => Code::InvalidSettingsPagination,
        "embedders" => Code::InvalidSettingsEmbedders,
        "searchCutoffMs" => Code::InvalidSettingsSearchCutoffMs,
        "localizedAttributes" => Code::InvalidSettingsLocalizedAttributes,
        "facetSearch" => Code::InvalidSettingsFacetSearch,
        "prefixSearch" => Code::InvalidSettingsPrefixSearch,
        "chat" => Code::InvalidSettingsChat,
        _ => return None,
    };
    Some(code)
}

impl Settings {
    /// Decodes a PATCH /indexes/{uid}/settings body (an object). null resets a key; a missing
    /// key is NotSet.
    pub fn from_json(value: &Value) -> std::result::Result<Settings, ResponseError> {
        let keys: Vec<&str> = SETTINGS_ROUTES.iter().map(|(_, key, _)| *key).collect();
        let mut settings = Settings::default();
        // The body itself and unknown top-level keys are `bad_request`; a bad value is blamed
        // on its key.
        Decoder {
            code: Code::BadRequest,
        }
        .each_field("", value, &keys, |key, value, path| {
            settings.decode_key(key, value, path)
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Decodes the body of a per-key route, e.g. route "ranking-rules" with a JSON array (or
    /// null = reset). Paths in error messages start at the body, as Meilisearch's do.
    pub fn from_route_body(
        route: &str,
        value: &Value,
    ) -> std::result::Result<Settings, ResponseError> {
        let Some(key) = route_key(route) else {
            return Err(ResponseError::new(
                Code::NotFound,
                format!("Unknown settings route `{route}`."),
            ));
        };
        let mut settings = Settings::default();
        settings.decode_key(key, value, "")?;
        settings.validate()?;
        Ok(settings)
    }

    /// Every key Reset (what DELETE /settings means).
    pub fn reset_all() -> Settings {
        let mut settings = Settings::default();
        for (_, key, _) in SETTINGS_ROUTES {
            settings.reset_key(key);
        }
        settings
    }

    /// The key of `route` Reset (DELETE of a per-key route).
    pub fn reset_route(route: &str) -> Option<Settings> {
        let mut settings = Settings::default();
        settings.reset_key(route_key(route)?);
        Some(settings)
    }

    /// Serializes in Meilisearch's key order and camelCase, writing Set values and Reset as
    /// null, omitting NotSet. Used both for task details and (with every key Set) for
    /// GET /settings.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        let o = &mut out;
        put(o, "displayedAttributes", &self.displayed_attributes, |v| {
            strings_json(v)
        });
        put(
            o,
            "searchableAttributes",
            &self.searchable_attributes,
            |v| strings_json(v),
        );
        put(
            o,
            "filterableAttributes",
            &self.filterable_attributes,
            |rules| Value::Array(rules.iter().map(filterable_rule_json).collect()),
        );
        put(o, "sortableAttributes", &self.sortable_attributes, |v| {
            strings_json(v)
        });
        put(o, "foreignKeys", &self.foreign_keys, |keys| {
            let keys = keys.iter().map(|key| {
                let mut out = Map::new();
                out.insert(
                    "foreignIndexUid".into(),
                    key.foreign_index_uid.clone().into(),
                );
                out.insert("fieldName".into(), key.field_name.clone().into());
                Value::Object(out)
            });
            Value::Array(keys.collect())
        });
        put(o, "rankingRules", &self.ranking_rules, |rules| {
            Value::Array(
                rules
                    .iter()
                    .map(|rule| Value::String(rule.as_string()))
                    .collect(),
            )
        });
        put(o, "stopWords", &self.stop_words, |v| strings_json(v));
        put(o, "nonSeparatorTokens", &self.non_separator_tokens, |v| {
            strings_json(v)
        });
        put(o, "separatorTokens", &self.separator_tokens, |v| {
            strings_json(v)
        });
        put(o, "dictionary", &self.dictionary, |v| strings_json(v));
        put(o, "synonyms", &self.synonyms, |synonyms| {
            let map = synonyms
                .iter()
                .map(|(word, list)| (word.clone(), strings_json(list)));
            Value::Object(map.collect())
        });
        put(o, "distinctAttribute", &self.distinct_attribute, |v| {
            Value::String(v.clone())
        });
        put(o, "proximityPrecision", &self.proximity_precision, |v| {
            v.as_str().into()
        });
        put(o, "typoTolerance", &self.typo_tolerance, typo_json);
        put(o, "faceting", &self.faceting, faceting_json);
        put(o, "pagination", &self.pagination, |pagination| {
            let mut out = Map::new();
            put(&mut out, "maxTotalHits", &pagination.max_total_hits, |n| {
                (*n).into()
            });
            Value::Object(out)
        });
        put(o, "embedders", &self.embedders, |embedders| {
            let mut out = Map::new();
            for (name, config) in embedders {
                put(&mut out, name, config, |config| config.clone());
            }
            Value::Object(out)
        });
        put(o, "searchCutoffMs", &self.search_cutoff_ms, |n| (*n).into());
        put(
            o,
            "localizedAttributes",
            &self.localized_attributes,
            |rules| {
                let rules = rules.iter().map(|rule| {
                    let mut out = Map::new();
                    out.insert(
                        "attributePatterns".into(),
                        strings_json(&rule.attribute_patterns),
                    );
                    out.insert("locales".into(), strings_json(&rule.locales));
                    Value::Object(out)
                });
                Value::Array(rules.collect())
            },
        );
        put(o, "facetSearch", &self.facet_search, |b| (*b).into());
        put(o, "prefixSearch", &self.prefix_search, |v| {
            v.as_str().into()
        });
        put(o, "chat", &self.chat, |chat| chat.to_json());
        Value::Object(out)
    }

    /// The JSON of one route's key (for GET of a per-key route) from a fully Set Settings.
    /// `None` for an unknown route or a key that is NotSet.
    pub fn route_json(&self, route: &str) -> Option<Value> {
        let key = route_key(route)?;
        self.to_json().get(key).cloned()
    }

    /// Decodes `value` as the value of `key` (at `path`) into `self`. `Ok(false)` if `key` is
    /// not a settings key.
    fn decode_key(&mut self, key: &str, value: &Value, path: &str) -> Result<bool> {
        let Some(code) = key_code(key) else {
            return Ok(false);
        };
        let d = Decoder { code };
        let v = value;
        match key {
            "displayedAttributes" => {
                self.displayed_attributes = setting(v, |v| d.strings(path, v))?;
            }
            "searchableAttributes" => {
                self.searchable_attributes = setting(v, |v| d.strings(path, v))?;
            }
            "filterableAttributes" => {
                self.filterable_attributes = setting(v, |v| d.filterable_rules(path, v))?;
            }
            "sortableAttributes" => self.sortable_attributes = setting(v, |v| d.set(path, v))?,
            "foreignKeys" => self.foreign_keys = setting(v, |v| d.foreign_keys(path, v))?,
            "rankingRules" => self.ranking_rules = setting(v, |v| d.ranking_rules(path, v))?,
            "stopWords" => self.stop_words = setting(v, |v| d.set(path, v))?,
            "nonSeparatorTokens" => self.non_separator_tokens = setting(v, |v| d.set(path, v))?,
            "separatorTokens" => self.separator_tokens = setting(v, |v| d.set(path, v))?,
            "dictionary" => self.dictionary = setting(v, |v| d.set(path, v))?,
            "synonyms" => self.synonyms = setting(v, |v| d.synonyms(path, v))?,
            "distinctAttribute" => self.distinct_attribute = setting(v, |v| d.string(path, v))?,
            "proximityPrecision" => {
                self.proximity_precision = setting(v, |v| {
                    d.one_of(
                        path,
                        v,
                        ProximityPrecisionView::parse,
                        ProximityPrecisionView::WIRE_NAMES,
                    )
                })?;
            }
            "typoTolerance" => self.typo_tolerance = setting(v, |v| d.typo_tolerance(path, v))?,
            "faceting" => self.faceting = setting(v, |v| d.faceting(path, v))?,
            "pagination" => self.pagination = setting(v, |v| d.pagination(path, v))?,
            "embedders" => self.embedders = setting(v, |v| d.embedders(path, v))?,
            "searchCutoffMs" => {
                self.search_cutoff_ms = setting(v, |v| d.unsigned(path, v, u64::MAX))?;
            }
            "localizedAttributes" => {
                self.localized_attributes = setting(v, |v| d.localized_rules(path, v))?;
            }
            "facetSearch" => self.facet_search = setting(v, |v| d.boolean(path, v))?,
            "prefixSearch" => {
                self.prefix_search = setting(v, |v| {
                    d.one_of(
                        path,
                        v,
                        PrefixSearchView::parse,
                        PrefixSearchView::WIRE_NAMES,
                    )
                })?;
            }
            "chat" => {
                self.chat = setting(v, |v| crate::chat::ChatIndexSettings::decode(v, path))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn reset_key(&mut self, key: &str) {
        match key {
            "displayedAttributes" => self.displayed_attributes = Setting::Reset,
            "searchableAttributes" => self.searchable_attributes = Setting::Reset,
            "filterableAttributes" => self.filterable_attributes = Setting::Reset,
            "sortableAttributes" => self.sortable_attributes = Setting::Reset,
            "foreignKeys" => self.foreign_keys = Setting::Reset,
            "rankingRules" => self.ranking_rules = Setting::Reset,
            "stopWords" => self.stop_words = Setting::Reset,
            "nonSeparatorTokens" => self.non_separator_tokens = Setting::Reset,
            "separatorTokens" => self.separator_tokens = Setting::Reset,
            "dictionary" => self.dictionary = Setting::Reset,
            "synonyms" => self.synonyms = Setting::Reset,
            "distinctAttribute" => self.distinct_attribute = Setting::Reset,
            "proximityPrecision" => self.proximity_precision = Setting::Reset,
            "typoTolerance" => self.typo_tolerance = Setting::Reset,
            "faceting" => self.faceting = Setting::Reset,
            "pagination" => self.pagination = Setting::Reset,
            "embedders" => self.embedders = Setting::Reset,
            "searchCutoffMs" => self.search_cutoff_ms = Setting::Reset,
            "localizedAttributes" => self.localized_attributes = Setting::Reset,
            "facetSearch" => self.facet_search = Setting::Reset,
            "prefixSearch" => self.prefix_search = Setting::Reset,
            "chat" => self.chat = Setting::Reset,
            _ => {}
        }
    }

    /// Checks that span keys or values, run once the whole payload decoded (so a malformed
    /// value anywhere is reported first, as Meilisearch does).
    fn validate(&self) -> Result<()> {
        if let Setting::Set(rules) = &self.ranking_rules {
            let legacy = rules.contains(&RankingRuleView::Attribute);
            let split = rules.iter().any(|rule| {
                matches!(
                    rule,
                    RankingRuleView::AttributeRank | RankingRuleView::WordPosition
                )
            });
            if legacy && split {
                return Err(ResponseError::new(
                    Code::InvalidSettingsRankingRules,
                    "Mixed usage of the attribute, attributeRank, and wordPosition ranking rules. \
                     You must either use the attribute ranking rule alone or the attributeRank \
                     and wordPosition ranking rules.",
                ));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Embedders

/// What Meilisearch accepts in an embedder configuration, per source.
pub mod embedders {
    /// Every field of an embedder, in the order Meilisearch lists them.
    pub const FIELDS: &[&str] = &[
        "source",
        "model",
        "revision",
        "pooling",
        "apiKey",
        "dimensions",
        "binaryQuantized",
        "documentTemplate",
        "documentTemplateMaxBytes",
        "url",
        "request",
        "response",
        "headers",
        "searchEmbedder",
        "indexingEmbedder",
        "distribution",
    ];
    /// The fields of a composite's `searchEmbedder` and `indexingEmbedder`.
    pub const NESTED_FIELDS: &[&str] = &[
        "source",
        "model",
        "revision",
        "pooling",
        "apiKey",
        "dimensions",
        "documentTemplate",
        "documentTemplateMaxBytes",
        "url",
        "request",
        "response",
        "headers",
    ];
    pub const SOURCES: &[&str] = &[
        "openAi",
        "huggingFace",
        "ollama",
        "userProvided",
        "rest",
        "composite",
    ];
    pub const POOLINGS: &[&str] = &["useModel", "forceMean", "forceCls"];
    pub const OPENAI_DEFAULT_MODEL: &str = "text-embedding-3-small";
    /// OpenAI models: name, native dimensions, whether a smaller `dimensions` is allowed.
    pub const OPENAI_MODELS: &[(&str, usize, bool)] = &[
        ("text-embedding-ada-002", 1536, false),
        ("text-embedding-3-small", 1536, true),
        ("text-embedding-3-large", 3072, true),
    ];

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Source {
        OpenAi,
        HuggingFace,
        Ollama,
        UserProvided,
        Rest,
        Composite,
    }

    impl Source {
        pub fn name(self) -> &'static str {
            SOURCES[self as usize]
        }
    }

    pub fn source_of(name: &str) -> Option<Source> {
        use Source::*;
        [OpenAi, HuggingFace, Ollama, UserProvided, Rest, Composite]
            .into_iter()
            .find(|s| s.name() == name)
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Status {
        Mandatory,
        Allowed,
        Disallowed,
    }

    /// Whether `source` takes `field` (`nested`: inside a composite embedder).
    pub fn status(source: Source, field: &str, nested: bool) -> Status {
        use Source::*;
        use Status::*;
        match (source, field) {
            (_, "source") => Allowed,
            (_, "distribution" | "binaryQuantized") => {
                if nested {
                    Disallowed
                } else {
                    Allowed
                }
            }
            (
                OpenAi,
                "model"
                | "apiKey"
                | "documentTemplate"
                | "documentTemplateMaxBytes"
                | "dimensions"
                | "url",
            ) => Allowed,
            (
                HuggingFace,
                "model" | "revision" | "pooling" | "documentTemplate" | "documentTemplateMaxBytes",
            ) => Allowed,
            (Ollama, "model") => Mandatory,
            (
                Ollama,
                "documentTemplate" | "documentTemplateMaxBytes" | "url" | "apiKey" | "dimensions",
            ) => Allowed,
            (UserProvided, "dimensions") => Mandatory,
            (Rest, "url" | "request" | "response") => Mandatory,
            (
                Rest,
                "apiKey"
                | "dimensions"
                | "documentTemplate"
                | "documentTemplateMaxBytes"
                | "headers",
            ) => Allowed,
            (Composite, "searchEmbedder" | "indexingEmbedder") => Mandatory,
            _ => Disallowed,
        }
    }

    /// The sources that take `field`.
    pub fn sources_for(field: &str, nested: bool) -> Vec<&'static str> {
        SOURCES
            .iter()
            .filter(|s| {
                source_of(s).is_some_and(|s| status(s, field, nested) != Status::Disallowed)
            })
            .copied()
            .collect()
    }

    /// The fields `source` takes.
    pub fn fields_for(source: Source, nested: bool) -> Vec<&'static str> {
        let fields = if nested { NESTED_FIELDS } else { FIELDS };
        fields
            .iter()
            .filter(|f| status(source, f, nested) != Status::Disallowed)
            .copied()
            .collect()
    }

    /// The native dimensions of an OpenAI model and whether they can be lowered.
    pub fn openai_dimensions(model: &str) -> Option<(usize, bool)> {
        OPENAI_MODELS
            .iter()
            .find(|(name, _, _)| *name == model)
            .map(|(_, dims, overridable)| (*dims, *overridable))
    }

    /// An absolute URL: a scheme, `://` and a host.
    pub fn check_url(url: &str) -> Result<(), &'static str> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err("relative URL without a base");
        };
        let scheme_ok = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err("invalid scheme");
        }
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err("empty host");
        }
        Ok(())
    }

    /// A secret shown partially, the way Meilisearch returns embedder API keys.
    pub fn hide_secret(secret: &str) -> String {
        let chars: Vec<char> = secret.chars().collect();
        let (kept, mask) = match chars.len() {
            0..=9 => (0, "XXX..."),
            10..=19 => (2, "XXXX..."),
            20..=29 => (3, "XXXXX..."),
            _ => (5, "XXXXXX..."),
        };
        let mut out: String = chars[..kept].iter().collect();
        out.push_str(mask);
        out
    }

    /// The embedders object with every `apiKey` (nested ones too) partially hidden.
    pub fn hide_api_keys(embedders: &mut serde_json::Value) {
        let Some(map) = embedders.as_object_mut() else {
            return;
        };
        for config in map.values_mut() {
            hide_in(config);
        }
    }

    fn hide_in(config: &mut serde_json::Value) {
        let Some(object) = config.as_object_mut() else {
            return;
        };
        if let Some(serde_json::Value::String(key)) = object.get_mut("apiKey") {
            *key = hide_secret(key);
        }
        for nested in ["searchEmbedder", "indexingEmbedder"] {
            if let Some(inner) = object.get_mut(nested) {
                hide_in(inner);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// `null` resets; anything else is decoded as the value.
fn setting<T>(value: &Value, decode: impl FnOnce(&Value) -> Result<T>) -> Result<Setting<T>> {
    if value.is_null() {
        Ok(Setting::Reset)
    } else {
        decode(value).map(Setting::Set)
    }
}

/// ` at `.path``, or nothing at the root of the body.
fn located(preposition: &str, path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" {preposition} `{path}`")
    }
}

/// "did you mean `x`? " when `received` is a near miss of one of `accepted`: longer words
/// tolerate more edits, words of three bytes or fewer none.
pub(crate) fn did_you_mean(received: &str, accepted: &[&str]) -> String {
    let allowed = match received.len() {
        0..=3 => return String::new(),
        4..=7 => 1,
        8..=12 => 2,
        13..=17 => 3,
        18..=24 => 4,
        _ => 5,
    };
    let mut best: Option<(&str, usize)> = None;
    for candidate in accepted {
        let distance = edit_distance(received, candidate);
        if distance <= allowed && best.is_none_or(|(_, d)| distance < d) {
            best = Some((candidate, distance));
        }
    }
    best.map(|(name, _)| format!("did you mean `{name}`? "))
        .unwrap_or_default()
}

/// Edit distance counting insertions, deletions, substitutions and swaps of adjacent
/// characters (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between the first i chars of a and the first j chars of b.
    let mut rows: Vec<Vec<usize>> = (0..=a.len()).map(|i| vec![i; b.len() + 1]).collect();
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// Decodes values under one settings key: every error it makes carries that key's code.
struct Decoder {
    code: Code,
}

impl Decoder {
    fn error(&self, message: String) -> ResponseError {
        ResponseError::new(self.code, message)
    }

    fn wrong_type(&self, path: &str, expected: &str, found: &Value) -> ResponseError {
        self.error(format!(
            "Invalid value type{}: expected {expected}, but found {}",
            located("at", path),
            describe(found)
        ))
    }

    fn invalid(&self, path: &str, why: &str) -> ResponseError {
        self.error(format!("Invalid value{}: {why}", located("at", path)))
    }

    fn unknown_field(&self, path: &str, key: &str, accepted: &[&str]) -> ResponseError {
        self.error(format!(
            "Unknown field `{key}`{}: {}expected one of {}",
            located("inside", path),
            did_you_mean(key, accepted),
            backticked_list(accepted)
        ))
    }

    fn unknown_value(&self, path: &str, value: &str, accepted: &[&str]) -> ResponseError {
        self.error(format!(
            "Unknown value `{value}`{}: {}expected one of {}",
            located("at", path),
            did_you_mean(value, accepted),
            backticked_list(accepted)
        ))
    }

    fn missing_field(&self, path: &str, field: &str) -> ResponseError {
        self.error(format!(
            "Missing field `{field}`{}",
            located("inside", path)
        ))
    }

    fn object<'v>(&self, path: &str, value: &'v Value) -> Result<&'v Map<String, Value>> {
        value
            .as_object()
            .ok_or_else(|| self.wrong_type(path, "an object", value))
    }

    fn array<'v>(&self, path: &str, value: &'v Value) -> Result<&'v [Value]> {
        match value {
            Value::Array(items) => Ok(items),
            _ => Err(self.wrong_type(path, "an array", value)),
        }
    }

    /// Walks the object at `path` in the order its keys were written, so that the first bad
    /// entry is the one reported. `decode` answers `false` for a key it does not know.
    fn each_field<'v>(
        &self,
        path: &str,
        value: &'v Value,
        accepted: &[&str],
        mut decode: impl FnMut(&str, &'v Value, &str) -> Result<bool>,
    ) -> Result<()> {
        for (key, field) in self.object(path, value)? {
            if !decode(key, field, &child(path, key))? {
                return Err(self.unknown_field(path, key, accepted));
            }
        }
        Ok(())
    }

    fn string(&self, path: &str, value: &Value) -> Result<String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            _ => Err(self.wrong_type(path, "a string", value)),
        }
    }

    fn boolean(&self, path: &str, value: &Value) -> Result<bool> {
        value
            .as_bool()
            .ok_or_else(|| self.wrong_type(path, "a boolean", value))
    }

    /// A non-negative integer no larger than `max`.
    fn unsigned(&self, path: &str, value: &Value, max: u64) -> Result<u64> {
        match value.as_u64() {
            Some(n) if n <= max => Ok(n),
            Some(n) => Err(self.invalid(
                path,
                &format!("value: `{n}` is too large to be deserialized, maximum value authorized is `{max}`"),
            )),
            None => Err(self.wrong_type(path, "a positive integer", value)),
        }
    }

    fn small(&self, path: &str, value: &Value) -> Result<u8> {
        let n = self.unsigned(path, value, u8::MAX.into())?;
        Ok(u8::try_from(n).unwrap_or(u8::MAX))
    }

    fn size(&self, path: &str, value: &Value) -> Result<usize> {
        let max = u64::try_from(usize::MAX).unwrap_or(u64::MAX);
        let n = self.unsigned(path, value, max)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn non_zero_size(&self, path: &str, value: &Value) -> Result<usize> {
        if value.as_u64() == Some(0) {
            let why = format!(
                "a non-zero integer value lower than `{}` was expected, but found a zero",
                usize::MAX
            );
            return Err(self.invalid(path, &why));
        }
        self.size(path, value)
    }

    fn strings(&self, path: &str, value: &Value) -> Result<Vec<String>> {
        let items = self.array(path, value)?.iter().enumerate();
        items.map(|(i, s)| self.string(&item(path, i), s)).collect()
    }

    fn set(&self, path: &str, value: &Value) -> Result<BTreeSet<String>> {
        Ok(self.strings(path, value)?.into_iter().collect())
    }

    /// One of the wire names of a string enum.
    fn one_of<T>(
        &self,
        path: &str,
        value: &Value,
        parse: fn(&str) -> Option<T>,
        names: &[&str],
    ) -> Result<T> {
        let name = self.string(path, value)?;
        parse(&name).ok_or_else(|| self.unknown_value(path, &name, names))
    }

    fn filterable_rules(&self, path: &str, value: &Value) -> Result<Vec<FilterableAttributesRule>> {
        let items = self.array(path, value)?.iter().enumerate();
        items
            .map(|(i, rule)| {
                let path = item(path, i);
                if rule.is_object() {
                    self.filterable_patterns(&path, rule)
                        .map(FilterableAttributesRule::Pattern)
                } else {
                    self.string(&path, rule)
                        .map(FilterableAttributesRule::Field)
                }
            })
            .collect()
    }

    fn filterable_patterns(
        &self,
        path: &str,
        value: &Value,
    ) -> Result<FilterableAttributesPatterns> {
        let mut patterns = None;
        let mut features = FilterableAttributesFeatures::default();
        self.each_field(
            path,
            value,
            &["attributePatterns", "features"],
            |key, v, p| {
                match key {
                    "attributePatterns" => patterns = Some(self.strings(p, v)?),
                    "features" => features = self.filterable_features(p, v)?,
                    _ => return Ok(false),
                }
                Ok(true)
            },
        )?;
        let attribute_patterns =
            patterns.ok_or_else(|| self.missing_field(path, "attributePatterns"))?;
        Ok(FilterableAttributesPatterns {
            attribute_patterns,
            features,
        })
    }

    fn filterable_features(
        &self,
        path: &str,
        value: &Value,
    ) -> Result<FilterableAttributesFeatures> {
        let mut features = FilterableAttributesFeatures::default();
        self.each_field(path, value, &["facetSearch", "filter"], |key, v, p| {
            match key {
                "facetSearch" => features.facet_search = self.boolean(p, v)?,
                "filter" => features.filter = self.filter_features(p, v)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(features)
    }

    fn filter_features(&self, path: &str, value: &Value) -> Result<FilterFeatures> {
        let mut filter = FilterFeatures::default();
        self.each_field(path, value, &["equality", "comparison"], |key, v, p| {
            match key {
                "equality" => filter.equality = self.boolean(p, v)?,
                "comparison" => filter.comparison = self.boolean(p, v)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(filter)
    }

    fn ranking_rules(&self, path: &str, value: &Value) -> Result<Vec<RankingRuleView>> {
        let items = self.array(path, value)?.iter().enumerate();
        items
            .map(|(i, rule)| {
                let path = item(path, i);
                let text = self.string(&path, rule)?;
                RankingRuleView::parse_current(&text).map_err(|why| self.invalid(&path, &why))
            })
            .collect()
    }

    fn synonyms(&self, path: &str, value: &Value) -> Result<BTreeMap<String, Vec<String>>> {
        let entries = self.object(path, value)?.iter();
        entries
            .map(|(word, list)| Ok((word.clone(), self.strings(&child(path, word), list)?)))
            .collect()
    }

    fn typo_tolerance(&self, path: &str, value: &Value) -> Result<TypoSettings> {
        const KEYS: &[&str] = &[
            "enabled",
            "minWordSizeForTypos",
            "disableOnWords",
            "disableOnAttributes",
            "disableOnNumbers",
        ];
        let mut typo = TypoSettings::default();
        self.each_field(path, value, KEYS, |key, v, p| {
            match key {
                "enabled" => typo.enabled = setting(v, |v| self.boolean(p, v))?,
                "minWordSizeForTypos" => {
                    typo.min_word_size_for_typos = setting(v, |v| self.min_word_size(p, v))?;
                }
                "disableOnWords" => typo.disable_on_words = setting(v, |v| self.set(p, v))?,
                "disableOnAttributes" => {
                    typo.disable_on_attributes = setting(v, |v| self.set(p, v))?;
                }
                "disableOnNumbers" => typo.disable_on_numbers = setting(v, |v| self.boolean(p, v))?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(typo)
    }

    fn min_word_size(&self, path: &str, value: &Value) -> Result<MinWordSizeForTypos> {
        let mut sizes = MinWordSizeForTypos::default();
        self.each_field(path, value, &["oneTypo", "twoTypos"], |key, v, p| {
            match key {
                "oneTypo" => sizes.one_typo = setting(v, |v| self.small(p, v))?,
                "twoTypos" => sizes.two_typos = setting(v, |v| self.small(p, v))?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        // Only a payload giving both can be checked here; a partial update is checked by the
        // engine against the stored value.
        if let (Setting::Set(one), Setting::Set(two)) = (&sizes.one_typo, &sizes.two_typos) {
            if one > two {
                let why = format!(
                    "`minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields \
                     should be between `0` and `255`, and `twoTypos` should be greater or equals \
                     to `oneTypo` but found `oneTypo: {one}` and twoTypos: {two}`."
                );
                return Err(self.invalid(path, &why));
            }
        }
        Ok(sizes)
    }

    fn faceting(&self, path: &str, value: &Value) -> Result<FacetingSettings> {
        let mut faceting = FacetingSettings::default();
        self.each_field(
            path,
            value,
            &["maxValuesPerFacet", "sortFacetValuesBy"],
            |key, v, p| {
                match key {
                    "maxValuesPerFacet" => {
                        faceting.max_values_per_facet = setting(v, |v| self.size(p, v))?;
                    }
                    "sortFacetValuesBy" => {
                        faceting.sort_facet_values_by = setting(v, |v| self.facet_sorts(p, v))?;
                    }
                    _ => return Ok(false),
                }
                Ok(true)
            },
        )?;
        Ok(faceting)
    }

    fn facet_sorts(&self, path: &str, value: &Value) -> Result<BTreeMap<String, FacetValuesSort>> {
        let entries = self.object(path, value)?.iter();
        entries
            .map(|(facet, order)| {
                let path = child(path, facet);
                let order = self.one_of(
                    &path,
                    order,
                    FacetValuesSort::parse,
                    FacetValuesSort::WIRE_NAMES,
                )?;
                Ok((facet.clone(), order))
            })
            .collect()
    }

    fn pagination(&self, path: &str, value: &Value) -> Result<PaginationSettings> {
        let mut pagination = PaginationSettings::default();
        self.each_field(path, value, &["maxTotalHits"], |key, v, p| {
            match key {
                "maxTotalHits" => {
                    pagination.max_total_hits = setting(v, |v| self.non_zero_size(p, v))?
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(pagination)
    }

    /// Embedder name to configuration object (kept as given once checked) or `null`.
    fn embedders(&self, path: &str, value: &Value) -> Result<BTreeMap<String, Setting<Value>>> {
        let entries = self.object(path, value)?.iter();
        entries
            .map(|(name, config)| {
                let path = child(path, name);
                let config = setting(config, |config| {
                    self.embedder(&path, name, config, false)?;
                    Ok(config.clone())
                })?;
                Ok((name.clone(), config))
            })
            .collect()
    }

    /// Checks one embedder configuration as Meilisearch does when it is sent: every field of
    /// the right type, then, when `source` is given, only the fields that source takes and
    /// every field it needs. `nested` is true for a composite's `searchEmbedder` and
    /// `indexingEmbedder`.
    fn embedder(&self, path: &str, name: &str, value: &Value, nested: bool) -> Result<()> {
        use embedders::*;
        let accepted: &[&str] = if nested { NESTED_FIELDS } else { FIELDS };
        let mut source = None;
        let mut model = None;
        let mut dimensions = None;
        let mut given: Vec<&str> = Vec::new();
        self.each_field(path, value, accepted, |key, v, p| {
            let Some(field) = accepted.iter().find(|f| **f == key) else {
                return Ok(false);
            };
            given.push(*field);
            if v.is_null() {
                return Ok(true);
            }
            match key {
                "source" => source = Some(self.one_of(p, v, source_of, SOURCES)?),
                "model" => model = Some(self.string(p, v)?),
                "revision" | "apiKey" | "documentTemplate" => {
                    self.string(p, v)?;
                }
                "url" => {
                    let url = self.string(p, v)?;
                    if let Err(why) = check_url(&url) {
                        return Err(self.error(format!(
                            "`.embedders.{name}.url`: could not parse `{url}`: {why}"
                        )));
                    }
                }
                "pooling" => {
                    self.one_of(p, v, |s| POOLINGS.contains(&s).then_some(()), POOLINGS)?;
                }
                "dimensions" => {
                    let n = self.size(p, v)?;
                    if n == 0 {
                        return Err(self.error(format!(
                            "`.embedders.{name}.dimensions`: `dimensions` cannot be zero"
                        )));
                    }
                    dimensions = Some(n);
                }
                "documentTemplateMaxBytes" => {
                    self.non_zero_size(p, v)?;
                }
                "binaryQuantized" => {
                    self.boolean(p, v)?;
                }
                "headers" => {
                    for (header, value) in self.object(p, v)? {
                        self.string(&child(p, header), value)?;
                    }
                }
                "distribution" => {
                    self.each_field(p, v, &["mean", "sigma"], |_, number, at| {
                        match number.as_f64() {
                            Some(x) if (0.0..=1.0).contains(&x) => Ok(true),
                            Some(_) => Err(self.invalid(at, "the value must be between 0 and 1")),
                            None => Err(self.wrong_type(at, "a number", number)),
                        }
                    })?;
                }
                "searchEmbedder" | "indexingEmbedder" => {
                    let inner = format!("{name}.{key}");
                    self.embedder(p, &inner, v, true)?;
                }
                // `request` and `response` are free-form templates.
                _ => {}
            }
            Ok(true)
        })?;
        let Some(source) = source else {
            return Ok(());
        };
        if nested && matches!(source, Source::Composite | Source::UserProvided) {
            return Err(self.error(format!(
                "`.embedders.{name}`: Source `{}` is not available in a nested embedder",
                source.name()
            )));
        }
        for field in &given {
            if status(source, field, nested) == Status::Disallowed {
                return Err(self.error(format!(
                    "`.embedders.{name}`: Field `{field}` unavailable for source `{}` (only available for sources: {}). Available fields: {}",
                    source.name(),
                    backticked_list(&sources_for(field, nested)),
                    backticked_list(&fields_for(source, nested)),
                )));
            }
        }
        let object = value.as_object().expect("checked above");
        for field in accepted {
            let set = object.get(*field).is_some_and(|v| !v.is_null());
            if status(source, field, nested) == Status::Mandatory && !set {
                return Err(self.error(format!(
                    "`.embedders.{name}`: Missing field `{field}` (note: this field is mandatory for source {})",
                    source.name()
                )));
            }
        }
        if source == Source::OpenAi {
            let model = model.as_deref().unwrap_or(OPENAI_DEFAULT_MODEL);
            let Some(native) = openai_dimensions(model) else {
                return Err(self.error(format!(
                    "`.embedders.{name}.model`: Invalid model `{model}` for OpenAI. Supported models: {:?}",
                    OPENAI_MODELS.iter().map(|(m, _, _)| *m).collect::<Vec<_>>()
                )));
            };
            if let Some(dimensions) = dimensions {
                let (_, overridable) = native;
                if !overridable && dimensions != native.0 {
                    return Err(self.error(format!(
                        "`.embedders.{name}.dimensions`: Model `{model}` does not support overriding its native dimensions of {}",
                        native.0
                    )));
                }
                if dimensions > native.0 {
                    return Err(self.error(format!(
                        "`.embedders.{name}.dimensions`: Model `{model}` does not support overriding its dimensions to a value higher than {}. Found {dimensions}",
                        native.0
                    )));
                }
            }
        }
        Ok(())
    }

    fn foreign_keys(&self, path: &str, value: &Value) -> Result<Vec<ForeignKey>> {
        let items = self.array(path, value)?.iter().enumerate();
        items
            .map(|(i, key)| self.foreign_key(&item(path, i), key))
            .collect()
    }

    fn foreign_key(&self, path: &str, value: &Value) -> Result<ForeignKey> {
        let (mut index_uid, mut field_name) = (None, None);
        self.each_field(
            path,
            value,
            &["foreignIndexUid", "fieldName"],
            |key, v, p| {
                match key {
                    "foreignIndexUid" => index_uid = Some(self.string(p, v)?),
                    "fieldName" => field_name = Some(self.string(p, v)?),
                    _ => return Ok(false),
                }
                Ok(true)
            },
        )?;
        Ok(ForeignKey {
            foreign_index_uid: index_uid
                .ok_or_else(|| self.missing_field(path, "foreignIndexUid"))?,
            field_name: field_name.ok_or_else(|| self.missing_field(path, "fieldName"))?,
        })
    }

    fn localized_rules(&self, path: &str, value: &Value) -> Result<Vec<LocalizedAttributesRule>> {
        let items = self.array(path, value)?.iter().enumerate();
        items
            .map(|(i, rule)| self.localized_rule(&item(path, i), rule))
            .collect()
    }

    fn localized_rule(&self, path: &str, value: &Value) -> Result<LocalizedAttributesRule> {
        let mut patterns = None;
        let mut locales = None;
        self.each_field(
            path,
            value,
            &["attributePatterns", "locales"],
            |key, v, p| {
                match key {
                    "attributePatterns" => patterns = Some(self.strings(p, v)?),
                    "locales" => locales = Some(self.locales(p, v)?),
                    _ => return Ok(false),
                }
                Ok(true)
            },
        )?;
        let attribute_patterns =
            patterns.ok_or_else(|| self.missing_field(path, "attributePatterns"))?;
        let locales = locales.ok_or_else(|| self.missing_field(path, "locales"))?;
        Ok(LocalizedAttributesRule {
            attribute_patterns,
            locales,
        })
    }

    fn locales(&self, path: &str, value: &Value) -> Result<Vec<String>> {
        let items = self.array(path, value)?.iter().enumerate();
        items
            .map(|(i, locale)| {
                let path = item(path, i);
                let locale = self.string(&path, locale)?;
                if SUPPORTED_LOCALES.contains(&locale.as_str()) {
                    Ok(locale)
                } else {
                    Err(self.unknown_value(&path, &locale, SUPPORTED_LOCALES))
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// Writes `setting` under `key`: its value if Set, `null` if Reset, nothing if NotSet.
fn put<T>(
    out: &mut Map<String, Value>,
    key: &str,
    setting: &Setting<T>,
    encode: impl FnOnce(&T) -> Value,
) {
    match setting {
        Setting::Set(value) => {
            out.insert(key.to_string(), encode(value));
        }
        Setting::Reset => {
            out.insert(key.to_string(), Value::Null);
        }
        Setting::NotSet => {}
    }
}

fn strings_json<'a>(strings: impl IntoIterator<Item = &'a String>) -> Value {
    Value::Array(
        strings
            .into_iter()
            .map(|s| Value::String(s.clone()))
            .collect(),
    )
}

fn filterable_rule_json(rule: &FilterableAttributesRule) -> Value {
    match rule {
        FilterableAttributesRule::Field(field) => Value::String(field.clone()),
        FilterableAttributesRule::Pattern(pattern) => {
            let features = &pattern.features;
            let mut filter = Map::new();
            filter.insert("equality".into(), features.filter.equality.into());
            filter.insert("comparison".into(), features.filter.comparison.into());
            let mut features_json = Map::new();
            features_json.insert("facetSearch".into(), features.facet_search.into());
            features_json.insert("filter".into(), Value::Object(filter));
            let mut out = Map::new();
            out.insert(
                "attributePatterns".into(),
                strings_json(&pattern.attribute_patterns),
            );
            out.insert("features".into(), Value::Object(features_json));
            Value::Object(out)
        }
    }
}

fn typo_json(typo: &TypoSettings) -> Value {
    let mut out = Map::new();
    put(&mut out, "enabled", &typo.enabled, |b| (*b).into());
    put(
        &mut out,
        "minWordSizeForTypos",
        &typo.min_word_size_for_typos,
        |sizes| {
            let mut out = Map::new();
            put(&mut out, "oneTypo", &sizes.one_typo, |n| (*n).into());
            put(&mut out, "twoTypos", &sizes.two_typos, |n| (*n).into());
            Value::Object(out)
        },
    );
    put(&mut out, "disableOnWords", &typo.disable_on_words, |v| {
        strings_json(v)
    });
    put(
        &mut out,
        "disableOnAttributes",
        &typo.disable_on_attributes,
        |v| strings_json(v),
    );
    put(
        &mut out,
        "disableOnNumbers",
        &typo.disable_on_numbers,
        |b| (*b).into(),
    );
    Value::Object(out)
}

fn faceting_json(faceting: &FacetingSettings) -> Value {
    let mut out = Map::new();
    put(
        &mut out,
        "maxValuesPerFacet",
        &faceting.max_values_per_facet,
        |n| (*n).into(),
    );
    put(
        &mut out,
        "sortFacetValuesBy",
        &faceting.sort_facet_values_by,
        |sorts| {
            let sorts = sorts
                .iter()
                .map(|(facet, order)| (facet.clone(), order.as_str().into()));
            Value::Object(sorts.collect())
        },
    );
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ALL_KEYS: &str = "`displayedAttributes`, `searchableAttributes`, \
        `filterableAttributes`, `sortableAttributes`, `foreignKeys`, `rankingRules`, `stopWords`, \
        `nonSeparatorTokens`, `separatorTokens`, `dictionary`, `synonyms`, \
        `distinctAttribute`, `proximityPrecision`, `typoTolerance`, `faceting`, `pagination`, \
        `embedders`, `searchCutoffMs`, `localizedAttributes`, `facetSearch`, `prefixSearch`, `chat`";

    const TYPO_KEYS: &str = "`enabled`, `minWordSizeForTypos`, `disableOnWords`, \
        `disableOnAttributes`, `disableOnNumbers`";

    const BAD_RULE: &str = "ranking rule is invalid. Valid ranking rules are words, typo, sort, \
        proximity, attribute, exactness and custom ranking rules.";

    const MIXED: &str = "Mixed usage of the attribute, attributeRank, and wordPosition ranking \
        rules. You must either use the attribute ranking rule alone or the attributeRank and \
        wordPosition ranking rules.";

    /// A body setting every key, written the way `to_json` writes it back.
    fn full_body() -> Value {
        json!({
            "displayedAttributes": ["title", "overview"],
            "searchableAttributes": ["title", "overview"],
            "filterableAttributes": [
                "genre",
                {
                    "attributePatterns": ["price_*", "*_date"],
                    "features": {
                        "facetSearch": true,
                        "filter": { "equality": true, "comparison": true }
                    }
                }
            ],
            "sortableAttributes": ["price", "release_date"],
            "foreignKeys": [{"foreignIndexUid": "authors", "fieldName": "author"}],
            "rankingRules": [
                "words", "typo", "proximity", "attributeRank", "sort", "wordPosition",
                "exactness", "release_date:desc", "price:asc", "a:b:asc"
            ],
            "stopWords": ["a", "the"],
            "nonSeparatorTokens": ["#", "@"],
            "separatorTokens": ["|"],
            "dictionary": ["J. R. R."],
            "synonyms": { "phone": ["smartphone", "mobile"], "tv": [] },
            "distinctAttribute": "sku",
            "proximityPrecision": "byAttribute",
            "typoTolerance": {
                "enabled": false,
                "minWordSizeForTypos": { "oneTypo": 4, "twoTypos": 8 },
                "disableOnWords": ["iphone"],
                "disableOnAttributes": ["sku"],
                "disableOnNumbers": true
            },
            "faceting": {
                "maxValuesPerFacet": 0,
                "sortFacetValuesBy": { "*": "alpha", "genre": "count" }
            },
            "pagination": { "maxTotalHits": 500 },
            "embedders": {
                "default": { "source": "userProvided", "dimensions": 3 },
                "old": null
            },
            "searchCutoffMs": 150,
            "localizedAttributes": [
                { "attributePatterns": ["*_ja"], "locales": ["jpn", "ja"] }
            ],
            "facetSearch": false,
            "prefixSearch": "disabled",
            "chat": {
                "description": "Films",
                "documentTemplate": "{{ doc.title }}",
                "documentTemplateMaxBytes": 100,
                "searchParameters": { "limit": 5 }
            }
        })
    }

    /// Compares as text so that key order counts.
    fn assert_same_json(actual: &Value, expected: &Value, context: &str) {
        assert_eq!(actual.to_string(), expected.to_string(), "{context}");
    }

    fn decode_error(body: &Value) -> ResponseError {
        match Settings::from_json(body) {
            Ok(settings) => panic!("{body} decoded to {settings:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn valid_bodies_round_trip() {
        let bodies = [
            full_body(),
            json!({}),
            json!({ "displayedAttributes": ["*"] }),
            json!({ "rankingRules": ["attribute", "words"] }),
            json!({ "rankingRules": ["words", "words"] }),
            json!({ "rankingRules": [] }),
            json!({ "rankingRules": [":asc", "it's spacy:desc", "_geoPointy:asc"] }),
            json!({ "filterableAttributes": [] }),
            json!({ "typoTolerance": {} }),
            json!({ "typoTolerance": { "minWordSizeForTypos": { "oneTypo": 3 } } }),
            json!({ "typoTolerance": { "minWordSizeForTypos": { "oneTypo": 9, "twoTypos": 9 } } }),
            json!({ "typoTolerance": { "minWordSizeForTypos": { "oneTypo": 0, "twoTypos": 255 } } }),
            json!({ "typoTolerance": { "enabled": null, "minWordSizeForTypos": null } }),
            json!({ "typoTolerance": { "minWordSizeForTypos": { "oneTypo": null } } }),
            json!({ "faceting": { "sortFacetValuesBy": null } }),
            json!({ "faceting": { "maxValuesPerFacet": null, "sortFacetValuesBy": {} } }),
            json!({ "pagination": {} }),
            json!({ "pagination": { "maxTotalHits": null } }),
            json!({ "embedders": {} }),
            json!({ "searchCutoffMs": 0 }),
            json!({ "searchCutoffMs": u64::MAX }),
            json!({ "synonyms": {} }),
            json!({ "localizedAttributes": [] }),
            json!({ "localizedAttributes": [{ "attributePatterns": [], "locales": [] }] }),
            json!({ "proximityPrecision": "byWord", "facetSearch": true, "prefixSearch": "indexingTime" }),
            json!({
                "displayedAttributes": null, "searchableAttributes": null,
                "filterableAttributes": null, "sortableAttributes": null, "rankingRules": null,
                "stopWords": null, "nonSeparatorTokens": null, "separatorTokens": null,
                "dictionary": null, "synonyms": null, "distinctAttribute": null,
                "proximityPrecision": null, "typoTolerance": null, "faceting": null,
                "pagination": null, "embedders": null, "searchCutoffMs": null,
                "localizedAttributes": null, "facetSearch": null, "prefixSearch": null
            }),
        ];
        for body in bodies {
            let settings = Settings::from_json(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_same_json(&settings.to_json(), &body, &body.to_string());
        }
    }

    #[test]
    fn decoding_normalizes() {
        // (body, what to_json writes back)
        let cases = [
            // Key order of the body does not matter; Meilisearch's order is written.
            (
                json!({ "prefixSearch": "disabled", "displayedAttributes": ["a"] }),
                json!({ "displayedAttributes": ["a"], "prefixSearch": "disabled" }),
            ),
            // Sets are sorted and deduplicated; lists keep their order and duplicates.
            (
                json!({ "stopWords": ["the", "a", "the"], "displayedAttributes": ["b", "a", "b"] }),
                json!({ "displayedAttributes": ["b", "a", "b"], "stopWords": ["a", "the"] }),
            ),
            (
                json!({ "synonyms": { "b": ["y", "x"], "a": [] } }),
                json!({ "synonyms": { "a": [], "b": ["y", "x"] } }),
            ),
            // Pattern rules get their default features.
            (
                json!({ "filterableAttributes": [{ "attributePatterns": ["a"] }] }),
                json!({ "filterableAttributes": [{
                    "attributePatterns": ["a"],
                    "features": { "facetSearch": false, "filter": { "equality": true, "comparison": false } }
                }] }),
            ),
            (
                json!({ "filterableAttributes": [{ "features": { "filter": { "comparison": true } }, "attributePatterns": [] }] }),
                json!({ "filterableAttributes": [{
                    "attributePatterns": [],
                    "features": { "facetSearch": false, "filter": { "equality": true, "comparison": true } }
                }] }),
            ),
            (
                json!({ "filterableAttributes": [{ "attributePatterns": ["a"], "features": { "facetSearch": true, "filter": {} } }] }),
                json!({ "filterableAttributes": [{
                    "attributePatterns": ["a"],
                    "features": { "facetSearch": true, "filter": { "equality": true, "comparison": false } }
                }] }),
            ),
            // Nested objects are written in Meilisearch's order too.
            (
                json!({ "typoTolerance": { "disableOnNumbers": true, "enabled": true } }),
                json!({ "typoTolerance": { "enabled": true, "disableOnNumbers": true } }),
            ),
            (
                json!({ "typoTolerance": { "minWordSizeForTypos": { "twoTypos": 7, "oneTypo": 2 } } }),
                json!({ "typoTolerance": { "minWordSizeForTypos": { "oneTypo": 2, "twoTypos": 7 } } }),
            ),
            (
                json!({ "embedders": { "b": null, "a": { "source": "ollama", "model": "m" } } }),
                json!({ "embedders": { "a": { "source": "ollama", "model": "m" }, "b": null } }),
            ),
        ];
        for (body, expected) in cases {
            let settings = Settings::from_json(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_same_json(&settings.to_json(), &expected, &body.to_string());
        }
    }

    #[test]
    fn decoded_values() {
        let settings = Settings::from_json(&full_body()).unwrap();
        assert_eq!(
            settings.ranking_rules.clone().set().unwrap()[7..],
            [
                RankingRuleView::Desc("release_date".into()),
                RankingRuleView::Asc("price".into()),
                RankingRuleView::Asc("a:b".into())
            ]
        );
        let typo = settings.typo_tolerance.clone().set().unwrap();
        let sizes = typo.min_word_size_for_typos.set().unwrap();
        assert_eq!(
            (sizes.one_typo, sizes.two_typos),
            (Setting::Set(4), Setting::Set(8))
        );
        assert_eq!(
            settings.pagination.as_ref().set().unwrap().max_total_hits,
            Setting::Set(500)
        );
        assert_eq!(
            settings.proximity_precision,
            Setting::Set(ProximityPrecisionView::ByAttribute)
        );
        assert_eq!(
            settings.prefix_search,
            Setting::Set(PrefixSearchView::Disabled)
        );
        let embedders = settings.embedders.clone().set().unwrap();
        assert_eq!(embedders["old"], Setting::Reset);
        assert_eq!(
            embedders["default"],
            Setting::Set(json!({ "source": "userProvided", "dimensions": 3 }))
        );
        assert_eq!(
            settings.filterable_attributes.as_ref().set().unwrap()[0],
            FilterableAttributesRule::Field("genre".into())
        );
        assert!(settings.search_cutoff_ms == Setting::Set(150));
        assert!(Settings::from_json(&json!({})).unwrap() == Settings::default());
        assert!(Settings::default().distinct_attribute.is_not_set());
    }

    #[test]
    fn invalid_bodies() {
        use Code::*;
        let huge = u64::MAX;
        let usize_max = usize::MAX;
        // (body, expected code, expected message)
        let cases: Vec<(Value, Code, String)> = vec![
            // The body itself.
            (json!("foo"), BadRequest, "Invalid value type: expected an object, but found a string: `\"foo\"`".into()),
            (json!([]), BadRequest, "Invalid value type: expected an object, but found an array: `[]`".into()),
            (json!(null), BadRequest, "Invalid value type: expected an object, but found null".into()),
            (json!(12), BadRequest, "Invalid value type: expected an object, but found a positive integer: `12`".into()),
            (json!({ "foo": 1 }), BadRequest, format!("Unknown field `foo`: expected one of {ALL_KEYS}")),
            (json!({ "rankingRule": [] }), BadRequest, format!("Unknown field `rankingRule`: did you mean `rankingRules`? expected one of {ALL_KEYS}")),
            (json!({ "displayed_attributes": [] }), BadRequest, format!("Unknown field `displayed_attributes`: did you mean `displayedAttributes`? expected one of {ALL_KEYS}")),
            // The first problem in the body's order is the one reported.
            (json!({ "foo": 1, "stopWords": 1 }), BadRequest, format!("Unknown field `foo`: expected one of {ALL_KEYS}")),
            (json!({ "stopWords": 1, "foo": 1 }), InvalidSettingsStopWords, "Invalid value type at `.stopWords`: expected an array, but found a positive integer: `1`".into()),
            (json!({ "rankingRules": ["attribute", "wordPosition"], "stopWords": 1 }), InvalidSettingsStopWords, "Invalid value type at `.stopWords`: expected an array, but found a positive integer: `1`".into()),
            // Lists of strings.
            (json!({ "displayedAttributes": "doggo" }), InvalidSettingsDisplayedAttributes, "Invalid value type at `.displayedAttributes`: expected an array, but found a string: `\"doggo\"`".into()),
            (json!({ "displayedAttributes": [1] }), InvalidSettingsDisplayedAttributes, "Invalid value type at `.displayedAttributes[0]`: expected a string, but found a positive integer: `1`".into()),
            (json!({ "searchableAttributes": ["a", null] }), InvalidSettingsSearchableAttributes, "Invalid value type at `.searchableAttributes[1]`: expected a string, but found null".into()),
            (json!({ "searchableAttributes": {} }), InvalidSettingsSearchableAttributes, "Invalid value type at `.searchableAttributes`: expected an array, but found an object: `{}`".into()),
            (json!({ "sortableAttributes": { "a": 1 } }), InvalidSettingsSortableAttributes, "Invalid value type at `.sortableAttributes`: expected an array, but found an object: `{\"a\":1}`".into()),
            (json!({ "sortableAttributes": [["a"]] }), InvalidSettingsSortableAttributes, "Invalid value type at `.sortableAttributes[0]`: expected a string, but found an array: `[\"a\"]`".into()),
            (json!({ "stopWords": "the" }), InvalidSettingsStopWords, "Invalid value type at `.stopWords`: expected an array, but found a string: `\"the\"`".into()),
            (json!({ "nonSeparatorTokens": [true] }), InvalidSettingsNonSeparatorTokens, "Invalid value type at `.nonSeparatorTokens[0]`: expected a string, but found a boolean: `true`".into()),
            (json!({ "separatorTokens": -1 }), InvalidSettingsSeparatorTokens, "Invalid value type at `.separatorTokens`: expected an array, but found a negative integer: `-1`".into()),
            (json!({ "dictionary": 1.5 }), InvalidSettingsDictionary, "Invalid value type at `.dictionary`: expected an array, but found a number: `1.5`".into()),
            // filterableAttributes.
            (json!({ "filterableAttributes": "doggo" }), InvalidSettingsFilterableAttributes, "Invalid value type at `.filterableAttributes`: expected an array, but found a string: `\"doggo\"`".into()),
            (json!({ "filterableAttributes": ["a", 1] }), InvalidSettingsFilterableAttributes, "Invalid value type at `.filterableAttributes[1]`: expected a string, but found a positive integer: `1`".into()),
            (json!({ "filterableAttributes": [{ "features": {} }] }), InvalidSettingsFilterableAttributes, "Missing field `attributePatterns` inside `.filterableAttributes[0]`".into()),
            (json!({ "filterableAttributes": [{ "attributePatterns": ["a"], "foo": 1 }] }), InvalidSettingsFilterableAttributes, "Unknown field `foo` inside `.filterableAttributes[0]`: expected one of `attributePatterns`, `features`".into()),
            (json!({ "filterableAttributes": [{ "attributePatterns": "a" }] }), InvalidSettingsFilterableAttributes, "Invalid value type at `.filterableAttributes[0].attributePatterns`: expected an array, but found a string: `\"a\"`".into()),
            (json!({ "filterableAttributes": [{ "attributePatterns": [1] }] }), InvalidSettingsFilterableAttributes, "Invalid value type at `.filterableAttributes[0].attributePatterns[0]`: expected a string, but found a positive integer: `1`".into()),
            (json!({ "filterableAttributes": [{ "attributePatterns": [], "features": null }] }), InvalidSettingsFilterableAttributes, "Invalid value type at `.filterableAttributes[0].features`: expected an object, but found null".into()),
            (json!({ "filterableAttributes": [{ "attributePatterns": [], "features": { "facetSearch": "yes" } }] }), InvalidSettingsFilterableAttributes, "Invalid value type at `.filterableAttributes[0].features.facetSearch`: expected a boolean, but found a string: `\"yes\"`".into()),
            (json!({ "filterableAttributes": [{ "attributePatterns": [], "features": { "facetsearch": true } }] }), InvalidSettingsFilterableAttributes, "Unknown field `facetsearch` inside `.filterableAttributes[0].features`: did you mean `facetSearch`? expected one of `facetSearch`, `filter`".into()),
            (json!({ "filterableAttributes": [{ "attributePatterns": [], "features": { "filter": [] } }] }), InvalidSettingsFilterableAttributes, "Invalid value type at `.filterableAttributes[0].features.filter`: expected an object, but found an array: `[]`".into()),
            (json!({ "filterableAttributes": [{ "attributePatterns": [], "features": { "filter": { "equality": 1 } } }] }), InvalidSettingsFilterableAttributes, "Invalid value type at `.filterableAttributes[0].features.filter.equality`: expected a boolean, but found a positive integer: `1`".into()),
            (json!({ "filterableAttributes": [{ "attributePatterns": [], "features": { "filter": { "comparison": null } } }] }), InvalidSettingsFilterableAttributes, "Invalid value type at `.filterableAttributes[0].features.filter.comparison`: expected a boolean, but found null".into()),
            (json!({ "filterableAttributes": [{ "attributePatterns": [], "features": { "filter": { "contains": true } } }] }), InvalidSettingsFilterableAttributes, "Unknown field `contains` inside `.filterableAttributes[0].features.filter`: expected one of `equality`, `comparison`".into()),
            // rankingRules.
            (json!({ "rankingRules": "doggo" }), InvalidSettingsRankingRules, "Invalid value type at `.rankingRules`: expected an array, but found a string: `\"doggo\"`".into()),
            (json!({ "rankingRules": ["manyTheFish"] }), InvalidSettingsRankingRules, format!("Invalid value at `.rankingRules[0]`: `manyTheFish` {BAD_RULE}")),
            (json!({ "rankingRules": ["words", 1] }), InvalidSettingsRankingRules, "Invalid value type at `.rankingRules[1]`: expected a string, but found a positive integer: `1`".into()),
            (json!({ "rankingRules": ["words", "Typo"] }), InvalidSettingsRankingRules, format!("Invalid value at `.rankingRules[1]`: `Typo` {BAD_RULE}")),
            (json!({ "rankingRules": ["price:ascending"] }), InvalidSettingsRankingRules, format!("Invalid value at `.rankingRules[0]`: `price:ascending` {BAD_RULE}")),
            (json!({ "rankingRules": ["asc(price)"] }), InvalidSettingsRankingRules, format!("Invalid value at `.rankingRules[0]`: `asc(price)` {BAD_RULE}")),
            (json!({ "rankingRules": ["price:asc:truc"] }), InvalidSettingsRankingRules, format!("Invalid value at `.rankingRules[0]`: `price:asc:truc` {BAD_RULE}")),
            (json!({ "rankingRules": ["attributePosition"] }), InvalidSettingsRankingRules, format!("Invalid value at `.rankingRules[0]`: `attributePosition` {BAD_RULE}")),
            (json!({ "rankingRules": ["_geo:asc"] }), InvalidSettingsRankingRules, "Invalid value at `.rankingRules[0]`: `_geo` is a reserved keyword and thus can't be used as a ranking rule".into()),
            (json!({ "rankingRules": ["_geoDistance:desc"] }), InvalidSettingsRankingRules, "Invalid value at `.rankingRules[0]`: `_geoDistance` is a reserved keyword and thus can't be used as a ranking rule".into()),
            (json!({ "rankingRules": ["_geoPoint:asc"] }), InvalidSettingsRankingRules, "Invalid value at `.rankingRules[0]`: `_geoPoint` is a reserved keyword and thus can't be used as a ranking rule. `_geoPoint` can only be used for sorting at search time".into()),
            (json!({ "rankingRules": ["_geoPoint(42, 75):asc"] }), InvalidSettingsRankingRules, "Invalid value at `.rankingRules[0]`: `_geoPoint` is a reserved keyword and thus can't be used as a ranking rule. `_geoPoint` can only be used for sorting at search time".into()),
            (json!({ "rankingRules": ["_geoRadius(42, 75, 59):asc"] }), InvalidSettingsRankingRules, "Invalid value at `.rankingRules[0]`: `_geoRadius` is a reserved keyword and thus can't be used as a ranking rule. `_geoRadius` can only be used for filtering at search time".into()),
            (json!({ "rankingRules": ["_geoBoundingBox:desc"] }), InvalidSettingsRankingRules, "Invalid value at `.rankingRules[0]`: `_geoBoundingBox` is a reserved keyword and thus can't be used as a ranking rule. `_geoBoundingBox` can only be used for filtering at search time".into()),
            (json!({ "rankingRules": ["words", "attribute", "attributeRank"] }), InvalidSettingsRankingRules, MIXED.into()),
            (json!({ "rankingRules": ["typo", "attribute", "wordPosition", "exactness"] }), InvalidSettingsRankingRules, MIXED.into()),
            // synonyms.
            (json!({ "synonyms": "doggo" }), InvalidSettingsSynonyms, "Invalid value type at `.synonyms`: expected an object, but found a string: `\"doggo\"`".into()),
            (json!({ "synonyms": ["a"] }), InvalidSettingsSynonyms, "Invalid value type at `.synonyms`: expected an object, but found an array: `[\"a\"]`".into()),
            (json!({ "synonyms": { "a": "b" } }), InvalidSettingsSynonyms, "Invalid value type at `.synonyms.a`: expected an array, but found a string: `\"b\"`".into()),
            (json!({ "synonyms": { "a": null } }), InvalidSettingsSynonyms, "Invalid value type at `.synonyms.a`: expected an array, but found null".into()),
            (json!({ "synonyms": { "a": ["b", 2] } }), InvalidSettingsSynonyms, "Invalid value type at `.synonyms.a[1]`: expected a string, but found a positive integer: `2`".into()),
            // distinctAttribute.
            (json!({ "distinctAttribute": ["doggo"] }), InvalidSettingsDistinctAttribute, "Invalid value type at `.distinctAttribute`: expected a string, but found an array: `[\"doggo\"]`".into()),
            (json!({ "distinctAttribute": false }), InvalidSettingsDistinctAttribute, "Invalid value type at `.distinctAttribute`: expected a string, but found a boolean: `false`".into()),
            // proximityPrecision.
            (json!({ "proximityPrecision": "foo" }), InvalidSettingsProximityPrecision, "Unknown value `foo` at `.proximityPrecision`: expected one of `byWord`, `byAttribute`".into()),
            (json!({ "proximityPrecision": "byWords" }), InvalidSettingsProximityPrecision, "Unknown value `byWords` at `.proximityPrecision`: did you mean `byWord`? expected one of `byWord`, `byAttribute`".into()),
            (json!({ "proximityPrecision": 1 }), InvalidSettingsProximityPrecision, "Invalid value type at `.proximityPrecision`: expected a string, but found a positive integer: `1`".into()),
            // typoTolerance.
            (json!({ "typoTolerance": "doggo" }), InvalidSettingsTypoTolerance, "Invalid value type at `.typoTolerance`: expected an object, but found a string: `\"doggo\"`".into()),
            (json!({ "typoTolerance": { "foo": 1 } }), InvalidSettingsTypoTolerance, format!("Unknown field `foo` inside `.typoTolerance`: expected one of {TYPO_KEYS}")),
            (json!({ "typoTolerance": { "enable": true } }), InvalidSettingsTypoTolerance, format!("Unknown field `enable` inside `.typoTolerance`: did you mean `enabled`? expected one of {TYPO_KEYS}")),
            (json!({ "typoTolerance": { "enabled": "yes" } }), InvalidSettingsTypoTolerance, "Invalid value type at `.typoTolerance.enabled`: expected a boolean, but found a string: `\"yes\"`".into()),
            (json!({ "typoTolerance": { "minWordSizeForTypos": "doggo" } }), InvalidSettingsTypoTolerance, "Invalid value type at `.typoTolerance.minWordSizeForTypos`: expected an object, but found a string: `\"doggo\"`".into()),
            (json!({ "typoTolerance": { "minWordSizeForTypos": { "threeTypos": 1 } } }), InvalidSettingsTypoTolerance, "Unknown field `threeTypos` inside `.typoTolerance.minWordSizeForTypos`: expected one of `oneTypo`, `twoTypos`".into()),
            (json!({ "typoTolerance": { "minWordSizeForTypos": { "oneTypo": -1 } } }), InvalidSettingsTypoTolerance, "Invalid value type at `.typoTolerance.minWordSizeForTypos.oneTypo`: expected a positive integer, but found a negative integer: `-1`".into()),
            (json!({ "typoTolerance": { "minWordSizeForTypos": { "oneTypo": 1.5 } } }), InvalidSettingsTypoTolerance, "Invalid value type at `.typoTolerance.minWordSizeForTypos.oneTypo`: expected a positive integer, but found a number: `1.5`".into()),
            (json!({ "typoTolerance": { "minWordSizeForTypos": { "twoTypos": "9" } } }), InvalidSettingsTypoTolerance, "Invalid value type at `.typoTolerance.minWordSizeForTypos.twoTypos`: expected a positive integer, but found a string: `\"9\"`".into()),
            (json!({ "typoTolerance": { "minWordSizeForTypos": { "oneTypo": 300 } } }), InvalidSettingsTypoTolerance, "Invalid value at `.typoTolerance.minWordSizeForTypos.oneTypo`: value: `300` is too large to be deserialized, maximum value authorized is `255`".into()),
            (json!({ "typoTolerance": { "minWordSizeForTypos": { "oneTypo": 6, "twoTypos": 5 } } }), InvalidSettingsTypoTolerance, "Invalid value at `.typoTolerance.minWordSizeForTypos`: `minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should be between `0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` but found `oneTypo: 6` and twoTypos: 5`.".into()),
            (json!({ "typoTolerance": { "disableOnWords": "a" } }), InvalidSettingsTypoTolerance, "Invalid value type at `.typoTolerance.disableOnWords`: expected an array, but found a string: `\"a\"`".into()),
            (json!({ "typoTolerance": { "disableOnAttributes": [1] } }), InvalidSettingsTypoTolerance, "Invalid value type at `.typoTolerance.disableOnAttributes[0]`: expected a string, but found a positive integer: `1`".into()),
            (json!({ "typoTolerance": { "disableOnNumbers": 0 } }), InvalidSettingsTypoTolerance, "Invalid value type at `.typoTolerance.disableOnNumbers`: expected a boolean, but found a positive integer: `0`".into()),
            // faceting.
            (json!({ "faceting": "doggo" }), InvalidSettingsFaceting, "Invalid value type at `.faceting`: expected an object, but found a string: `\"doggo\"`".into()),
            (json!({ "faceting": { "maxValuesPerFacet": -1 } }), InvalidSettingsFaceting, "Invalid value type at `.faceting.maxValuesPerFacet`: expected a positive integer, but found a negative integer: `-1`".into()),
            (json!({ "faceting": { "maxValuesPerFacet": "10" } }), InvalidSettingsFaceting, "Invalid value type at `.faceting.maxValuesPerFacet`: expected a positive integer, but found a string: `\"10\"`".into()),
            (json!({ "faceting": { "sortFacetValuesBy": [] } }), InvalidSettingsFaceting, "Invalid value type at `.faceting.sortFacetValuesBy`: expected an object, but found an array: `[]`".into()),
            (json!({ "faceting": { "sortFacetValuesBy": { "*": "desc" } } }), InvalidSettingsFaceting, "Unknown value `desc` at `.faceting.sortFacetValuesBy.*`: expected one of `alpha`, `count`".into()),
            (json!({ "faceting": { "sortFacetValuesBy": { "genre": null } } }), InvalidSettingsFaceting, "Invalid value type at `.faceting.sortFacetValuesBy.genre`: expected a string, but found null".into()),
            (json!({ "faceting": { "maxValuesPerFacets": 1 } }), InvalidSettingsFaceting, "Unknown field `maxValuesPerFacets` inside `.faceting`: did you mean `maxValuesPerFacet`? expected one of `maxValuesPerFacet`, `sortFacetValuesBy`".into()),
            // pagination.
            (json!({ "pagination": "doggo" }), InvalidSettingsPagination, "Invalid value type at `.pagination`: expected an object, but found a string: `\"doggo\"`".into()),
            (json!({ "pagination": { "maxTotalHits": "doggo" } }), InvalidSettingsPagination, "Invalid value type at `.pagination.maxTotalHits`: expected a positive integer, but found a string: `\"doggo\"`".into()),
            (json!({ "pagination": { "maxTotalHits": -5 } }), InvalidSettingsPagination, "Invalid value type at `.pagination.maxTotalHits`: expected a positive integer, but found a negative integer: `-5`".into()),
            (json!({ "pagination": { "maxTotalHits": 0 } }), InvalidSettingsPagination, format!("Invalid value at `.pagination.maxTotalHits`: a non-zero integer value lower than `{usize_max}` was expected, but found a zero")),
            (json!({ "pagination": { "limit": 10 } }), InvalidSettingsPagination, "Unknown field `limit` inside `.pagination`: expected one of `maxTotalHits`".into()),
            // embedders.
            (json!({ "embedders": "doggo" }), InvalidSettingsEmbedders, "Invalid value type at `.embedders`: expected an object, but found a string: `\"doggo\"`".into()),
            (json!({ "embedders": [] }), InvalidSettingsEmbedders, "Invalid value type at `.embedders`: expected an object, but found an array: `[]`".into()),
            (json!({ "embedders": { "default": "openAi" } }), InvalidSettingsEmbedders, "Invalid value type at `.embedders.default`: expected an object, but found a string: `\"openAi\"`".into()),
            // searchCutoffMs.
            (json!({ "searchCutoffMs": "doggo" }), InvalidSettingsSearchCutoffMs, "Invalid value type at `.searchCutoffMs`: expected a positive integer, but found a string: `\"doggo\"`".into()),
            (json!({ "searchCutoffMs": -1 }), InvalidSettingsSearchCutoffMs, "Invalid value type at `.searchCutoffMs`: expected a positive integer, but found a negative integer: `-1`".into()),
            (json!({ "searchCutoffMs": 2.5 }), InvalidSettingsSearchCutoffMs, "Invalid value type at `.searchCutoffMs`: expected a positive integer, but found a number: `2.5`".into()),
            (json!({ "searchCutoffMs": (huge as f64) * 2.0 }), InvalidSettingsSearchCutoffMs, "Invalid value type at `.searchCutoffMs`: expected a positive integer, but found a number: `3.6893488147419103e+19`".into()),
            // localizedAttributes.
            (json!({ "localizedAttributes": "jpn" }), InvalidSettingsLocalizedAttributes, "Invalid value type at `.localizedAttributes`: expected an array, but found a string: `\"jpn\"`".into()),
            (json!({ "localizedAttributes": [1] }), InvalidSettingsLocalizedAttributes, "Invalid value type at `.localizedAttributes[0]`: expected an object, but found a positive integer: `1`".into()),
            (json!({ "localizedAttributes": [{ "attributePatterns": "*_ja", "locales": ["jpn"] }] }), InvalidSettingsLocalizedAttributes, "Invalid value type at `.localizedAttributes[0].attributePatterns`: expected an array, but found a string: `\"*_ja\"`".into()),
            (json!({ "localizedAttributes": [{ "attributePatterns": ["*_ja"], "locales": "jpn" }] }), InvalidSettingsLocalizedAttributes, "Invalid value type at `.localizedAttributes[0].locales`: expected an array, but found a string: `\"jpn\"`".into()),
            (json!({ "localizedAttributes": [{ "locales": ["jpn"] }] }), InvalidSettingsLocalizedAttributes, "Missing field `attributePatterns` inside `.localizedAttributes[0]`".into()),
            (json!({ "localizedAttributes": [{ "attributePatterns": ["*"] }] }), InvalidSettingsLocalizedAttributes, "Missing field `locales` inside `.localizedAttributes[0]`".into()),
            (json!({ "localizedAttributes": [{}] }), InvalidSettingsLocalizedAttributes, "Missing field `attributePatterns` inside `.localizedAttributes[0]`".into()),
            (json!({ "localizedAttributes": [{ "attributePatterns": ["*"], "locales": [1] }] }), InvalidSettingsLocalizedAttributes, "Invalid value type at `.localizedAttributes[0].locales[0]`: expected a string, but found a positive integer: `1`".into()),
            (json!({ "localizedAttributes": [{ "attributePatterns": ["*"], "locales": ["jpn"], "foo": 1 }] }), InvalidSettingsLocalizedAttributes, "Unknown field `foo` inside `.localizedAttributes[0]`: expected one of `attributePatterns`, `locales`".into()),
            (json!({ "localizedAttributes": [{ "attributePatterns": ["*"], "locales": ["japan"] }] }), InvalidSettingsLocalizedAttributes, format!("Unknown value `japan` at `.localizedAttributes[0].locales[0]`: expected one of {}", backticked_list(SUPPORTED_LOCALES))),
            (json!({ "localizedAttributes": [{ "attributePatterns": ["*"], "locales": ["engl"] }] }), InvalidSettingsLocalizedAttributes, format!("Unknown value `engl` at `.localizedAttributes[0].locales[0]`: did you mean `eng`? expected one of {}", backticked_list(SUPPORTED_LOCALES))),
            // facetSearch and prefixSearch.
            (json!({ "facetSearch": "true" }), InvalidSettingsFacetSearch, "Invalid value type at `.facetSearch`: expected a boolean, but found a string: `\"true\"`".into()),
            (json!({ "prefixSearch": "never" }), InvalidSettingsPrefixSearch, "Unknown value `never` at `.prefixSearch`: expected one of `indexingTime`, `disabled`".into()),
            (json!({ "prefixSearch": "indexing_time" }), InvalidSettingsPrefixSearch, "Unknown value `indexing_time` at `.prefixSearch`: did you mean `indexingTime`? expected one of `indexingTime`, `disabled`".into()),
            (json!({ "prefixSearch": false }), InvalidSettingsPrefixSearch, "Invalid value type at `.prefixSearch`: expected a string, but found a boolean: `false`".into()),
        ];
        for (body, code, message) in cases {
            let error = decode_error(&body);
            assert_eq!(
                (error.code, error.message.as_str()),
                (code, message.as_str()),
                "{body}"
            );
        }
    }

    #[test]
    fn every_key_blames_its_own_code() {
        for (_, key, _) in SETTINGS_ROUTES {
            // `true` is wrong for every key but facetSearch, whose type is checked with a string.
            let bad = if *key == "facetSearch" {
                json!("yes")
            } else {
                json!(true)
            };
            let error = decode_error(&json!({ *key: bad }));
            assert_eq!(Some(error.code), key_code(key), "{key}");
            assert!(
                error.message.contains(&format!("`.{key}`")),
                "{key}: {}",
                error.message
            );
            let expected_code = format!(
                "invalid_settings_{}",
                SETTINGS_ROUTES
                    .iter()
                    .find(|r| r.1 == *key)
                    .unwrap()
                    .0
                    .replace('-', "_")
            );
            assert_eq!(error.code.name(), expected_code);
        }
    }

    #[test]
    fn route_bodies() {
        // (route, body, to_json of the decoded settings)
        let cases = [
            (
                "displayed-attributes",
                json!(["title"]),
                json!({ "displayedAttributes": ["title"] }),
            ),
            (
                "searchable-attributes",
                json!(null),
                json!({ "searchableAttributes": null }),
            ),
            (
                "filterable-attributes",
                json!(["genre"]),
                json!({ "filterableAttributes": ["genre"] }),
            ),
            (
                "sortable-attributes",
                json!(["b", "a"]),
                json!({ "sortableAttributes": ["a", "b"] }),
            ),
            (
                "ranking-rules",
                json!(["words", "price:asc"]),
                json!({ "rankingRules": ["words", "price:asc"] }),
            ),
            (
                "stop-words",
                json!(["the"]),
                json!({ "stopWords": ["the"] }),
            ),
            (
                "non-separator-tokens",
                json!(["@"]),
                json!({ "nonSeparatorTokens": ["@"] }),
            ),
            (
                "separator-tokens",
                json!([]),
                json!({ "separatorTokens": [] }),
            ),
            (
                "dictionary",
                json!(["C++"]),
                json!({ "dictionary": ["C++"] }),
            ),
            (
                "synonyms",
                json!({ "a": ["b"] }),
                json!({ "synonyms": { "a": ["b"] } }),
            ),
            (
                "distinct-attribute",
                json!("sku"),
                json!({ "distinctAttribute": "sku" }),
            ),
            (
                "distinct-attribute",
                json!(null),
                json!({ "distinctAttribute": null }),
            ),
            (
                "proximity-precision",
                json!("byAttribute"),
                json!({ "proximityPrecision": "byAttribute" }),
            ),
            (
                "typo-tolerance",
                json!({ "enabled": false }),
                json!({ "typoTolerance": { "enabled": false } }),
            ),
            (
                "faceting",
                json!({ "maxValuesPerFacet": 10 }),
                json!({ "faceting": { "maxValuesPerFacet": 10 } }),
            ),
            (
                "pagination",
                json!({ "maxTotalHits": 10 }),
                json!({ "pagination": { "maxTotalHits": 10 } }),
            ),
            (
                "embedders",
                json!({ "e": { "source": "huggingFace" } }),
                json!({ "embedders": { "e": { "source": "huggingFace" } } }),
            ),
            ("search-cutoff-ms", json!(0), json!({ "searchCutoffMs": 0 })),
            (
                "localized-attributes",
                json!([{ "attributePatterns": ["*"], "locales": ["fr"] }]),
                json!({ "localizedAttributes": [{ "attributePatterns": ["*"], "locales": ["fr"] }] }),
            ),
            (
                "facet-search",
                json!(false),
                json!({ "facetSearch": false }),
            ),
            (
                "prefix-search",
                json!("disabled"),
                json!({ "prefixSearch": "disabled" }),
            ),
        ];
        for (route, body, expected) in cases {
            let settings = Settings::from_route_body(route, &body)
                .unwrap_or_else(|e| panic!("{route} {body}: {e}"));
            assert_same_json(&settings.to_json(), &expected, route);
        }
        // null on any route is the same as DELETE on it.
        for (route, key, _) in SETTINGS_ROUTES {
            let settings = Settings::from_route_body(route, &Value::Null).unwrap();
            assert_eq!(
                Some(&settings),
                Settings::reset_route(route).as_ref(),
                "{route}"
            );
            assert_same_json(&settings.to_json(), &json!({ *key: null }), route);
        }
    }

    #[test]
    fn invalid_route_bodies() {
        use Code::*;
        // (route, body, expected code, expected message): paths start at the body.
        let cases = [
            ("displayed-attributes", json!("doggo"), InvalidSettingsDisplayedAttributes, "Invalid value type: expected an array, but found a string: `\"doggo\"`".to_string()),
            ("displayed-attributes", json!({ "displayedAttributes": ["a"] }), InvalidSettingsDisplayedAttributes, "Invalid value type: expected an array, but found an object: `{\"displayedAttributes\":[\"a\"]}`".into()),
            ("sortable-attributes", json!([1]), InvalidSettingsSortableAttributes, "Invalid value type at `[0]`: expected a string, but found a positive integer: `1`".into()),
            ("ranking-rules", json!(["foo"]), InvalidSettingsRankingRules, format!("Invalid value at `[0]`: `foo` {BAD_RULE}")),
            ("ranking-rules", json!(["attribute", "attributeRank"]), InvalidSettingsRankingRules, MIXED.into()),
            ("synonyms", json!("doggo"), InvalidSettingsSynonyms, "Invalid value type: expected an object, but found a string: `\"doggo\"`".into()),
            ("synonyms", json!({ "a": [1] }), InvalidSettingsSynonyms, "Invalid value type at `.a[0]`: expected a string, but found a positive integer: `1`".into()),
            ("distinct-attribute", json!(["doggo"]), InvalidSettingsDistinctAttribute, "Invalid value type: expected a string, but found an array: `[\"doggo\"]`".into()),
            ("proximity-precision", json!("foo"), InvalidSettingsProximityPrecision, "Unknown value `foo`: expected one of `byWord`, `byAttribute`".into()),
            ("typo-tolerance", json!("doggo"), InvalidSettingsTypoTolerance, "Invalid value type: expected an object, but found a string: `\"doggo\"`".into()),
            ("typo-tolerance", json!({ "typoTolerance": { "minWordSizeForTypos": "doggo" } }), InvalidSettingsTypoTolerance, format!("Unknown field `typoTolerance`: expected one of {TYPO_KEYS}")),
            ("typo-tolerance", json!({ "minWordSizeForTypos": { "oneTypo": 256 } }), InvalidSettingsTypoTolerance, "Invalid value at `.minWordSizeForTypos.oneTypo`: value: `256` is too large to be deserialized, maximum value authorized is `255`".into()),
            ("faceting", json!("doggo"), InvalidSettingsFaceting, "Invalid value type: expected an object, but found a string: `\"doggo\"`".into()),
            ("pagination", json!({ "maxTotalHits": "doggo" }), InvalidSettingsPagination, "Invalid value type at `.maxTotalHits`: expected a positive integer, but found a string: `\"doggo\"`".into()),
            ("pagination", json!({ "maxTotalHits": 0 }), InvalidSettingsPagination, format!("Invalid value at `.maxTotalHits`: a non-zero integer value lower than `{}` was expected, but found a zero", usize::MAX)),
            ("embedders", json!({ "e": 1 }), InvalidSettingsEmbedders, "Invalid value type at `.e`: expected an object, but found a positive integer: `1`".into()),
            ("search-cutoff-ms", json!("doggo"), InvalidSettingsSearchCutoffMs, "Invalid value type: expected a positive integer, but found a string: `\"doggo\"`".into()),
            ("localized-attributes", json!([{ "locales": [] }]), InvalidSettingsLocalizedAttributes, "Missing field `attributePatterns` inside `[0]`".into()),
            ("facet-search", json!(1), InvalidSettingsFacetSearch, "Invalid value type: expected a boolean, but found a positive integer: `1`".into()),
            ("prefix-search", json!("nope"), InvalidSettingsPrefixSearch, "Unknown value `nope`: expected one of `indexingTime`, `disabled`".into()),
            ("no-such-setting", json!([]), NotFound, "Unknown settings route `no-such-setting`.".into()),
        ];
        for (route, body, code, message) in cases {
            let error = Settings::from_route_body(route, &body).unwrap_err();
            assert_eq!(
                (error.code, error.message.as_str()),
                (code, message.as_str()),
                "{route} {body}"
            );
        }
    }

    #[test]
    fn reset_all_writes_every_key_as_null() {
        let json = Settings::reset_all().to_json();
        let object = json.as_object().unwrap();
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        let expected: Vec<&str> = SETTINGS_ROUTES.iter().map(|(_, key, _)| *key).collect();
        assert_eq!(keys, expected);
        assert!(object.values().all(Value::is_null));
        assert_eq!(Settings::from_json(&json).unwrap(), Settings::reset_all());
        assert_same_json(&Settings::default().to_json(), &json!({}), "default");
    }

    #[test]
    fn reset_route_resets_one_key() {
        for (route, key, _) in SETTINGS_ROUTES {
            let settings = Settings::reset_route(route).unwrap();
            assert_same_json(&settings.to_json(), &json!({ *key: null }), route);
        }
        assert_eq!(Settings::reset_route("nope"), None);
    }

    #[test]
    fn route_json_picks_one_key() {
        let body = full_body();
        let settings = Settings::from_json(&body).unwrap();
        for (route, key, _) in SETTINGS_ROUTES {
            assert_eq!(
                settings.route_json(route).as_ref(),
                Some(&body[*key]),
                "{route}"
            );
        }
        assert_eq!(settings.route_json("nope"), None);
        assert_eq!(Settings::default().route_json("stop-words"), None);
        assert_eq!(
            Settings::reset_all().route_json("stop-words"),
            Some(Value::Null)
        );
    }

    #[test]
    fn routes_are_the_kebab_case_of_their_keys() {
        for (route, key, method) in SETTINGS_ROUTES {
            let mut kebab = String::new();
            for c in key.chars() {
                if c.is_ascii_uppercase() {
                    kebab.push('-');
                }
                kebab.push(c.to_ascii_lowercase());
            }
            assert_eq!(*route, kebab);
            let object_valued = [
                "typoTolerance",
                "faceting",
                "pagination",
                "embedders",
                "chat",
            ];
            let expected = if object_valued.contains(key) {
                "PATCH"
            } else {
                "PUT"
            };
            assert_eq!(*method, expected, "{route}");
        }
        assert_eq!(SETTINGS_ROUTES.len(), 22);
    }

    #[test]
    fn ranking_rules_parse_and_print() {
        let rules = [
            ("words", Some(RankingRuleView::Words)),
            ("typo", Some(RankingRuleView::Typo)),
            ("proximity", Some(RankingRuleView::Proximity)),
            ("attribute", Some(RankingRuleView::Attribute)),
            ("attributeRank", Some(RankingRuleView::AttributeRank)),
            ("wordPosition", Some(RankingRuleView::WordPosition)),
            ("sort", Some(RankingRuleView::Sort)),
            ("exactness", Some(RankingRuleView::Exactness)),
            (
                "release_date:asc",
                Some(RankingRuleView::Asc("release_date".into())),
            ),
            (
                "release_date:desc",
                Some(RankingRuleView::Desc("release_date".into())),
            ),
            (
                "price:asc:desc",
                Some(RankingRuleView::Desc("price:asc".into())),
            ),
            (
                "hello-world!:desc",
                Some(RankingRuleView::Desc("hello-world!".into())),
            ),
            (
                "it's spacy over there:asc",
                Some(RankingRuleView::Asc("it's spacy over there".into())),
            ),
            ("Words", None),
            ("words suffix", None),
            ("price", None),
            ("asc:price", None),
            ("price:deesc", None),
            ("price:asc:truc", None),
            ("_geo:asc", None),
            ("_geojson:asc", None),
            ("_geoPoint(42, 75):asc", None),
            ("_geoRadius:asc", None),
            ("", None),
        ];
        for (text, expected) in rules {
            let parsed = RankingRuleView::parse(text);
            assert_eq!(parsed, expected, "{text}");
            if let Some(rule) = parsed {
                assert_eq!(rule.as_string(), text);
            }
        }
        // The legacy form is read, and printed in the current one.
        let legacy = [
            (
                "asc(release_date)",
                Some(RankingRuleView::Asc("release_date".into())),
            ),
            ("desc(price)", Some(RankingRuleView::Desc("price".into()))),
            ("asc()", None),
            ("asc(price", None),
            ("desc(_geo)", None),
        ];
        for (text, expected) in legacy {
            assert_eq!(RankingRuleView::parse(text), expected, "{text}");
        }
        assert_eq!(
            RankingRuleView::parse("desc(price)").unwrap().as_string(),
            "price:desc"
        );
    }

    #[test]
    fn wire_enums() {
        for value in [
            ProximityPrecisionView::ByWord,
            ProximityPrecisionView::ByAttribute,
        ] {
            assert_eq!(ProximityPrecisionView::parse(value.as_str()), Some(value));
        }
        for value in [PrefixSearchView::IndexingTime, PrefixSearchView::Disabled] {
            assert_eq!(PrefixSearchView::parse(value.as_str()), Some(value));
        }
        for value in [FacetValuesSort::Alpha, FacetValuesSort::Count] {
            assert_eq!(FacetValuesSort::parse(value.as_str()), Some(value));
        }
        assert_eq!(
            ProximityPrecisionView::default(),
            ProximityPrecisionView::ByWord
        );
        assert_eq!(PrefixSearchView::default(), PrefixSearchView::IndexingTime);
        assert_eq!(FacetValuesSort::default(), FacetValuesSort::Alpha);
        assert_eq!(FacetValuesSort::parse("Alpha"), None);
    }

    #[test]
    fn setting_helpers() {
        assert_eq!(Setting::Set(3).set(), Some(3));
        assert_eq!(Setting::<u8>::Reset.set(), None);
        assert_eq!(Setting::<u8>::NotSet.set(), None);
        assert_eq!(
            Setting::Set(String::from("a")).as_ref(),
            Setting::Set(&String::from("a"))
        );
        assert_eq!(Setting::<u8>::Reset.as_ref(), Setting::Reset);
        assert!(Setting::<u8>::default().is_not_set());
        assert!(!Setting::<u8>::Reset.is_not_set());
        let features = FilterableAttributesFeatures::default();
        assert!(!features.facet_search && features.filter.equality && !features.filter.comparison);
    }

    #[test]
    fn near_misses() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("énorme", "enorme"), 1);
        assert_eq!(did_you_mean("abc", &["abd"]), "");
        assert_eq!(
            did_you_mean("abcd", &["abce", "abcd"]),
            "did you mean `abcd`? "
        );
        assert_eq!(
            did_you_mean("sortt", &["filter", "sort"]),
            "did you mean `sort`? "
        );
        assert_eq!(did_you_mean("zzzzzz", &["filter", "sort"]), "");
    }
}
