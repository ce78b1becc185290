//! `POST /indexes/{uid}/fields`: every field the index has seen, with what the settings make
//! of it (displayed, searchable, sortable, distinct, ranking rule, filterable features, facet
//! order, locales), paginated and optionally filtered, as Meilisearch lists them.

use axum::extract::{Path, State};
use axum::Json;
use quarry_api_types::indexes::{FieldsFilter, ListFieldsRequest};
use quarry_engine::settings::{attribute_matches, FacetOrder, FilterableRule, RankingRule};
use quarry_engine::IndexSettings;
use serde_json::{json, Value};

use super::{blocking, index_uid};
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::AppState;

pub async fn list(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    index_uid(&uid)?;
    let request = ListFieldsRequest::from_json(&body)?;
    blocking(move || {
        let index = state.scheduler.index(&uid)?;
        let index_state = index.state();
        let fields: Vec<Value> = index_state
            .fields
            .iter()
            .map(|name| FieldView::of(name, &index_state.settings))
            .filter(|field| field.matches(&request.filter))
            .map(|field| field.to_json())
            .collect();
        let total = fields.len();
        let results: Vec<Value> = fields
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .collect();
        Ok(Json(json!({
            "results": results,
            "offset": request.offset,
            "limit": request.limit,
            "total": total,
        })))
    })
    .await
}

/// What the settings make of one field.
struct FieldView<'a> {
    name: &'a str,
    displayed: bool,
    searchable: bool,
    sortable: bool,
    distinct: bool,
    /// `Some("asc" | "desc")` when an `attribute:asc`/`:desc` ranking rule names the field.
    ranking_order: Option<&'static str>,
    facet_search: bool,
    equality: bool,
    comparison: bool,
    sort_by: &'static str,
    locales: Vec<String>,
}

impl<'a> FieldView<'a> {
    fn of(name: &'a str, settings: &IndexSettings) -> FieldView<'a> {
        let selected = |list: &Option<Vec<String>>| {
            list.as_ref()
                .is_none_or(|patterns| patterns.iter().any(|p| attribute_matches(p, name)))
        };
        let ranking_order = settings.ranking_rules.iter().find_map(|rule| match rule {
            RankingRule::Asc(field) if field == name => Some("asc"),
            RankingRule::Desc(field) if field == name => Some("desc"),
            _ => None,
        });
        // The first rule of `filterableAttributes` selecting the field gives its features; a
        // plain name has every feature (Meilisearch's legacy default).
        let (facet_search, equality, comparison) = settings
            .filterable_attributes
            .iter()
            .find_map(|rule| match rule {
                FilterableRule::Field(pattern) => {
                    attribute_matches(pattern, name).then_some((true, true, true))
                }
                FilterableRule::Patterns {
                    attribute_patterns,
                    facet_search,
                    equality,
                    comparison,
                } => attribute_patterns
                    .iter()
                    .any(|p| attribute_matches(p, name))
                    .then_some((*facet_search, *equality, *comparison)),
            })
            .unwrap_or((false, false, false));
        let orders = &settings.faceting.sort_facet_values_by;
        let sort_by = match orders.get(name).or_else(|| orders.get("*")) {
            Some(FacetOrder::Count) => "count",
            _ => "alpha",
        };
        let locales = settings
            .localized_attributes
            .iter()
            .flatten()
            .find(|rule| {
                rule.attribute_patterns
                    .iter()
                    .any(|p| attribute_matches(p, name))
            })
            .map(|rule| rule.locales.clone())
            .unwrap_or_default();
        FieldView {
            name,
            displayed: selected(&settings.displayed_attributes),
            searchable: selected(&settings.searchable_attributes),
            sortable: settings
                .sortable_attributes
                .iter()
                .any(|p| attribute_matches(p, name)),
            distinct: settings.distinct_attribute.as_deref() == Some(name),
            ranking_order,
            facet_search,
            equality,
            comparison,
            sort_by,
            locales,
        }
    }

    fn filterable(&self) -> bool {
        self.facet_search || self.equality || self.comparison
    }

    fn matches(&self, filter: &FieldsFilter) -> bool {
        let same = |wanted: Option<bool>, actual: bool| wanted.is_none_or(|w| w == actual);
        filter
            .attribute_patterns
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| attribute_matches(p, self.name)))
            && same(filter.displayed, self.displayed)
            && same(filter.searchable, self.searchable)
            && same(filter.sortable, self.sortable)
            && same(filter.distinct, self.distinct)
            && same(filter.ranking_rule, self.ranking_order.is_some())
            && same(filter.filterable, self.filterable())
    }

    fn to_json(&self) -> Value {
        let mut ranking_rule = json!({"enabled": self.ranking_order.is_some()});
        if let Some(order) = self.ranking_order {
            ranking_rule["order"] = json!(order);
        }
        json!({
            "name": self.name,
            "displayed": {"enabled": self.displayed},
            "searchable": {"enabled": self.searchable},
            "sortable": {"enabled": self.sortable},
            "distinct": {"enabled": self.distinct},
            "rankingRule": ranking_rule,
            "filterable": {
                "enabled": self.filterable(),
                "sortBy": self.sort_by,
                "facetSearch": self.facet_search,
                "equality": self.equality,
                "comparison": self.comparison,
            },
            "localized": {"locales": self.locales},
        })
    }
}
