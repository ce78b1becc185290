//! Decoding of `POST /indexes/{uid}/facet-search`: the facet and the text typed for it, plus
//! the search whose candidates are counted (`q`, `filter`, `matchingStrategy`,
//! `attributesToSearchOn`), with Meilisearch's names, codes and messages.

use serde_json::{Map, Value};

use crate::decode::{decode_bool, decode_string, expect_object, for_each_field, missing_field};
use crate::error::{Code, ResponseError};
use crate::search::SearchQuery;

#[derive(Debug, Clone, PartialEq)]
pub struct FacetSearchQuery {
    pub facet_name: String,
    pub facet_query: Option<String>,
    /// The search whose candidates are counted (only its matching parameters are set).
    pub search: SearchQuery,
    /// Accepted for compatibility: Quarry's counts are always exhaustive.
    pub exhaustive_facet_count: bool,
}

/// The parameters shared with `/search`, decoded by the search decoder.
const SEARCH_FIELDS: &[&str] = &[
    "q",
    "filter",
    "matchingStrategy",
    "attributesToSearchOn",
    "rankingScoreThreshold",
    "locales",
    "hybrid",
    "vector",
];

const FIELDS: &[&str] = &[
    "facetName",
    "facetQuery",
    "q",
    "filter",
    "matchingStrategy",
    "attributesToSearchOn",
    "rankingScoreThreshold",
    "locales",
    "hybrid",
    "vector",
    "exhaustiveFacetCount",
];

impl FacetSearchQuery {
    pub fn from_json(body: &Value) -> Result<Self, ResponseError> {
        let object = expect_object(body, Code::BadRequest, "")?;
        let mut facet_name = None;
        let mut facet_query = None;
        let mut exhaustive_facet_count = false;
        let mut search_fields = Map::new();
        for_each_field(Code::BadRequest, object, "", FIELDS, |name, value, p| {
            match name {
                "facetName" => {
                    facet_name = Some(decode_string(value, Code::InvalidFacetSearchFacetName, p)?)
                }
                "facetQuery" if !value.is_null() => {
                    facet_query = Some(decode_string(value, Code::InvalidFacetSearchFacetQuery, p)?)
                }
                "facetQuery" => {}
                "exhaustiveFacetCount" if !value.is_null() => {
                    exhaustive_facet_count = decode_bool(value, Code::BadRequest, p)?
                }
                "exhaustiveFacetCount" => {}
                other if SEARCH_FIELDS.contains(&other) => {
                    search_fields.insert(other.to_string(), value.clone());
                }
                _ => unreachable!("for_each_field only passes known fields"),
            }
            Ok(())
        })?;
        let facet_name = facet_name
            .ok_or_else(|| missing_field(Code::MissingFacetSearchFacetName, "", "facetName"))?;
        let search = SearchQuery::from_json(&Value::Object(search_fields))?;
        Ok(FacetSearchQuery {
            facet_name,
            facet_query,
            search,
            exhaustive_facet_count,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn decodes_and_refuses() {
        let q = FacetSearchQuery::from_json(&json!({
            "facetName": "genre", "facetQuery": "dra", "q": "love", "filter": "year > 1990",
            "matchingStrategy": "all", "exhaustiveFacetCount": true
        }))
        .unwrap();
        assert_eq!(q.facet_name, "genre");
        assert_eq!(q.facet_query.as_deref(), Some("dra"));
        assert_eq!(q.search.q.as_deref(), Some("love"));
        assert!(q.exhaustive_facet_count);
        let cases = [
            (json!({}), Code::MissingFacetSearchFacetName),
            (json!({"facetName": 1}), Code::InvalidFacetSearchFacetName),
            (
                json!({"facetName": "a", "facetQuery": 1}),
                Code::InvalidFacetSearchFacetQuery,
            ),
            (json!({"facetName": "a", "limit": 1}), Code::BadRequest),
            (json!({"facetName": "a", "q": 1}), Code::InvalidSearchQ),
            (
                json!({"facetName": "a", "filter": true}),
                Code::InvalidSearchFilter,
            ),
        ];
        for (body, code) in cases {
            let error = FacetSearchQuery::from_json(&body).unwrap_err();
            assert_eq!(error.code, code, "{body}");
        }
    }
}
