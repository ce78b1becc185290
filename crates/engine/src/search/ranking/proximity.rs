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
//! the buckets are sums over pairs (`SumOfCosts`). For two derivations (a word, a prefix's group
//! of words), the documents at each distance depend on nothing else, so they are computed over
//! the whole snapshot once and kept in its cache (`adjacent`): a later search meets them with its
//! universe. A document with a match further away (a long description) is costed from its
//! positions, pair by pair, and those costs are kept in the snapshot's cache too
//! (`far_pair_costs`): they depend on the two terms' derivations only, so the next search of the
//! same pair costs only the documents no search costed before.

use std::sync::Arc;

use roaring::RoaringBitmap;

use super::cost::{active_terms, per_term, CostBuckets, Far, SetBuckets, TermCost};
use super::{Bucket, Detail, Rank, RankCtx, RankingRule, TermDigests};
use crate::error::Result;
use crate::search::cache::{FarPairCosts, FarPairKey, SnapshotCache};
use crate::search::digest::{union, union_within, Digest, TermSlots, POSITION_SLOTS};
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

/// The documents where a word of `left` and a word of `right` are in the same attribute at a
/// distance that costs exactly `k` as a pair (`right` from `k + 1` words after `left`, or `k`
/// words before it when `k >= 1`; see [`pair_cost`]), at positions both digests keep, over the
/// whole snapshot. It depends on the two digests only, so it is kept in the
/// snapshot's cache and every later search with the same two derivations (any user typing
/// `django d`, whatever else the query holds) meets it with its universe instead of meeting
/// slot by slot: the lazy form of a word-and-prefix pair index, filled by the searches that need it.
fn adjacent(
    cache: &SnapshotCache,
    left: &Arc<Digest>,
    right: &Arc<Digest>,
    k: u32,
) -> Arc<RoaringBitmap> {
    if let Some(docs) = cache.pair(left, right, k) {
        return docs;
    }
    let mut docs = RoaringBitmap::new();
    for (lefts, rights) in left.rank_positions.iter().zip(&right.rank_positions) {
        for (p, here) in lefts.iter().enumerate() {
            if here.is_empty() {
                continue;
            }
            let after = p + k as usize + 1;
            let before = (k > 0).then(|| p.checked_sub(k as usize)).flatten();
            for there in [Some(after), before].into_iter().flatten() {
                if let Some(next) = rights.get(there).filter(|n| !n.is_empty()) {
                    docs |= here & next;
                }
            }
        }
    }
    let docs = Arc::new(docs);
    cache.put_pair(left, right, k, docs.clone());
    docs
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

/// The derivations of `left` that `right` has too: one word standing for both terms (a
/// concatenation), the only match that makes a pair with itself.
fn shared_derivations<'t>(
    left: &'t TermDigests,
    right: &'t TermDigests,
) -> impl Iterator<Item = &'t Arc<Digest>> {
    left.derivations
        .iter()
        .filter(|(i, _)| right.derivations.iter().any(|(j, _)| i == j))
        .map(|(_, d)| d)
}

/// What a pair of consecutive terms' far costs are kept under: their derivations' digests (the
/// words each term stands for), the derivations they share ([`shared_derivations`]), and the
/// typo limit that chose them.
fn far_pair_key(left: &TermDigests, right: &TermDigests, typo_limit: u8) -> FarPairKey {
    let address = |digest: &Arc<Digest>| Arc::as_ptr(digest) as usize;
    let mut key = Vec::with_capacity(left.derivations.len() + right.derivations.len() + 4);
    key.extend(left.derivations.iter().map(|(_, d)| address(d)));
    key.push(0);
    key.extend(right.derivations.iter().map(|(_, d)| address(d)));
    key.push(0);
    key.extend(shared_derivations(left, right).map(address));
    key.push(0);
    key.push(usize::from(typo_limit));
    key
}

