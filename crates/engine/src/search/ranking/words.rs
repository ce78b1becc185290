//! The `words` ranking rule: documents that contain more of the query terms come first. Which
//! terms are given up first is the `matchingStrategy`.

use roaring::RoaringBitmap;

use super::{Bucket, Detail, RankCtx, RankingRule};
use crate::error::Result;
use crate::search::derivations::Query;
use crate::search::MatchingStrategy;

pub struct WordsRule {
    /// The terms still required at each level, and the documents of that level, from all terms
    /// down to the loosest level the strategy allows.
    levels: Vec<(u16, RoaringBitmap)>,
    term_count: u32,
    next_level: usize,
}

/// The order in which terms are dropped by the strategy; the last entry is never dropped.
fn removal_order(query: &Query, strategy: MatchingStrategy) -> Vec<usize> {
    let n = query.terms.len();
    match strategy {
        MatchingStrategy::All => Vec::new(),
        MatchingStrategy::Last => (0..n).rev().collect(),
        MatchingStrategy::Frequency => {
            let all = query.all_terms();
            let mut order: Vec<(u64, usize)> =
                (0..n).map(|i| (query.term_docs(i, all).len(), i)).collect();
            order.sort_by_key(|(count, i)| std::cmp::Reverse((*count, *i)));
            order.into_iter().map(|(_, i)| i).collect()
        }
    }
}

fn level_docs(query: &Query, mask: u16) -> RoaringBitmap {
    let mut acc: Option<RoaringBitmap> = None;
    for term in 0..query.terms.len() {
        if mask & (1 << term) == 0 {
            continue;
        }
        let docs = query.term_docs(term, mask);
        acc = Some(match acc {
            None => docs,
            Some(a) => a & docs,
        });
        if acc.as_ref().is_some_and(RoaringBitmap::is_empty) {
            break;
        }
    }
    acc.unwrap_or_default()
}

impl WordsRule {
    pub fn new(query: &Query, strategy: MatchingStrategy) -> WordsRule {
        let order = removal_order(query, strategy);
        let mut mask = query.all_terms();
        let mut levels = vec![(mask, level_docs(query, mask))];
        // Drop terms one by one, never the last of the removal order.
        for removed in order.iter().take(order.len().saturating_sub(1)) {
            mask &= !(1 << removed);
            levels.push((mask, level_docs(query, mask)));
        }
        WordsRule {
            levels,
            term_count: query.terms.len() as u32,
            next_level: 0,
        }
    }

    /// Whether some document matches every term.
    pub fn has_full_matches(&self) -> bool {
        self.levels
            .first()
            .is_some_and(|(_, docs)| !docs.is_empty())
    }

    /// Every document the loosest level allows.
    pub fn candidates(&self) -> RoaringBitmap {
        let mut all = RoaringBitmap::new();
        for (_, docs) in &self.levels {
            all |= docs;
        }
        all
    }
}

impl RankingRule for WordsRule {
    fn name(&self) -> &'static str {
        "words"
    }

    fn start(
        &mut self,
        _ctx: &mut RankCtx<'_>,
        _universe: &RoaringBitmap,
        _mask: u16,
    ) -> Result<()> {
        self.next_level = 0;
        Ok(())
    }

    fn next_bucket(
        &mut self,
        _ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        while self.next_level < self.levels.len() {
            let (mask, docs) = &self.levels[self.next_level];
            self.next_level += 1;
            let bucket = docs & universe;
            if !bucket.is_empty() {
                let detail = Detail::Words {
                    matching: mask.count_ones(),
                    max: self.term_count,
                };
                return Ok(Some(Bucket {
                    docs: bucket,
                    mask: *mask,
                    detail,
                }));
            }
        }
        Ok(None)
    }
}
