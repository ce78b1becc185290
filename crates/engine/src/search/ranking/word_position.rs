//! The `wordPosition` ranking rule (and the second half of `attribute`): documents where the
//! query terms appear earlier in their attribute come first. The cost of a document is the sum,
//! over the terms in play, of how much later than its place in the query the term first appears
//! (so a value starting with the whole query costs 0), by ranges of positions that widen further
//! on (Meilisearch's: 0, 1, 2-4, 5-7, ... 257-1024, beyond), so that positions 500 and 510 tie.
//!
//! The digests of the derivations (`search/digest.rs`) know the documents at each of the first
//! word positions, which decides every total cost up to the point where a term could be
//! further than they reach; the buckets up to there are set operations (`SumOfCosts`), and only
//! the documents left after them have their positions read.

use std::sync::Arc;

use roaring::RoaringBitmap;

use super::cost::{active_terms, per_term, CostBuckets, Far, SetBuckets, TermCost};
use super::{Bucket, Detail, Rank, RankCtx, RankingRule};
use crate::error::Result;
use crate::index::word_position_of;
use crate::search::digest::{union_within, Digest, POSITION_SLOTS};
use crate::search::positions::Occurrence;
use crate::search::positions::Scope;

/// The last position of each cost: 0 and 1 cost their value, then ever wider ranges (2 to 4,
/// 5 to 7, ... 257 to 1024), and everything past 1024 costs the most. These are Meilisearch's
/// ranges, so that `wordPosition` has the same 11 ranks per term and `_rankingScore` (and with
/// it `rankingScoreThreshold`) means the same on both engines.
const LAST_POSITION_OF_COST: [u16; 10] = [0, 1, 4, 7, 11, 16, 24, 64, 256, 1024];

/// The cost of a word position.
pub fn position_cost(position: u16) -> u32 {
    LAST_POSITION_OF_COST.partition_point(|&last| last < position) as u32
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
    /// The buckets from digests, when every derivation in play has one.
    sets: Option<SetBuckets>,
}

impl WordPositionRule {
    pub fn new(combined: bool) -> WordPositionRule {
        WordPositionRule {
            combined,
            mask: 0,
            terms: Vec::new(),
            buckets: CostBuckets::default(),
            sets: None,
        }
    }
}

/// The furthest position whose cost is at most `cost`.
fn furthest_within(cost: u32) -> u32 {
    LAST_POSITION_OF_COST
        .get(cost as usize)
        .map_or(u32::from(u16::MAX), |&last| u32::from(last))
}

/// The position buckets from the digests of the derivations in play: per term, the documents
/// where it appears within each cost, as far as the digests' positions reach; documents with a
/// match further on are costed from their positions.
fn from_digests(
    ctx: &mut RankCtx<'_>,
    universe: &RoaringBitmap,
    mask: u16,
    terms: &[u8],
) -> Result<Option<SetBuckets>> {
    // The documents of a sequence in play (a word cut in two) are costed from positions.
    let Some((per_term, sequences)) = ctx.term_digests(terms, mask, false, universe)? else {
        return Ok(None);
    };
    let mut far = Far {
        now: sequences,
        later: RoaringBitmap::new(),
        // A match beyond the digests' positions costs at least this, whatever the term's place
        // in the query.
        from: position_cost(
            POSITION_SLOTS.saturating_sub(usize::from(terms.iter().max().copied().unwrap_or(0)))
                as u16,
        ),
    };
    let mut costs = Vec::with_capacity(per_term.len());
    for term in &per_term {
        let shift = u32::from(term.term);
        let digests: Vec<Arc<Digest>> = term.derivations.iter().map(|(_, d)| d.clone()).collect();
        far.now |= union_within(digests.iter().map(|d| &d.far_ranks), universe);
        far.later |= union_within(digests.iter().map(|d| &d.far), universe);
        costs.push(TermCost {
            max: max_position_cost(),
            reach: Box::new(move |cost, within| {
                let first = if cost == 0 {
                    0
                } else {
                    furthest_within(cost - 1) + shift + 1
                };
                let last = (furthest_within(cost) + shift).min(POSITION_SLOTS as u32 - 1);
                let mut found = RoaringBitmap::new();
                if first > last || within.is_empty() {
                    return found;
                }
                // Each slot is asked for once (the levels' positions do not overlap), so it is
                // met with the documents still without a level (fewer and fewer as the levels
                // fill) rather than united and kept.
                for ranks in digests.iter().flat_map(|d| &d.rank_positions) {
                    let end = (last as usize + 1).min(ranks.len());
                    for at in ranks.get(first as usize..end).unwrap_or(&[]) {
                        found |= at & within;
                    }
                }
                found
            }),
        });
    }
    let max_cost = max_position_cost() * terms.len() as u32;
    let buckets = SetBuckets::new(ctx, universe, far, mask, costs, max_cost, false, {
        let terms = terms.to_vec();
        Box::new(move |occurrences, _, scope| document_cost(occurrences, scope, &terms))
    })?;
    Ok(Some(buckets))
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

    fn end(&mut self) {
        self.sets = None;
    }

    fn start(&mut self, ctx: &mut RankCtx<'_>, universe: &RoaringBitmap, mask: u16) -> Result<()> {
        self.mask = mask;
        self.terms = active_terms(mask, ctx.query.terms.len()).collect();
        self.sets = if ctx.prefer_positions(universe, &self.terms, mask) {
            None
        } else {
            from_digests(ctx, universe, mask, &self.terms)?
        };
        if self.sets.is_none() {
            self.buckets.start(universe, false);
        }
        Ok(())
    }

    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        let (mask, combined) = (self.mask, self.combined);
        let max_cost = max_position_cost() * self.terms.len() as u32;
        if let Some(sets) = &mut self.sets {
            return Ok(sets.next(ctx, universe)?.map(|(cost, docs)| Bucket {
                docs,
                mask,
                detail: Detail::WordPosition {
                    rank: Rank::from_cost(cost, max_cost),
                    combined,
                },
            }));
        }
        let terms = &self.terms;
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
    fn positions_cost_by_ranges_with_eleven_ranks() {
        let cases = [
            (0, 0),
            (1, 1),
            (2, 2),
            (4, 2),
            (5, 3),
            (7, 3),
            (8, 4),
            (11, 4),
            (12, 5),
            (16, 5),
            (17, 6),
            (24, 6),
            (25, 7),
            (64, 7),
            (65, 8),
            (256, 8),
            (257, 9),
            (1024, 9),
            (1025, 10),
            (u16::MAX, 10),
        ];
        for (position, cost) in cases {
            assert_eq!(position_cost(position), cost, "{position}");
        }
        assert_eq!(max_position_cost(), 10);
        // Costs never decrease with the position.
        for position in 1..=u16::MAX {
            assert!(position_cost(position) >= position_cost(position - 1));
        }
    }

    #[test]
    fn the_furthest_position_within_a_cost_is_the_last_of_its_range() {
        for cost in 0..=max_position_cost() + 1 {
            let furthest = (0..=u16::MAX)
                .rev()
                .find(|p| position_cost(*p) <= cost)
                .unwrap();
            assert_eq!(furthest_within(cost), u32::from(furthest), "cost {cost}");
        }
    }
}
