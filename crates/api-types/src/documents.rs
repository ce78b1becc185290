//! Decoding of the document routes' requests: browsing (`GET /documents` and
//! `POST /documents/fetch`), deletion by ids or by filter, and the query parameters of document
//! additions (`primaryKey`, `csvDelimiter`, `customMetadata`).

use serde_json::Value;

use crate::decode::{
    decode_bool, decode_string_list, decode_usize, expect_array, expect_object, filter_from_param,
    for_each_field, for_each_param, index_path, invalid_param, invalid_type, missing_field,
    parse_bool_param, parse_query_string, parse_usize_param, split_list, split_sort_list,
    validate_filter_shape,
};
use crate::error::{Code, ResponseError};

/// Default `limit` when browsing documents.
pub const DEFAULT_DOCUMENTS_LIMIT: usize = 20;

/// Browsing parameters, from the query string of `GET /indexes/{uid}/documents` or the body of
/// `POST /indexes/{uid}/documents/fetch`.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentsQuery {
    pub offset: usize,
    pub limit: usize,
    /// `None` means every displayed field.
    pub fields: Option<Vec<String>>,
    pub retrieve_vectors: bool,
    /// Document ids, normalised to strings.
    pub ids: Option<Vec<String>>,
    /// A filter whose shape (string, or array of strings / arrays of strings) was checked.
    pub filter: Option<Value>,
    pub sort: Option<Vec<String>>,
}

impl Default for DocumentsQuery {
    fn default() -> Self {
        DocumentsQuery {
            offset: 0,
            limit: DEFAULT_DOCUMENTS_LIMIT,
            fields: None,
            retrieve_vectors: false,
            ids: None,
            filter: None,
            sort: None,
        }
    }
}

const BROWSE_PARAMS: &[&str] = &[
    "offset",
    "limit",
    "fields",
    "retrieveVectors",
    "ids",
    "filter",
    "sort",
];

/// A document id given in JSON: a string, or an integer written back as its decimal text.
fn document_id_to_string(value: &Value, code: Code, path: &str) -> Result<String, ResponseError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        other => Err(invalid_type(code, path, "a string or an integer", other)),
    }
}

impl DocumentsQuery {
    /// Decodes the query string of `GET /indexes/{uid}/documents`. `fields`, `ids` and `sort`
    /// are comma separated (`fields=*` means every field); `filter` is an expression string.
    pub fn from_query_string(query: &str) -> Result<Self, ResponseError> {
        let params = parse_query_string(query);
        let mut q = DocumentsQuery::default();
        for_each_param(&params, BROWSE_PARAMS, |name, value| {
            match name {
                "offset" => q.offset = parse_usize_param(value, Code::InvalidDocumentOffset, name)?,
                "limit" => q.limit = parse_usize_param(value, Code::InvalidDocumentLimit, name)?,
                "fields" => {
                    let fields = split_list(value);
                    q.fields = if fields.iter().any(|f| f == "*") {
                        None
                    } else {
                        Some(fields)
                    };
                }
                "retrieveVectors" => {
                    q.retrieve_vectors =
                        parse_bool_param(value, Code::InvalidDocumentRetrieveVectors, name)?
                }
                "ids" => q.ids = Some(split_list(value)),
                "filter" => {
                    let filter = filter_from_param(value);
                    validate_filter_shape(&filter, Code::InvalidDocumentFilter)?;
                    q.filter = Some(filter);
                }
                _ => q.sort = Some(split_sort_list(value)),
            }
            Ok(())
        })?;
        Ok(q)
    }

