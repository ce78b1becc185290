//! Which filters an index accepts: every attribute a filter uses must be selected by a rule of
//! `filterableAttributes`, and the operator must be one the rule's features allow. The errors
//! point at the attribute in the filter text, as Meilisearch's do. Foreign filters
//! (`_foreign(field, filter)`) are resolved here too, through the caller's [`ForeignResolver`],
//! into `IN` conditions on the foreign key field before the check.

use super::parser::error_at;
use super::{parse_filter, parse_filter_json_with, Condition, FilterError, FilterExpr};
use crate::settings::{attribute_matches, FilterableRule, IndexSettings};

/// The features of the first rule of `filterableAttributes` selecting `field`, with its place:
/// `(rule index, equality, comparison)`. `None` when no rule selects it.
pub fn filterable_rule(settings: &IndexSettings, field: &str) -> Option<(usize, bool, bool)> {
    settings
        .filterable_attributes
        .iter()
        .enumerate()
        .find_map(|(i, rule)| match rule {
            FilterableRule::Field(name) => {
                attribute_matches(name, field).then_some((i, true, true))
            }
            FilterableRule::Patterns {
                attribute_patterns,
                equality,
                comparison,
                ..
            } => attribute_patterns
                .iter()
                .any(|p| attribute_matches(p, field))
                .then_some((i, *equality, *comparison)),
        })
        .filter(|(_, equality, comparison)| *equality || *comparison)
}

/// The names and patterns of `filterableAttributes`, for error messages.
pub fn available_filterable(settings: &IndexSettings) -> String {
    let mut names: Vec<&str> = Vec::new();
    for rule in &settings.filterable_attributes {
        match rule {
            FilterableRule::Field(name) => names.push(name),
            FilterableRule::Patterns {
                attribute_patterns,
                equality,
                comparison,
                ..
            } if *equality || *comparison => {
                names.extend(attribute_patterns.iter().map(String::as_str))
            }
            FilterableRule::Patterns { .. } => {}
        }
    }
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        "This index does not have configured filterable attributes.".to_string()
    } else {
        let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        format!(
            "Available filterable attribute patterns are: {}.",
            listed.join(", ")
        )
    }
}

/// Parses the JSON form of a filter and checks it against the index's filterable attributes.
/// Foreign filters are refused: this is for the endpoints that do not support them.
pub fn parse_filter_checked(
    value: &serde_json::Value,
    settings: &IndexSettings,
) -> Result<Option<FilterExpr>, FilterError> {
    parse_filter_resolving(value, settings, None)
}

/// How endpoints that cannot resolve foreign filters refuse them.
pub(super) const FOREIGN_UNSUPPORTED: &str =
    "Filter condition `_foreign` is not supported for this endpoint.";

/// The most documents one foreign filter may select, as in Meilisearch: its ids become an `IN`
/// list, which must stay small.
pub const MAX_FOREIGN_FILTER_DOCUMENTS: u64 = 100;

/// What turns the inner filter of `_foreign(field, filter)` into the ids of the documents it
/// selects in the foreign index: called with the foreign index's uid, the inner filter and the
/// text it was parsed from (for errors pointing into it).
pub type ForeignResolver<'a> =
    &'a dyn Fn(&str, &FilterExpr, &str) -> Result<Vec<String>, FilterError>;

/// [`parse_filter_checked`] for the endpoints that support foreign filters: each
/// `_foreign(field, filter)` must name a field of the index's `foreignKeys`; `resolve` finds the
/// ids its filter selects in the foreign index, and it becomes `field IN [ids]`, checked like
/// any other condition. Without a resolver a foreign filter is refused.
pub fn parse_filter_resolving(
    value: &serde_json::Value,
    settings: &IndexSettings,
    resolve: Option<ForeignResolver<'_>>,
) -> Result<Option<FilterExpr>, FilterError> {
    parse_filter_json_with(value, &|text| {
        let Some(expr) = parse_filter(text)? else {
            return Ok(None);
        };
        let expr = if expr.first_foreign_span().is_some() {
            resolve_foreign(expr, text, settings, resolve)?
        } else {
            expr
        };
        check_filter(&expr, text, settings)?;
        Ok(Some(expr))
    })
}

/// `expr` with every foreign filter replaced by the `IN` condition it stands for.
fn resolve_foreign(
    expr: FilterExpr,
    src: &str,
    settings: &IndexSettings,
    resolve: Option<ForeignResolver<'_>>,
) -> Result<FilterExpr, FilterError> {
    let again = |e| resolve_foreign(e, src, settings, resolve);
    Ok(match expr {
        FilterExpr::Not(inner) => FilterExpr::Not(Box::new(again(*inner)?)),
        FilterExpr::And(items) => {
            FilterExpr::And(items.into_iter().map(again).collect::<Result<_, _>>()?)
        }
        FilterExpr::Or(items) => {
            FilterExpr::Or(items.into_iter().map(again).collect::<Result<_, _>>()?)
        }
        FilterExpr::Foreign {
            field,
            span,
            filter,
        } => {
            let Some(resolve) = resolve else {
                return Err(error_at(src, span.0, span.1, FOREIGN_UNSUPPORTED));
            };
            let Some(key) = settings.foreign_keys.iter().find(|k| k.field_name == field) else {
                return Err(error_at(
                    src,
                    span.0,
                    span.1,
                    format_args!("Field `{field}` is not a foreign key."),
                ));
            };
            if let Some((start, end)) = filter.first_foreign_span() {
                return Err(error_at(
                    src,
                    start,
                    end,
                    "Nested foreign filters are not supported.",
                ));
            }
            let ids = resolve(&key.foreign_index_uid, &filter, src)?;
            FilterExpr::Condition {
                field,
                condition: Condition::In(ids),
                span,
            }
        }
        other => other,
    })
}

