//! Decoding of the index routes' requests: `POST /indexes`, `PATCH /indexes/{uid}`,
//! `GET /indexes` (offset and limit) and `POST /swap-indexes`, each with the error codes and
//! messages Meilisearch answers with.

use serde_json::Value;

use crate::decode::{
    decode_bool, decode_string, decode_string_list, decode_usize, expect_array, expect_object,
    for_each_field, for_each_param, index_path, invalid_value, missing_field, parse_query_string,
    parse_usize_param,
};
use crate::error::{Code, ResponseError};
use crate::index_uid::{invalid_index_uid_message, is_valid_index_uid};

/// Default `limit` of `GET /indexes`.
pub const DEFAULT_LIST_LIMIT: usize = 20;

fn decode_uid(value: &Value, code: Code, path: &str) -> Result<String, ResponseError> {
    let uid = decode_string(value, code, path)?;
    if is_valid_index_uid(&uid) {
        Ok(uid)
    } else {
        Err(invalid_value(code, path, &invalid_index_uid_message(&uid)))
    }
}

fn decode_primary_key(value: &Value, path: &str) -> Result<Option<String>, ResponseError> {
    match value {
        Value::Null => Ok(None),
        other => decode_string(other, Code::InvalidIndexPrimaryKey, path).map(Some),
    }
}

/// Body of `POST /indexes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateIndexRequest {
    pub uid: String,
    pub primary_key: Option<String>,
}

impl CreateIndexRequest {
    const FIELDS: &'static [&'static str] = &["uid", "primaryKey"];

    pub fn from_json(body: &Value) -> Result<Self, ResponseError> {
        let object = expect_object(body, Code::BadRequest, "")?;
        let mut uid = None;
        let mut primary_key = None;
        for_each_field(
            Code::BadRequest,
            object,
            "",
            Self::FIELDS,
            |name, value, path| {
                match name {
                    "uid" => uid = Some(decode_uid(value, Code::InvalidIndexUid, path)?),
                    _ => primary_key = decode_primary_key(value, path)?,
                }
                Ok(())
            },
        )?;
        let uid = uid.ok_or_else(|| missing_field(Code::MissingIndexUid, "", "uid"))?;
        Ok(CreateIndexRequest { uid, primary_key })
    }
}

/// Body of `PATCH /indexes/{uid}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateIndexRequest {
    /// `None` when absent, `Some(None)` when explicitly `null`.
    pub primary_key: Option<Option<String>>,
    /// The new uid when the index is renamed.
    pub uid: Option<String>,
}

impl UpdateIndexRequest {
    const FIELDS: &'static [&'static str] = &["primaryKey", "uid"];

    pub fn from_json(body: &Value) -> Result<Self, ResponseError> {
        let object = expect_object(body, Code::BadRequest, "")?;
        let mut request = UpdateIndexRequest::default();
        for_each_field(
            Code::BadRequest,
            object,
            "",
            Self::FIELDS,
            |name, value, path| {
                match name {
                    "primaryKey" => request.primary_key = Some(decode_primary_key(value, path)?),
                    _ => {
                        request.uid = match value {
                            Value::Null => None,
                            other => Some(decode_uid(other, Code::InvalidIndexUid, path)?),
                        }
                    }
                }
                Ok(())
            },
        )?;
        Ok(request)
    }
}

/// Query string of `GET /indexes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListIndexesQuery {
    pub offset: usize,
    pub limit: usize,
}

impl Default for ListIndexesQuery {
    fn default() -> Self {
        ListIndexesQuery {
            offset: 0,
            limit: DEFAULT_LIST_LIMIT,
        }
    }
}

impl ListIndexesQuery {
    const PARAMS: &'static [&'static str] = &["offset", "limit"];

    pub fn from_query_string(query: &str) -> Result<Self, ResponseError> {
        let params = parse_query_string(query);
        let mut out = ListIndexesQuery::default();
        for_each_param(&params, Self::PARAMS, |name, value| {
            match name {
                "offset" => out.offset = parse_usize_param(value, Code::InvalidIndexOffset, name)?,
                _ => out.limit = parse_usize_param(value, Code::InvalidIndexLimit, name)?,
            }
            Ok(())
        })?;
        Ok(out)
    }
}