    /// Decodes the body of `POST /indexes/{uid}/documents/fetch`. `null` stands for an absent
    /// optional parameter.
    pub fn from_json(body: &Value) -> Result<Self, ResponseError> {
        let object = expect_object(body, Code::BadRequest, "")?;
        let mut q = DocumentsQuery::default();
        for_each_field(
            Code::BadRequest,
            object,
            "",
            BROWSE_PARAMS,
            |name, value, path| {
                match name {
                    "offset" => q.offset = decode_usize(value, Code::InvalidDocumentOffset, path)?,
                    "limit" => q.limit = decode_usize(value, Code::InvalidDocumentLimit, path)?,
                    "retrieveVectors" => {
                        q.retrieve_vectors =
                            decode_bool(value, Code::InvalidDocumentRetrieveVectors, path)?
                    }
                    _ if value.is_null() => {}
                    "fields" => {
                        q.fields = Some(decode_string_list(
                            value,
                            Code::InvalidDocumentFields,
                            path,
                        )?)
                    }
                    "ids" => {
                        let items = expect_array(value, Code::InvalidDocumentIds, path)?;
                        let ids = items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| {
                                document_id_to_string(
                                    item,
                                    Code::InvalidDocumentIds,
                                    &index_path(path, i),
                                )
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        q.ids = Some(ids);
                    }
                    "filter" => {
                        validate_filter_shape(value, Code::InvalidDocumentFilter)?;
                        q.filter = Some(value.clone());
                    }
                    _ => q.sort = Some(decode_string_list(value, Code::InvalidDocumentSort, path)?),
                }
                Ok(())
            },
        )?;
        Ok(q)
    }
}

/// Body of `POST /indexes/{uid}/documents/delete-batch`: the ids to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteBatchRequest(pub Vec<String>);

impl DeleteBatchRequest {
    /// The body must be an array (anything else is `bad_request`, worded like the JSON
    /// deserializer does). Strings are taken as they are and any other item is written as
    /// its JSON text (`12` becomes `"12"`), as Meilisearch does: such an id simply matches no
    /// document.
    pub fn from_json(body: &Value) -> Result<Self, ResponseError> {
        match body {
            Value::Array(items) => Ok(DeleteBatchRequest(
                items
                    .iter()
                    .map(|item| match item {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            )),
            other => {
                let reason = match serde_json::from_value::<Vec<Value>>(other.clone()) {
                    Err(err) => err.to_string(),
                    Ok(_) => "expected a sequence".to_string(),
                };
                Err(ResponseError::new(
                    Code::BadRequest,
                    format!("Json deserialize error: {reason}"),
                ))
            }
        }
    }
}

/// Body of `POST /indexes/{uid}/documents/delete`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteByFilterRequest {
    /// A non-empty filter whose shape was checked.
    pub filter: Value,
}

fn filter_is_empty(filter: &Value) -> bool {
    match filter {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.iter().all(filter_is_empty),
        _ => false,
    }
}

impl DeleteByFilterRequest {
    const FIELDS: &'static [&'static str] = &["filter"];

    pub fn from_json(body: &Value) -> Result<Self, ResponseError> {
        let object = expect_object(body, Code::BadRequest, "")?;
        let mut filter = None;
        for_each_field(Code::BadRequest, object, "", Self::FIELDS, |_, value, _| {
            if !value.is_null() {
                validate_filter_shape(value, Code::InvalidDocumentFilter)?;
            }
            filter = Some(value.clone());
            Ok(())
        })?;
        let filter =
            filter.ok_or_else(|| missing_field(Code::MissingDocumentFilter, "", "filter"))?;
        if filter_is_empty(&filter) {
            return Err(ResponseError::new(
                Code::InvalidDocumentFilter,
                "Sending an empty filter is forbidden.",
            ));
        }
        Ok(DeleteByFilterRequest { filter })
    }
}

/// Query parameters of `POST`/`PUT /indexes/{uid}/documents`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddDocumentsQuery {
    pub primary_key: Option<String>,
    /// Only meaningful with CSV payloads; always a single ASCII byte.
    pub csv_delimiter: Option<u8>,
    /// Free-form text stored with the task.
    pub custom_metadata: Option<String>,
    /// `skipCreation=true`: only documents the index already holds are updated.
    pub skip_creation: bool,
}

impl AddDocumentsQuery {
    const PARAMS: &'static [&'static str] = &[
        "primaryKey",
        "csvDelimiter",
        "customMetadata",
        "skipCreation",
    ];

    pub fn from_query_string(query: &str) -> Result<Self, ResponseError> {
        let params = parse_query_string(query);
        let mut q = AddDocumentsQuery::default();
        for_each_param(&params, Self::PARAMS, |name, value| {
            match name {
                "primaryKey" => q.primary_key = Some(value.to_string()),
                "csvDelimiter" => q.csv_delimiter = Some(parse_csv_delimiter(value, name)?),
                "skipCreation" => q.skip_creation = parse_skip_creation(value)?,
                _ => q.custom_metadata = Some(value.to_string()),
            }
            Ok(())
        })?;
        Ok(q)
    }
}