/// What an operator needs: equality (`=`, `IN`, ...) or comparison (`<`, `TO`, ...); the
/// operators that only look at presence, nullness and emptiness need either.
enum Needs {
    Equality,
    Comparison,
    Any,
}

fn operator(condition: &Condition) -> (&'static str, Needs) {
    match condition {
        Condition::Equal(_) => ("=", Needs::Equality),
        Condition::NotEqual(_) => ("!=", Needs::Equality),
        Condition::In(_) => ("IN", Needs::Equality),
        Condition::NotIn(_) => ("NOT IN", Needs::Equality),
        Condition::Contains(_) => ("CONTAINS", Needs::Equality),
        Condition::NotContains(_) => ("NOT CONTAINS", Needs::Equality),
        Condition::StartsWith(_) => ("STARTS WITH", Needs::Equality),
        Condition::NotStartsWith(_) => ("NOT STARTS WITH", Needs::Equality),
        Condition::GreaterThan(_) => (">", Needs::Comparison),
        Condition::GreaterThanOrEqual(_) => (">=", Needs::Comparison),
        Condition::LowerThan(_) => ("<", Needs::Comparison),
        Condition::LowerThanOrEqual(_) => ("<=", Needs::Comparison),
        Condition::Between { .. } => ("TO", Needs::Comparison),
        Condition::Exists => ("EXISTS", Needs::Any),
        Condition::NotExists => ("NOT EXISTS", Needs::Any),
        Condition::IsNull => ("IS NULL", Needs::Any),
        Condition::IsNotNull => ("IS NOT NULL", Needs::Any),
        Condition::IsEmpty => ("IS EMPTY", Needs::Any),
        Condition::IsNotEmpty => ("IS NOT EMPTY", Needs::Any),
    }
}

/// Checks a parsed filter (of the text `src`, which error positions point into) against the
/// index's filterable attributes.
pub fn check_filter(
    expr: &FilterExpr,
    src: &str,
    settings: &IndexSettings,
) -> Result<(), FilterError> {
    match expr {
        FilterExpr::Not(inner) => check_filter(inner, src, settings),
        FilterExpr::And(items) | FilterExpr::Or(items) => items
            .iter()
            .try_for_each(|i| check_filter(i, src, settings)),
        FilterExpr::GeoRadius { .. }
        | FilterExpr::GeoBoundingBox { .. }
        | FilterExpr::GeoPolygon(_) => match filterable_rule(settings, "_geo") {
            Some(_) => Ok(()),
            None => Err(error_at(
                src,
                0,
                src.len(),
                format_args!(
                    "Attribute `_geo` is not filterable. {}",
                    available_filterable(settings)
                ),
            )),
        },
        FilterExpr::Foreign { span, .. } => Err(error_at(src, span.0, span.1, FOREIGN_UNSUPPORTED)),
        FilterExpr::Condition {
            field,
            condition,
            span,
        } => {
            let (start, end) = *span;
            let Some((rule, equality, comparison)) = filterable_rule(settings, field) else {
                return Err(error_at(
                    src,
                    start,
                    end,
                    format_args!(
                        "Attribute `{field}` is not filterable. {}",
                        available_filterable(settings)
                    ),
                ));
            };
            let (name, needs) = operator(condition);
            let (allowed, feature) = match needs {
                Needs::Equality => (equality, "equality"),
                Needs::Comparison => (comparison, "comparison"),
                Needs::Any => (true, ""),
            };
            if allowed {
                return Ok(());
            }
            let mut operators = vec!["OR", "AND", "NOT"];
            if equality {
                operators.extend(["=", "!=", "IN", "NOT IN"]);
            }
            if comparison {
                operators.extend([">", ">=", "<", "<=", "TO"]);
            }
            operators.extend(["IS EMPTY", "IS NULL", "EXISTS"]);
            Err(error_at(
                src,
                start,
                end,
                format_args!(
                    "Filter operator `{name}` is not allowed for the attribute `{field}`.\n  - Note: allowed operators: {}.\n  - Note: field `{field}` matched rule #{rule} in `filterableAttributes`\n  - Hint: enable {feature} in rule #{rule} by modifying the features.filter object\n  - Hint: prepend another rule matching `{field}` with appropriate filter features before rule #{rule}",
                    operators.join(", ")
                ),
            ))
        }
    }
}