/// One operation of `POST /swap-indexes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapPair {
    pub indexes: [String; 2],
    /// Rename the first index to the second uid instead of exchanging them.
    pub rename: bool,
}

/// Body of `POST /swap-indexes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapIndexesRequest(pub Vec<SwapPair>);

impl SwapIndexesRequest {
    const FIELDS: &'static [&'static str] = &["indexes", "rename"];

    pub fn from_json(body: &Value) -> Result<Self, ResponseError> {
        // Decoding first, in document order: shapes, types and uid formats.
        let operations = expect_array(body, Code::BadRequest, "")?;
        let mut decoded = Vec::with_capacity(operations.len());
        for (i, operation) in operations.iter().enumerate() {
            let path = index_path("", i);
            let object = expect_object(operation, Code::BadRequest, &path)?;
            let mut indexes: Option<Vec<String>> = None;
            let mut rename = false;
            for_each_field(
                Code::BadRequest,
                object,
                &path,
                Self::FIELDS,
                |name, value, field_path| {
                    match name {
                        "indexes" => {
                            let items = expect_array(value, Code::InvalidSwapIndexes, field_path)?;
                            let uids = items
                                .iter()
                                .enumerate()
                                .map(|(j, item)| {
                                    decode_uid(
                                        item,
                                        Code::InvalidSwapIndexes,
                                        &index_path(field_path, j),
                                    )
                                })
                                .collect::<Result<Vec<_>, _>>()?;
                            indexes = Some(uids);
                        }
                        _ => rename = decode_bool(value, Code::InvalidSwapRename, field_path)?,
                    }
                    Ok(())
                },
            )?;
            let indexes =
                indexes.ok_or_else(|| missing_field(Code::InvalidSwapIndexes, &path, "indexes"))?;
            decoded.push((indexes, rename));
        }

        // Then each operation must name exactly two indexes.
        let mut pairs = Vec::with_capacity(decoded.len());
        for (indexes, rename) in decoded {
            match <[String; 2]>::try_from(indexes) {
                Ok(indexes) => pairs.push(SwapPair { indexes, rename }),
                Err(indexes) => {
                    let listed: Vec<String> =
                        indexes.iter().map(|uid| format!("\"{uid}\"")).collect();
                    return Err(ResponseError::new(
                        Code::InvalidSwapIndexes,
                        format!(
                            "Two indexes must be given for each swap. The list `[{}]` contains {} indexes.",
                            listed.join(", "),
                            indexes.len()
                        ),
                    ));
                }
            }
        }

        // Finally no index may take part in two operations (or twice in one). Duplicates are
        // listed in sorted order, as Meilisearch lists them.
        let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        let mut duplicates: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        for uid in pairs.iter().flat_map(|pair| pair.indexes.iter()) {
            if !seen.insert(uid) {
                duplicates.insert(uid);
            }
        }
        if !duplicates.is_empty() {
            let listed: Vec<String> = duplicates.iter().map(|uid| format!("`{uid}`")).collect();
            let verb = if duplicates.len() == 1 { "was" } else { "were" };
            return Err(ResponseError::new(
                Code::InvalidSwapDuplicateIndexFound,
                format!(
                    "Indexes must be declared only once during a swap. {} {verb} specified several times.",
                    listed.join(", ")
                ),
            ));
        }

        Ok(SwapIndexesRequest(pairs))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const BAD_UID: &str = "is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 400 bytes.";

    #[test]
    fn create_index_valid() {
        let cases = [
            (
                json!({"uid": "movies"}),
                CreateIndexRequest {
                    uid: "movies".into(),
                    primary_key: None,
                },
            ),
            (
                json!({"uid": "movies", "primaryKey": "id"}),
                CreateIndexRequest {
                    uid: "movies".into(),
                    primary_key: Some("id".into()),
                },
            ),
            (
                json!({"primaryKey": null, "uid": "a-b_1"}),
                CreateIndexRequest {
                    uid: "a-b_1".into(),
                    primary_key: None,
                },
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                CreateIndexRequest::from_json(&body).unwrap(),
                expected,
                "{body}"
            );
        }
    }

    #[test]
    fn create_index_invalid() {
        let cases = [
            (json!({"primaryKey": "doggo"}), Code::MissingIndexUid, "Missing field `uid`".to_string()),
            (json!({}), Code::MissingIndexUid, "Missing field `uid`".to_string()),
            (
                json!({"uid": "the best doggo"}),
                Code::InvalidIndexUid,
                format!("Invalid value at `.uid`: `the best doggo` {BAD_UID}"),
            ),
            (
                json!({"uid": true}),
                Code::InvalidIndexUid,
                "Invalid value type at `.uid`: expected a string, but found a boolean: `true`".to_string(),
            ),
            (
                json!({"uid": null}),
                Code::InvalidIndexUid,
                "Invalid value type at `.uid`: expected a string, but found null".to_string(),
            ),
            (
                json!({"uid": "doggo", "primaryKey": ["the", "best", "doggo"]}),
                Code::InvalidIndexPrimaryKey,
                "Invalid value type at `.primaryKey`: expected a string, but found an array: `[\"the\",\"best\",\"doggo\"]`".to_string(),
            ),
            (
                json!({"uid": "doggo", "doggo": "bernese"}),
                Code::BadRequest,
                "Unknown field `doggo`: expected one of `uid`, `primaryKey`".to_string(),
            ),
            (
                json!("doggo"),
                Code::BadRequest,
                "Invalid value type: expected an object, but found a string: `\"doggo\"`".to_string(),
            ),
        ];
        for (body, code, message) in cases {
            let err = CreateIndexRequest::from_json(&body).unwrap_err();
            assert_eq!(
                (err.code, err.message.as_str()),
                (code, message.as_str()),
                "{body}"
            );
        }
    }

    #[test]
    fn update_index() {
        let cases = [
            (
                json!({}),
                UpdateIndexRequest {
                    primary_key: None,
                    uid: None,
                },
            ),
            (
                json!({"primaryKey": "id"}),
                UpdateIndexRequest {
                    primary_key: Some(Some("id".into())),
                    uid: None,
                },
            ),
            (
                json!({"primaryKey": null}),
                UpdateIndexRequest {
                    primary_key: Some(None),
                    uid: None,
                },
            ),
            (
                json!({"uid": "new_name"}),
                UpdateIndexRequest {
                    primary_key: None,
                    uid: Some("new_name".into()),
                },
            ),
            (
                json!({"uid": null}),
                UpdateIndexRequest {
                    primary_key: None,
                    uid: None,
                },
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                UpdateIndexRequest::from_json(&body).unwrap(),
                expected,
                "{body}"
            );
        }

        let errors = [
            (
                json!({"primaryKey": ["doggo"]}),
                Code::InvalidIndexPrimaryKey,
                "Invalid value type at `.primaryKey`: expected a string, but found an array: `[\"doggo\"]`".to_string(),
            ),
            (json!({"uid": "bad uid"}), Code::InvalidIndexUid, format!("Invalid value at `.uid`: `bad uid` {BAD_UID}")),
            (json!({"uid": 3}), Code::InvalidIndexUid, "Invalid value type at `.uid`: expected a string, but found a positive integer: `3`".to_string()),
            (
                json!({"doggo": "bork"}),
                Code::BadRequest,
                "Unknown field `doggo`: expected one of `primaryKey`, `uid`".to_string(),
            ),
            (json!([]), Code::BadRequest, "Invalid value type: expected an object, but found an array: `[]`".to_string()),
        ];
        for (body, code, message) in errors {
            let err = UpdateIndexRequest::from_json(&body).unwrap_err();
            assert_eq!(
                (err.code, err.message.as_str()),
                (code, message.as_str()),
                "{body}"
            );
        }
    }

    #[test]
    fn list_indexes() {
        let cases = [
            (
                "",
                ListIndexesQuery {
                    offset: 0,
                    limit: 20,
                },
            ),
            (
                "?offset=5",
                ListIndexesQuery {
                    offset: 5,
                    limit: 20,
                },
            ),
            (
                "limit=3&offset=1",
                ListIndexesQuery {
                    offset: 1,
                    limit: 3,
                },
            ),
            (
                "?limit=0",
                ListIndexesQuery {
                    offset: 0,
                    limit: 0,
                },
            ),
        ];
        for (query, expected) in cases {
            assert_eq!(
                ListIndexesQuery::from_query_string(query).unwrap(),
                expected,
                "{query}"
            );
        }

        let errors = [
            ("offset=doggo", Code::InvalidIndexOffset, "Invalid value in parameter `offset`: could not parse `doggo` as a positive integer"),
            ("limit=doggo", Code::InvalidIndexLimit, "Invalid value in parameter `limit`: could not parse `doggo` as a positive integer"),
            ("limit=-1", Code::InvalidIndexLimit, "Invalid value in parameter `limit`: could not parse `-1` as a positive integer"),
            ("offset", Code::InvalidIndexOffset, "Invalid value in parameter `offset`: could not parse `` as a positive integer"),
            ("doggo=nolimit", Code::BadRequest, "Unknown parameter `doggo`: expected one of `offset`, `limit`"),
        ];
        for (query, code, message) in errors {
            let err = ListIndexesQuery::from_query_string(query).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (code, message), "{query}");
        }
    }

    #[test]
    fn swap_valid() {
        let body = json!([
            {"indexes": ["a", "b"]},
            {"indexes": ["c", "d"], "rename": true},
            {"rename": false, "indexes": ["e", "f"]},
        ]);
        let decoded = SwapIndexesRequest::from_json(&body).unwrap();
        assert_eq!(
            decoded,
            SwapIndexesRequest(vec![
                SwapPair {
                    indexes: ["a".into(), "b".into()],
                    rename: false
                },
                SwapPair {
                    indexes: ["c".into(), "d".into()],
                    rename: true
                },
                SwapPair {
                    indexes: ["e".into(), "f".into()],
                    rename: false
                },
            ])
        );
        assert_eq!(
            SwapIndexesRequest::from_json(&json!([])).unwrap(),
            SwapIndexesRequest(vec![])
        );
    }

    #[test]
    fn swap_invalid() {
        let cases = [
            (json!("doggo"), Code::BadRequest, "Invalid value type: expected an array, but found a string: `\"doggo\"`".to_string()),
            (json!(["doggo"]), Code::BadRequest, "Invalid value type at `[0]`: expected an object, but found a string: `\"doggo\"`".to_string()),
            (
                json!([{"indexes": "doggo"}]),
                Code::InvalidSwapIndexes,
                "Invalid value type at `[0].indexes`: expected an array, but found a string: `\"doggo\"`".to_string(),
            ),
            (
                json!([{"indexes": ["doggo"]}]),
                Code::InvalidSwapIndexes,
                "Two indexes must be given for each swap. The list `[\"doggo\"]` contains 1 indexes.".to_string(),
            ),
            (
                json!([{"indexes": ["doggo", "crabo", "croco"]}]),
                Code::InvalidSwapIndexes,
                "Two indexes must be given for each swap. The list `[\"doggo\", \"crabo\", \"croco\"]` contains 3 indexes.".to_string(),
            ),
            (
                json!([{"indexes": []}]),
                Code::InvalidSwapIndexes,
                "Two indexes must be given for each swap. The list `[]` contains 0 indexes.".to_string(),
            ),
            (
                json!([{"indexes": ["doggo", "doggo"]}]),
                Code::InvalidSwapDuplicateIndexFound,
                "Indexes must be declared only once during a swap. `doggo` was specified several times.".to_string(),
            ),
            (
                json!([{"indexes": ["doggo", "catto"]}, {"indexes": ["girafo", "doggo"]}]),
                Code::InvalidSwapDuplicateIndexFound,
                "Indexes must be declared only once during a swap. `doggo` was specified several times.".to_string(),
            ),
            (
                json!([{"indexes": ["a", "b"]}, {"indexes": ["b", "a"]}]),
                Code::InvalidSwapDuplicateIndexFound,
                "Indexes must be declared only once during a swap. `a`, `b` were specified several times.".to_string(),
            ),
            (
                json!([{"indexes": ["kefir", "intel"], "rename": "hello"}]),
                Code::InvalidSwapRename,
                "Invalid value type at `[0].rename`: expected a boolean, but found a string: `\"hello\"`".to_string(),
            ),
            (
                json!([{"indexes": ["a", "b"]}, {"indexes": ["c", "bad uid"]}]),
                Code::InvalidSwapIndexes,
                format!("Invalid value at `[1].indexes[1]`: `bad uid` {BAD_UID}"),
            ),
            (
                json!([{"indexes": ["a", 1]}]),
                Code::InvalidSwapIndexes,
                "Invalid value type at `[0].indexes[1]`: expected a string, but found a positive integer: `1`".to_string(),
            ),
            (json!([{"rename": true}]), Code::InvalidSwapIndexes, "Missing field `indexes` inside `[0]`".to_string()),
            (
                json!([{"indexes": ["a", "b"], "swap": 1}]),
                Code::BadRequest,
                "Unknown field `swap` inside `[0]`: expected one of `indexes`, `rename`".to_string(),
            ),
        ];
        for (body, code, message) in cases {
            let err = SwapIndexesRequest::from_json(&body).unwrap_err();
            assert_eq!(
                (err.code, err.message.as_str()),
                (code, message.as_str()),
                "{body}"
            );
        }
    }

    #[test]
    fn swap_length_errors_come_before_duplicates() {
        let body = json!([{"indexes": ["a", "a"]}, {"indexes": ["b"]}]);
        let err = SwapIndexesRequest::from_json(&body).unwrap_err();
        assert_eq!(err.code, Code::InvalidSwapIndexes);
    }
}

