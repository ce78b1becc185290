//! The `proximity` ranking rule: documents where the query terms are closer to each other, in
//! query order, come first. The cost of a document is the sum, over consecutive terms, of the
//! smallest distance between their matches, minus one: adjacent words in order cost 0, the
//! reverse order costs one more, words farther apart are capped at 7, as are
//! words in different attributes. One word standing for two terms at once counts as adjacent
//! only when it is one match of both ("sunflower" for "sun flower"): a word matched by each term
//! on its own ("django" for both "django" and the prefix "d") is not a pair, as one word is never
//! next to itself.
//!
//! The digests of the derivations (`search/digest.rs`) know, attribute by attribute, the
//! documents at each of the first word positions, which is enough to cost every pair whose
//! matches all lie there: "at most `k` apart" is a union of intersections of those sets, and
//! the buckets are sums over pairs (`SumOfCosts`). A document with a match further away (a long
//! description) is costed from its positions, as before, and joins the bucket of its cost.

use std::rc::Rc;

use roaring::RoaringBitmap;

use super::cost::{active_terms, per_term, CostBuckets, Far, SetBuckets, TermCost};
use super::{Bucket, Detail, Rank, RankCtx, RankingRule};
use crate::error::Result;
use crate::search::digest::{union, TermSlots, POSITION_SLOTS};
use crate::search::positions::Occurrence;
use crate::search::positions::Scope;

/// The highest cost of one pair of consecutive terms.
pub const MAX_PAIR_COST: u32 = 7;

#[derive(Default)]
pub struct ProximityRule {
    mask: u16,
    terms: Vec<u8>,
    buckets: CostBuckets,
    /// The buckets from digests, when every derivation in play has one.
    sets: Option<SetBuckets>,
}

/// The cost of a pair of matches of consecutive terms; `None` when they overlap without being one
/// match of both terms (the same word found by each term on its own), which is no pair.
fn pair_cost(a: &Occurrence, b: &Occurrence) -> Option<u32> {
    if a.start >> 16 != b.start >> 16 {
        return Some(MAX_PAIR_COST);
    }
    let distance = if b.start > a.end {
        b.start - a.end
    } else if a.start > b.end {
        a.start - b.end + 1
    } else if a.covers & (1 << b.term) != 0 {
        // One match standing for both terms ("sunflower" for "sun flower").
        1
    } else {
        return None;
    };
    Some(distance.min(MAX_PAIR_COST + 1) - 1)
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
                let Some(cost) = pair_cost(a, b) else {
                    continue;
                };
                best = best.min(cost);
                if best == 0 {
                    break 'pairs;
                }
            }
        }
        total += best;
    }
    total
}

/// The documents where `left` and `right` have matches in the same attribute that cost exactly
/// `k` as a pair (see `pair_cost`): `right` from `k + 1` words after `left`, or `k` words before
/// it (`k >= 1`), or, for 0, the documents of `joint` (a match of a derivation covering both
/// terms).
fn pair_at(left: &TermSlots, right: &TermSlots, joint: &RoaringBitmap, k: u32) -> RoaringBitmap {
    let mut found = RoaringBitmap::new();
    let k = i64::from(k);
    for (rank, positions) in left.shape().enumerate() {
        for p in 0..positions as i64 {
            let Some(here) = left.at(rank, p).filter(|h| !h.is_empty()) else {
                continue;
            };
            let before = (k > 0).then_some(p - k);
            for there in [Some(p + k + 1), before].into_iter().flatten() {
                if let Some(both) = right.meet(rank, there, here) {
                    found |= both;
                }
            }
        }
    }
    if k == 0 {
        found |= joint;
    }
    found
}

/// The documents of `within` with a match within the last positions the digests keep, close
/// enough to one beyond them to cost less than the most.
fn late_matches(term: &TermSlots, within: &RoaringBitmap) -> RoaringBitmap {
    let mut late = RoaringBitmap::new();
    if within.is_empty() {
        return late;
    }
    let first = POSITION_SLOTS.saturating_sub(MAX_PAIR_COST as usize + 1);
    let ranks: Vec<usize> = term.shape().collect();
    for (rank, positions) in ranks.into_iter().enumerate() {
        for position in first..positions {
            if let Some(docs) = term.meet(rank, position as i64, within) {
                late |= docs;
            }
        }
    }
    late
}

