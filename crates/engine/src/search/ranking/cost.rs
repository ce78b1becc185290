//! Shared machinery of the rules that give each document a cost read from its positions
//! (proximity, attribute rank, word position, exactness): documents are costed in chunks of
//! increasing ids, and the chunk's cheapest documents are handed out first. A universe smaller
//! than a chunk is ordered exactly; a huge one (a one-letter prefix over a million documents) is
//! ordered chunk by chunk, which bounds the work a page costs.

use std::collections::BTreeMap;

use roaring::RoaringBitmap;

use super::RankCtx;
use crate::error::Result;
use crate::search::positions::{Occurrence, Scope};

/// Documents costed at once. Universes up to this size are ranked exactly.
pub const CHUNK: u32 = 20_000;

#[derive(Default)]
pub struct CostBuckets {
    /// Costed documents grouped by cost, the cheapest last.
    groups: Vec<(u32, RoaringBitmap)>,
    /// Documents not costed yet.
    pending: RoaringBitmap,
    /// When every document costs the same (one term for proximity, one attribute...), the
    /// whole universe is one bucket of cost 0, handed out without reading any position.
    trivial: Option<RoaringBitmap>,
}

impl CostBuckets {
    /// Starts over on `universe`; with `trivial`, it is a single bucket of cost 0.
    pub fn start(&mut self, universe: &RoaringBitmap, trivial: bool) {
        self.groups.clear();
        if trivial {
            self.trivial = Some(universe.clone());
            self.pending = RoaringBitmap::new();
        } else {
            self.trivial = None;
            self.pending = universe.clone();
        }
    }

    /// The next cheapest documents of `universe`, each costed by `cost` from its matches (and,
    /// with `with_ends`, the positions where its values end) within the rule's scope.
    pub fn next_by_matches(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
        mask: u16,
        with_ends: bool,
        cost: impl Fn(&[Occurrence], &[u32], Scope) -> u32,
    ) -> Result<Option<(u32, RoaringBitmap)>> {
        if let Some(all) = self.trivial.take() {
            let docs = all & universe;
            return Ok((!docs.is_empty()).then_some((0, docs)));
        }
        self.next(ctx, universe, |ctx, chunk, out| {
            ctx.matches.ensure(ctx.search, ctx.query, chunk)?;
            if with_ends {
                ctx.matches.ensure_ends(ctx.search, chunk)?;
            }
            let scope = Scope {
                mask,
                typo_limit: ctx.typo_limit,
            };
            for doc in chunk {
                let ends = if with_ends {
                    ctx.matches.value_ends(doc)
                } else {
                    &[]
                };
                out.push((doc, cost(ctx.matches.get(doc), ends, scope)));
            }
            Ok(())
        })
    }

    /// The next cheapest documents of `universe`, with their cost. `cost` is asked for the
    /// documents of one chunk at a time, and fills `(doc, cost)` pairs.
    fn next(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
        mut cost: impl FnMut(&mut RankCtx<'_>, &RoaringBitmap, &mut Vec<(u32, u32)>) -> Result<()>,
    ) -> Result<Option<(u32, RoaringBitmap)>> {
        loop {
            while let Some((c, docs)) = self.groups.pop() {
                let docs = docs & universe;
                if !docs.is_empty() {
                    return Ok(Some((c, docs)));
                }
            }
            self.pending &= universe;
            if self.pending.is_empty() {
                return Ok(None);
            }
            let size = if self.pending.len() > 4 * u64::from(CHUNK) {
                CHUNK / 8
            } else {
                CHUNK
            };
            let chunk = match self.pending.select(size) {
                Some(limit) => {
                    let mut chunk = self.pending.clone();
                    chunk.remove_range(limit..);
                    chunk
                }
                None => std::mem::take(&mut self.pending),
            };
            self.pending -= &chunk;
            let mut costs = Vec::with_capacity(chunk.len() as usize);
            cost(ctx, &chunk, &mut costs)?;
            // Documents were costed in increasing order, so each cost's list stays sorted and
            // becomes a bitmap by appending.
            let mut by_cost: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
            for (doc, c) in costs {
                by_cost.entry(c).or_default().push(doc);
            }
            for (c, docs) in by_cost.into_iter().rev() {
                let bitmap = RoaringBitmap::from_sorted_iter(docs.iter().copied())
                    .unwrap_or_else(|_| docs.into_iter().collect());
                self.groups.push((c, bitmap));
            }
            // Groups were pushed most expensive first, so the cheapest is popped first.
        }
    }
}

/// The active terms of a mask, in query order.
pub fn active_terms(mask: u16, term_count: usize) -> impl Iterator<Item = u8> {
    (0..term_count.min(16) as u8).filter(move |t| mask & (1 << t) != 0)
}

/// Splits a document's occurrences (sorted by term) into one slice per term.
pub fn per_term<'o>(occurrences: &'o [Occurrence], mask: u16, out: &mut [&'o [Occurrence]; 16]) {
    *out = [&[]; 16];
    let mut i = 0;
    while i < occurrences.len() {
        let term = occurrences[i].term;
        let begin = i;
        while i < occurrences.len() && occurrences[i].term == term {
            i += 1;
        }
        if (term as usize) < 16 && mask & (1 << term) != 0 {
            out[term as usize] = &occurrences[begin..i];
        }
    }
}