/// The query string of the document deletion and edition routes: only `customMetadata`, any
/// other parameter is refused (`bad_request`), as Meilisearch does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomMetadataQuery {
    /// Free-form text stored with the task.
    pub custom_metadata: Option<String>,
}

impl CustomMetadataQuery {
    pub fn from_query_string(query: &str) -> Result<Self, ResponseError> {
        let params = parse_query_string(query);
        let mut q = CustomMetadataQuery::default();
        for_each_param(&params, &["customMetadata"], |_, value| {
            q.custom_metadata = Some(value.to_string());
            Ok(())
        })?;
        Ok(q)
    }
}

/// `true` or `false` in any case, as Meilisearch reads `skipCreation`.
fn parse_skip_creation(value: &str) -> Result<bool, ResponseError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ResponseError::new(
            Code::InvalidSkipCreation,
            format!("skipCreation must be either `true` or `false`. Found: `{value}`"),
        ))
    }
}

fn parse_csv_delimiter(value: &str, name: &str) -> Result<u8, ResponseError> {
    let code = Code::InvalidDocumentCsvDelimiter;
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Err(invalid_param(
            code,
            name,
            "expected a string of one character, but found an empty string",
        )),
        (Some(c), None) if c.is_ascii() => Ok(c as u8),
        (Some(c), None) => Err(ResponseError::new(
            code,
            format!("csv delimiter must be an ascii character. Found: `{c}`"),
        )),
        (Some(_), Some(_)) => Err(invalid_param(
            code,
            name,
            &format!(
                "expected a string of one character, but found the following string of {} characters: `{value}`",
                value.chars().count()
            ),
        )),
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
    fn browse_query_string_valid() {
        assert_eq!(
            DocumentsQuery::from_query_string("").unwrap(),
            DocumentsQuery::default()
        );
        let q = DocumentsQuery::from_query_string(
            "?offset=2&limit=3&fields=title,%20id&retrieveVectors=true&ids=1,abc&filter=genre%20%3D%20horror&sort=price:asc,_geoPoint(1,%202):desc",
        )
        .unwrap();
        assert_eq!(
            q,
            DocumentsQuery {
                offset: 2,
                limit: 3,
                fields: strings(&["title", "id"]),
                retrieve_vectors: true,
                ids: strings(&["1", "abc"]),
                filter: Some(json!("genre = horror")),
                sort: strings(&["price:asc", "_geoPoint(1, 2):desc"]),
            }
        );
        assert_eq!(
            DocumentsQuery::from_query_string("fields=*")
                .unwrap()
                .fields,
            None
        );
        assert_eq!(
            DocumentsQuery::from_query_string("fields=a,*")
                .unwrap()
                .fields,
            None
        );
        assert_eq!(
            DocumentsQuery::from_query_string("filter").unwrap().filter,
            Some(json!(""))
        );
        assert_eq!(
            DocumentsQuery::from_query_string("filter=%5B%22a%20%3D%201%22%5D")
                .unwrap()
                .filter,
            Some(json!(["a = 1"]))
        );
    }

    #[test]
    fn browse_query_string_invalid() {
        let cases = [
            ("offset", Code::InvalidDocumentOffset, "Invalid value in parameter `offset`: could not parse `` as a positive integer"),
            ("offset=doggo", Code::InvalidDocumentOffset, "Invalid value in parameter `offset`: could not parse `doggo` as a positive integer"),
            ("offset=-1", Code::InvalidDocumentOffset, "Invalid value in parameter `offset`: could not parse `-1` as a positive integer"),
            ("limit", Code::InvalidDocumentLimit, "Invalid value in parameter `limit`: could not parse `` as a positive integer"),
            ("limit=-1", Code::InvalidDocumentLimit, "Invalid value in parameter `limit`: could not parse `-1` as a positive integer"),
            ("retrieveVectors=tamo", Code::InvalidDocumentRetrieveVectors, "Invalid value in parameter `retrieveVectors`: could not parse `tamo` as a boolean, expected either `true` or `false`"),
            ("filter=%5B1%5D", Code::InvalidDocumentFilter, "Invalid syntax for the filter parameter: `expected String, [String], found: 1`."),
            (
                "doggo=1",
                Code::BadRequest,
                "Unknown parameter `doggo`: expected one of `offset`, `limit`, `fields`, `retrieveVectors`, `ids`, `filter`, `sort`",
            ),
        ];
        for (query, code, message) in cases {
            let err = DocumentsQuery::from_query_string(query).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (code, message), "{query}");
        }
    }

    #[test]
    fn fetch_body_valid() {
        assert_eq!(
            DocumentsQuery::from_json(&json!({})).unwrap(),
            DocumentsQuery::default()
        );
        let q = DocumentsQuery::from_json(&json!({
            "offset": 1,
            "limit": 2,
            "fields": ["title"],
            "retrieveVectors": true,
            "ids": ["cody", 12, -3],
            "filter": [["a = 1", "b = 2"], "c = 3"],
            "sort": ["title:asc"],
        }))
        .unwrap();
        assert_eq!(
            q,
            DocumentsQuery {
                offset: 1,
                limit: 2,
                fields: strings(&["title"]),
                retrieve_vectors: true,
                ids: strings(&["cody", "12", "-3"]),
                filter: Some(json!([["a = 1", "b = 2"], "c = 3"])),
                sort: strings(&["title:asc"]),
            }
        );
        let q = DocumentsQuery::from_json(
            &json!({"fields": null, "ids": null, "filter": null, "sort": null}),
        )
        .unwrap();
        assert_eq!(q, DocumentsQuery::default());
    }

    #[test]
    fn fetch_body_invalid() {
        let cases = [
            (json!(null), Code::BadRequest, "Invalid value type: expected an object, but found null"),
            (json!({"offset": "doggo"}), Code::InvalidDocumentOffset, "Invalid value type at `.offset`: expected a positive integer, but found a string: `\"doggo\"`"),
            (json!({"offset": null}), Code::InvalidDocumentOffset, "Invalid value type at `.offset`: expected a positive integer, but found null"),
            (json!({"limit": "doggo"}), Code::InvalidDocumentLimit, "Invalid value type at `.limit`: expected a positive integer, but found a string: `\"doggo\"`"),
            (json!({"limit": -1}), Code::InvalidDocumentLimit, "Invalid value type at `.limit`: expected a positive integer, but found a negative integer: `-1`"),
            (json!({"fields": "doggo"}), Code::InvalidDocumentFields, "Invalid value type at `.fields`: expected an array, but found a string: `\"doggo\"`"),
            (json!({"fields": ["a", 1]}), Code::InvalidDocumentFields, "Invalid value type at `.fields[1]`: expected a string, but found a positive integer: `1`"),
            (json!({"retrieveVectors": "tamo"}), Code::InvalidDocumentRetrieveVectors, "Invalid value type at `.retrieveVectors`: expected a boolean, but found a string: `\"tamo\"`"),
            (json!({"ids": "a"}), Code::InvalidDocumentIds, "Invalid value type at `.ids`: expected an array, but found a string: `\"a\"`"),
            (json!({"ids": ["a", 1.5]}), Code::InvalidDocumentIds, "Invalid value type at `.ids[1]`: expected a string or an integer, but found a number: `1.5`"),
            (json!({"ids": [{"a": 1}]}), Code::InvalidDocumentIds, "Invalid value type at `.ids[0]`: expected a string or an integer, but found an object: `{\"a\":1}`"),
            (json!({"filter": true}), Code::InvalidDocumentFilter, "Invalid syntax for the filter parameter: `expected String, Array, found: true`."),
            (json!({"sort": "title:asc"}), Code::InvalidDocumentSort, "Invalid value type at `.sort`: expected an array, but found a string: `\"title:asc\"`"),
            (
                json!({"offset": 0, "doggo": 1}),
                Code::BadRequest,
                "Unknown field `doggo`: expected one of `offset`, `limit`, `fields`, `retrieveVectors`, `ids`, `filter`, `sort`",
            ),
        ];
        for (body, code, message) in cases {
            let err = DocumentsQuery::from_json(&body).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (code, message), "{body}");
        }
    }

    #[test]
    fn delete_batch() {
        let ids = DeleteBatchRequest::from_json(&json!(["a", 1, -2, 1.5, true, null])).unwrap();
        assert_eq!(ids.0, vec!["a", "1", "-2", "1.5", "true", "null"]);
        assert_eq!(
            DeleteBatchRequest::from_json(&json!([])).unwrap().0,
            Vec::<String>::new()
        );

        let cases = [
            (
                json!("doggo"),
                "Json deserialize error: invalid type: string \"doggo\", expected a sequence",
            ),
            (
                json!({"ids": [1]}),
                "Json deserialize error: invalid type: map, expected a sequence",
            ),
            (
                json!(3),
                "Json deserialize error: invalid type: integer `3`, expected a sequence",
            ),
        ];
        for (body, message) in cases {
            let err = DeleteBatchRequest::from_json(&body).unwrap_err();
            assert_eq!(
                (err.code, err.message.as_str()),
                (Code::BadRequest, message),
                "{body}"
            );
        }
        let err = DeleteBatchRequest::from_json(&json!(null)).unwrap_err();
        assert_eq!(err.code, Code::BadRequest);
        assert!(
            err.message
                .starts_with("Json deserialize error: invalid type: "),
            "{}",
            err.message
        );
    }

    #[test]
    fn delete_by_filter() {
        for filter in [
            json!("doggo = bernese"),
            json!(["a = 1", ["b = 2", "c = 3"]]),
        ] {
            let decoded = DeleteByFilterRequest::from_json(&json!({ "filter": filter })).unwrap();
            assert_eq!(decoded.filter, filter);
        }

        let cases = [
            (
                json!("hello"),
                Code::BadRequest,
                "Invalid value type: expected an object, but found a string: `\"hello\"`",
            ),
            (
                json!({"filter": true}),
                Code::InvalidDocumentFilter,
                "Invalid syntax for the filter parameter: `expected String, Array, found: true`.",
            ),
            (
                json!({"filter": [1]}),
                Code::InvalidDocumentFilter,
                "Invalid syntax for the filter parameter: `expected String, [String], found: 1`.",
            ),
            (
                json!({"filter": ""}),
                Code::InvalidDocumentFilter,
                "Sending an empty filter is forbidden.",
            ),
            (
                json!({"filter": "  "}),
                Code::InvalidDocumentFilter,
                "Sending an empty filter is forbidden.",
            ),
            (
                json!({"filter": []}),
                Code::InvalidDocumentFilter,
                "Sending an empty filter is forbidden.",
            ),
            (
                json!({"filter": null}),
                Code::InvalidDocumentFilter,
                "Sending an empty filter is forbidden.",
            ),
            (
                json!({}),
                Code::MissingDocumentFilter,
                "Missing field `filter`",
            ),
            (
                json!({"filter": "a = 1", "other": 1}),
                Code::BadRequest,
                "Unknown field `other`: expected one of `filter`",
            ),
        ];
        for (body, code, message) in cases {
            let err = DeleteByFilterRequest::from_json(&body).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (code, message), "{body}");
        }
    }

    #[test]
    fn add_documents_query() {
        assert_eq!(
            AddDocumentsQuery::from_query_string("").unwrap(),
            AddDocumentsQuery::default()
        );
        let q = AddDocumentsQuery::from_query_string(
            "primaryKey=id&csvDelimiter=%3B&customMetadata=batch+7&skipCreation=TRUE",
        )
        .unwrap();
        assert_eq!(
            q,
            AddDocumentsQuery {
                primary_key: Some("id".into()),
                csv_delimiter: Some(b';'),
                custom_metadata: Some("batch 7".into()),
                skip_creation: true,
            }
        );
        assert_eq!(
            AddDocumentsQuery::from_query_string("csvDelimiter=%09")
                .unwrap()
                .csv_delimiter,
            Some(b'\t')
        );

        let cases = [
            ("csvDelimiter", Code::InvalidDocumentCsvDelimiter, "Invalid value in parameter `csvDelimiter`: expected a string of one character, but found an empty string"),
            ("csvDelimiter=doggo", Code::InvalidDocumentCsvDelimiter, "Invalid value in parameter `csvDelimiter`: expected a string of one character, but found the following string of 5 characters: `doggo`"),
            ("csvDelimiter=%F0%9F%8D%B0", Code::InvalidDocumentCsvDelimiter, "csv delimiter must be an ascii character. Found: `🍰`"),
            ("doggo=1", Code::BadRequest, "Unknown parameter `doggo`: expected one of `primaryKey`, `csvDelimiter`, `customMetadata`, `skipCreation`"),
            ("skipCreation=yes", Code::InvalidSkipCreation, "skipCreation must be either `true` or `false`. Found: `yes`"),
        ];
        for (query, code, message) in cases {
            let err = AddDocumentsQuery::from_query_string(query).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (code, message), "{query}");
        }
    }
}