/// The proximity buckets from the digests of the derivations in play: per pair of consecutive
/// terms, the documents where they are within each cost, by sets; documents with a match the
/// digests do not place are costed from their positions.
fn from_digests(
    ctx: &mut RankCtx<'_>,
    universe: &RoaringBitmap,
    mask: u16,
    terms: &[u8],
) -> Result<Option<SetBuckets>> {
    let Some(per_term) = ctx.term_digests(terms, mask, false)? else {
        return Ok(None);
    };
    let slots: Vec<Rc<TermSlots>> = per_term
        .iter()
        .map(|t| Rc::new(TermSlots::new(&t.derivations, universe)))
        .collect();
    // A match beyond the digests' positions can only be close to a match of the next (or
    // previous) term that is also beyond them, or within the last `MAX_PAIR_COST + 1` positions
    // they keep; paired with anything earlier it costs the most, as no pair does. Only the
    // documents where both can happen are costed from their positions (first).
    let mut now = RoaringBitmap::new();
    for pair in slots.windows(2) {
        let (left, right) = (&pair[0], &pair[1]);
        if left.far.is_empty() && right.far.is_empty() {
            continue;
        }
        now |= &left.far & &right.far;
        now |= late_matches(right, &left.far);
        now |= late_matches(left, &right.far);
    }
    let far = Far {
        now,
        later: RoaringBitmap::new(),
        from: 0,
    };
    let pairs = slots
        .windows(2)
        .zip(per_term.windows(2))
        .map(|(pair, digests)| {
            let (left, right) = (pair[0].clone(), pair[1].clone());
            // Derivations of both terms at once (a concatenation): each of their matches is a
            // pair. A match beyond the slots puts the document in both terms' `far`, so in
            // `now`, costed from positions; the sets only need the documents with a match.
            let shared = digests[0]
                .derivations
                .iter()
                .filter(|(i, _)| digests[1].derivations.iter().any(|(j, _)| i == j));
            let joint = union(shared.flat_map(|(_, d)| &d.ranks)) & universe;
            TermCost {
                max: MAX_PAIR_COST,
                reach: Box::new(move |k| pair_at(&left, &right, &joint, k)),
            }
        })
        .collect();
    let max_cost = MAX_PAIR_COST * (terms.len() as u32 - 1);
    let buckets = SetBuckets::new(ctx, universe, far, mask, pairs, max_cost, false, {
        let terms = terms.to_vec();
        Box::new(move |occurrences, _, scope| document_cost(occurrences, scope, &terms))
    })?;
    Ok(Some(buckets))
}

impl RankingRule for ProximityRule {
    fn name(&self) -> &'static str {
        "proximity"
    }

    fn start(&mut self, ctx: &mut RankCtx<'_>, universe: &RoaringBitmap, mask: u16) -> Result<()> {
        self.mask = mask;
        self.terms = active_terms(mask, ctx.query.terms.len()).collect();
        self.sets = None;
        if self.terms.len() >= 2 && !ctx.prefer_positions(universe, &self.terms, mask) {
            self.sets = from_digests(ctx, universe, mask, &self.terms)?;
        }
        if self.sets.is_none() {
            self.buckets.start(universe, self.terms.len() < 2);
        }
        Ok(())
    }

    fn end(&mut self) {
        self.sets = None;
    }

    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        let max_cost = MAX_PAIR_COST * (self.terms.len().max(1) as u32 - 1);
        let terms = &self.terms;
        let next = match &mut self.sets {
            Some(sets) => sets.next(ctx, universe)?,
            None => self.buckets.next_by_matches(
                ctx,
                universe,
                self.mask,
                false,
                |occurrences, _, scope| document_cost(occurrences, scope, terms),
            )?,
        };
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
            assert_eq!(pair_cost(&a, &b), Some(expected), "{a:?} {b:?}");
        }
    }

    #[test]
    fn one_word_is_a_pair_only_as_one_match_of_both_terms() {
        // "django" found by the term "django" and by the prefix "d": not next to itself.
        assert_eq!(pair_cost(&occ(0, 4), &occ(1, 4)), None);
        // "sunflower" for "sun flower": one match covering both terms.
        let glued = |term| Occurrence {
            covers: 0b11,
            ..occ(term, 4)
        };
        assert_eq!(pair_cost(&glued(0), &glued(1)), Some(0));
    }
}
