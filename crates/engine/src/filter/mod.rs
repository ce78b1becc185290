//! Filter expressions of the search API (`filter` parameter, documents by filter, facet search):
//! the syntax tree, the error a wrong filter answers with, and the entry points that turn the
//! string form and the JSON array form into that tree; `check` refuses filters on attributes
//! that are not filterable, and `eval` turns a filter into the documents it selects.

mod check;
pub mod eval;
mod parser;
#[cfg(test)]
mod tests;

pub use check::{
    available_filterable, check_filter, filterable_rule, parse_filter_checked,
    parse_filter_resolving, ForeignResolver, MAX_FOREIGN_FILTER_DOCUMENTS,
};
pub use eval::{haversine, in_bounding_box, in_polygon, FilterEvaluator};

use std::collections::HashSet;
use std::fmt;

/// Deepest nesting of parentheses and `NOT`s a filter may use; deeper is an error, never a
/// stack overflow.
pub const MAX_FILTER_DEPTH: usize = 150;

/// Longest filter text accepted, in bytes.
pub const MAX_FILTER_LENGTH: usize = 100_000;

/// A value as written in the filter. Values stay text: whether `10` is a number or a string is
/// decided at evaluation (numbers compare numerically when both sides parse as numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue {
    Text(String),
}

/// What a single condition asks of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Equal(String),
    NotEqual(String),
    GreaterThan(String),
    GreaterThanOrEqual(String),
    LowerThan(String),
    LowerThanOrEqual(String),
    /// `field from TO to`, both ends included.
    Between {
        from: String,
        to: String,
    },
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
    IsNull,
    IsNotNull,
    IsEmpty,
    IsNotEmpty,
    Contains(String),
    NotContains(String),
    StartsWith(String),
    NotStartsWith(String),
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterExpr {
    Condition {
        field: String,
        condition: Condition,
        /// Byte span of the field in the original text, for errors.
        span: (usize, usize),
    },
    Not(Box<FilterExpr>),
    And(Vec<FilterExpr>),
    Or(Vec<FilterExpr>),
    GeoRadius {
        lat: f64,
        lng: f64,
        radius_meters: f64,
        resolution: Option<f64>,
    },
    GeoBoundingBox {
        top_right: (f64, f64),
        bottom_left: (f64, f64),
    },
    GeoPolygon(Vec<(f64, f64)>),
    /// `_foreign(field, filter)`: the documents whose `field` holds the id of a document of the
    /// foreign index (named by the index's `foreignKeys`) that `filter` selects. Resolved into
    /// an `IN` condition on `field` before the filter is checked and evaluated (see
    /// [`check::parse_filter_resolving`]); an endpoint that cannot resolve it refuses it.
    Foreign {
        field: String,
        /// Byte span of the field in the original text, for errors.
        span: (usize, usize),
        filter: Box<FilterExpr>,
    },
}

/// Why a filter was rejected. `message` is the user-facing text of an `invalid_search_filter`
/// error: a diagnostic line, then `start:end filter` where the columns (1-based, in characters)
/// delimit the offending part of the filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}

/// Parses the string form. An empty or all-whitespace filter is no filter: `Ok(None)`.
pub fn parse_filter(text: &str) -> Result<Option<FilterExpr>, FilterError> {
    parser::parse(text)
}

/// Parses the JSON form: `null` (no filter), a string, or an array whose items are strings
/// (ANDed together) or arrays of strings (ORed together inside, then ANDed with the rest).
/// Foreign filters are refused: the endpoints that take them resolve them with
/// [`parse_filter_resolving`].
pub fn parse_filter_json(value: &serde_json::Value) -> Result<Option<FilterExpr>, FilterError> {
    parse_filter_json_with(value, &|text| {
        let expr = parse_filter(text)?;
        if let Some((start, end)) = expr.as_ref().and_then(FilterExpr::first_foreign_span) {
            return Err(parser::error_at(
                text,
                start,
                end,
                check::FOREIGN_UNSUPPORTED,
            ));
        }
        Ok(expr)
    })
}

/// The JSON form, with each string parsed by `parse_one`.
pub(crate) fn parse_filter_json_with(
    value: &serde_json::Value,
    parse_one: &dyn Fn(&str) -> Result<Option<FilterExpr>, FilterError>,
) -> Result<Option<FilterExpr>, FilterError> {
    use serde_json::Value;
    let parse_filter = parse_one;
    match value {
        Value::Null => Ok(None),
        Value::String(text) => parse_filter(text),
        Value::Array(items) => {
            let mut ands = Vec::new();
            for item in items {
                match item {
                    Value::String(text) => ands.extend(parse_filter(text)?),
                    Value::Array(inner) => {
                        let mut ors = Vec::new();
                        for alternative in inner {
                            match alternative {
                                Value::String(text) => ors.extend(parse_filter(text)?),
                                other => return Err(json_type_error("String", other)),
                            }
                        }
                        ands.extend(combine(ors, FilterExpr::Or));
                    }
                    other => return Err(json_type_error("String, [String]", other)),
                }
            }
            Ok(combine(ands, FilterExpr::And))
        }
        other => Err(json_type_error("String, Array", other)),
    }
}

