//! `POST /multi-search`: several searches in one request, answered either one result list per
//! query or, with `federation`, as one list merged by weighted ranking score.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::decode::{
    decode_bool, decode_f64, decode_string, decode_string_list, decode_usize, expect_array,
    expect_object, field_path, for_each_field, index_path, invalid_value, missing_field,
};
use crate::index_uid::validate_index_uid;
use crate::search::{SearchQuery, DEFAULT_LIMIT};
use crate::{Code, ResponseError};

/// One query of a multi-search: a search on `index_uid`, with its federation weight.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiSearchQuery {
    pub index_uid: String,
    pub search: SearchQuery,
    /// `federationOptions.weight` (1.0 when absent); only allowed in a federated request.
    pub weight: Option<f64>,
    /// The pagination and facet parameters the query set itself, by name, so that a federated
    /// request can refuse them with the name the client used.
    pub own_pagination: Vec<&'static str>,
    /// `federationOptions.remote`: the instance of the network that runs this query.
    pub remote: Option<String>,
    /// `federationOptions.queryPosition`: the position hits report instead of this query's
    /// own (set by the instance that forwarded the query to this one).
    pub query_position: Option<usize>,
    /// The search parameters as the client wrote them, to forward the query to a remote.
    pub raw: Map<String, Value>,
}

/// The `federation` object: how the merged list is paginated and which facets it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Federation {
    pub offset: Option<usize>,
    pub limit: Option<usize>,
    pub page: Option<usize>,
    pub hits_per_page: Option<usize>,
    /// Index uid → facet names, computed over that index's queries.
    pub facets_by_index: BTreeMap<String, Vec<String>>,
    /// When set, the per-index facets are merged into one `facetDistribution`.
    pub merge_facets: Option<MergeFacets>,
    /// `distinct`: one hit per value of this attribute across every query of the request.
    pub distinct: Option<String>,
    /// `showPerformanceDetails`: the merged answer says how long its steps took.
    pub show_performance_details: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MergeFacets {
    pub max_values_per_facet: Option<usize>,
}

impl Federation {
    /// Page-based pagination (`page`/`hitsPerPage`) rather than `offset`/`limit`.
    pub fn is_finite_pagination(&self) -> bool {
        self.page.is_some() || self.hits_per_page.is_some()
    }

