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

/// The order in which terms are dropped by the strategy. Phrases are never dropped, as in
/// Meilisearch; without one, the last entry is never dropped either (see [`WordsRule::new`]).
fn removal_order(query: &Query, strategy: MatchingStrategy) -> Vec<usize> {
    let n = query.terms.len();
    let droppable = |i: &usize| !query.terms[*i].is_phrase;
    match strategy {
        MatchingStrategy::All => Vec::new(),
        MatchingStrategy::Last => (0..n).rev().filter(droppable).collect(),
        MatchingStrategy::Frequency => {
            let all = query.all_terms();
            // A term no document has counts as the most frequent one (dropped first), as
            // Meilisearch counts it.
            let mut order: Vec<(u64, usize)> = (0..n)
                .filter(droppable)
                .map(|i| match query.term_docs(i, all).len() {
                    0 => (u64::MAX, i),
                    count => (count, i),
                })
                .collect();
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
            None => docs.into_owned(),
            Some(a) => a & docs.as_ref(),
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
        // Drop terms one by one, never the last of the removal order unless a phrase (never
        // dropped) keeps the query from becoming empty.
        let has_phrase = query.terms.iter().any(|t| t.is_phrase);
        let droppable = if has_phrase {
            order.len()
        } else {
            order.len().saturating_sub(1)
        };
        for removed in order.iter().take(droppable) {
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
