//! Small building blocks for decoding requests the way Meilisearch does: a JSON body is walked
//! field by field (in the order the client wrote it) and a URL query string parameter by
//! parameter, and every failure becomes a [`ResponseError`] carrying the parameter's own code and
//! a message that names the parameter (`.limit` for a body, `limit` for a query string).
//!
//! The route-specific decoders (`search`, `documents`, `tasks`, `indexes`) are written on top of
//! these helpers so that all of them word their errors identically.

use serde_json::{Map, Value};

use crate::error::{Code, ResponseError};

// ------------------------------------------------------------------------------------------------
// Wording shared by both kinds of decoders.
// ------------------------------------------------------------------------------------------------

/// Renders names as a comma separated list of back-quoted words: `` `a`, `b` ``.
pub fn backticked_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('`');
        out.push_str(item.as_ref());
        out.push('`');
    }
    out
}

// ------------------------------------------------------------------------------------------------
// JSON bodies.
// ------------------------------------------------------------------------------------------------

/// The location of `field` inside the object found at `parent` (`""` is the body itself).
pub fn field_path(parent: &str, field: &str) -> String {
    format!("{parent}.{field}")
}

/// The location of the `index`-th element of the array found at `parent`.
pub fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

fn at_location(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at `{path}`")
    }
}

fn inside_location(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" inside `{path}`")
    }
}

/// Describes a JSON value the way type errors quote it: its kind followed by its compact JSON
/// text, e.g. ``a string: `"abc"` `` or `null`.
pub fn describe_value(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".to_string(),
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() => "a positive integer",
        Value::Number(n) if n.is_i64() => "a negative integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("{kind}: `{value}`")
}

/// A value of the wrong JSON type: ``Invalid value type at `.limit`: expected a positive
/// integer, but found a string: `"abc"` ``.
pub fn invalid_type(code: Code, path: &str, expected: &str, found: &Value) -> ResponseError {
    ResponseError::new(
        code,
        format!(
            "Invalid value type{}: expected {expected}, but found {}",
            at_location(path),
            describe_value(found)
        ),
    )
}

/// A value of the right type that is still not acceptable: ``Invalid value at `.uid`: ...``.
pub fn invalid_value(code: Code, path: &str, message: &str) -> ResponseError {
    ResponseError::new(
        code,
        format!("Invalid value{}: {message}", at_location(path)),
    )
}

/// A string that is not one of the accepted words:
/// ``Unknown value `doggo` at `.matchingStrategy`: expected one of `last`, `all` ``.
pub fn unknown_value(code: Code, path: &str, found: &str, expected: &[&str]) -> ResponseError {
    ResponseError::new(
        code,
        format!(
            "Unknown value `{found}`{}: expected one of {}",
            at_location(path),
            backticked_list(expected)
        ),
    )
}

/// A key the object does not accept: ``Unknown field `foo`: expected one of `q`, `offset` ``.
/// The code is `bad_request` for a request body; a nested object answers with its own code
/// (e.g. `invalid_search_hybrid_query` inside `.hybrid`).
pub fn unknown_field(
    code: Code,
    object_path: &str,
    field: &str,
    expected: &[&str],
) -> ResponseError {
    ResponseError::new(
        code,
        format!(
            "Unknown field `{field}`{}: expected one of {}",
            inside_location(object_path),
            backticked_list(expected)
        ),
    )
}

/// A mandatory key that is absent: ``Missing field `uid` `` (``... inside `[0]` `` when nested).
pub fn missing_field(code: Code, object_path: &str, field: &str) -> ResponseError {
    ResponseError::new(
        code,
        format!("Missing field `{field}`{}", inside_location(object_path)),
    )
}

/// Checks that `value` is an object, answering with `code` otherwise.
pub fn expect_object<'a>(
    value: &'a Value,
    code: Code,
    path: &str,
) -> Result<&'a Map<String, Value>, ResponseError> {
    value
        .as_object()
        .ok_or_else(|| invalid_type(code, path, "an object", value))
}