    /// The window of the merged list to return, as (offset, limit).
    pub fn window(&self) -> (usize, usize) {
        if self.is_finite_pagination() {
            // Page 0 is valid and holds no hits, as in Meilisearch.
            let hits_per_page = self.hits_per_page.unwrap_or(DEFAULT_LIMIT);
            match self.page.unwrap_or(1).checked_sub(1) {
                Some(before) => (before.saturating_mul(hits_per_page), hits_per_page),
                None => (0, 0),
            }
        } else {
            (
                self.offset.unwrap_or(0),
                self.limit.unwrap_or(DEFAULT_LIMIT),
            )
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MultiSearchRequest {
    pub queries: Vec<MultiSearchQuery>,
    pub federation: Option<Federation>,
}

const TOP_FIELDS: &[&str] = &["queries", "federation"];
const FEDERATION_FIELDS: &[&str] = &[
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "facetsByIndex",
    "mergeFacets",
    "distinct",
    "showPerformanceDetails",
];
const FEDERATION_OPTION_FIELDS: &[&str] = &["weight", "remote", "queryPosition"];
const MERGE_FACETS_FIELDS: &[&str] = &["maxValuesPerFacet"];
/// Search parameters a federated query may not set: the merged list is paginated as a whole.
const PAGINATION_PARAMS: &[&str] = &["offset", "limit", "page", "hitsPerPage"];

/// Prefixes an error found in one query the way Meilisearch does: ``Inside `.queries[1]`: ``.
pub fn inside_query(position: usize, error: ResponseError) -> ResponseError {
    ResponseError::new(
        error.code,
        format!("Inside `.queries[{position}]`: {}", error.message),
    )
}

impl MultiSearchRequest {
    pub fn from_json(body: &Value) -> Result<Self, ResponseError> {
        let object = expect_object(body, Code::BadRequest, "")?;
        let mut queries = None;
        let mut federation = None;
        for_each_field(
            Code::BadRequest,
            object,
            "",
            TOP_FIELDS,
            |name, value, path| {
                match name {
                    "queries" => {
                        let items = expect_array(value, Code::BadRequest, path)?;
                        let mut decoded = Vec::with_capacity(items.len());
                        for (i, item) in items.iter().enumerate() {
                            decoded.push(decode_query(item, &index_path(path, i))?);
                        }
                        queries = Some(decoded);
                    }
                    _ => {
                        if !value.is_null() {
                            federation = Some(decode_federation(value, path)?);
                        }
                    }
                }
                Ok(())
            },
        )?;
        let queries = queries.ok_or_else(|| missing_field(Code::BadRequest, "", "queries"))?;
        let request = MultiSearchRequest {
            queries,
            federation,
        };
        request.check_mode()?;
        Ok(request)
    }

    /// Rules that depend on whether the request is federated.
    fn check_mode(&self) -> Result<(), ResponseError> {
        for (position, query) in self.queries.iter().enumerate() {
            match &self.federation {
                None => {
                    if query.weight.is_some() {
                        return Err(inside_query(
                            position,
                            ResponseError::new(
                                Code::InvalidMultiSearchFederationOptions,
                                format!(
                                    "Using `federationOptions` is not allowed in a non-federated search.\n - Hint: remove `federationOptions` from query #{position} or add `federation` to the request."
                                ),
                            ),
                        ));
                    }
                }
                Some(federation) => {
                    if let Some(name) = query.own_pagination.first() {
                        return Err(inside_query(
                            position,
                            ResponseError::new(
                                Code::InvalidMultiSearchQueryPagination,
                                format!(
                                    "Using pagination options is not allowed in federated queries.\n - Hint: remove `{name}` from query #{position} or remove `federation` from the request\n - Hint: pass `federation.limit` and `federation.offset` for pagination in federated search"
                                ),
                            ),
                        ));
                    }
                    if query.search.show_performance_details {
                        return Err(inside_query(
                            position,
                            ResponseError::new(
                                Code::InvalidMultiSearchQueryShowPerformanceDetails,
                                "Using `.showPerformanceDetails` is not allowed in federated queries.\n - Hint: remove `showPerformanceDetails` from the query or remove `federation` from the request",
                            ),
                        ));
                    }
                    if query.search.distinct.is_some() && federation.distinct.is_some() {
                        return Err(inside_query(
                            position,
                            ResponseError::new(
                                Code::InvalidMultiSearchDistinct,
                                "Using `distinct` options is not allowed in federated queries when it also appears in `.federation.distinct`.\n - Hint: remove `distinct` from the query or remove `federation` from the request\n  - Note: `distinct` at the query level is discouraged in federated search.",
                            ),
                        ));
                    }
                    if query.search.facets.is_some() {
                        return Err(inside_query(
                            position,
                            ResponseError::new(
                                Code::InvalidMultiSearchQueryFacets,
                                format!(
                                    "Using facets is not allowed in federated queries.\n - Hint: remove `facets` from query #{position} or remove `federation` from the request\n - Hint: pass `federation.facetsByIndex.{}: {:?}` for facets in federated search",
                                    query.index_uid,
                                    query.search.facets.clone().unwrap_or_default()
                                ),
                            ),
                        ));
                    }
                    for index in federation.facets_by_index.keys() {
                        if !self.queries.iter().any(|q| &q.index_uid == index) {
                            return Err(ResponseError::new(
                                Code::InvalidMultiSearchFacetsByIndex,
                                format!(
                                    "Inside `.federation.facetsByIndex.{index}`: Index `{index}` was mentioned in `facetsByIndex`, but no query targets it.\n - Hint: add a query with `\"indexUid\": \"{index}\"` or remove it from `facetsByIndex`."
                                ),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn decode_query(value: &Value, path: &str) -> Result<MultiSearchQuery, ResponseError> {
    let object = expect_object(value, Code::BadRequest, path)?;
    let mut search_fields = Map::new();
    let mut index_uid = None;
    let mut weight = None;
    let mut remote = None;
    let mut query_position = None;
    for (key, value) in object {
        match key.as_str() {
            "indexUid" => {
                let uid = decode_string(value, Code::InvalidIndexUid, &field_path(path, key))?;
                validate_index_uid(&uid)?;
                index_uid = Some(uid);
            }
            "federationOptions" => {
                if value.is_null() {
                    continue;
                }
                let options_path = field_path(path, key);
                let options = expect_object(
                    value,
                    Code::InvalidMultiSearchFederationOptions,
                    &options_path,
                )?;
                weight = Some(1.0);
                for_each_field(
                    Code::InvalidMultiSearchFederationOptions,
                    options,
                    &options_path,
                    FEDERATION_OPTION_FIELDS,
                    |name, value, p| {
                        if value.is_null() {
                            return Ok(());
                        }
                        if name == "remote" {
                            remote = Some(decode_string(value, Code::InvalidMultiSearchRemote, p)?);
                            return Ok(());
                        }
                        if name == "queryPosition" {
                            query_position = Some(decode_usize(
                                value,
                                Code::InvalidMultiSearchQueryPosition,
                                p,
                            )?);
                            return Ok(());
                        }
                        let w = decode_f64(value, Code::InvalidMultiSearchWeight, p)?;
                        if w.is_nan() || w < 0.0 || w.is_infinite() {
                            return Err(invalid_value(
                                Code::InvalidMultiSearchWeight,
                                p,
                                "the value of `weight` is invalid, expected a positive float (>= 0.0).",
                            ));
                        }
                        weight = Some(w);
                        Ok(())
                    },
                )?;
            }
            _ => {
                search_fields.insert(key.clone(), value.clone());
            }
        }
    }
    let index_uid =
        index_uid.ok_or_else(|| missing_field(Code::MissingIndexUid, path, "indexUid"))?;
    let own_pagination = PAGINATION_PARAMS
        .iter()
        .copied()
        .filter(|name| search_fields.get(*name).is_some_and(|v| !v.is_null()))
        .collect();
    let raw = Value::Object(search_fields);
    let search = SearchQuery::from_json_at(&raw, path)?;
    let Value::Object(raw) = raw else {
        unreachable!("built as an object")
    };
    Ok(MultiSearchQuery {
        index_uid,
        search,
        weight,
        own_pagination,
        remote,
        query_position,
        raw,
    })
}

fn decode_federation(value: &Value, path: &str) -> Result<Federation, ResponseError> {
    let object = expect_object(value, Code::InvalidMultiSearchFederated, path)?;
    let mut federation = Federation {
        offset: None,
        limit: None,
        page: None,
        hits_per_page: None,
        facets_by_index: BTreeMap::new(),
        merge_facets: None,
        distinct: None,
        show_performance_details: false,
    };
    for_each_field(
        Code::BadRequest,
        object,
        path,
        FEDERATION_FIELDS,
        |name, value, p| {
            if value.is_null() {
                return Ok(());
            }
            match name {
                "offset" => {
                    federation.offset = Some(decode_usize(value, Code::InvalidSearchOffset, p)?)
                }
                "limit" => {
                    federation.limit = Some(decode_usize(value, Code::InvalidSearchLimit, p)?)
                }
                "page" => federation.page = Some(decode_usize(value, Code::InvalidSearchPage, p)?),
                "hitsPerPage" => {
                    federation.hits_per_page =
                        Some(decode_usize(value, Code::InvalidSearchHitsPerPage, p)?)
                }
                "facetsByIndex" => {
                    let code = Code::InvalidMultiSearchFacetsByIndex;
                    let map = expect_object(value, code, p)?;
                    for (index, facets) in map {
                        let facet_path = field_path(p, index);
                        validate_index_uid(index)
                            .map_err(|e| ResponseError::new(code, e.message))?;
                        let facets = if facets.is_null() {
                            Vec::new()
                        } else {
                            decode_string_list(facets, code, &facet_path)?
                        };
                        federation.facets_by_index.insert(index.clone(), facets);
                    }
                }
                "distinct" => {
                    federation.distinct =
                        Some(decode_string(value, Code::InvalidSearchDistinct, p)?)
                }
                "showPerformanceDetails" => {
                    federation.show_performance_details =
                        decode_bool(value, Code::InvalidSearchShowPerformanceDetails, p)?
                }
                _ => {
                    let code = Code::InvalidMultiSearchMergeFacets;
                    let merge = expect_object(value, code, p)?;
                    let mut max_values_per_facet = None;
                    for_each_field(code, merge, p, MERGE_FACETS_FIELDS, |_, v, vp| {
                        if !v.is_null() {
                            max_values_per_facet = Some(decode_usize(
                                v,
                                Code::InvalidMultiSearchMaxValuesPerFacet,
                                vp,
                            )?);
                        }
                        Ok(())
                    })?;
                    federation.merge_facets = Some(MergeFacets {
                        max_values_per_facet,
                    });
                }
            }
            Ok(())
        },
    )?;
    Ok(federation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_and_federated_requests_decode() {
        let r = MultiSearchRequest::from_json(&json!({"queries": [
            {"indexUid": "movies", "q": "alien", "limit": 3},
            {"indexUid": "airports", "q": "paris"}
        ]}))
        .unwrap();
        assert_eq!(r.queries.len(), 2);
        assert_eq!(r.queries[0].search.limit, Some(3));
        assert!(r.federation.is_none());

        let r = MultiSearchRequest::from_json(&json!({
            "federation": {"limit": 5, "offset": 2, "facetsByIndex": {"movies": ["genres"]}},
            "queries": [
                {"indexUid": "movies", "q": "alien", "federationOptions": {"weight": 2.5}},
                {"indexUid": "airports", "q": "paris"}
            ]
        }))
        .unwrap();
        let federation = r.federation.unwrap();
        assert_eq!(federation.window(), (2, 5));
        assert_eq!(federation.facets_by_index["movies"], vec!["genres"]);
        assert_eq!(r.queries[0].weight, Some(2.5));
        assert_eq!(r.queries[1].weight, None);
        assert_eq!(r.queries[0].raw["q"], "alien");

        let r = MultiSearchRequest::from_json(&json!({
            "federation": {},
            "queries": [{"indexUid": "movies", "federationOptions": {"remote": "ms-1", "queryPosition": 3}}]
        }))
        .unwrap();
        assert_eq!(r.queries[0].remote.as_deref(), Some("ms-1"));
        assert_eq!(r.queries[0].query_position, Some(3));
    }

    #[test]
    fn errors_name_the_query_and_the_rule() {
        let cases = [
            (json!({}), "bad_request", "Missing field `queries`"),
            (
                json!({"queries": [{"q": "a"}]}),
                "missing_index_uid",
                "Missing field `indexUid` inside `.queries[0]`",
            ),
            (
                json!({"queries": [{"indexUid": "a b"}]}),
                "invalid_index_uid",
                "`a b` is not a valid index uid",
            ),
            (
                json!({"queries": [{"indexUid": "m", "limit": "x"}]}),
                "invalid_search_limit",
                "`.queries[0].limit`",
            ),
            (
                json!({"queries": [{"indexUid": "m", "federationOptions": {"weight": 2}}]}),
                "invalid_multi_search_federation_options",
                "Inside `.queries[0]`: Using `federationOptions` is not allowed",
            ),
            (
                json!({"federation": {}, "queries": [{"indexUid": "m"}, {"indexUid": "m", "limit": 2}]}),
                "invalid_multi_search_query_pagination",
                "Inside `.queries[1]`: Using pagination options",
            ),
            (
                json!({"federation": {}, "queries": [{"indexUid": "m", "facets": ["g"]}]}),
                "invalid_multi_search_query_facets",
                "Inside `.queries[0]`: Using facets",
            ),
            (
                json!({"federation": {}, "queries": [{"indexUid": "m", "federationOptions": {"weight": -1}}]}),
                "invalid_multi_search_weight",
                "expected a positive float",
            ),
            (
                json!({"federation": {}, "queries": [{"indexUid": "m", "federationOptions": {"remote": 1}}]}),
                "invalid_multi_search_remote",
                "`.queries[0].federationOptions.remote`",
            ),
            (
                json!({"federation": {}, "queries": [{"indexUid": "m", "federationOptions": {"queryPosition": -1}}]}),
                "invalid_multi_search_query_position",
                "queryPosition",
            ),
            (
                json!({"federation": {"facetsByIndex": {"other": ["g"]}}, "queries": [{"indexUid": "m"}]}),
                "invalid_multi_search_facets_by_index",
                "no query targets it",
            ),
            (
                json!({"federation": {"mergeFacets": {"maxValuesPerFacet": "x"}}, "queries": []}),
                "invalid_multi_search_max_values_per_facet",
                "maxValuesPerFacet",
            ),
            (
                json!({"federation": 3, "queries": []}),
                "invalid_multi_search_federated",
                "expected an object",
            ),
            (
                json!({"federation": {"size": 3}, "queries": []}),
                "bad_request",
                "Unknown field `size`",
            ),
        ];
        for (body, code, fragment) in cases {
            let error = MultiSearchRequest::from_json(&body).expect_err(&body.to_string());
            assert_eq!(error.code.name(), code, "{body}: {}", error.message);
            assert!(
                error.message.contains(fragment),
                "{body}: {}",
                error.message
            );
        }
    }
}
