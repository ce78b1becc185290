//! The `words` ranking rule: documents that contain more of the query words come first. Which
//! words are given up first is the `matchingStrategy`.

use roaring::RoaringBitmap;

use super::{intersect, removal_order, QueryDocs, RankingRule};
use crate::error::Result;
use crate::search::context::SearchContext;
use crate::search::MatchingStrategy;

pub struct WordsRule {
    /// The document set of each level, from all words down to the loosest level allowed.
    levels: Vec<RoaringBitmap>,
    next_level: usize,
}

impl WordsRule {
    pub fn new(query: &QueryDocs, strategy: MatchingStrategy) -> WordsRule {
        let order = removal_order(query, strategy);
        let mut active: Vec<usize> = (0..query.docs.len()).collect();
        let mut levels = vec![intersect(active.iter().map(|i| &query.docs[*i]))];
        // Drop words one by one, never the last of the removal order.
        for removed in order.iter().take(order.len().saturating_sub(1)) {
            active.retain(|i| i != removed);
            levels.push(intersect(active.iter().map(|i| &query.docs[*i])));
        }
        WordsRule {
            levels,
            next_level: 0,
        }
    }
}

impl RankingRule for WordsRule {
    fn name(&self) -> &'static str {
        "words"
    }

    fn start(&mut self, _ctx: &SearchContext, _universe: &RoaringBitmap) -> Result<()> {
        self.next_level = 0;
        Ok(())
    }

    fn next_bucket(
        &mut self,
        _ctx: &SearchContext,
        universe: &RoaringBitmap,
    ) -> Result<Option<RoaringBitmap>> {
        while self.next_level < self.levels.len() {
            let bucket = &self.levels[self.next_level] & universe;
            self.next_level += 1;
            if !bucket.is_empty() {
                return Ok(Some(bucket));
            }
        }
        Ok(None)
    }

    fn end(&mut self) {}
}
