//! The `wordPosition` ranking rule (and the second half of `attribute`): documents where the
//! query terms appear earlier in their attribute come first. The cost of a document is the sum,
//! over the terms in play, of how much later than its place in the query the term first appears
//! (so a value starting with the whole query costs 0), exact for the first few positions and on
//! a logarithmic scale after, so that positions 500 and 510 tie.

use roaring::RoaringBitmap;

use super::cost::{active_terms, per_term, CostBuckets};
use super::{Bucket, Detail, Rank, RankCtx, RankingRule};
use crate::error::Result;
use crate::index::word_position_of;
use crate::search::positions::Occurrence;
use crate::search::positions::Scope;

/// Positions below this cost their value; later ones cost on a log scale.
const LINEAR_POSITIONS: u32 = 8;

/// The cost of a word position.
pub fn position_cost(position: u16) -> u32 {
    let p = u32::from(position);
    if p < LINEAR_POSITIONS {
        p
    } else {
        LINEAR_POSITIONS + (p - LINEAR_POSITIONS + 1).ilog2()
    }
}

/// The highest cost of one term.
pub fn max_position_cost() -> u32 {
    position_cost(u16::MAX)
}

pub struct WordPositionRule {
    combined: bool,
    mask: u16,
    terms: Vec<u8>,
    buckets: CostBuckets,
}

impl WordPositionRule {
    pub fn new(combined: bool) -> WordPositionRule {
        WordPositionRule {
            combined,
            mask: 0,
            terms: Vec::new(),
            buckets: CostBuckets::default(),
        }
    }
}

/// The position cost of one document over the active terms.
pub fn document_cost(occurrences: &[Occurrence], scope: Scope, terms: &[u8]) -> u32 {
    let mut slices: [&[Occurrence]; 16] = [&[]; 16];
    per_term(occurrences, scope.mask, &mut slices);
    terms
        .iter()
        .map(|t| {
            slices[*t as usize]
                .iter()
                .filter(|o| o.usable(scope))
                .map(|o| position_cost(word_position_of(o.start).saturating_sub(u16::from(*t))))
                .min()
                .unwrap_or_else(max_position_cost)
        })
        .sum()
}

impl RankingRule for WordPositionRule {
    fn name(&self) -> &'static str {
        "wordPosition"
    }

    fn start(&mut self, ctx: &mut RankCtx<'_>, universe: &RoaringBitmap, mask: u16) -> Result<()> {
        self.mask = mask;
        self.terms = active_terms(mask, ctx.query.terms.len()).collect();
        self.buckets.start(universe, false);
        Ok(())
    }

    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        let (mask, terms, combined) = (self.mask, &self.terms, self.combined);
        let max_cost = max_position_cost() * terms.len() as u32;
        let next =
            self.buckets
                .next_by_matches(ctx, universe, mask, false, |occurrences, _, scope| {
                    document_cost(occurrences, scope, terms)
                })?;
        Ok(next.map(|(cost, docs)| Bucket {
            docs,
            mask,
            detail: Detail::WordPosition {
                rank: Rank::from_cost(cost, max_cost),
                combined,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_positions_are_exact_later_ones_logarithmic() {
        let cases = [
            (0, 0),
            (1, 1),
            (7, 7),
            (8, 8),
            (9, 9),
            (10, 9),
            (11, 10),
            (500, 16),
            (510, 16),
        ];
        for (position, cost) in cases {
            assert_eq!(position_cost(position), cost, "{position}");
        }
        assert_eq!(max_position_cost(), 23);
    }
}
