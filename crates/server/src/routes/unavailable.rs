//! Filters, sorting, facets and distinct need filterable and sortable fields, which indexes do
//! not store yet. Until they do, a request using them is refused with the code Meilisearch uses
//! for that parameter: a malformed filter gets the filter parser's precise error, a well-formed
//! one names the attribute it uses. One place, so the search and documents routes answer alike.

use quarry_api_types::Code;
use quarry_engine::filter::parse_filter_json;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// Refuses a non-empty `filter`.
pub fn reject_filter(filter: Option<&Value>, code: Code) -> ApiResult<()> {
    let Some(filter) = filter else { return Ok(()) };
    match parse_filter_json(filter) {
        Err(e) => Err(ApiError::new(code, e.message)),
        Ok(None) => Ok(()),
        Ok(Some(expr)) => {
            let attribute = expr
                .fields()
                .first()
                .copied()
                .unwrap_or_default()
                .to_string();
            Err(ApiError::new(
                code,
                format!("Attribute `{attribute}` is not filterable: this version of Quarry does not evaluate filters yet."),
            ))
        }
    }
}

/// Refuses a non-empty `sort`.
pub fn reject_sort(sort: Option<&[String]>, code: Code) -> ApiResult<()> {
    let Some(first) = sort.and_then(|s| s.first()) else {
        return Ok(());
    };
    let field = first.rsplit_once(':').map_or(first.as_str(), |(f, _)| f);
    Err(ApiError::new(
        code,
        format!("Attribute `{field}` is not sortable: this version of Quarry does not sort by attributes yet."),
    ))
}

/// Refuses `facets` and `distinct` (search only).
pub fn reject_facets_and_distinct(
    facets: Option<&[String]>,
    distinct: Option<&str>,
) -> ApiResult<()> {
    if let Some(facet) = facets.and_then(|f| f.first()) {
        return Err(ApiError::new(
            Code::InvalidSearchFacets,
            format!("Invalid facet distribution, attribute `{facet}` is not filterable: this version of Quarry does not compute facets yet."),
        ));
    }
    if let Some(distinct) = distinct {
        return Err(ApiError::new(
            Code::InvalidSearchDistinct,
            format!("Attribute `{distinct}` cannot be used as distinct attribute: this version of Quarry does not support distinct yet."),
        ));
    }
    Ok(())
}
