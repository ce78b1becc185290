//! The `sort` ranking rule: where the `sort` search parameter takes effect in the rule chain.
//! Until sorting by request arrives (with fast fields and filters), it ranks nothing: its
//! universe passes through as one bucket.

use roaring::RoaringBitmap;

use super::{Bucket, Detail, RankCtx, RankingRule};
use crate::error::Result;

#[derive(Default)]
pub struct SortRule {
    mask: u16,
}

impl RankingRule for SortRule {
    fn name(&self) -> &'static str {
        "sort"
    }

    fn start(
        &mut self,
        _ctx: &mut RankCtx<'_>,
        _universe: &RoaringBitmap,
        mask: u16,
    ) -> Result<()> {
        self.mask = mask;
        Ok(())
    }

    fn next_bucket(
        &mut self,
        _ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        if universe.is_empty() {
            return Ok(None);
        }
        Ok(Some(Bucket {
            docs: universe.clone(),
            mask: self.mask,
            detail: Detail::Pass,
        }))
    }
}
