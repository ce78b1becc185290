//! Fuzz target: the filter language parser (string form, JSON form, and the check against an
//! index's filterable attributes that words errors with positions into the filter text), and
//! the rewriting of foreign filters (`_foreign(field, filter)`) into `IN` conditions.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use quarry_engine::filter::{
    parse_filter, parse_filter_checked, parse_filter_json, parse_filter_resolving, FilterExpr,
};
use quarry_engine::settings::{FilterableRule, ForeignKey};
use quarry_engine::IndexSettings;

/// Settings with plain names, a geo field and a pattern rule that disables comparisons, so
/// every branch of the check (and its error messages) is reachable.
fn settings() -> &'static IndexSettings {
    static SETTINGS: OnceLock<IndexSettings> = OnceLock::new();
    SETTINGS.get_or_init(|| IndexSettings {
        filterable_attributes: vec![
            FilterableRule::Field("genre".into()),
            FilterableRule::Field("year".into()),
            FilterableRule::Field("_geo".into()),
            FilterableRule::Field("author".into()),
            FilterableRule::Patterns {
                attribute_patterns: vec!["tags.*".into(), "*_id".into()],
                facet_search: false,
                equality: true,
                comparison: false,
            },
        ],
        foreign_keys: vec![ForeignKey {
            foreign_index_uid: "authors".into(),
            field_name: "author".into(),
        }],
        ..IndexSettings::default()
    })
}

/// Stands for the foreign index: the inner filter's spans are checked, and its fields become
/// the ids it "selects", so rewritten filters hold arbitrary values.
fn resolve(
    _uid: &str,
    inner: &FilterExpr,
    text: &str,
) -> Result<Vec<String>, quarry_engine::filter::FilterError> {
    check_spans(inner, text);
    Ok(inner.fields().into_iter().map(str::to_owned).collect())
}

/// Spans point into the text on character boundaries, since errors slice the text with them.
fn check_spans(expr: &FilterExpr, text: &str) {
    match expr {
        FilterExpr::Condition { span, .. } => {
            assert!(
                span.0 <= span.1 && span.1 <= text.len(),
                "span {span:?} out of `{text}`"
            );
            assert!(text.is_char_boundary(span.0) && text.is_char_boundary(span.1));
        }
        FilterExpr::Not(inner) => check_spans(inner, text),
        FilterExpr::Foreign { span, filter, .. } => {
            assert!(
                span.0 <= span.1 && span.1 <= text.len(),
                "span {span:?} out of `{text}`"
            );
            assert!(text.is_char_boundary(span.0) && text.is_char_boundary(span.1));
            check_spans(filter, text);
        }
        FilterExpr::And(items) | FilterExpr::Or(items) => {
            for item in items {
                check_spans(item, text);
            }
        }
        FilterExpr::GeoRadius { .. }
        | FilterExpr::GeoBoundingBox { .. }
        | FilterExpr::GeoPolygon(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match parse_filter(text) {
            Ok(Some(expr)) => {
                check_spans(&expr, text);
                let _ = expr.fields();
            }
            Ok(None) => assert!(text.trim().is_empty(), "`{text}` parsed to no filter"),
            Err(err) => assert!(!err.message.is_empty()),
        }
        let as_json = serde_json::Value::String(text.to_owned());
        if let Err(err) = parse_filter_checked(&as_json, settings()) {
            assert!(!err.message.is_empty());
        }
        match parse_filter_resolving(&as_json, settings(), Some(&resolve)) {
            Ok(Some(expr)) => assert!(expr.first_foreign_span().is_none(), "left unresolved"),
            Ok(None) => {}
            Err(err) => assert!(!err.message.is_empty()),
        }
    }
    // The JSON form: arrays of strings and arrays of arrays of strings.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = parse_filter_json(&value);
        let _ = parse_filter_checked(&value, settings());
    }
});
