//! The `proximity` ranking rule: documents where the query terms are closer to each other, in
//! query order, come first. The cost of a document is the sum, over consecutive terms, of the
//! smallest distance between their matches, minus one: adjacent words in order cost 0, the
//! reverse order costs one more, words farther apart are capped at 7, as are
//! words in different attributes.

use roaring::RoaringBitmap;

use super::cost::{active_terms, per_term, CostBuckets};
use super::{Bucket, Detail, Rank, RankCtx, RankingRule};
use crate::error::Result;
use crate::search::positions::Occurrence;
use crate::search::positions::Scope;

/// The highest cost of one pair of consecutive terms.
pub const MAX_PAIR_COST: u32 = 7;

#[derive(Default)]
pub struct ProximityRule {
    mask: u16,
    terms: Vec<u8>,
    buckets: CostBuckets,
}

fn pair_cost(a: &Occurrence, b: &Occurrence) -> u32 {
    if a.start >> 16 != b.start >> 16 {
        return MAX_PAIR_COST;
    }
    let distance = if b.start > a.end {
        b.start - a.end
    } else if a.start > b.end {
        a.start - b.end + 1
    } else {
        // Overlapping matches: one word standing for both terms ("sunflower" for "sun flower").
        1
    };
    distance.min(MAX_PAIR_COST + 1) - 1
}

/// The proximity cost of one document over the active terms.
pub fn document_cost(occurrences: &[Occurrence], scope: Scope, terms: &[u8]) -> u32 {
    let mut slices: [&[Occurrence]; 16] = [&[]; 16];
    per_term(occurrences, scope.mask, &mut slices);
    let mut total = 0;
    for pair in terms.windows(2) {
        let (left, right) = (slices[pair[0] as usize], slices[pair[1] as usize]);
        let mut best = MAX_PAIR_COST;
        'pairs: for a in left.iter().filter(|o| o.usable(scope)) {
            for b in right.iter().filter(|o| o.usable(scope)) {
                best = best.min(pair_cost(a, b));
                if best == 0 {
                    break 'pairs;
                }
            }
        }
        total += best;
    }
    total
}

impl RankingRule for ProximityRule {
    fn name(&self) -> &'static str {
        "proximity"
    }

    fn start(&mut self, ctx: &mut RankCtx<'_>, universe: &RoaringBitmap, mask: u16) -> Result<()> {
        self.mask = mask;
        self.terms = active_terms(mask, ctx.query.terms.len()).collect();
        self.buckets.start(universe, self.terms.len() < 2);
        Ok(())
    }

    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        let max_cost = MAX_PAIR_COST * (self.terms.len().max(1) as u32 - 1);
        let terms = &self.terms;
        let next = self.buckets.next_by_matches(
            ctx,
            universe,
            self.mask,
            false,
            |occurrences, _, scope| document_cost(occurrences, scope, terms),
        )?;
        Ok(next.map(|(cost, docs)| Bucket {
            docs,
            mask: self.mask,
            detail: Detail::Proximity(Rank::from_cost(cost, max_cost)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occ(term: u8, start: u32) -> Occurrence {
        Occurrence {
            term,
            start,
            end: start,
            typos: 0,
            exact: true,
            extra: 0,
            covers: 1 << term,
        }
    }

    #[test]
    fn pair_costs() {
        let cases = [
            (occ(0, 0), occ(1, 1), 0),
            (occ(0, 1), occ(1, 0), 1),
            (occ(0, 0), occ(1, 3), 2),
            (occ(0, 0), occ(1, 40), 7),
            (occ(0, 0), occ(1, 1 << 16), 7),
        ];
        for (a, b, expected) in cases {
            assert_eq!(pair_cost(&a, &b), expected, "{a:?} {b:?}");
        }
    }
}
