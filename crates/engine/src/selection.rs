//! The stored sources of the documents a filter selects (every document without one), handed
//! one at a time, so that an export can stream an index of any size in bounded memory.

use crate::filter::{FilterEvaluator, FilterExpr};
use crate::index::read_source_bytes;
use crate::search::SearchContext;
use crate::{Index, Result};

impl Index {
    /// Calls `visit` with the compact JSON of each document `filter` selects, in index order,
    /// on one snapshot; stops early when `visit` answers `false`. Returns how many were
    /// visited.
    pub fn for_each_source(
        &self,
        filter: Option<&FilterExpr>,
        mut visit: impl FnMut(&[u8]) -> Result<bool>,
    ) -> Result<u64> {
        let ctx = SearchContext::new(self)?;
        let selected = match filter {
            Some(filter) => FilterEvaluator::new(&ctx).evaluate(filter)?,
            None => ctx.universe(),
        };
        let mut visited = 0;
        for id in &selected {
            let source = read_source_bytes(&ctx.searcher, ctx.fields, ctx.address(id))?;
            visited += 1;
            if !visit(&source)? {
                break;
            }
        }
        Ok(visited)
    }
}
