//! Per-document rules around identity: inferring an index's primary key from its first
//! document, reading and validating a document's id, and merging a partial update into a
//! stored document. Messages follow Meilisearch's so that clients see familiar errors.

use serde_json::{Map, Value};

use super::abbreviate;

/// Longest id accepted, in bytes.
const MAX_DOCUMENT_ID_BYTES: usize = 511;

/// How much of a document or id value is quoted in an error message.
const MAX_QUOTED_DOCUMENT: usize = 1_000;

/// Why no primary key could be inferred from a document.
#[derive(Debug, Clone, PartialEq)]
pub enum PrimaryKeyError {
    /// No top-level field name ends with `id` (`index_primary_key_no_candidate_found`).
    InferenceNoCandidate,
    /// Several top-level field names end with `id`, sorted
    /// (`index_primary_key_multiple_candidates_found`).
    InferenceMultiple(Vec<String>),
}

impl PrimaryKeyError {
    /// The message shown to the user.
    pub fn message(&self) -> String {
        match self {
            PrimaryKeyError::InferenceNoCandidate => "The primary key inference failed as the \
                engine did not find any field ending with `id` in its name. Please specify the \
                primary key manually using the `primaryKey` query parameter."
                .to_owned(),
            PrimaryKeyError::InferenceMultiple(candidates) => {
                let quoted: Vec<String> = candidates.iter().map(|c| format!("'{c}'")).collect();
                let listed = match quoted.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("{} and {}", rest.join(", "), last)
                    }
                    _ => quoted.concat(),
                };
                format!(
                    "The primary key inference failed as the engine found {} fields ending with \
                     `id` in their names: {listed}. Please specify the primary key manually \
                     using the `primaryKey` query parameter.",
                    candidates.len()
                )
            }
        }
    }
}

impl std::fmt::Display for PrimaryKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for PrimaryKeyError {}

/// Why a document's id could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentIdError {
    /// The document has no value at the primary key (`missing_document_id`). `document` is
    /// the whole document as compact JSON.
    Missing {
        primary_key: String,
        document: String,
    },
    /// The value is not a valid id (`invalid_document_id`). `value` is the offending value as
    /// JSON (a string id is quoted).
    Invalid { value: String },
}

impl DocumentIdError {
    /// The message shown to the user; long documents and values are abbreviated.
    pub fn message(&self) -> String {
        match self {
            DocumentIdError::Missing {
                primary_key,
                document,
            } => format!(
                "Document doesn't have a `{primary_key}` attribute: `{}`.",
                abbreviate(document, MAX_QUOTED_DOCUMENT)
            ),
            DocumentIdError::Invalid { value } => format!(
                "Document identifier `{}` is invalid. A document identifier can be of type \
                 integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), \
                 hyphens (-) and underscores (_), and can not be more than 511 bytes.",
                abbreviate(value, MAX_QUOTED_DOCUMENT)
            ),
        }
    }
}

impl std::fmt::Display for DocumentIdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for DocumentIdError {}

/// Meilisearch's inference: the top-level fields whose name ends with `id`, ignoring case.
/// Exactly one is the primary key; none or several is an error (a field named exactly `id`
/// gets no precedence). Candidates are reported in lexicographic order.
pub fn infer_primary_key(document: &Map<String, Value>) -> Result<String, PrimaryKeyError> {
    let mut candidates: Vec<&String> = document.keys().filter(|name| ends_with_id(name)).collect();
    candidates.sort_unstable();
    match candidates.as_slice() {
        [] => Err(PrimaryKeyError::InferenceNoCandidate),
        [only] => Ok((*only).clone()),
        several => Err(PrimaryKeyError::InferenceMultiple(
            several.iter().map(|name| (*name).clone()).collect(),
        )),
    }
}

fn ends_with_id(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 2 && bytes[bytes.len() - 2..].eq_ignore_ascii_case(b"id")
}