/// Checks that `value` is an array, answering with `code` otherwise.
pub fn expect_array<'a>(
    value: &'a Value,
    code: Code,
    path: &str,
) -> Result<&'a Vec<Value>, ResponseError> {
    value
        .as_array()
        .ok_or_else(|| invalid_type(code, path, "an array", value))
}

/// Walks the keys of `object` in the order the client wrote them. A key missing from
/// `expected` stops the walk with an unknown-field error carrying `unknown_code`; every other
/// key is handed to `visit` along with its value and its location (e.g. `.limit`).
pub fn for_each_field<'a, F>(
    unknown_code: Code,
    object: &'a Map<String, Value>,
    object_path: &str,
    expected: &[&str],
    mut visit: F,
) -> Result<(), ResponseError>
where
    F: FnMut(&'a str, &'a Value, &str) -> Result<(), ResponseError>,
{
    for (key, value) in object {
        if !expected.contains(&key.as_str()) {
            return Err(unknown_field(unknown_code, object_path, key, expected));
        }
        visit(key.as_str(), value, &field_path(object_path, key))?;
    }
    Ok(())
}

/// A non-negative integer that fits in a `usize`.
pub fn decode_usize(value: &Value, code: Code, path: &str) -> Result<usize, ResponseError> {
    value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| invalid_type(code, path, "a positive integer", value))
}

/// A non-negative integer that fits in a `u32`.
pub fn decode_u32(value: &Value, code: Code, path: &str) -> Result<u32, ResponseError> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| invalid_type(code, path, "a positive integer", value))
}

/// Any JSON number.
pub fn decode_f64(value: &Value, code: Code, path: &str) -> Result<f64, ResponseError> {
    value
        .as_f64()
        .ok_or_else(|| invalid_type(code, path, "a number", value))
}

/// `true` or `false`.
pub fn decode_bool(value: &Value, code: Code, path: &str) -> Result<bool, ResponseError> {
    value
        .as_bool()
        .ok_or_else(|| invalid_type(code, path, "a boolean", value))
}

/// A JSON string.
pub fn decode_string(value: &Value, code: Code, path: &str) -> Result<String, ResponseError> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| invalid_type(code, path, "a string", value))
}

/// An array of strings; a bad element is reported at its own location (`.facets[2]`).
pub fn decode_string_list(
    value: &Value,
    code: Code,
    path: &str,
) -> Result<Vec<String>, ResponseError> {
    let items = expect_array(value, code, path)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| decode_string(item, code, &index_path(path, i)))
        .collect()
}

/// An array of numbers narrowed to `f32` (query vectors).
pub fn decode_f32_list(value: &Value, code: Code, path: &str) -> Result<Vec<f32>, ResponseError> {
    let items = expect_array(value, code, path)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| decode_f64(item, code, &index_path(path, i)).map(|f| f as f32))
        .collect()
}

