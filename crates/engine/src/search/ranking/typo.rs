//! The `typo` ranking rule: documents matching the query with fewer typos come first. A
//! document's typos are the sum, over the terms still in play, of the fewest typos it matches
//! each term with. Computed with set operations only: "at most `t` typos over the first `j`
//! terms" is built from the same question for `j - 1` terms, memoized, and only the budgets the
//! page needs are ever built.

use roaring::RoaringBitmap;

use super::{Bucket, Detail, RankCtx, RankingRule};
use crate::error::Result;

#[derive(Default)]
pub struct TypoRule {
    mask: u16,
    /// Per active term, its documents with at most 0, 1, 2 typos, within the universe.
    terms: Vec<[RoaringBitmap; 3]>,
    /// `memo[j][t]`: documents with at most `t` typos over the first `j` active terms.
    memo: Vec<Vec<Option<RoaringBitmap>>>,
    universe: RoaringBitmap,
    max_typos: u32,
    next_budget: u32,
}

impl TypoRule {
    fn within(&mut self, j: usize, budget: u32) -> RoaringBitmap {
        if j == 0 {
            return self.universe.clone();
        }
        if let Some(docs) = &self.memo[j][budget as usize] {
            return docs.clone();
        }
        let mut docs = RoaringBitmap::new();
        for k in 0..=budget.min(2) {
            let before = self.within(j - 1, budget - k);
            docs |= before & &self.terms[j - 1][k as usize];
        }
        self.memo[j][budget as usize] = Some(docs.clone());
        docs
    }
}

impl RankingRule for TypoRule {
    fn name(&self) -> &'static str {
        "typo"
    }

    fn start(&mut self, ctx: &mut RankCtx<'_>, universe: &RoaringBitmap, mask: u16) -> Result<()> {
        let query = ctx.query;
        self.mask = mask;
        self.universe = universe.clone();
        self.terms = (0..query.terms.len())
            .filter(|t| mask & (1 << t) != 0)
            .map(|t| query.term_docs_by_typos(t, mask, universe))
            .collect();
        // A term never costs more than two typos, whatever derivation matched it.
        self.max_typos = 2 * self.terms.len() as u32;
        self.memo = vec![vec![None; self.max_typos as usize + 1]; self.terms.len() + 1];
        self.next_budget = 0;
        Ok(())
    }

    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        let shown_max = ctx.query.max_typos(self.mask);
        while self.next_budget <= self.max_typos {
            let budget = self.next_budget;
            self.next_budget += 1;
            let docs = self.within(self.terms.len(), budget) & universe;
            if !docs.is_empty() {
                let detail = Detail::Typo {
                    count: budget,
                    max: shown_max.max(budget),
                };
                return Ok(Some(Bucket {
                    docs,
                    mask: self.mask,
                    detail,
                }));
            }
        }
        Ok(None)
    }

    fn end(&mut self) {
        self.terms.clear();
        self.memo.clear();
    }
}