/// The document's id as a string. `primary_key` may name a nested field with dots:
/// `product.id` reads `{"product": {"id": 1}}`, and also `{"product.id": 1}`. A string id
/// must be 1 to 511 bytes of `[a-zA-Z0-9_-]`; an integer id is rendered in decimal. Anything
/// else (floats, booleans, null, arrays, objects) is invalid, and so is a key path that
/// leads to several values.
pub fn extract_document_id(
    document: &Map<String, Value>,
    primary_key: &str,
) -> Result<String, DocumentIdError> {
    let mut found = Vec::new();
    if primary_key.contains('.') {
        collect_matches(document, primary_key, &mut found);
    } else if let Some(value) = document.get(primary_key) {
        found.push(value);
    }
    match found.as_slice() {
        [] => Err(DocumentIdError::Missing {
            primary_key: primary_key.to_owned(),
            document: serde_json::to_string(document).unwrap_or_default(),
        }),
        [value] => id_from_value(value),
        several => Err(DocumentIdError::Invalid {
            value: serde_json::to_string(several).unwrap_or_default(),
        }),
    }
}

/// Every value whose dotted path (object keys joined with `.`) is `path`. A key may itself
/// contain dots, so `a.b.c` can be found as `a` → `b.c`, `a.b` → `c`, `a` → `b` → `c`...
fn collect_matches<'a>(object: &'a Map<String, Value>, path: &str, found: &mut Vec<&'a Value>) {
    for (key, value) in object {
        if key == path {
            found.push(value);
        } else if let Some(rest) = path
            .strip_prefix(key.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
        {
            if let Value::Object(inner) = value {
                collect_matches(inner, rest, found);
            }
        }
    }
}

/// A JSON value as a document id, with the rules of [`extract_document_id`]: a valid string,
/// or an integer written in decimal.
pub fn id_from_value(value: &Value) -> Result<String, DocumentIdError> {
    match value {
        Value::String(id) => {
            validate_document_id(id)?;
            Ok(id.clone())
        }
        Value::Number(number) if number.is_i64() || number.is_u64() => Ok(number.to_string()),
        other => Err(DocumentIdError::Invalid {
            value: serde_json::to_string(other).unwrap_or_default(),
        }),
    }
}

/// Validates an id given as a string (in a URL or a delete batch) with the rules of
/// [`extract_document_id`].
pub fn validate_document_id(id: &str) -> Result<(), DocumentIdError> {
    let valid = !id.is_empty()
        && id.len() <= MAX_DOCUMENT_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(DocumentIdError::Invalid {
            value: serde_json::to_string(id).unwrap_or_default(),
        })
    }
}

