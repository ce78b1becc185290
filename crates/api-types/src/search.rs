//! Decoding of search requests: the JSON body of `POST /indexes/{uid}/search` (also one query
//! of `POST /multi-search`) and the query string of `GET /indexes/{uid}/search`, with
//! Meilisearch's parameter names, defaults, error codes and messages.

use serde_json::{Map, Value};

use crate::decode::{
    decode_bool, decode_f32_list, decode_f64, decode_string, decode_string_list, decode_usize,
    expect_object, filter_from_param, for_each_field, for_each_param, invalid_param, invalid_type,
    invalid_value, list_item_name, missing_field, parse_bool_param, parse_query_string,
    parse_usize_param, split_list, split_sort_list, unknown_param_value, unknown_value,
    validate_filter_shape,
};
use crate::error::{Code, ResponseError};

pub const DEFAULT_OFFSET: usize = 0;
pub const DEFAULT_LIMIT: usize = 20;
pub const DEFAULT_CROP_LENGTH: usize = 10;
pub const DEFAULT_CROP_MARKER: &str = "…";
pub const DEFAULT_HIGHLIGHT_PRE_TAG: &str = "<em>";
pub const DEFAULT_HIGHLIGHT_POST_TAG: &str = "</em>";
pub const DEFAULT_SEMANTIC_RATIO: f64 = 0.5;

/// How query words are dropped when too few documents match all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MatchingStrategy {
    /// Drop words from the end of the query.
    #[default]
    Last,
    /// Never drop words.
    All,
    /// Drop the most frequent words first.
    Frequency,
}

impl MatchingStrategy {
    /// The accepted spellings, in the order error messages list them.
    pub const NAMES: &'static [&'static str] = &["last", "all", "frequency"];

    pub fn as_str(self) -> &'static str {
        match self {
            MatchingStrategy::Last => "last",
            MatchingStrategy::All => "all",
            MatchingStrategy::Frequency => "frequency",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "last" => Some(MatchingStrategy::Last),
            "all" => Some(MatchingStrategy::All),
            "frequency" => Some(MatchingStrategy::Frequency),
            _ => None,
        }
    }
}

/// A search request. Pagination fields stay `None` when not given so that the caller can tell
/// `offset`/`limit` pagination from `page`/`hitsPerPage` pagination.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub offset: Option<usize>,
    pub limit: Option<usize>,
    pub page: Option<usize>,
    pub hits_per_page: Option<usize>,
    pub attributes_to_retrieve: Option<Vec<String>>,
    pub retrieve_vectors: bool,
    /// Items may carry their own length: `"overview:20"`.
    pub attributes_to_crop: Option<Vec<String>>,
    pub crop_length: usize,
    pub crop_marker: String,
    pub attributes_to_highlight: Option<Vec<String>>,
    pub highlight_pre_tag: String,
    pub highlight_post_tag: String,
    pub show_matches_position: bool,
    pub show_ranking_score: bool,
    pub show_ranking_score_details: bool,
    pub show_performance_details: bool,
    /// A string, or an array of strings and arrays of strings (shape checked only).
    pub filter: Option<Value>,
    pub sort: Option<Vec<String>>,
    pub distinct: Option<String>,
    pub facets: Option<Vec<String>>,
    pub matching_strategy: MatchingStrategy,
    pub attributes_to_search_on: Option<Vec<String>>,
    /// Between 0.0 and 1.0 inclusive.
    pub ranking_score_threshold: Option<f64>,
    pub locales: Option<Vec<String>>,
    /// `{"embedder": string, "semanticRatio"?: number in 0.0..=1.0}`, shape checked.
    pub hybrid: Option<Value>,
    pub vector: Option<Vec<f32>>,
    pub media: Option<Value>,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            q: None,
            offset: None,
            limit: None,
            page: None,
            hits_per_page: None,
            attributes_to_retrieve: None,
            retrieve_vectors: false,
            attributes_to_crop: None,
            crop_length: DEFAULT_CROP_LENGTH,
            crop_marker: DEFAULT_CROP_MARKER.to_string(),
            attributes_to_highlight: None,
            highlight_pre_tag: DEFAULT_HIGHLIGHT_PRE_TAG.to_string(),
            highlight_post_tag: DEFAULT_HIGHLIGHT_POST_TAG.to_string(),
            show_matches_position: false,
            show_ranking_score: false,
            show_ranking_score_details: false,
            show_performance_details: false,
            filter: None,
            sort: None,
            distinct: None,
            facets: None,
            matching_strategy: MatchingStrategy::Last,
            attributes_to_search_on: None,
            ranking_score_threshold: None,
            locales: None,
            hybrid: None,
            vector: None,
            media: None,
        }
    }
}

/// Body fields, in the order Meilisearch lists them.
const BODY_FIELDS: &[&str] = &[
    "q",
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "attributesToRetrieve",
    "attributesToCrop",
    "cropLength",
    "cropMarker",
    "attributesToHighlight",
    "highlightPreTag",
    "highlightPostTag",
    "showMatchesPosition",
    "filter",
    "sort",
    "distinct",
    "facets",
    "matchingStrategy",
    "attributesToSearchOn",
    "rankingScoreThreshold",
    "locales",
    "hybrid",
    "vector",
    "retrieveVectors",
    "media",
    "showRankingScore",
    "showRankingScoreDetails",
    "showPerformanceDetails",
];