/// The costs of the pair of terms `left`, `right` in the documents of `far` (those with a match
/// beyond the digests' positions that could make a closer pair), from the snapshot's cache where
/// an earlier search costed them, from positions for the rest (which then join the cache). Each
/// document is costed on the pair alone ([`document_cost`] of the two terms), so its total is the
/// sum over pairs, as the positions path computes it.
fn far_pair_costs(
    ctx: &mut RankCtx<'_>,
    left: &TermDigests,
    right: &TermDigests,
    far: &RoaringBitmap,
    mask: u16,
) -> Result<Arc<FarPairCosts>> {
    let key = far_pair_key(left, right, ctx.typo_limit);
    let kept = ctx.search.cache.far_costs(&key);
    let missing = match &kept {
        Some(kept) => far - &kept.costed,
        None => far.clone(),
    };
    if let Some(kept) = kept.as_ref().filter(|_| missing.is_empty()) {
        return Ok(kept.clone());
    }
    ctx.matches.ensure(ctx.search, ctx.query, &missing)?;
    let scope = Scope {
        mask,
        typo_limit: ctx.typo_limit,
    };
    let pair = [left.term, right.term];
    let mut found: Vec<Vec<u32>> = vec![Vec::new(); MAX_PAIR_COST as usize];
    for doc in &missing {
        let cost = document_cost(ctx.matches.get(doc), scope, &pair);
        if let Some(docs) = found.get_mut(cost as usize) {
            docs.push(doc);
        }
    }
    let mut costs = match &kept {
        Some(kept) => FarPairCosts {
            digests: kept.digests.clone(),
            costed: &kept.costed | &missing,
            by_cost: kept.by_cost.clone(),
        },
        None => FarPairCosts {
            digests: left
                .derivations
                .iter()
                .chain(&right.derivations)
                .map(|(_, d)| Arc::downgrade(d))
                .collect(),
            costed: missing,
            by_cost: vec![RoaringBitmap::new(); MAX_PAIR_COST as usize],
        },
    };
    for (level, docs) in costs.by_cost.iter_mut().zip(found) {
        // Documents were costed in increasing order.
        *level |= RoaringBitmap::from_sorted_iter(docs).expect("documents in increasing order");
    }
    let costs = Arc::new(costs);
    ctx.search.cache.put_far_costs(key, costs.clone());
    Ok(costs)
}

