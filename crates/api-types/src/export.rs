//! `POST /export`: which indexes to push to another instance speaking the Meilisearch API,
//! where, with which key and in payloads of which size; decoded with Meilisearch's
//! `invalid_export_*` codes. Also the URL check shared with the network's remotes.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::byte_size::parse_byte_size;
use crate::decode::{
    decode_bool, decode_string, expect_object, for_each_field, invalid_type, invalid_value,
    validate_filter_shape,
};
use crate::index_uid::is_valid_index_uid;
use crate::{Code, ResponseError};

/// What to export of the indexes one pattern selects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportIndex {
    /// Only the documents this filter selects (string or array form), all without one.
    pub filter: Option<Value>,
    /// Whether the remote index's primary key and settings are overwritten when it exists.
    pub override_settings: bool,
}

/// A decoded `POST /export` body.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRequest {
    pub url: String,
    pub api_key: Option<String>,
    /// Largest NDJSON payload sent at once, in bytes (`None`: the default).
    pub payload_size: Option<u64>,
    /// Index uid patterns (`*`, `movies*`, `movies`) and what to export of them; `*` with
    /// nothing else when the body names none.
    pub indexes: BTreeMap<String, ExportIndex>,
}

const FIELDS: &[&str] = &["url", "apiKey", "payloadSize", "indexes"];
const INDEX_FIELDS: &[&str] = &["filter", "overrideSettings"];

impl ExportRequest {
    pub fn from_json(body: &Value) -> Result<ExportRequest, ResponseError> {
        let object = expect_object(body, Code::BadRequest, "")?;
        let mut url = None;
        let mut request = ExportRequest {
            url: String::new(),
            api_key: None,
            payload_size: None,
            indexes: BTreeMap::new(),
        };
        let mut indexes = None;
        for_each_field(Code::BadRequest, object, "", FIELDS, |name, value, path| {
            if value.is_null() {
                return Ok(());
            }
            match name {
                "url" => url = Some(decode_string(value, Code::InvalidExportUrl, path)?),
                "apiKey" => {
                    request.api_key = Some(decode_string(value, Code::InvalidExportApiKey, path)?)
                }
                "payloadSize" => request.payload_size = Some(decode_payload_size(value, path)?),
                _ => indexes = Some(decode_indexes(value, path)?),
            }
            Ok(())
        })?;
        let url = url.ok_or_else(|| {
            ResponseError::new(Code::InvalidExportUrl, "Missing field `url`".to_string())
        })?;
        check_remote_url(&url).map_err(|e| invalid_value(Code::InvalidExportUrl, ".url", &e))?;
        request.url = url;
        request.indexes =
            indexes.unwrap_or_else(|| BTreeMap::from([("*".to_string(), ExportIndex::default())]));
        Ok(request)
    }
}

/// A number of bytes or a size with its unit (`"24MiB"`), more than zero.
fn decode_payload_size(value: &Value, path: &str) -> Result<u64, ResponseError> {
    let code = Code::InvalidExportPayloadSize;
    let bytes = match value {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| invalid_type(code, path, "a positive integer or a string", value))?,
        Value::String(text) => parse_byte_size(text).map_err(|e| invalid_value(code, path, &e))?,
        other => {
            return Err(invalid_type(
                code,
                path,
                "a positive integer or a string",
                other,
            ))
        }
    };
    if bytes == 0 {
        return Err(invalid_value(
            code,
            path,
            "the payload size must be more than 0 bytes",
        ));
    }
    Ok(bytes)
}

