//! The `exactness` ranking rule: documents with a searchable value that is exactly the query
//! come first, then those with a value starting with it, then the others by how many query terms
//! they contain as typed (no typo, not a longer word). Value ends are read from the
//! end-of-value marker the indexer writes after every value.
//!
//! Beyond Meilisearch, each of the first two classes is split: a value that is the query as
//! typed, then a value that is the query once its words are completed or corrected ("madagasca"
//! finds the film "Madagascar" before "Madagascar: Escape 2 Africa"); and within a class, words
//! completed by fewer letters come first. Known-item searches typed in a hurry land on the item.

use roaring::RoaringBitmap;

use super::cost::{active_terms, per_term, CostBuckets};
use super::{Bucket, Detail, MatchType, RankCtx, RankingRule};
use crate::analysis::HARD_SEPARATOR_GAP;
use crate::error::Result;
use crate::index::word_position_of;
use crate::search::positions::Occurrence;
use crate::search::positions::Scope;

/// Costs are `class * CLASS + letters completed`.
const CLASS: u32 = 64;
/// The first class of documents without a value equal to or starting with the query.
const NO_EXACT_MATCH: u32 = 4;

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
            .is_some_and(|marker| {
                marker >> 16 == position >> 16 && ends.binary_search(&marker).is_ok()
            })
}

/// The best run of the terms in query order at the start of a value: whether it is the whole
/// value, and the letters completed along it.
fn best_run(
    slices: &[&[Occurrence]; 16],
    terms: &[u8],
    ends: &[u32],
    scope: Scope,
    exact_only: bool,
) -> Option<(bool, u32)> {
    let fits = |o: &&Occurrence| o.usable(scope) && (!exact_only || o.exact);
    let (&first, rest) = terms.split_first()?;
    let mut best: Option<(bool, u32)> = None;
    'starts: for start in slices[first as usize].iter().filter(fits) {
        if !starts_value(start.start, ends) {
            continue;
        }
        let (mut end, mut extra) = (start.end, u32::from(start.extra));
        for &t in rest {
            let next = slices[t as usize]
                .iter()
                .filter(fits)
                .filter(|o| o.start == end + 1)
                .min_by_key(|o| o.extra);
            match next {
                Some(next) => {
                    end = next.end;
                    extra += u32::from(next.extra);
                }
                None => continue 'starts,
            }
        }
        let whole = ends.binary_search(&(end + 1)).is_ok();
        let candidate = (whole, extra);
        if best.is_none_or(|(w, e)| (whole && !w) || (whole == w && extra < e)) {
            best = Some(candidate);
        }
    }
    best
}

/// The exactness cost of a document over the active terms.
pub fn document_cost(occurrences: &[Occurrence], ends: &[u32], scope: Scope, terms: &[u8]) -> u32 {
    let mut slices: [&[Occurrence]; 16] = [&[]; 16];
    per_term(occurrences, scope.mask, &mut slices);
    let exact = best_run(&slices, terms, ends, scope, true);
    let derived = best_run(&slices, terms, ends, scope, false);
    let class = |c: u32, extra: u32| c * CLASS + extra.min(CLASS - 1);
    match (exact, derived) {
        (Some((true, extra)), _) => return class(0, extra),
        (_, Some((true, extra))) => return class(1, extra),
        (Some((false, extra)), _) => return class(2, extra),
        (_, Some((false, extra))) => return class(3, extra),
        _ => {}
    }
    let mut missing = 0;
    let mut extra = 0;
    for t in terms {
        let usable = || slices[*t as usize].iter().filter(|o| o.usable(scope));
        if !usable().any(|o| o.exact) {
            missing += 1;
        }
        extra += usable().map(|o| u32::from(o.extra)).min().unwrap_or(0);
    }
    class(NO_EXACT_MATCH + missing, extra)
}

impl RankingRule for ExactnessRule {
    fn name(&self) -> &'static str {
        "exactness"
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
        let (mask, terms) = (self.mask, &self.terms);
        let next = self.buckets.next_by_matches(
            ctx,
            universe,
            mask,
            true,
            |occurrences, ends, scope| document_cost(occurrences, ends, scope, terms),
        )?;
        let max = terms.len() as u32;
        Ok(next.map(|(cost, docs)| {
            let (match_type, matching) = match cost / CLASS {
                0 | 1 => (MatchType::ExactMatch, max),
                2 | 3 => (MatchType::MatchesStart, max),
                c => (MatchType::NoExactMatch, max - (c - NO_EXACT_MATCH).min(max)),
            };
            Bucket {
                docs,
                mask,
                detail: Detail::Exactness {
                    match_type,
                    matching,
                    max,
                },
            }
        }))
    }
}