// ------------------------------------------------------------------------------------------------
// URL query strings.
// ------------------------------------------------------------------------------------------------

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|d| d as u8)
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space and `%XX` a byte.
/// A `%` that is not followed by two hex digits is kept literally, and byte sequences that are
/// not UTF-8 are replaced with U+FFFD, as browsers and most servers do.
pub fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let decoded = match (bytes.get(i + 1), bytes.get(i + 2)) {
                    (Some(&hi), Some(&lo)) => hex_digit(hi).zip(hex_digit(lo)),
                    _ => None,
                };
                match decoded {
                    Some((hi, lo)) => {
                        out.push(hi * 16 + lo);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a query string (a leading `?` is accepted) into decoded `(name, value)` pairs.
/// A segment without `=` has an empty value; empty segments are skipped. When a name repeats,
/// the last value wins but the parameter keeps the position of its first occurrence.
pub fn parse_query_string(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut pairs: Vec<(String, String)> = Vec::new();
    for segment in query.split('&') {
        if segment.is_empty() {
            continue;
        }
        let (name, value) = match segment.split_once('=') {
            Some((name, value)) => (percent_decode(name), percent_decode(value)),
            None => (percent_decode(segment), String::new()),
        };
        match pairs.iter_mut().find(|(existing, _)| *existing == name) {
            Some(pair) => pair.1 = value,
            None => pairs.push((name, value)),
        }
    }
    pairs
}

/// A parameter the route does not accept, always answered with `bad_request`:
/// ``Unknown parameter `foo`: expected one of `offset`, `limit` ``.
pub fn unknown_param(name: &str, expected: &[&str]) -> ResponseError {
    ResponseError::new(
        Code::BadRequest,
        format!(
            "Unknown parameter `{name}`: expected one of {}",
            backticked_list(expected)
        ),
    )
}

/// A parameter value that could not be used: ``Invalid value in parameter `limit`: ...``.
pub fn invalid_param(code: Code, name: &str, message: &str) -> ResponseError {
    ResponseError::new(
        code,
        format!("Invalid value in parameter `{name}`: {message}"),
    )
}

/// A parameter value that is not one of the accepted words:
/// ``Unknown value `doggo` for parameter `matchingStrategy`: expected one of `last`, ...``.
pub fn unknown_param_value(
    code: Code,
    name: &str,
    found: &str,
    expected: &[&str],
) -> ResponseError {
    ResponseError::new(
        code,
        format!(
            "Unknown value `{found}` for parameter `{name}`: expected one of {}",
            backticked_list(expected)
        ),
    )
}

/// Walks already parsed parameters in order; an unexpected name stops the walk with an
/// unknown-parameter error, every other one is handed to `visit` with its value.
pub fn for_each_param<'a, F>(
    params: &'a [(String, String)],
    expected: &[&str],
    mut visit: F,
) -> Result<(), ResponseError>
where
    F: FnMut(&'a str, &'a str) -> Result<(), ResponseError>,
{
    for (name, value) in params {
        if !expected.contains(&name.as_str()) {
            return Err(unknown_param(name, expected));
        }
        visit(name.as_str(), value.as_str())?;
    }
    Ok(())
}

/// A non-negative integer parameter.
pub fn parse_usize_param(value: &str, code: Code, name: &str) -> Result<usize, ResponseError> {
    value.parse::<usize>().map_err(|_| {
        invalid_param(
            code,
            name,
            &format!("could not parse `{value}` as a positive integer"),
        )
    })
}

/// A non-negative integer parameter that fits in a `u32`.
pub fn parse_u32_param(value: &str, code: Code, name: &str) -> Result<u32, ResponseError> {
    value.parse::<u32>().map_err(|_| {
        invalid_param(
            code,
            name,
            &format!("could not parse `{value}` as a positive integer"),
        )
    })
}

/// A `true`/`false` parameter (nothing else is accepted, not even an empty value).
pub fn parse_bool_param(value: &str, code: Code, name: &str) -> Result<bool, ResponseError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid_param(
            code,
            name,
            &format!("could not parse `{value}` as a boolean, expected either `true` or `false`"),
        )),
    }
}

/// Splits a comma separated parameter value into trimmed items. An empty value is one empty
/// item, as in Meilisearch.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|item| item.trim().to_string())
        .collect()
}

/// Splits a comma separated `sort` parameter, keeping the commas that belong to a
/// `_geoPoint(lat, lng):asc` expression (inside parentheses) in their item.
pub fn split_sort_list(value: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in value.chars() {
        match c {
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ',' if depth == 0 => items.push(std::mem::take(&mut current).trim().to_string()),
            _ => current.push(c),
        }
    }
    items.push(current.trim().to_string());
    items
}

/// The name an item of a list parameter is reported under: the parameter itself when the list
/// has a single item, `name[i]` otherwise (`uids[1]`).
pub fn list_item_name(name: &str, index: usize, len: usize) -> String {
    if len > 1 {
        format!("{name}[{index}]")
    } else {
        name.to_string()
    }
}

// ------------------------------------------------------------------------------------------------
// Filters (shared by search and documents).
// ------------------------------------------------------------------------------------------------