fn decode_indexes(
    value: &Value,
    path: &str,
) -> Result<BTreeMap<String, ExportIndex>, ResponseError> {
    let patterns = expect_object(value, Code::InvalidExportIndexesPatterns, path)?;
    let mut out = BTreeMap::new();
    for (pattern, settings) in patterns {
        if !is_valid_pattern(pattern) {
            return Err(ResponseError::new(
                Code::InvalidExportIndexesPatterns,
                format!(
                    "`{pattern}` is not a valid index uid pattern. Index uid patterns can be an integer or a string containing only alphanumeric characters, hyphens (-), underscores (_), and optionally end with a star (*)."
                ),
            ));
        }
        let at = format!("{path}.{pattern}");
        let mut export = ExportIndex::default();
        if !settings.is_null() {
            let fields = expect_object(settings, Code::BadRequest, &at)?;
            for_each_field(
                Code::BadRequest,
                fields,
                &at,
                INDEX_FIELDS,
                |name, value, p| {
                    match (name, value) {
                        (_, Value::Null) => {}
                        ("filter", filter) => {
                            validate_filter_shape(filter, Code::InvalidExportIndexFilter)?;
                            export.filter = Some(filter.clone());
                        }
                        (_, flag) => {
                            export.override_settings =
                                decode_bool(flag, Code::InvalidExportIndexOverrideSettings, p)?
                        }
                    }
                    Ok(())
                },
            )?;
        }
        out.insert(pattern.clone(), export);
    }
    Ok(out)
}

/// `*`, an index uid, or an index uid prefix followed by `*`.
fn is_valid_pattern(pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => is_valid_index_uid(prefix),
        None => is_valid_index_uid(pattern),
    }
}

/// Whether an index uid pattern of an export selects `uid`.
pub fn pattern_matches(pattern: &str, uid: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => uid.starts_with(prefix),
        None => pattern == uid,
    }
}

/// Checks the base URL of another instance: absolute, `http` or `https`, with a host.
pub fn check_remote_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("relative URL without a base".to_string());
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!(
            "the scheme `{scheme}` is not supported, expected `http` or `https`"
        ));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if host.is_empty() || host.starts_with(':') {
        return Err("empty host".to_string());
    }
    if host.contains(char::is_whitespace) {
        return Err("invalid domain character".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_body_decodes() {
        let request = ExportRequest::from_json(&json!({
            "url": "http://127.0.0.1:7701",
            "apiKey": "secret",
            "payloadSize": "24 MiB",
            "indexes": {"movies*": {"filter": "year > 2000", "overrideSettings": true}, "books": null}
        }))
        .unwrap();
        assert_eq!(request.payload_size, Some(24 << 20));
        assert_eq!(request.api_key.as_deref(), Some("secret"));
        assert!(request.indexes["movies*"].override_settings);
        assert_eq!(request.indexes["books"], ExportIndex::default());
        let defaults = ExportRequest::from_json(&json!({"url": "https://example.com/"})).unwrap();
        assert_eq!(defaults.indexes.keys().collect::<Vec<_>>(), ["*"]);
        assert!(pattern_matches("movies*", "movies_2") && !pattern_matches("movies", "movies_2"));
    }

    #[test]
    fn mistakes_have_their_codes() {
        let cases = [
            (json!({}), "invalid_export_url"),
            (json!({"url": 3}), "invalid_export_url"),
            (json!({"url": "localhost:7700"}), "invalid_export_url"),
            (
                json!({"url": "http://a", "apiKey": 1}),
                "invalid_export_api_key",
            ),
            (
                json!({"url": "http://a", "payloadSize": "big"}),
                "invalid_export_payload_size",
            ),
            (
                json!({"url": "http://a", "payloadSize": 0}),
                "invalid_export_payload_size",
            ),
            (
                json!({"url": "http://a", "payloadSize": true}),
                "invalid_export_payload_size",
            ),
            (
                json!({"url": "http://a", "indexes": []}),
                "invalid_export_indexes_patterns",
            ),
            (
                json!({"url": "http://a", "indexes": {"a b": {}}}),
                "invalid_export_indexes_patterns",
            ),
            (
                json!({"url": "http://a", "indexes": {"a": {"filter": 1}}}),
                "invalid_export_index_filter",
            ),
            (
                json!({"url": "http://a", "indexes": {"a": {"overrideSettings": "y"}}}),
                "invalid_export_index_override_settings",
            ),
            (
                json!({"url": "http://a", "indexes": {"a": {"limit": 1}}}),
                "bad_request",
            ),
            (json!({"url": "http://a", "size": 1}), "bad_request"),
        ];
        for (body, code) in cases {
            let error = ExportRequest::from_json(&body).expect_err(&body.to_string());
            assert_eq!(error.code.name(), code, "{body}: {}", error.message);
        }
    }
}
