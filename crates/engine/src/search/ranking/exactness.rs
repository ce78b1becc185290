//! The `exactness` ranking rule: documents with a searchable value that is exactly the query
//! come first, then those with a value starting with it, then the others by how many query terms
//! they contain as typed (no typo, not a longer word). Value ends are read from the
//! end-of-value marker the indexer writes after every value.

use roaring::RoaringBitmap;

use super::cost::{active_terms, per_term, CostBuckets};
use super::{Bucket, Detail, MatchType, RankCtx, RankingRule};
use crate::analysis::HARD_SEPARATOR_GAP;
use crate::error::Result;
use crate::index::word_position_of;
use crate::search::positions::Occurrence;

#[derive(Default)]
pub struct ExactnessRule {
    mask: u16,
    terms: Vec<u8>,
    buckets: CostBuckets,
}

/// Whether a packed position is the first word of a value: position 0 of its attribute, or
/// right after the gap that follows another value's end marker.
fn starts_value(position: u32, ends: &[u32]) -> bool {
    word_position_of(position) == 0
        || position
            .checked_sub(HARD_SEPARATOR_GAP - 1)
            .is_some_and(|marker| marker >> 16 == position >> 16 && ends.binary_search(&marker).is_ok())
}

/// The cost of a document: 0 for an exact value, 1 for a value starting with the query, then
/// 2 + the number of terms not found as typed.
pub fn document_cost(occurrences: &[Occurrence], ends: &[u32], mask: u16, terms: &[u8]) -> u32 {
    let mut slices: [&[Occurrence]; 16] = [&[]; 16];
    per_term(occurrences, mask, &mut slices);
    let exact = |t: u8| slices[t as usize].iter().filter(move |o| o.exact && o.usable(mask));
    let mut best = None;
    if let Some((&first, rest)) = terms.split_first() {
        'starts: for start in exact(first) {
            if !starts_value(start.start, ends) {
                continue;
            }
            let mut end = start.end;
            for &t in rest {
                match exact(t).find(|o| o.start == end + 1) {
                    Some(next) => end = next.end,
                    None => continue 'starts,
                }
            }
            if ends.binary_search(&(end + 1)).is_ok() {
                return 0;
            }
            best = Some(1);
        }
    }
    if let Some(best) = best {
        return best;
    }
    let found = terms.iter().filter(|t| exact(**t).next().is_some()).count() as u32;
    2 + terms.len() as u32 - found
}

impl RankingRule for ExactnessRule {
    fn name(&self) -> &'static str {
        "exactness"
    }

    fn start(&mut self, ctx: &mut RankCtx<'_>, universe: &RoaringBitmap, mask: u16) -> Result<()> {
        self.mask = mask;
        self.terms = active_terms(mask, ctx.query.terms.len()).collect();
        self.buckets.start(universe);
        Ok(())
    }

    fn next_bucket(&mut self, ctx: &mut RankCtx<'_>, universe: &RoaringBitmap) -> Result<Option<Bucket>> {
        let (mask, terms) = (self.mask, &self.terms);
        let next = self.buckets.next(ctx, universe, |ctx, chunk, out| {
            ctx.matches.ensure(ctx.search, ctx.query, chunk)?;
            ctx.matches.ensure_ends(ctx.search, chunk)?;
            for doc in chunk {
                out.push((doc, document_cost(ctx.matches.get(doc), ctx.matches.value_ends(doc), mask, terms)));
            }
            Ok(())
        })?;
        let max = terms.len() as u32;
        Ok(next.map(|(cost, docs)| {
            let (match_type, matching) = match cost {
                0 => (MatchType::ExactMatch, max),
                1 => (MatchType::MatchesStart, max),
                c => (MatchType::NoExactMatch, max - (c - 2).min(max)),
            };
            Bucket { docs, mask, detail: Detail::Exactness { match_type, matching, max } }
        }))
    }
}
