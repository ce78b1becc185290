//! The `attributeRank` ranking rule (and the first half of `attribute`): documents where the
//! query terms are found in more important attributes, in the order of `searchableAttributes`,
//! come first. The cost of a document is the sum, over the terms in play, of the rank of the
//! best attribute the term is found in.

use roaring::RoaringBitmap;

use super::cost::{active_terms, per_term, CostBuckets};
use super::{Bucket, Detail, Rank, RankCtx, RankingRule};
use crate::error::Result;
use crate::index::attribute_of;
use crate::search::positions::Occurrence;
use crate::search::positions::Scope;

pub struct AttributeRankRule {
    /// Whether this is the first half of the `attribute` rule (for the score details).
    combined: bool,
    mask: u16,
    terms: Vec<u8>,
    max_cost: u32,
    buckets: CostBuckets,
}

impl AttributeRankRule {
    pub fn new(combined: bool) -> AttributeRankRule {
        AttributeRankRule {
            combined,
            mask: 0,
            terms: Vec::new(),
            max_cost: 0,
            buckets: CostBuckets::default(),
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
        self.buckets.start(universe, self.max_cost == 0);
        Ok(())
    }

    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        let combined = self.combined;
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
            detail: Detail::AttributeRank {
                rank: Rank::from_cost(cost, self.max_cost),
                combined,
            },
        }))
    }
}
