//! The parts of the filtering surface that are not built yet (`sort` on the documents routes,
//! `distinct`): a request using them is refused with the code Meilisearch uses for that
//! parameter, from one place so the routes answer alike.

use quarry_api_types::Code;

use crate::error::{ApiError, ApiResult};

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

/// Refuses `distinct` (search only).
pub fn reject_distinct(distinct: Option<&str>) -> ApiResult<()> {
    if let Some(distinct) = distinct {
        return Err(ApiError::new(
            Code::InvalidSearchDistinct,
            format!("Attribute `{distinct}` cannot be used as distinct attribute: this version of Quarry does not support distinct yet."),
        ));
    }
    Ok(())
}
