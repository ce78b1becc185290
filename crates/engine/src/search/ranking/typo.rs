//! The `typo` ranking rule: documents matching the query with fewer typos come first. A
//! document's typos are the sum, over the terms still in play, of the fewest typos it matches
//! each term with. Computed with set operations only: "at most `t` typos over the first `j`
//! terms" is built from the same question for `j - 1` terms, memoized, and only the budgets the
//! page needs are ever built. A term every document of the universe matches as typed costs
//! nothing anywhere and is left out; one no document matches with a typo only filters.

use roaring::RoaringBitmap;

use super::{Bucket, Detail, RankCtx, RankingRule};
use crate::error::Result;

#[derive(Default)]
pub struct TypoRule {
    mask: u16,
    /// Per active term that costs typos somewhere, its documents with at most 0, 1, 2 typos,
    /// within the universe.
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
        let [zero, _, two] = &self.terms[j - 1];
        let docs = if zero.len() == two.len() {
            // No document of the universe matches this term with a typo: the term only keeps
            // those that match it (the levels are nested, so equal sizes mean equal sets).
            self.within(j - 1, budget) & &self.terms[j - 1][0]
        } else {
            let mut docs = RoaringBitmap::new();
            for k in 0..=budget.min(2) {
                let before = self.within(j - 1, budget - k);
                docs |= before & &self.terms[j - 1][k as usize];
            }
            docs
        };
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
        // A term matched as typed by every document of the universe adds no typo to any.
        self.terms = (0..query.terms.len())
            .filter(|t| mask & (1 << t) != 0)
            .filter_map(|t| query.term_docs_by_typos(t, mask, universe))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Analyzer;
    use crate::search::context::SearchContext;
    use crate::search::derivations::{Query, QueryBuilder};
    use crate::search::query::parse;
    use crate::search::ranking_equivalence::DEBIAN_TYPO_QUERIES;

    /// A document's typos for the terms of `mask`, from the derivations one by one: per term,
    /// the fewest typos of a derivation holding the document (a derivation standing for several
    /// terms counts its typos on its first term); `None` when a term has none.
    fn fewest_typos(query: &Query, mask: u16, doc: u32) -> Option<u32> {
        let mut total = 0;
        for term in (0..query.terms.len()).filter(|t| mask & (1 << t) != 0) {
            total += query
                .derivations
                .iter()
                .filter(|d| d.covers & (1 << term) != 0 && d.covers & !mask == 0)
                .filter(|d| d.docs.contains(doc))
                .map(|d| {
                    if d.first_term == term {
                        u32::from(d.typos.min(2))
                    } else {
                        0
                    }
                })
                .min()?;
        }
        Some(total)
    }

    /// The rule's buckets give every document of the universe its fewest typos, whether its
    /// terms are left out (every document matches them as typed), only filter (none matches
    /// them with a typo) or cost typos, on the second search too (the typo levels then come
    /// from the word's kept unions). Two universes per mask: the documents with every term (as
    /// the words rule hands them on), and those with any (the typo rule first), where a
    /// document lacking a term is in no bucket.
    #[test]
    fn buckets_hold_the_documents_with_each_count_of_typos() {
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::ranking_equivalence::corpus_index("debian", 6_000, dir.path());
        let ctx = SearchContext::new(&index).unwrap();
        let analyzer = Analyzer::new(&ctx.settings);
        let more = ["gnome", "lib pyton", "kernel modle"];
        let queries: Vec<&str> = DEBIAN_TYPO_QUERIES.into_iter().chain(more).collect();
        let (mut left_out, mut filters, mut costing) = (0, 0, 0);
        for _round in 0..2 {
            for &q in &queries {
                let query = QueryBuilder::new(&ctx, &analyzer, None, None)
                    .build(&parse(&analyzer, q))
                    .unwrap();
                for (mask, every) in (1..=query.all_terms()).flat_map(|m| [(m, true), (m, false)]) {
                    let mut universe = if every {
                        ctx.universe()
                    } else {
                        RoaringBitmap::new()
                    };
                    for term in (0..query.terms.len()).filter(|t| mask & (1 << t) != 0) {
                        if every {
                            universe &= query.term_docs(term, mask).as_ref();
                        } else {
                            universe |= query.term_docs(term, mask).as_ref();
                        }
                    }
                    let mut rank_ctx = RankCtx::new(&ctx, &query, 1);
                    let mut rule = TypoRule::default();
                    rule.start(&mut rank_ctx, &universe, mask).unwrap();
                    let active = mask.count_ones() as usize;
                    left_out += active - rule.terms.len();
                    for [zero, _, two] in &rule.terms {
                        if zero.len() == two.len() {
                            filters += 1;
                        } else {
                            costing += 1;
                        }
                    }
                    let mut left = universe.clone();
                    while let Some(bucket) = rule.next_bucket(&mut rank_ctx, &left).unwrap() {
                        let Detail::Typo { count, .. } = bucket.detail else {
                            panic!("not a typo bucket");
                        };
                        for doc in &bucket.docs {
                            assert_eq!(
                                fewest_typos(&query, mask, doc),
                                Some(count),
                                "{q:?} mask {mask} document {doc}"
                            );
                        }
                        left -= &bucket.docs;
                    }
                    rule.end();
                    for doc in &left {
                        assert_eq!(fewest_typos(&query, mask, doc), None, "{q:?} mask {mask}");
                    }
                    assert!(!every || left.is_empty(), "{q:?} mask {mask}");
                }
            }
        }
        // Each shortcut was taken, and so was the general case.
        assert!(
            left_out > 0 && filters > 0 && costing > 0,
            "{left_out} {filters} {costing}"
        );
    }
}