fn filter_syntax_error(code: Code, expected: &str, found: &Value) -> ResponseError {
    ResponseError::new(
        code,
        format!("Invalid syntax for the filter parameter: `expected {expected}, found: {found}`."),
    )
}

/// Checks the shape of a filter given as JSON: a string, or an array whose items are strings
/// (combined with AND) or arrays of strings (combined with OR). The expressions themselves
/// are parsed later, against the index settings.
pub fn validate_filter_shape(filter: &Value, code: Code) -> Result<(), ResponseError> {
    match filter {
        Value::String(_) => Ok(()),
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::String(_) => {}
                    Value::Array(alternatives) => {
                        for alternative in alternatives {
                            if !alternative.is_string() {
                                return Err(filter_syntax_error(code, "String", alternative));
                            }
                        }
                    }
                    other => return Err(filter_syntax_error(code, "String, [String]", other)),
                }
            }
            Ok(())
        }
        other => Err(filter_syntax_error(code, "String, Array", other)),
    }
}

/// A `filter` given as a query parameter: a JSON array or JSON string is taken as such
/// (`filter=["a = 1"]`), anything else is the filter expression itself.
pub fn filter_from_param(value: &str) -> Value {
    match serde_json::from_str::<Value>(value) {
        Ok(parsed @ (Value::Array(_) | Value::String(_))) => parsed,
        _ => Value::String(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn describes_every_kind_of_value() {
        let cases = [
            (json!(null), "null"),
            (json!(true), "a boolean: `true`"),
            (json!(3), "a positive integer: `3`"),
            (json!(-3), "a negative integer: `-3`"),
            (json!(1.5), "a number: `1.5`"),
            (json!("abc"), "a string: `\"abc\"`"),
            (json!(["a", "b"]), "an array: `[\"a\",\"b\"]`"),
            (json!({"a": 1}), "an object: `{\"a\":1}`"),
        ];
        for (value, expected) in cases {
            assert_eq!(describe_value(&value), expected);
        }
    }

    #[test]
    fn json_error_wording() {
        let err = invalid_type(
            Code::InvalidSearchLimit,
            ".limit",
            "a positive integer",
            &json!("abc"),
        );
        assert_eq!(err.code, Code::InvalidSearchLimit);
        assert_eq!(
            err.message,
            "Invalid value type at `.limit`: expected a positive integer, but found a string: `\"abc\"`"
        );
        let err = invalid_type(Code::BadRequest, "", "an object", &json!(null));
        assert_eq!(
            err.message,
            "Invalid value type: expected an object, but found null"
        );

        let err = unknown_field(Code::BadRequest, "", "foo", &["q", "offset"]);
        assert_eq!(err.code, Code::BadRequest);
        assert_eq!(
            err.message,
            "Unknown field `foo`: expected one of `q`, `offset`"
        );
        let err = unknown_field(
            Code::InvalidSearchHybridQuery,
            ".hybrid",
            "foo",
            &["embedder"],
        );
        assert_eq!(err.code, Code::InvalidSearchHybridQuery);
        assert_eq!(
            err.message,
            "Unknown field `foo` inside `.hybrid`: expected one of `embedder`"
        );

        let err = missing_field(Code::MissingIndexUid, "", "uid");
        assert_eq!(err.message, "Missing field `uid`");
        let err = missing_field(Code::InvalidSwapIndexes, "[0]", "indexes");
        assert_eq!(err.message, "Missing field `indexes` inside `[0]`");

        let err = unknown_value(
            Code::InvalidSearchMatchingStrategy,
            ".matchingStrategy",
            "x",
            &["last", "all"],
        );
        assert_eq!(
            err.message,
            "Unknown value `x` at `.matchingStrategy`: expected one of `last`, `all`"
        );

        let err = invalid_value(Code::InvalidIndexUid, ".uid", "nope");
        assert_eq!(err.message, "Invalid value at `.uid`: nope");
    }

    #[test]
    fn typed_json_decoders() {
        let code = Code::InvalidSearchOffset;
        assert_eq!(decode_usize(&json!(12), code, ".offset").unwrap(), 12);
        for bad in [json!(-1), json!(1.5), json!("1"), json!(null), json!([1])] {
            let err = decode_usize(&bad, code, ".offset").unwrap_err();
            assert_eq!(err.code, code);
            assert!(err.message.contains("`.offset`"), "{}", err.message);
            assert!(
                err.message.contains("expected a positive integer"),
                "{}",
                err.message
            );
        }
        assert_eq!(decode_u32(&json!(7), code, ".x").unwrap(), 7);
        assert!(decode_u32(&json!(u64::from(u32::MAX) + 1), code, ".x").is_err());
        assert!(decode_bool(&json!(true), code, ".x").unwrap());
        assert!(decode_bool(&json!("true"), code, ".x").is_err());
        assert_eq!(decode_f64(&json!(1), code, ".x").unwrap(), 1.0);
        assert!(decode_f64(&json!("1"), code, ".x")
            .unwrap_err()
            .message
            .contains("expected a number"));
        assert_eq!(decode_string(&json!("a"), code, ".x").unwrap(), "a");

        assert_eq!(
            decode_string_list(&json!(["a", "b"]), code, ".l").unwrap(),
            vec!["a", "b"]
        );
        let err = decode_string_list(&json!(["a", 1]), code, ".l").unwrap_err();
        assert_eq!(
            err.message,
            "Invalid value type at `.l[1]`: expected a string, but found a positive integer: `1`"
        );
        let err = decode_string_list(&json!("a"), code, ".l").unwrap_err();
        assert!(err.message.contains("expected an array"));

        assert_eq!(
            decode_f32_list(&json!([1, 0.5]), code, ".v").unwrap(),
            vec![1.0, 0.5]
        );
        assert!(decode_f32_list(&json!([1, "a"]), code, ".v")
            .unwrap_err()
            .message
            .contains("`.v[1]`"));
    }

    #[test]
    fn fields_are_visited_in_order_and_unknown_ones_rejected() {
        let body = json!({"b": 1, "a": 2});
        let mut seen = Vec::new();
        for_each_field(
            Code::BadRequest,
            body.as_object().unwrap(),
            "",
            &["a", "b"],
            |name, _, path| {
                seen.push((name.to_string(), path.to_string()));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            seen,
            vec![("b".into(), ".b".into()), ("a".into(), ".a".into())]
        );

        let body = json!({"a": 1, "zzz": 2});
        let err = for_each_field(
            Code::BadRequest,
            body.as_object().unwrap(),
            "",
            &["a", "b"],
            |_, _, _| Ok(()),
        )
        .unwrap_err();
        assert_eq!(err.code, Code::BadRequest);
        assert_eq!(err.message, "Unknown field `zzz`: expected one of `a`, `b`");
    }

    #[test]
    fn percent_decoding() {
        let cases = [
            ("abc", "abc"),
            ("a+b", "a b"),
            ("a%20b", "a b"),
            ("%2B", "+"),
            ("%e2%80%a6", "…"),
            ("%C3%A9t%C3%A9", "été"),
            ("100%", "100%"),
            ("%4", "%4"),
            ("%zz", "%zz"),
            ("%%41", "%A"),
            ("%ff", "\u{fffd}"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(percent_decode(input), expected, "{input}");
        }
    }

    #[test]
    fn query_string_parsing() {
        let pairs = parse_query_string("?limit=5&q=hello+world&flag&&offset=%31&limit=7");
        assert_eq!(
            pairs,
            vec![
                ("limit".to_string(), "7".to_string()),
                ("q".to_string(), "hello world".to_string()),
                ("flag".to_string(), String::new()),
                ("offset".to_string(), "1".to_string()),
            ]
        );
        assert!(parse_query_string("").is_empty());
        assert!(parse_query_string("?").is_empty());
        assert_eq!(
            parse_query_string("a=b=c"),
            vec![("a".to_string(), "b=c".to_string())]
        );
        assert_eq!(
            parse_query_string("na%6De=x"),
            vec![("name".to_string(), "x".to_string())]
        );
    }

    #[test]
    fn query_param_errors() {
        let code = Code::InvalidSearchLimit;
        assert_eq!(parse_usize_param("12", code, "limit").unwrap(), 12);
        for bad in ["abc", "", "-1", "1.5", " 1"] {
            let err = parse_usize_param(bad, code, "limit").unwrap_err();
            assert_eq!(err.code, code);
            assert_eq!(
                err.message,
                format!("Invalid value in parameter `limit`: could not parse `{bad}` as a positive integer")
            );
        }
        assert!(parse_u32_param("4294967296", code, "x").is_err());
        assert!(parse_bool_param("true", code, "b").unwrap());
        assert!(!parse_bool_param("false", code, "b").unwrap());
        let err = parse_bool_param("TRUE", code, "b").unwrap_err();
        assert_eq!(
            err.message,
            "Invalid value in parameter `b`: could not parse `TRUE` as a boolean, expected either `true` or `false`"
        );

        let err = unknown_param("foo", &["offset", "limit"]);
        assert_eq!(err.code, Code::BadRequest);
        assert_eq!(
            err.message,
            "Unknown parameter `foo`: expected one of `offset`, `limit`"
        );
        let err = unknown_param_value(code, "matchingStrategy", "x", &["last"]);
        assert_eq!(
            err.message,
            "Unknown value `x` for parameter `matchingStrategy`: expected one of `last`"
        );
    }

    #[test]
    fn params_are_visited_in_order_and_unknown_ones_rejected() {
        let params = parse_query_string("limit=abc&zzz=1");
        let err = for_each_param(&params, &["limit"], |name, value| {
            parse_usize_param(value, Code::InvalidIndexLimit, name).map(drop)
        })
        .unwrap_err();
        assert_eq!(err.code, Code::InvalidIndexLimit);

        let params = parse_query_string("zzz=1&limit=abc");
        let err = for_each_param(&params, &["limit"], |_, _| Ok(())).unwrap_err();
        assert_eq!(err.code, Code::BadRequest);
        assert_eq!(
            err.message,
            "Unknown parameter `zzz`: expected one of `limit`"
        );
    }

    #[test]
    fn lists() {
        assert_eq!(split_list("a, b ,c"), vec!["a", "b", "c"]);
        assert_eq!(split_list(""), vec![""]);
        assert_eq!(
            split_sort_list("price:asc, _geoPoint(1.5, 2):desc,title:desc"),
            vec!["price:asc", "_geoPoint(1.5, 2):desc", "title:desc"]
        );
        assert_eq!(list_item_name("uids", 0, 1), "uids");
        assert_eq!(list_item_name("uids", 1, 3), "uids[1]");
    }

    #[test]
    fn filter_shapes() {
        let code = Code::InvalidSearchFilter;
        for ok in [
            json!("a = 1"),
            json!([]),
            json!(["a = 1", ["b = 2", "c = 3"]]),
        ] {
            validate_filter_shape(&ok, code).unwrap();
        }
        let cases = [
            (json!(true), "Invalid syntax for the filter parameter: `expected String, Array, found: true`."),
            (json!(1), "Invalid syntax for the filter parameter: `expected String, Array, found: 1`."),
            (json!({"a": 1}), "Invalid syntax for the filter parameter: `expected String, Array, found: {\"a\":1}`."),
            (json!(["a = 1", 2]), "Invalid syntax for the filter parameter: `expected String, [String], found: 2`."),
            (json!([["a = 1", ["b"]]]), "Invalid syntax for the filter parameter: `expected String, found: [\"b\"]`."),
        ];
        for (bad, message) in cases {
            let err = validate_filter_shape(&bad, code).unwrap_err();
            assert_eq!(err.code, code);
            assert_eq!(err.message, message);
        }
        assert_eq!(filter_from_param("a = 1"), json!("a = 1"));
        assert_eq!(filter_from_param("[\"a = 1\"]"), json!(["a = 1"]));
        assert_eq!(filter_from_param("\"a = 1\""), json!("a = 1"));
        assert_eq!(filter_from_param("12"), json!("12"));
    }
}