/// Query string parameters, in the order Meilisearch lists them.
const QUERY_PARAMS: &[&str] = &[
    "q",
    "vector",
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "attributesToRetrieve",
    "retrieveVectors",
    "attributesToCrop",
    "cropLength",
    "attributesToHighlight",
    "filter",
    "sort",
    "distinct",
    "showMatchesPosition",
    "showRankingScore",
    "showRankingScoreDetails",
    "showPerformanceDetails",
    "facets",
    "highlightPreTag",
    "highlightPostTag",
    "cropMarker",
    "matchingStrategy",
    "attributesToSearchOn",
    "hybridEmbedder",
    "hybridSemanticRatio",
    "rankingScoreThreshold",
    "locales",
];

const HYBRID_FIELDS: &[&str] = &["semanticRatio", "embedder"];

fn out_of_unit_range(name: &str) -> String {
    format!("the value of `{name}` is invalid, expected a float between `0.0` and `1.0`.")
}

fn in_unit_range(f: f64) -> bool {
    (0.0..=1.0).contains(&f)
}

/// Checks a `hybrid` object: `embedder` (a string) is mandatory, `semanticRatio` optional.
fn validate_hybrid(value: &Value, path: &str) -> Result<(), ResponseError> {
    let code = Code::InvalidSearchHybridQuery;
    let object = expect_object(value, code, path)?;
    let mut has_embedder = false;
    for_each_field(code, object, path, HYBRID_FIELDS, |name, value, field| {
        match name {
            "semanticRatio" => {
                let ratio = decode_f64(value, code, field)?;
                if !in_unit_range(ratio) {
                    return Err(invalid_value(
                        code,
                        field,
                        &out_of_unit_range("semanticRatio"),
                    ));
                }
            }
            _ => {
                decode_string(value, code, field)?;
                has_embedder = true;
            }
        }
        Ok(())
    })?;
    if has_embedder {
        Ok(())
    } else {
        Err(missing_field(code, path, "embedder"))
    }
}

impl SearchQuery {
    /// Decodes a `POST` search body. A key set to `null` keeps its default.
    pub fn from_json(body: &Value) -> Result<Self, ResponseError> {
        Self::from_json_at(body, "")
    }

    /// Decodes a search object found at `path` in a larger body (e.g. `.queries[0]` in a
    /// multi-search), so that error messages point at the right place.
    pub fn from_json_at(body: &Value, path: &str) -> Result<Self, ResponseError> {
        let object = expect_object(body, Code::BadRequest, path)?;
        Self::from_object(object, path)
    }

    fn from_object(object: &Map<String, Value>, path: &str) -> Result<Self, ResponseError> {
        let mut s = SearchQuery::default();
        for_each_field(
            Code::BadRequest,
            object,
            path,
            BODY_FIELDS,
            |name, value, p| {
                if value.is_null() {
                    return Ok(());
                }
                match name {
                    "q" => s.q = Some(decode_string(value, Code::InvalidSearchQ, p)?),
                    "offset" => s.offset = Some(decode_usize(value, Code::InvalidSearchOffset, p)?),
                    "limit" => s.limit = Some(decode_usize(value, Code::InvalidSearchLimit, p)?),
                    "page" => s.page = Some(decode_usize(value, Code::InvalidSearchPage, p)?),
                    "hitsPerPage" => {
                        s.hits_per_page =
                            Some(decode_usize(value, Code::InvalidSearchHitsPerPage, p)?)
                    }
                    "attributesToRetrieve" => {
                        s.attributes_to_retrieve = Some(decode_string_list(
                            value,
                            Code::InvalidSearchAttributesToRetrieve,
                            p,
                        )?)
                    }
                    "attributesToCrop" => {
                        s.attributes_to_crop = Some(decode_string_list(
                            value,
                            Code::InvalidSearchAttributesToCrop,
                            p,
                        )?)
                    }
                    "cropLength" => {
                        s.crop_length = decode_usize(value, Code::InvalidSearchCropLength, p)?
                    }
                    "cropMarker" => {
                        s.crop_marker = decode_string(value, Code::InvalidSearchCropMarker, p)?
                    }
                    "attributesToHighlight" => {
                        s.attributes_to_highlight = Some(decode_string_list(
                            value,
                            Code::InvalidSearchAttributesToHighlight,
                            p,
                        )?)
                    }
                    "highlightPreTag" => {
                        s.highlight_pre_tag =
                            decode_string(value, Code::InvalidSearchHighlightPreTag, p)?
                    }
                    "highlightPostTag" => {
                        s.highlight_post_tag =
                            decode_string(value, Code::InvalidSearchHighlightPostTag, p)?
                    }
                    "showMatchesPosition" => {
                        s.show_matches_position =
                            decode_bool(value, Code::InvalidSearchShowMatchesPosition, p)?
                    }
                    "filter" => {
                        validate_filter_shape(value, Code::InvalidSearchFilter)?;
                        s.filter = Some(value.clone());
                    }
                    "sort" => s.sort = Some(decode_string_list(value, Code::InvalidSearchSort, p)?),
                    "distinct" => {
                        s.distinct = Some(decode_string(value, Code::InvalidSearchDistinct, p)?)
                    }
                    "facets" => {
                        s.facets = Some(decode_string_list(value, Code::InvalidSearchFacets, p)?)
                    }
                    "matchingStrategy" => {
                        let code = Code::InvalidSearchMatchingStrategy;
                        let name = value
                            .as_str()
                            .ok_or_else(|| invalid_type(code, p, "a string", value))?;
                        s.matching_strategy = MatchingStrategy::from_name(name)
                            .ok_or_else(|| unknown_value(code, p, name, MatchingStrategy::NAMES))?;
                    }
                    "attributesToSearchOn" => {
                        s.attributes_to_search_on = Some(decode_string_list(
                            value,
                            Code::InvalidSearchAttributesToSearchOn,
                            p,
                        )?)
                    }
                    "rankingScoreThreshold" => {
                        let code = Code::InvalidSearchRankingScoreThreshold;
                        let threshold = decode_f64(value, code, p)?;
                        if !in_unit_range(threshold) {
                            return Err(invalid_value(
                                code,
                                p,
                                &out_of_unit_range("rankingScoreThreshold"),
                            ));
                        }
                        s.ranking_score_threshold = Some(threshold);
                    }
                    "locales" => {
                        s.locales = Some(decode_string_list(value, Code::InvalidSearchLocales, p)?)
                    }
                    "hybrid" => {
                        validate_hybrid(value, p)?;
                        s.hybrid = Some(value.clone());
                    }
                    "vector" => {
                        s.vector = Some(decode_f32_list(value, Code::InvalidSearchVector, p)?)
                    }
                    "retrieveVectors" => {
                        s.retrieve_vectors =
                            decode_bool(value, Code::InvalidSearchRetrieveVectors, p)?
                    }
                    "media" => s.media = Some(value.clone()),
                    "showRankingScore" => {
                        s.show_ranking_score =
                            decode_bool(value, Code::InvalidSearchShowRankingScore, p)?
                    }
                    "showRankingScoreDetails" => {
                        s.show_ranking_score_details =
                            decode_bool(value, Code::InvalidSearchShowRankingScoreDetails, p)?
                    }
                    _ => {
                        s.show_performance_details =
                            decode_bool(value, Code::InvalidSearchShowPerformanceDetails, p)?
                    }
                }
                Ok(())
            },
        )?;
        Ok(s)
    }