fn json_type_error(expected: &str, found: &serde_json::Value) -> FilterError {
    FilterError {
        message: format!(
            "Invalid syntax for the filter parameter: `expected {expected}, found: {found}`."
        ),
    }
}

/// Zero expressions are no filter, one is itself, several are joined by `join`.
fn combine(
    mut exprs: Vec<FilterExpr>,
    join: fn(Vec<FilterExpr>) -> FilterExpr,
) -> Option<FilterExpr> {
    match exprs.len() {
        0 => None,
        1 => exprs.pop(),
        _ => Some(join(exprs)),
    }
}

impl FilterExpr {
    /// Every field name the filter uses, each once, in order of first appearance. Geo
    /// expressions use `_geo`.
    pub fn fields(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        self.collect_fields(&mut seen, &mut out);
        out
    }

    fn collect_fields<'a>(&'a self, seen: &mut HashSet<&'a str>, out: &mut Vec<&'a str>) {
        let mut push = |name: &'a str| {
            if seen.insert(name) {
                out.push(name);
            }
        };
        match self {
            FilterExpr::Condition { field, .. } | FilterExpr::Foreign { field, .. } => push(field),
            FilterExpr::GeoRadius { .. }
            | FilterExpr::GeoBoundingBox { .. }
            | FilterExpr::GeoPolygon(_) => push("_geo"),
            FilterExpr::Not(inner) => inner.collect_fields(seen, out),
            FilterExpr::And(items) | FilterExpr::Or(items) => {
                for item in items {
                    item.collect_fields(seen, out);
                }
            }
        }
    }
}

/// Where the first `CONTAINS` (or `NOT CONTAINS`) of a filter in its JSON form is, as an error
/// carrying `message` and pointing at the operator, the way Meilisearch refuses the operator
/// while its experimental feature is off. `None` when no string of the filter uses it (or the
/// filter does not parse: its own error is reported elsewhere).
pub fn contains_operator_error(value: &serde_json::Value, message: &str) -> Option<FilterError> {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            let expr = parse_filter(text).ok()??;
            let (_, field_end) = expr.first_contains_span()?;
            let rest = &text[field_end..];
            let offset = rest.to_ascii_lowercase().find("contains")?;
            let start = field_end + offset;
            Some(parser::error_at(
                text,
                start,
                start + "contains".len(),
                message,
            ))
        }
        Value::Array(items) => items
            .iter()
            .find_map(|item| contains_operator_error(item, message)),
        _ => None,
    }
}

/// Where the first `_foreign(..)` of a filter in its JSON form is, as an error carrying
/// `message` and pointing at its field, the way Meilisearch refuses foreign filters while the
/// `foreignKeys` experimental feature is off. `None` when no string of the filter uses one (or
/// the filter does not parse: its own error is reported elsewhere).
pub fn foreign_filter_error(value: &serde_json::Value, message: &str) -> Option<FilterError> {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            let expr = parse_filter(text).ok()??;
            let (start, end) = expr.first_foreign_span()?;
            Some(parser::error_at(text, start, end, message))
        }
        Value::Array(items) => items
            .iter()
            .find_map(|item| foreign_filter_error(item, message)),
        _ => None,
    }
}

impl FilterExpr {
    /// The field span of the first `_foreign(..)`, if any.
    pub fn first_foreign_span(&self) -> Option<(usize, usize)> {
        match self {
            FilterExpr::Foreign { span, .. } => Some(*span),
            FilterExpr::Not(inner) => inner.first_foreign_span(),
            FilterExpr::And(items) | FilterExpr::Or(items) => {
                items.iter().find_map(FilterExpr::first_foreign_span)
            }
            _ => None,
        }
    }

    /// The field span of the first `CONTAINS` / `NOT CONTAINS` condition, if any.
    fn first_contains_span(&self) -> Option<(usize, usize)> {
        match self {
            FilterExpr::Condition {
                condition: Condition::Contains(_) | Condition::NotContains(_),
                span,
                ..
            } => Some(*span),
            FilterExpr::Not(inner) | FilterExpr::Foreign { filter: inner, .. } => {
                inner.first_contains_span()
            }
            FilterExpr::And(items) | FilterExpr::Or(items) => {
                items.iter().find_map(FilterExpr::first_contains_span)
            }
            _ => None,
        }
    }
}