/// The proximity buckets from the digests of the derivations in play: per pair of consecutive
/// terms, the documents where they are within each cost, by sets; for documents with a match
/// the digests do not place, the pair's cost from their positions, kept per snapshot
/// ([`far_pair_costs`]).
fn from_digests(
    ctx: &mut RankCtx<'_>,
    universe: &RoaringBitmap,
    mask: u16,
    terms: &[u8],
) -> Result<Option<SetBuckets>> {
    // The documents a sequence may match (a word cut in two) are costed from positions, all
    // terms at once, and kept out of the far costs: those are kept under the digests alone.
    let Some((per_term, sequences)) = ctx.term_digests(terms, mask, false, universe)? else {
        return Ok(None);
    };

    let slots: Vec<TermSlots> = per_term
        .iter()
        .map(|t| TermSlots::new(&t.derivations, universe))
        .collect();
    // A match beyond the digests' positions can only be close to a match of the next (or
    // previous) term that is also beyond them, or within the last `MAX_PAIR_COST + 1` positions
    // they keep; paired with anything earlier it costs the most, as no pair does. Only the
    // documents where both can happen are costed from their positions, pair by pair.
    let mut far_costs = Vec::with_capacity(slots.len().saturating_sub(1));
    for (i, pair) in slots.windows(2).enumerate() {
        let (left, right) = (&pair[0], &pair[1]);
        let mut far = &left.far & &right.far;
        far |= late_matches(right, &left.far);
        far |= late_matches(left, &right.far);
        far -= &sequences;
        far_costs.push(if far.is_empty() {
            None
        } else {
            Some(far_pair_costs(
                ctx,
                &per_term[i],
                &per_term[i + 1],
                &far,
                mask,
            )?)
        });
    }
    let far = Far {
        now: sequences,
        later: RoaringBitmap::new(),
        from: 0,
    };
    let pairs = per_term
        .windows(2)
        .zip(far_costs)
        .map(|(digests, far_costs)| {
            // Derivations of both terms at once (a concatenation): each of their matches is a
            // pair. A match beyond the slots puts the document in both terms' `far`, so its
            // pair is costed from positions (`far_costs`); the sets only need the documents
            // with a match.
            let joint = union(shared_derivations(&digests[0], &digests[1]).flat_map(|d| &d.ranks));
            // Each derivation of one term with each of the next: their pairs' sets are kept.
            let digest_pairs: Vec<(Arc<Digest>, Arc<Digest>)> = digests[0]
                .derivations
                .iter()
                .flat_map(|(_, l)| {
                    digests[1]
                        .derivations
                        .iter()
                        .map(|(_, r)| (l.clone(), r.clone()))
                })
                .collect();
            let cache = ctx.search.cache.clone();
            TermCost {
                max: MAX_PAIR_COST,
                reach: Box::new(move |k, within| {
                    let sets: Vec<Arc<RoaringBitmap>> = digest_pairs
                        .iter()
                        .map(|(l, r)| adjacent(&cache, l, r, k))
                        .collect();
                    let mut found = union_within(sets.iter().map(|s| s.as_ref()), within);
                    if k == 0 && !joint.is_empty() {
                        found |= &joint & within;
                    }
                    if let Some(level) = far_costs.as_ref().and_then(|c| c.by_cost.get(k as usize))
                    {
                        found |= level & within;
                    }
                    found
                }),
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

    /// A digest holding `placed` (document, rank, position) at the positions digests keep.
    fn digest_of(placed: &[(u32, usize, usize)]) -> Arc<Digest> {
        let mut digest = Digest::default();
        for &(doc, rank, position) in placed {
            if digest.rank_positions.len() <= rank {
                digest.rank_positions.resize(rank + 1, Vec::new());
            }
            let slots = &mut digest.rank_positions[rank];
            if slots.len() <= position {
                slots.resize(position + 1, RoaringBitmap::new());
            }
            slots[position].insert(doc);
        }
        Arc::new(digest)
    }

    /// The kept pairs of two digests hold, for each distance, exactly the documents where some
    /// match of one word and one of the other cost that much as a pair (`pair_cost`, the
    /// positions path's measure), over pseudo-random placements in three attributes; a second
    /// search finds the same sets in the cache instead of computing them again.
    #[test]
    fn kept_pairs_are_the_documents_at_each_pair_cost() {
        let mut seed = 0x2545_f491_u64;
        let mut next = |below: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((seed >> 33) % below) as usize
        };
        let (mut lefts, mut rights) = (Vec::new(), Vec::new());
        for doc in 0..400u32 {
            for _ in 0..1 + next(3) {
                lefts.push((doc, next(3), next(POSITION_SLOTS as u64)));
            }
            for _ in 0..next(4) {
                let placed = (doc, next(3), next(POSITION_SLOTS as u64));
                // Two different words never share a position.
                if !lefts.contains(&placed) {
                    rights.push(placed);
                }
            }
        }
        let (left, right) = (digest_of(&lefts), digest_of(&rights));
        let cache = SnapshotCache::detached();
        let occurrence = |term, &(_, rank, position): &(u32, usize, usize)| Occurrence {
            term,
            start: ((rank as u32) << 16) | position as u32,
            end: ((rank as u32) << 16) | position as u32,
            typos: 0,
            exact: true,
            extra: 0,
            covers: 1 << term,
        };
        for k in 0..MAX_PAIR_COST {
            let expected: RoaringBitmap = (0..400u32)
                .filter(|doc| {
                    lefts.iter().filter(|l| l.0 == *doc).any(|l| {
                        rights.iter().filter(|r| r.0 == *doc).any(|r| {
                            l.1 == r.1 && pair_cost(&occurrence(0, l), &occurrence(1, r)) == Some(k)
                        })
                    })
                })
                .collect();
            let kept = adjacent(&cache, &left, &right, k);
            assert_eq!(*kept, expected, "distance {k}");
            assert!(
                !kept.is_empty() || k > 3,
                "distance {k} has no pair to check"
            );
            assert!(Arc::ptr_eq(&kept, &adjacent(&cache, &left, &right, k)));
        }
        // The other order is another pair of the cache.
        let reversed = adjacent(&cache, &right, &left, 0);
        assert!(!Arc::ptr_eq(&reversed, &adjacent(&cache, &left, &right, 0)));
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