    /// Decodes the query string of `GET /indexes/{uid}/search`. Lists are comma separated,
    /// booleans are `true`/`false`, `filter` is an expression (or a JSON array of them), and
    /// `hybridEmbedder`/`hybridSemanticRatio` build the `hybrid` object.
    pub fn from_query_string(query: &str) -> Result<Self, ResponseError> {
        let params = parse_query_string(query);
        let mut s = SearchQuery::default();
        let mut hybrid_embedder: Option<String> = None;
        let mut hybrid_ratio: Option<f64> = None;
        for_each_param(&params, QUERY_PARAMS, |name, value| {
            match name {
                "q" => s.q = Some(value.to_string()),
                "vector" => {
                    let items = split_list(value);
                    let vector = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            item.parse::<f32>()
                                .ok()
                                .filter(|f| f.is_finite())
                                .ok_or_else(|| {
                                    invalid_param(
                                        Code::InvalidSearchVector,
                                        &list_item_name(name, i, items.len()),
                                        &format!("could not parse `{item}` as a number"),
                                    )
                                })
                        })
                        .collect::<Result<Vec<f32>, _>>()?;
                    s.vector = Some(vector);
                }
                "offset" => {
                    s.offset = Some(parse_usize_param(value, Code::InvalidSearchOffset, name)?)
                }
                "limit" => {
                    s.limit = Some(parse_usize_param(value, Code::InvalidSearchLimit, name)?)
                }
                "page" => s.page = Some(parse_usize_param(value, Code::InvalidSearchPage, name)?),
                "hitsPerPage" => {
                    s.hits_per_page = Some(parse_usize_param(
                        value,
                        Code::InvalidSearchHitsPerPage,
                        name,
                    )?)
                }
                "attributesToRetrieve" => s.attributes_to_retrieve = Some(split_list(value)),
                "retrieveVectors" => {
                    s.retrieve_vectors =
                        parse_bool_param(value, Code::InvalidSearchRetrieveVectors, name)?
                }
                "attributesToCrop" => s.attributes_to_crop = Some(split_list(value)),
                "cropLength" => {
                    s.crop_length = parse_usize_param(value, Code::InvalidSearchCropLength, name)?
                }
                "attributesToHighlight" => s.attributes_to_highlight = Some(split_list(value)),
                "filter" => {
                    let filter = filter_from_param(value);
                    validate_filter_shape(&filter, Code::InvalidSearchFilter)?;
                    s.filter = Some(filter);
                }
                "sort" => s.sort = Some(split_sort_list(value)),
                "distinct" => s.distinct = Some(value.to_string()),
                "showMatchesPosition" => {
                    s.show_matches_position =
                        parse_bool_param(value, Code::InvalidSearchShowMatchesPosition, name)?
                }
                "showRankingScore" => {
                    s.show_ranking_score =
                        parse_bool_param(value, Code::InvalidSearchShowRankingScore, name)?
                }
                "showRankingScoreDetails" => {
                    s.show_ranking_score_details =
                        parse_bool_param(value, Code::InvalidSearchShowRankingScoreDetails, name)?
                }
                "showPerformanceDetails" => {
                    s.show_performance_details =
                        parse_bool_param(value, Code::InvalidSearchShowPerformanceDetails, name)?
                }
                "facets" => s.facets = Some(split_list(value)),
                "highlightPreTag" => s.highlight_pre_tag = value.to_string(),
                "highlightPostTag" => s.highlight_post_tag = value.to_string(),
                "cropMarker" => s.crop_marker = value.to_string(),
                "matchingStrategy" => {
                    s.matching_strategy = MatchingStrategy::from_name(value).ok_or_else(|| {
                        unknown_param_value(
                            Code::InvalidSearchMatchingStrategy,
                            name,
                            value,
                            MatchingStrategy::NAMES,
                        )
                    })?
                }
                "attributesToSearchOn" => s.attributes_to_search_on = Some(split_list(value)),
                "hybridEmbedder" => hybrid_embedder = Some(value.to_string()),
                "hybridSemanticRatio" => {
                    let code = Code::InvalidSearchHybridQuery;
                    let ratio = value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|f| in_unit_range(*f));
                    hybrid_ratio = Some(ratio.ok_or_else(|| {
                        invalid_param(code, name, &out_of_unit_range("semanticRatio"))
                    })?);
                }
                "rankingScoreThreshold" => {
                    let code = Code::InvalidSearchRankingScoreThreshold;
                    let threshold = value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|f| in_unit_range(*f));
                    s.ranking_score_threshold = Some(threshold.ok_or_else(|| {
                        invalid_param(code, name, &out_of_unit_range("rankingScoreThreshold"))
                    })?);
                }
                _ => s.locales = Some(split_list(value)),
            }
            Ok(())
        })?;

        match (hybrid_embedder, hybrid_ratio) {
            (None, None) => {}
            (None, Some(_)) => {
                return Err(invalid_param(
                    Code::InvalidSearchHybridQuery,
                    "hybridEmbedder",
                    "`hybridEmbedder` is mandatory when `hybridSemanticRatio` is present",
                ))
            }
            (Some(embedder), ratio) => {
                let mut hybrid = Map::new();
                hybrid.insert(
                    "semanticRatio".to_string(),
                    Value::from(ratio.unwrap_or(DEFAULT_SEMANTIC_RATIO)),
                );
                hybrid.insert("embedder".to_string(), Value::String(embedder));
                s.hybrid = Some(Value::Object(hybrid));
            }
        }
        Ok(s)
    }

    /// The `offset` to apply, with its default.
    pub fn offset_or_default(&self) -> usize {
        self.offset.unwrap_or(DEFAULT_OFFSET)
    }

    /// The `limit` to apply, with its default.
    pub fn limit_or_default(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// Whether `page`/`hitsPerPage` pagination (exhaustive counts) was asked for.
    pub fn is_finite_pagination(&self) -> bool {
        self.page.is_some() || self.hits_per_page.is_some()
    }

    /// The `hybrid.embedder` value, if any.
    pub fn hybrid_embedder(&self) -> Option<&str> {
        self.hybrid.as_ref()?.get("embedder")?.as_str()
    }

    /// The `hybrid.semanticRatio` value, defaulting to 0.5 when `hybrid` is given without it.
    pub fn hybrid_semantic_ratio(&self) -> Option<f64> {
        let hybrid = self.hybrid.as_ref()?;
        Some(
            hybrid
                .get("semanticRatio")
                .and_then(Value::as_f64)
                .unwrap_or(DEFAULT_SEMANTIC_RATIO),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn strings(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn defaults() {
        let s = SearchQuery::from_json(&json!({})).unwrap();
        assert_eq!(s, SearchQuery::default());
        assert_eq!(s.crop_length, 10);
        assert_eq!(s.crop_marker, "…");
        assert_eq!(s.highlight_pre_tag, "<em>");
        assert_eq!(s.highlight_post_tag, "</em>");
        assert_eq!(s.matching_strategy, MatchingStrategy::Last);
        assert_eq!(s.limit_or_default(), DEFAULT_LIMIT);
        assert_eq!(s.offset_or_default(), 0);
        assert!(!s.is_finite_pagination());
        assert_eq!(
            SearchQuery::from_query_string("").unwrap(),
            SearchQuery::default()
        );
    }

    #[test]
    fn full_body() {
        let body = json!({
            "q": "hello",
            "offset": 1,
            "limit": 2,
            "page": 3,
            "hitsPerPage": 4,
            "attributesToRetrieve": ["title", "id"],
            "attributesToCrop": ["overview:5", "title"],
            "cropLength": 7,
            "cropMarker": "...",
            "attributesToHighlight": ["*"],
            "highlightPreTag": "<b>",
            "highlightPostTag": "</b>",
            "showMatchesPosition": true,
            "filter": [["a = 1", "b = 2"], "c = 3"],
            "sort": ["price:asc"],
            "distinct": "sku",
            "facets": ["genre"],
            "matchingStrategy": "frequency",
            "attributesToSearchOn": ["title"],
            "rankingScoreThreshold": 0.5,
            "locales": ["fra", "eng"],
            "hybrid": {"semanticRatio": 0.8, "embedder": "default"},
            "vector": [0.1, 1, -2],
            "retrieveVectors": true,
            "media": {"image": "abc"},
            "showRankingScore": true,
            "showRankingScoreDetails": true,
            "showPerformanceDetails": true,
        });
        let s = SearchQuery::from_json(&body).unwrap();
        let expected = SearchQuery {
            q: Some("hello".into()),
            offset: Some(1),
            limit: Some(2),
            page: Some(3),
            hits_per_page: Some(4),
            attributes_to_retrieve: strings(&["title", "id"]),
            retrieve_vectors: true,
            attributes_to_crop: strings(&["overview:5", "title"]),
            crop_length: 7,
            crop_marker: "...".into(),
            attributes_to_highlight: strings(&["*"]),
            highlight_pre_tag: "<b>".into(),
            highlight_post_tag: "</b>".into(),
            show_matches_position: true,
            show_ranking_score: true,
            show_ranking_score_details: true,
            show_performance_details: true,
            filter: Some(json!([["a = 1", "b = 2"], "c = 3"])),
            sort: strings(&["price:asc"]),
            distinct: Some("sku".into()),
            facets: strings(&["genre"]),
            matching_strategy: MatchingStrategy::Frequency,
            attributes_to_search_on: strings(&["title"]),
            ranking_score_threshold: Some(0.5),
            locales: strings(&["fra", "eng"]),
            hybrid: Some(json!({"semanticRatio": 0.8, "embedder": "default"})),
            vector: Some(vec![0.1, 1.0, -2.0]),
            media: Some(json!({"image": "abc"})),
        };
        assert_eq!(s, expected);
        assert!(s.is_finite_pagination());
        assert_eq!(s.hybrid_embedder(), Some("default"));
        assert_eq!(s.hybrid_semantic_ratio(), Some(0.8));
    }

    #[test]
    fn null_means_default() {
        let mut body = Map::new();
        for field in BODY_FIELDS {
            body.insert(field.to_string(), Value::Null);
        }
        assert_eq!(
            SearchQuery::from_json(&Value::Object(body)).unwrap(),
            SearchQuery::default()
        );
    }

    #[test]
    fn accepted_edge_values() {
        for strategy in ["last", "all", "frequency"] {
            let s = SearchQuery::from_json(&json!({"matchingStrategy": strategy})).unwrap();
            assert_eq!(s.matching_strategy.as_str(), strategy);
        }
        for threshold in [0.0, 1.0] {
            let s = SearchQuery::from_json(&json!({"rankingScoreThreshold": threshold})).unwrap();
            assert_eq!(s.ranking_score_threshold, Some(threshold));
        }
        let s = SearchQuery::from_json(&json!({"rankingScoreThreshold": 1})).unwrap();
        assert_eq!(s.ranking_score_threshold, Some(1.0));
        let s = SearchQuery::from_json(&json!({"hybrid": {"embedder": "e"}})).unwrap();
        assert_eq!(s.hybrid_semantic_ratio(), Some(0.5));
        let s = SearchQuery::from_json(&json!({"filter": "genre = horror", "q": ""})).unwrap();
        assert_eq!(s.filter, Some(json!("genre = horror")));
        assert_eq!(s.q, Some(String::new()));
        let s = SearchQuery::from_json(&json!({"limit": 0, "hitsPerPage": 0})).unwrap();
        assert_eq!((s.limit, s.hits_per_page), (Some(0), Some(0)));
    }

    #[test]
    fn body_errors() {
        let cases: Vec<(Value, Code, &str)> = vec![
            (json!("doggo"), Code::BadRequest, "Invalid value type: expected an object, but found a string: `\"doggo\"`"),
            (json!({"q": ["doggo"]}), Code::InvalidSearchQ, "Invalid value type at `.q`: expected a string, but found an array: `[\"doggo\"]`"),
            (json!({"q": 1}), Code::InvalidSearchQ, "Invalid value type at `.q`: expected a string, but found a positive integer: `1`"),
            (json!({"offset": "doggo"}), Code::InvalidSearchOffset, "Invalid value type at `.offset`: expected a positive integer, but found a string: `\"doggo\"`"),
            (json!({"limit": "abc"}), Code::InvalidSearchLimit, "Invalid value type at `.limit`: expected a positive integer, but found a string: `\"abc\"`"),
            (json!({"limit": -1}), Code::InvalidSearchLimit, "Invalid value type at `.limit`: expected a positive integer, but found a negative integer: `-1`"),
            (json!({"limit": 1.5}), Code::InvalidSearchLimit, "Invalid value type at `.limit`: expected a positive integer, but found a number: `1.5`"),
            (json!({"page": "doggo"}), Code::InvalidSearchPage, "Invalid value type at `.page`: expected a positive integer, but found a string: `\"doggo\"`"),
            (json!({"hitsPerPage": "doggo"}), Code::InvalidSearchHitsPerPage, "Invalid value type at `.hitsPerPage`: expected a positive integer, but found a string: `\"doggo\"`"),
            (json!({"attributesToRetrieve": "doggo"}), Code::InvalidSearchAttributesToRetrieve, "Invalid value type at `.attributesToRetrieve`: expected an array, but found a string: `\"doggo\"`"),
            (json!({"attributesToRetrieve": ["a", 2]}), Code::InvalidSearchAttributesToRetrieve, "Invalid value type at `.attributesToRetrieve[1]`: expected a string, but found a positive integer: `2`"),
            (json!({"attributesToCrop": "doggo"}), Code::InvalidSearchAttributesToCrop, "Invalid value type at `.attributesToCrop`: expected an array, but found a string: `\"doggo\"`"),
            (json!({"cropLength": "doggo"}), Code::InvalidSearchCropLength, "Invalid value type at `.cropLength`: expected a positive integer, but found a string: `\"doggo\"`"),
            (json!({"cropMarker": ["doggo"]}), Code::InvalidSearchCropMarker, "Invalid value type at `.cropMarker`: expected a string, but found an array: `[\"doggo\"]`"),
            (json!({"attributesToHighlight": "doggo"}), Code::InvalidSearchAttributesToHighlight, "Invalid value type at `.attributesToHighlight`: expected an array, but found a string: `\"doggo\"`"),
            (json!({"highlightPreTag": ["doggo"]}), Code::InvalidSearchHighlightPreTag, "Invalid value type at `.highlightPreTag`: expected a string, but found an array: `[\"doggo\"]`"),
            (json!({"highlightPostTag": ["doggo"]}), Code::InvalidSearchHighlightPostTag, "Invalid value type at `.highlightPostTag`: expected a string, but found an array: `[\"doggo\"]`"),
            (json!({"showMatchesPosition": "doggo"}), Code::InvalidSearchShowMatchesPosition, "Invalid value type at `.showMatchesPosition`: expected a boolean, but found a string: `\"doggo\"`"),
            (json!({"filter": true}), Code::InvalidSearchFilter, "Invalid syntax for the filter parameter: `expected String, Array, found: true`."),
            (json!({"filter": [1]}), Code::InvalidSearchFilter, "Invalid syntax for the filter parameter: `expected String, [String], found: 1`."),
            (json!({"filter": [["a", 1]]}), Code::InvalidSearchFilter, "Invalid syntax for the filter parameter: `expected String, found: 1`."),
            (json!({"sort": "doggo"}), Code::InvalidSearchSort, "Invalid value type at `.sort`: expected an array, but found a string: `\"doggo\"`"),
            (json!({"distinct": 1}), Code::InvalidSearchDistinct, "Invalid value type at `.distinct`: expected a string, but found a positive integer: `1`"),
            (json!({"facets": "doggo"}), Code::InvalidSearchFacets, "Invalid value type at `.facets`: expected an array, but found a string: `\"doggo\"`"),
            (json!({"matchingStrategy": "doggo"}), Code::InvalidSearchMatchingStrategy, "Unknown value `doggo` at `.matchingStrategy`: expected one of `last`, `all`, `frequency`"),
            (json!({"matchingStrategy": {"doggo": "doggo"}}), Code::InvalidSearchMatchingStrategy, "Invalid value type at `.matchingStrategy`: expected a string, but found an object: `{\"doggo\":\"doggo\"}`"),
            (json!({"attributesToSearchOn": "title"}), Code::InvalidSearchAttributesToSearchOn, "Invalid value type at `.attributesToSearchOn`: expected an array, but found a string: `\"title\"`"),
            (json!({"rankingScoreThreshold": "doggo"}), Code::InvalidSearchRankingScoreThreshold, "Invalid value type at `.rankingScoreThreshold`: expected a number, but found a string: `\"doggo\"`"),
            (json!({"rankingScoreThreshold": 42}), Code::InvalidSearchRankingScoreThreshold, "Invalid value at `.rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`."),
            (json!({"rankingScoreThreshold": -0.1}), Code::InvalidSearchRankingScoreThreshold, "Invalid value at `.rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`."),
            (json!({"locales": "fra"}), Code::InvalidSearchLocales, "Invalid value type at `.locales`: expected an array, but found a string: `\"fra\"`"),
            (json!({"hybrid": "default"}), Code::InvalidSearchHybridQuery, "Invalid value type at `.hybrid`: expected an object, but found a string: `\"default\"`"),
            (json!({"hybrid": {}}), Code::InvalidSearchHybridQuery, "Missing field `embedder` inside `.hybrid`"),
            (json!({"hybrid": {"embedder": 1}}), Code::InvalidSearchHybridQuery, "Invalid value type at `.hybrid.embedder`: expected a string, but found a positive integer: `1`"),
            (json!({"hybrid": {"embedder": "e", "semanticRatio": 2}}), Code::InvalidSearchHybridQuery, "Invalid value at `.hybrid.semanticRatio`: the value of `semanticRatio` is invalid, expected a float between `0.0` and `1.0`."),
            (json!({"hybrid": {"embedder": "e", "semanticRatio": "x"}}), Code::InvalidSearchHybridQuery, "Invalid value type at `.hybrid.semanticRatio`: expected a number, but found a string: `\"x\"`"),
            (json!({"hybrid": {"embedder": "e", "x": 1}}), Code::InvalidSearchHybridQuery, "Unknown field `x` inside `.hybrid`: expected one of `semanticRatio`, `embedder`"),
            (json!({"vector": "doggo"}), Code::InvalidSearchVector, "Invalid value type at `.vector`: expected an array, but found a string: `\"doggo\"`"),
            (json!({"vector": [1, "a"]}), Code::InvalidSearchVector, "Invalid value type at `.vector[1]`: expected a number, but found a string: `\"a\"`"),
            (json!({"retrieveVectors": "doggo"}), Code::InvalidSearchRetrieveVectors, "Invalid value type at `.retrieveVectors`: expected a boolean, but found a string: `\"doggo\"`"),
            (json!({"retrieveVectors": [true]}), Code::InvalidSearchRetrieveVectors, "Invalid value type at `.retrieveVectors`: expected a boolean, but found an array: `[true]`"),
            (json!({"showRankingScore": 1}), Code::InvalidSearchShowRankingScore, "Invalid value type at `.showRankingScore`: expected a boolean, but found a positive integer: `1`"),
            (json!({"showRankingScoreDetails": "1"}), Code::InvalidSearchShowRankingScoreDetails, "Invalid value type at `.showRankingScoreDetails`: expected a boolean, but found a string: `\"1\"`"),
            (json!({"showPerformanceDetails": "1"}), Code::InvalidSearchShowPerformanceDetails, "Invalid value type at `.showPerformanceDetails`: expected a boolean, but found a string: `\"1\"`"),
        ];
        for (body, code, message) in cases {
            let err = SearchQuery::from_json(&body).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (code, message), "{body}");
        }

        let err = SearchQuery::from_json(&json!({"marin": "hello"})).unwrap_err();
        assert_eq!(err.code, Code::BadRequest);
        assert!(
            err.message.starts_with(
                "Unknown field `marin`: expected one of `q`, `offset`, `limit`, `page`, "
            ),
            "{}",
            err.message
        );
        assert!(
            err.message.ends_with("`showPerformanceDetails`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn first_problem_in_body_order_wins() {
        let err = SearchQuery::from_json(&json!({"limit": "x", "offset": "y"})).unwrap_err();
        assert_eq!(err.code, Code::InvalidSearchLimit);
        let err = SearchQuery::from_json(&json!({"unknown": 1, "offset": "y"})).unwrap_err();
        assert_eq!(err.code, Code::BadRequest);
    }

    #[test]
    fn nested_paths() {
        let err = SearchQuery::from_json_at(&json!({"limit": "x"}), ".queries[2]").unwrap_err();
        assert_eq!(err.message, "Invalid value type at `.queries[2].limit`: expected a positive integer, but found a string: `\"x\"`");
        let err = SearchQuery::from_json_at(&json!(1), ".queries[0]").unwrap_err();
        assert_eq!(err.message, "Invalid value type at `.queries[0]`: expected an object, but found a positive integer: `1`");
        let err = SearchQuery::from_json_at(&json!({"nope": 1}), ".queries[0]").unwrap_err();
        assert!(err
            .message
            .starts_with("Unknown field `nope` inside `.queries[0]`: expected one of `q`,"));
    }

    #[test]
    fn query_string() {
        let s = SearchQuery::from_query_string(
            "?q=hello+world&vector=0.5,1&offset=1&limit=2&page=3&hitsPerPage=4\
             &attributesToRetrieve=title,id&retrieveVectors=true&attributesToCrop=overview:5\
             &cropLength=7&attributesToHighlight=*&filter=genre%20%3D%20horror\
             &sort=price:asc,_geoPoint(1.5,%202.5):desc&distinct=sku&showMatchesPosition=true\
             &showRankingScore=true&showRankingScoreDetails=false&showPerformanceDetails=true\
             &facets=genre,year&highlightPreTag=%3Cb%3E&highlightPostTag=%3C/b%3E&cropMarker=...\
             &matchingStrategy=all&attributesToSearchOn=title&hybridEmbedder=default\
             &hybridSemanticRatio=0.2&rankingScoreThreshold=0.3&locales=fra,eng",
        )
        .unwrap();
        let expected = SearchQuery {
            q: Some("hello world".into()),
            offset: Some(1),
            limit: Some(2),
            page: Some(3),
            hits_per_page: Some(4),
            attributes_to_retrieve: strings(&["title", "id"]),
            retrieve_vectors: true,
            attributes_to_crop: strings(&["overview:5"]),
            crop_length: 7,
            crop_marker: "...".into(),
            attributes_to_highlight: strings(&["*"]),
            highlight_pre_tag: "<b>".into(),
            highlight_post_tag: "</b>".into(),
            show_matches_position: true,
            show_ranking_score: true,
            show_ranking_score_details: false,
            show_performance_details: true,
            filter: Some(json!("genre = horror")),
            sort: strings(&["price:asc", "_geoPoint(1.5, 2.5):desc"]),
            distinct: Some("sku".into()),
            facets: strings(&["genre", "year"]),
            matching_strategy: MatchingStrategy::All,
            attributes_to_search_on: strings(&["title"]),
            ranking_score_threshold: Some(0.3),
            locales: strings(&["fra", "eng"]),
            hybrid: Some(json!({"semanticRatio": 0.2, "embedder": "default"})),
            vector: Some(vec![0.5, 1.0]),
            media: None,
        };
        assert_eq!(s, expected);

        let s = SearchQuery::from_query_string("hybridEmbedder=e").unwrap();
        assert_eq!(
            s.hybrid,
            Some(json!({"semanticRatio": 0.5, "embedder": "e"}))
        );
        let s =
            SearchQuery::from_query_string("filter=%5B%5B%22a%3D1%22%2C%22b%3D2%22%5D%5D").unwrap();
        assert_eq!(s.filter, Some(json!([["a=1", "b=2"]])));
        let s = SearchQuery::from_query_string("q=").unwrap();
        assert_eq!(s.q, Some(String::new()));
    }

    #[test]
    fn query_string_errors() {
        let bool_msg = |name: &str, v: &str| {
            format!("Invalid value in parameter `{name}`: could not parse `{v}` as a boolean, expected either `true` or `false`")
        };
        let int_msg = |name: &str, v: &str| {
            format!(
                "Invalid value in parameter `{name}`: could not parse `{v}` as a positive integer"
            )
        };
        let cases: Vec<(&str, Code, String)> = vec![
            ("offset=doggo", Code::InvalidSearchOffset, int_msg("offset", "doggo")),
            ("limit=doggo", Code::InvalidSearchLimit, int_msg("limit", "doggo")),
            ("limit=-2", Code::InvalidSearchLimit, int_msg("limit", "-2")),
            ("page=doggo", Code::InvalidSearchPage, int_msg("page", "doggo")),
            ("hitsPerPage=doggo", Code::InvalidSearchHitsPerPage, int_msg("hitsPerPage", "doggo")),
            ("cropLength=doggo", Code::InvalidSearchCropLength, int_msg("cropLength", "doggo")),
            ("retrieveVectors=", Code::InvalidSearchRetrieveVectors, bool_msg("retrieveVectors", "")),
            ("retrieveVectors=doggo", Code::InvalidSearchRetrieveVectors, bool_msg("retrieveVectors", "doggo")),
            ("showMatchesPosition=doggo", Code::InvalidSearchShowMatchesPosition, bool_msg("showMatchesPosition", "doggo")),
            ("showRankingScore=1", Code::InvalidSearchShowRankingScore, bool_msg("showRankingScore", "1")),
            ("showRankingScoreDetails=yes", Code::InvalidSearchShowRankingScoreDetails, bool_msg("showRankingScoreDetails", "yes")),
            ("showPerformanceDetails=no", Code::InvalidSearchShowPerformanceDetails, bool_msg("showPerformanceDetails", "no")),
            (
                "matchingStrategy=doggo",
                Code::InvalidSearchMatchingStrategy,
                "Unknown value `doggo` for parameter `matchingStrategy`: expected one of `last`, `all`, `frequency`".into(),
            ),
            (
                "rankingScoreThreshold=42",
                Code::InvalidSearchRankingScoreThreshold,
                "Invalid value in parameter `rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`.".into(),
            ),
            (
                "rankingScoreThreshold=doggo",
                Code::InvalidSearchRankingScoreThreshold,
                "Invalid value in parameter `rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`.".into(),
            ),
            (
                "hybridEmbedder=e&hybridSemanticRatio=1.5",
                Code::InvalidSearchHybridQuery,
                "Invalid value in parameter `hybridSemanticRatio`: the value of `semanticRatio` is invalid, expected a float between `0.0` and `1.0`.".into(),
            ),
            (
                "hybridSemanticRatio=0.5",
                Code::InvalidSearchHybridQuery,
                "Invalid value in parameter `hybridEmbedder`: `hybridEmbedder` is mandatory when `hybridSemanticRatio` is present".into(),
            ),
            ("vector=1,abc", Code::InvalidSearchVector, "Invalid value in parameter `vector[1]`: could not parse `abc` as a number".into()),
            ("vector=abc", Code::InvalidSearchVector, "Invalid value in parameter `vector`: could not parse `abc` as a number".into()),
            ("filter=%5Btrue%5D", Code::InvalidSearchFilter, "Invalid syntax for the filter parameter: `expected String, [String], found: true`.".into()),
        ];
        for (query, code, message) in cases {
            let err = SearchQuery::from_query_string(query).unwrap_err();
            assert_eq!(
                (err.code, err.message.as_str()),
                (code, message.as_str()),
                "{query}"
            );
        }

        let err = SearchQuery::from_query_string("doggo=1").unwrap_err();
        assert_eq!(err.code, Code::BadRequest);
        assert!(
            err.message.starts_with(
                "Unknown parameter `doggo`: expected one of `q`, `vector`, `offset`, `limit`,"
            ),
            "{}",
            err.message
        );
        // Body-only parameters are unknown in a query string.
        for name in ["hybrid", "media"] {
            let err = SearchQuery::from_query_string(&format!("{name}=1")).unwrap_err();
            assert_eq!(err.code, Code::BadRequest, "{name}");
        }
    }
}
