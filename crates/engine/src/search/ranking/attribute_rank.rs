//! The `attributeRank` ranking rule (and the first half of `attribute`): documents where the
//! query terms are found in more important attributes, in the order of `searchableAttributes`,
//! come first. The cost of a document is the sum, over the terms in play, of the rank of the
//! best attribute the term is found in.
//!
//! The sets of the derivations' digests (`search/digest.rs`) say in which attributes each word
//! is, so the buckets are set operations (`SumOfCosts`); positions are read only for the
//! documents of a sequence (phrase, split: `cligen` as `cli gen`), or for every document when
//! the index has more ranks than digests keep.

use roaring::RoaringBitmap;

use std::sync::Arc;

use super::cost::{active_terms, per_term, CostBuckets, Far, SetBuckets, TermCost};
use super::{Bucket, Detail, Rank, RankCtx, RankingRule};
use crate::error::Result;
use crate::index::attribute_of;
use crate::search::context::AttributeFilter;
use crate::search::digest::{Digest, RANK_SLOTS};
use crate::search::positions::Occurrence;
use crate::search::positions::Scope;

pub struct AttributeRankRule {
    /// Whether this is the first half of the `attribute` rule (for the score details).
    combined: bool,
    mask: u16,
    terms: Vec<u8>,
    max_cost: u32,
    buckets: CostBuckets,
    /// The buckets from digests, when every derivation in play has one.
    sets: Option<SetBuckets>,
}

impl AttributeRankRule {
    pub fn new(combined: bool) -> AttributeRankRule {
        AttributeRankRule {
            combined,
            mask: 0,
            terms: Vec::new(),
            max_cost: 0,
            buckets: CostBuckets::default(),
            sets: None,
        }
    }
}

/// The attribute cost of one document over the active terms.
pub fn document_cost(occurrences: &[Occurrence], scope: Scope, terms: &[u8], worst: u32) -> u32 {
    let mut slices: [&[Occurrence]; 16] = [&[]; 16];
    per_term(occurrences, scope.mask, &mut slices);
    terms
        .iter()
        .map(|t| {
            slices[*t as usize]
                .iter()
                .filter(|o| o.usable(scope))
                .map(|o| u32::from(attribute_of(o.start)))
                .min()
                .unwrap_or(worst)
                .min(worst)
        })
        .sum()
}

impl RankingRule for AttributeRankRule {
    fn name(&self) -> &'static str {
        "attributeRank"
    }

    fn start(&mut self, ctx: &mut RankCtx<'_>, universe: &RoaringBitmap, mask: u16) -> Result<()> {
        self.mask = mask;
        self.terms = active_terms(mask, ctx.query.terms.len()).collect();
        let worst = ctx.attribute_count.saturating_sub(1);
        self.max_cost = worst * self.terms.len() as u32;
        self.sets = None;
        if self.max_cost > 0
            && (worst as usize) <= RANK_SLOTS
            && !ctx.prefer_positions(universe, &self.terms, mask)
        {
            self.sets = from_digests(ctx, universe, mask, &self.terms, worst)?;
        }
        if self.sets.is_none() {
            self.buckets.start(universe, self.max_cost == 0);
        }
        Ok(())
    }

    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        let combined = self.combined;
        let detail = |cost: u32, max_cost: u32| Detail::AttributeRank {
            rank: Rank::from_cost(cost, max_cost),
            combined,
        };
        if let Some(sets) = &mut self.sets {
            return Ok(sets.next(ctx, universe)?.map(|(cost, docs)| Bucket {
                docs,
                mask: self.mask,
                detail: detail(cost, self.max_cost),
            }));
        }
        let terms = &self.terms;
        let worst = ctx.attribute_count.saturating_sub(1);
        let next = self.buckets.next_by_matches(
            ctx,
            universe,
            self.mask,
            false,
            |occurrences, _, scope| document_cost(occurrences, scope, terms, worst),
        )?;
        Ok(next.map(|(cost, docs)| Bucket {
            docs,
            mask: self.mask,
            detail: detail(cost, self.max_cost),
        }))
    }

    fn end(&mut self) {
        self.sets = None;
    }
}

/// The attribute buckets from the digests of the derivations in play: per term, the documents
/// whose best attribute is at most each rank, the worst rank standing for every later one.
fn from_digests(
    ctx: &mut RankCtx<'_>,
    universe: &RoaringBitmap,
    mask: u16,
    terms: &[u8],
    worst: u32,
) -> Result<Option<SetBuckets>> {
    let Some((per_term, sequences)) = ctx.term_digests(terms, mask, true, universe)? else {
        return Ok(None);
    };
    let query = ctx.query;
    let mut costs = Vec::with_capacity(per_term.len());
    for term in per_term {
        // Per derivation, the ranks its matches may come from.
        let sources: Vec<(Arc<Digest>, Option<Arc<AttributeFilter>>)> = term
            .derivations
            .into_iter()
            .map(|(i, digest)| (digest, query.derivations[i].filter.clone()))
            .collect();
        costs.push(TermCost {
            max: worst,
            reach: Box::new(move |rank, within| {
                let mut found = RoaringBitmap::new();
                let allowed = sources
                    .iter()
                    .filter(|(_, f)| f.as_ref().is_none_or(|f| f.allows(rank << 16)));
                for (digest, _) in allowed {
                    if let Some(docs) = digest.ranks.get(rank as usize) {
                        found |= docs & within;
                    }
                }
                found
            }),
        });
    }
    // Digests know every attribute up to the worst: only the documents of a sequence need their
    // positions read (the sets leave them out, so the others' costs hold).
    let max_cost = worst * terms.len() as u32;
    let far = Far {
        now: sequences,
        later: RoaringBitmap::new(),
        from: max_cost,
    };
    let terms = terms.to_vec();
    let buckets = SetBuckets::new(
        ctx,
        universe,
        far,
        mask,
        costs,
        max_cost,
        false,
        Box::new(move |occurrences, _, scope| document_cost(occurrences, scope, &terms, worst)),
    )?;
    Ok(Some(buckets))
}