/// Meilisearch's partial update (`PUT /documents`): each top-level field of `update`
/// replaces the one of `existing` (keeping its position) or is appended; fields `update`
/// does not mention are kept. Nested objects are replaced, not merged.
pub fn merge_documents(existing: &mut Map<String, Value>, update: Map<String, Value>) {
    for (key, value) in update {
        existing.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::json_map;
    use super::*;
    use serde_json::json;

    #[test]
    fn inference() {
        let cases: &[(Value, Result<&str, PrimaryKeyError>)] = &[
            (json!({"id": 1, "title": "x"}), Ok("id")),
            (json!({"title": "x", "movieId": 1}), Ok("movieId")),
            (json!({"ID": 1}), Ok("ID")),
            (json!({"uid": 1}), Ok("uid")),
            (json!({"Product_Id": 1, "name": "x"}), Ok("Product_Id")),
            (json!({"iD": 1, "identity": 2}), Ok("iD")),
            (
                json!({"title": "x"}),
                Err(PrimaryKeyError::InferenceNoCandidate),
            ),
            (json!({}), Err(PrimaryKeyError::InferenceNoCandidate)),
            (
                json!({"d": 1, "i": 2, "ids": 3}),
                Err(PrimaryKeyError::InferenceNoCandidate),
            ),
            // Nested fields are not candidates.
            (
                json!({"product": {"id": 1}}),
                Err(PrimaryKeyError::InferenceNoCandidate),
            ),
            // Field names are sorted; `id` itself has no precedence.
            (
                json!({"id": 1, "author_id": 2, "blog_id": 3}),
                Err(PrimaryKeyError::InferenceMultiple(vec![
                    "author_id".into(),
                    "blog_id".into(),
                    "id".into(),
                ])),
            ),
            (
                json!({"userId": 1, "id": 2}),
                Err(PrimaryKeyError::InferenceMultiple(vec![
                    "id".into(),
                    "userId".into(),
                ])),
            ),
        ];
        for (document, expected) in cases {
            let got = infer_primary_key(&json_map(document.clone()));
            assert_eq!(
                got.as_deref().map_err(Clone::clone),
                *expected,
                "{document}"
            );
        }
    }

    #[test]
    fn inference_messages() {
        let none = PrimaryKeyError::InferenceNoCandidate.message();
        assert!(
            none.contains("did not find any field ending with `id`"),
            "{none}"
        );
        assert!(none.contains("`primaryKey` query parameter"), "{none}");
        let two = PrimaryKeyError::InferenceMultiple(vec!["id".into(), "userId".into()]);
        assert_eq!(
            two.message(),
            "The primary key inference failed as the engine found 2 fields ending with `id` \
             in their names: 'id' and 'userId'. Please specify the primary key manually using \
             the `primaryKey` query parameter."
        );
        let three =
            PrimaryKeyError::InferenceMultiple(vec!["a_id".into(), "b_id".into(), "id".into()]);
        assert!(three.message().contains("3 fields"));
        assert!(three.message().contains("'a_id', 'b_id' and 'id'"));
        assert_eq!(three.to_string(), three.message());
    }

    #[test]
    fn extraction() {
        let long_ok = "a".repeat(511);
        let too_long = "a".repeat(512);
        let cases: Vec<(Value, &str, Result<String, DocumentIdError>)> = vec![
            (json!({"id": 1}), "id", Ok("1".into())),
            (json!({"id": 0}), "id", Ok("0".into())),
            (json!({"id": -42}), "id", Ok("-42".into())),
            (json!({"id": i64::MIN}), "id", Ok(i64::MIN.to_string())),
            (json!({"id": u64::MAX}), "id", Ok(u64::MAX.to_string())),
            (json!({"id": "abc-DEF_123"}), "id", Ok("abc-DEF_123".into())),
            (json!({"id": "-"}), "id", Ok("-".into())),
            (json!({"id": long_ok.clone()}), "id", Ok(long_ok.clone())),
            (
                json!({"id": too_long.clone()}),
                "id",
                Err(invalid(&json!(too_long))),
            ),
            (json!({"id": ""}), "id", Err(invalid(&json!("")))),
            (json!({"id": "a b"}), "id", Err(invalid(&json!("a b")))),
            (json!({"id": " a"}), "id", Err(invalid(&json!(" a")))),
            (json!({"id": "é"}), "id", Err(invalid(&json!("é")))),
            (json!({"id": "日本"}), "id", Err(invalid(&json!("日本")))),
            (json!({"id": "a.b"}), "id", Err(invalid(&json!("a.b")))),
            (json!({"id": "a/b"}), "id", Err(invalid(&json!("a/b")))),
            (json!({"id": 1.5}), "id", Err(invalid(&json!(1.5)))),
            (json!({"id": 1.0}), "id", Err(invalid(&json!(1.0)))),
            (json!({"id": -0.0}), "id", Err(invalid(&json!(-0.0)))),
            (json!({"id": true}), "id", Err(invalid(&json!(true)))),
            (json!({"id": null}), "id", Err(invalid(&json!(null)))),
            (json!({"id": [1]}), "id", Err(invalid(&json!([1])))),
            (
                json!({"id": {"a": 1}}),
                "id",
                Err(invalid(&json!({"a": 1}))),
            ),
            (
                json!({"ID": 1}),
                "id",
                Err(missing("id", &json!({"ID": 1}))),
            ),
            (json!({}), "id", Err(missing("id", &json!({})))),
            // Nested keys.
            (json!({"product": {"id": 7}}), "product.id", Ok("7".into())),
            (json!({"product.id": "x"}), "product.id", Ok("x".into())),
            (json!({"a": {"b.c": {"d": 3}}}), "a.b.c.d", Ok("3".into())),
            (json!({"a.b": {"c": 4}}), "a.b.c", Ok("4".into())),
            (
                json!({"product": {"id": 1.5}}),
                "product.id",
                Err(invalid(&json!(1.5))),
            ),
            (
                json!({"product": {"sku": 1}}),
                "product.id",
                Err(missing("product.id", &json!({"product": {"sku": 1}}))),
            ),
            (
                json!({"product": 5}),
                "product.id",
                Err(missing("product.id", &json!({"product": 5}))),
            ),
            (
                json!({"product": [{"id": 1}]}),
                "product.id",
                Err(missing("product.id", &json!({"product": [{"id": 1}]}))),
            ),
            (
                json!({"productid": 1, "product": {}}),
                "product.id",
                Err(missing(
                    "product.id",
                    &json!({"productid": 1, "product": {}}),
                )),
            ),
            // A dotted key that is not nested does not read into objects.
            (
                json!({"product": {"id": 1}}),
                "product",
                Err(invalid(&json!({"id": 1}))),
            ),
            // Two values for the same path.
            (
                json!({"product.id": 1, "product": {"id": 2}}),
                "product.id",
                Err(invalid(&json!([1, 2]))),
            ),
        ];
        for (document, primary_key, expected) in cases {
            let got = extract_document_id(&json_map(document.clone()), primary_key);
            assert_eq!(got, expected, "{document} / {primary_key}");
        }
    }

    fn invalid(value: &Value) -> DocumentIdError {
        DocumentIdError::Invalid {
            value: value.to_string(),
        }
    }

    fn missing(primary_key: &str, document: &Value) -> DocumentIdError {
        DocumentIdError::Missing {
            primary_key: primary_key.into(),
            document: document.to_string(),
        }
    }

    #[test]
    fn string_validation() {
        let cases: Vec<(String, bool)> = vec![
            ("1".into(), true),
            ("abc".into(), true),
            ("A-z_0-9".into(), true),
            ("-1".into(), true),
            ("_".into(), true),
            ("a".repeat(511), true),
            ("a".repeat(512), false),
            (String::new(), false),
            (" ".into(), false),
            ("a b".into(), false),
            ("a\n".into(), false),
            ("1.5".into(), false),
            ("a+b".into(), false),
            ("a%20b".into(), false),
            ("café".into(), false),
            ("ａ".into(), false),
            ("é".repeat(200), false),
        ];
        for (id, valid) in cases {
            let got = validate_document_id(&id);
            if valid {
                assert_eq!(got, Ok(()), "{id}");
            } else {
                assert_eq!(
                    got,
                    Err(DocumentIdError::Invalid {
                        value: serde_json::to_string(&id).unwrap()
                    }),
                    "{id}"
                );
            }
        }
    }

    #[test]
    fn id_messages() {
        let err = validate_document_id("a b").unwrap_err();
        assert_eq!(
            err.message(),
            "Document identifier `\"a b\"` is invalid. A document identifier can be of type \
             integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens \
             (-) and underscores (_), and can not be more than 511 bytes."
        );
        assert_eq!(err.to_string(), err.message());

        let err = extract_document_id(&json_map(json!({"title": "x", "n": 1})), "id").unwrap_err();
        assert_eq!(
            err.message(),
            "Document doesn't have a `id` attribute: `{\"title\":\"x\",\"n\":1}`."
        );

        let document = json_map(json!({"title": "x".repeat(100_000), "end": "tail"}));
        let err = extract_document_id(&document, "id").unwrap_err();
        let message = err.message();
        assert!(message.len() < 1_100, "{} bytes", message.len());
        assert!(message.starts_with("Document doesn't have a `id` attribute: `{\"title\":\"xxx"));
        assert!(message.ends_with("\"end\":\"tail\"}`."), "{message}");

        let err =
            extract_document_id(&json_map(json!({"id": "y".repeat(5_000)})), "id").unwrap_err();
        assert!(err.message().len() < 1_300);
    }

    #[test]
    fn merging() {
        let cases = [
            (
                json!({"id": 1, "a": 1, "b": {"x": 1, "y": 2}}),
                json!({"b": {"x": 9}, "c": 3}),
                json!({"id": 1, "a": 1, "b": {"x": 9}, "c": 3}),
            ),
            (json!({"id": 1}), json!({}), json!({"id": 1})),
            (
                json!({"id": 1, "a": 1}),
                json!({"a": null}),
                json!({"id": 1, "a": null}),
            ),
            (
                json!({}),
                json!({"id": 1, "z": 0}),
                json!({"id": 1, "z": 0}),
            ),
        ];
        for (existing, update, expected) in cases {
            let mut merged = json_map(existing.clone());
            merge_documents(&mut merged, json_map(update.clone()));
            let expected = json_map(expected);
            assert_eq!(merged, expected, "{existing} + {update}");
            // Field order: existing fields keep their place, new ones come last.
            assert!(merged.keys().eq(expected.keys()), "{existing} + {update}");
        }
    }
}