/// Body of `POST /indexes/{uid}/fields`: a page of the index's fields, optionally narrowed by
/// name patterns and by what each field is used for (all criteria ANDed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFieldsRequest {
    pub offset: usize,
    pub limit: usize,
    pub filter: FieldsFilter,
}

/// The `filter` object of [`ListFieldsRequest`]; `None` does not restrict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldsFilter {
    pub attribute_patterns: Option<Vec<String>>,
    pub displayed: Option<bool>,
    pub searchable: Option<bool>,
    pub sortable: Option<bool>,
    pub distinct: Option<bool>,
    pub ranking_rule: Option<bool>,
    pub filterable: Option<bool>,
}

impl ListFieldsRequest {
    const FIELDS: &'static [&'static str] = &["offset", "limit", "filter"];
    const FILTER_FIELDS: &'static [&'static str] = &[
        "attributePatterns",
        "displayed",
        "searchable",
        "sortable",
        "distinct",
        "rankingRule",
        "filterable",
    ];

    pub fn from_json(body: &Value) -> Result<Self, ResponseError> {
        let object = expect_object(body, Code::BadRequest, "")?;
        let mut request = ListFieldsRequest {
            offset: 0,
            limit: DEFAULT_LIST_LIMIT,
            filter: FieldsFilter::default(),
        };
        for_each_field(
            Code::BadRequest,
            object,
            "",
            Self::FIELDS,
            |name, value, path| {
                match name {
                    "offset" => {
                        request.offset = decode_usize(value, Code::InvalidIndexOffset, path)?
                    }
                    "limit" => request.limit = decode_usize(value, Code::InvalidIndexLimit, path)?,
                    _ if value.is_null() => {}
                    _ => request.filter = Self::decode_filter(value, path)?,
                }
                Ok(())
            },
        )?;
        Ok(request)
    }

    fn decode_filter(value: &Value, path: &str) -> Result<FieldsFilter, ResponseError> {
        let object = expect_object(value, Code::InvalidIndexFieldsFilter, path)?;
        let mut filter = FieldsFilter::default();
        for_each_field(
            Code::InvalidIndexFieldsFilter,
            object,
            path,
            Self::FILTER_FIELDS,
            |name, value, path| {
                if value.is_null() {
                    return Ok(());
                }
                let flag = |code| decode_bool(value, code, path).map(Some);
                match name {
                    "attributePatterns" => {
                        filter.attribute_patterns = Some(decode_string_list(
                            value,
                            Code::InvalidIndexFieldsFilterAttributePatterns,
                            path,
                        )?)
                    }
                    "displayed" => {
                        filter.displayed = flag(Code::InvalidIndexFieldsFilterDisplayed)?
                    }
                    "searchable" => {
                        filter.searchable = flag(Code::InvalidIndexFieldsFilterSearchable)?
                    }
                    "sortable" => filter.sortable = flag(Code::InvalidIndexFieldsFilterSortable)?,
                    "distinct" => filter.distinct = flag(Code::InvalidIndexFieldsFilterDistinct)?,
                    "rankingRule" => {
                        filter.ranking_rule = flag(Code::InvalidIndexFieldsFilterRankingRule)?
                    }
                    _ => filter.filterable = flag(Code::InvalidIndexFieldsFilterFilterable)?,
                }
                Ok(())
            },
        )?;
        Ok(filter)
    }
}
