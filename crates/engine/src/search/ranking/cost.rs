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
            cost_from_matches(ctx, chunk, mask, with_ends, &cost, out)
        })
    }

    /// The next cheapest documents of `universe`, with their cost. `cost` is asked for the
    /// documents of one chunk at a time, and fills `(doc, cost)` pairs in increasing documents.
    pub fn next(
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
            let size = if super::ranking_mode() == super::RankingMode::Reference {
                u32::MAX
            } else if self.pending.len() > 4 * u64::from(CHUNK) {
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

/// Costs each document of `docs` (in increasing order) by `cost` from its matches within the
/// rule's scope (and, with `with_ends`, the positions where its values end), reading the
/// positions not read yet.
pub fn cost_from_matches(
    ctx: &mut RankCtx<'_>,
    docs: &RoaringBitmap,
    mask: u16,
    with_ends: bool,
    cost: &impl Fn(&[Occurrence], &[u32], Scope) -> u32,
    out: &mut Vec<(u32, u32)>,
) -> Result<()> {
    ctx.matches.ensure(ctx.search, ctx.query, docs)?;
    if with_ends {
        ctx.matches.ensure_ends(ctx.search, docs)?;
    }
    let scope = Scope {
        mask,
        typo_limit: ctx.typo_limit,
    };
    for doc in docs {
        let ends = if with_ends {
            ctx.matches.value_ends(doc)
        } else {
            &[]
        };
        out.push((doc, cost(ctx.matches.get(doc), ends, scope)));
    }
    Ok(())
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

/// Gives, for a cost `k`, the documents of the set it is handed (the levels' documents without
/// a level yet, so no rule keeps a copy) with a cost of at most `k` for one term, including at
/// least those of cost exactly `k`.
pub type Reach = Box<dyn FnMut(u32, &RoaringBitmap) -> RoaringBitmap>;

/// One term's cost, as sets: `reach` is asked for `k = 0, 1, 2...` in turn, up to `max`, which
/// every document has at most.
pub struct TermCost {
    pub max: u32,
    pub reach: Reach,
}

/// One term's levels, computed as far as asked.
struct TermLevels {
    cost: TermCost,
    /// `exactly[k]`: documents of the universe whose cost for the term is exactly `k`.
    exactly: Vec<RoaringBitmap>,
    /// Documents of the universe without a level so far.
    left: RoaringBitmap,
}

impl TermLevels {
    /// Computes the levels up to `k` (the last one, `max`, takes every document left). Each
    /// level is asked of the documents without one yet: fewer to meet with the term's sets as
    /// the levels fill, and none once every document has its level (a term found early in all
    /// of them leaves the sum's later totals nothing to compute for it).
    fn reach_to(&mut self, k: u32) {
        let k = k.min(self.cost.max);
        while self.exactly.len() <= k as usize {
            let level = self.exactly.len() as u32;
            let fresh = if level >= self.cost.max || self.left.is_empty() {
                std::mem::take(&mut self.left)
            } else {
                let fresh = (self.cost.reach)(level, &self.left);
                self.left -= &fresh;
                fresh
            };
            self.exactly.push(fresh);
        }
    }

    fn exactly(&self, k: u32) -> Option<&RoaringBitmap> {
        self.exactly.get(k as usize)
    }
}

/// Costs that are sums of per-term costs, from sets alone ([`TermCost`]): the documents with a
/// total of exactly `b` over the first `j` terms are those with `k` for term `j` and `b - k`
/// over the others, for every `k`, memoized. Every set involved partitions the universe, so a
/// page costs the levels it reaches, not the universe again for each total.
pub struct SumOfCosts {
    terms: Vec<TermLevels>,
    /// `memo[j][b]` for `j >= 2`.
    memo: Vec<Vec<Option<RoaringBitmap>>>,
}

impl SumOfCosts {
    pub fn new(universe: &RoaringBitmap, terms: Vec<TermCost>) -> SumOfCosts {
        let count = terms.len();
        SumOfCosts {
            terms: terms
                .into_iter()
                .map(|cost| TermLevels {
                    cost,
                    exactly: Vec::new(),
                    left: universe.clone(),
                })
                .collect(),
            memo: vec![Vec::new(); count + 1],
        }
    }

    /// Documents whose total over the first `j` terms (`j >= 1`) is exactly `budget`.
    fn total(&mut self, j: usize, budget: u32) -> RoaringBitmap {
        if j == 1 {
            self.terms[0].reach_to(budget);
            return self.terms[0].exactly(budget).cloned().unwrap_or_default();
        }
        if let Some(Some(docs)) = self.memo[j].get(budget as usize) {
            return docs.clone();
        }
        self.terms[j - 1].reach_to(budget);
        let max = self.terms[j - 1].cost.max;
        let mut docs = RoaringBitmap::new();
        for k in 0..=budget.min(max) {
            if self.terms[j - 1]
                .exactly(k)
                .is_none_or(RoaringBitmap::is_empty)
            {
                continue;
            }
            let rest = budget - k;
            let part = if j == 2 {
                self.terms[0].reach_to(rest);
                match self.terms[0].exactly(rest) {
                    Some(before) => before & &self.terms[1].exactly[k as usize],
                    None => continue,
                }
            } else {
                let before = self.total(j - 1, rest);
                before & &self.terms[j - 1].exactly[k as usize]
            };
            docs |= part;
        }
        let slot = budget as usize;
        if self.memo[j].len() <= slot {
            self.memo[j].resize(slot + 1, None);
        }
        self.memo[j][slot] = Some(docs.clone());
        docs
    }

    /// The documents of `universe` whose total cost is exactly `total`.
    pub fn exactly(&mut self, total: u32, universe: &RoaringBitmap) -> RoaringBitmap {
        let terms = self.terms.len();
        if terms == 0 {
            return if total == 0 {
                universe.clone()
            } else {
                RoaringBitmap::new()
            };
        }
        self.total(terms, total) & universe
    }
}

/// A rule's cost of one document from its matches (and value ends), as the positions path
/// computes it.
pub type DocumentCost = Box<dyn Fn(&[Occurrence], &[u32], Scope) -> u32>;

/// Documents the digests cannot place, for [`SetBuckets`].
pub struct Far {
    /// Costed from their positions when the rule starts.
    pub now: RoaringBitmap,
    /// Costed from their positions once the totals reach `from`: below it, the sets already
    /// tell their cost (their matches beyond the digests can only cost `from` or more).
    pub later: RoaringBitmap,
    pub from: u32,
}

/// The buckets of a rule from sets where the digests can tell (through [`SumOfCosts`]), and from
/// positions for the documents they cannot place ([`Far`]), merged in by cost.
pub struct SetBuckets {
    sets: SumOfCosts,
    far: Far,
    /// Far documents costed so far, by cost.
    costed: Vec<RoaringBitmap>,
    later_costed: bool,
    mask: u16,
    cost: DocumentCost,
    with_ends: bool,
    next: u32,
    max_cost: u32,
}

impl SetBuckets {
    /// `cost` is the rule's cost of one document from positions; `with_ends`: it needs the
    /// value ends too.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
        far: Far,
        mask: u16,
        terms: Vec<TermCost>,
        max_cost: u32,
        with_ends: bool,
        cost: DocumentCost,
    ) -> Result<SetBuckets> {
        let now = far.now & universe;
        let later = (far.later & universe) - &now;
        let far = Far {
            now,
            later,
            from: far.from,
        };
        let sets = SumOfCosts::new(&(universe - &far.now), terms);
        let mut buckets = SetBuckets {
            sets,
            costed: vec![RoaringBitmap::new(); max_cost as usize + 1],
            later_costed: false,
            mask,
            cost,
            with_ends,
            next: 0,
            max_cost,
            far,
        };
        let now = buckets.far.now.clone();
        buckets.cost_from_positions(ctx, &now)?;
        Ok(buckets)
    }

    fn cost_from_positions(&mut self, ctx: &mut RankCtx<'_>, docs: &RoaringBitmap) -> Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        ctx.matches.ensure(ctx.search, ctx.query, docs)?;
        if self.with_ends {
            ctx.matches.ensure_ends(ctx.search, docs)?;
        }
        let scope = Scope {
            mask: self.mask,
            typo_limit: ctx.typo_limit,
        };
        for doc in docs {
            let ends = if self.with_ends {
                ctx.matches.value_ends(doc)
            } else {
                &[]
            };
            let c = (self.cost)(ctx.matches.get(doc), ends, scope).min(self.max_cost);
            self.costed[c as usize].insert(doc);
        }
        Ok(())
    }

    /// The next cheapest documents of `universe` (what is left), with their cost.
    pub fn next(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<(u32, RoaringBitmap)>> {
        while self.next <= self.max_cost && !universe.is_empty() {
            let cost = self.next;
            if cost >= self.far.from && !self.later_costed {
                self.later_costed = true;
                let later = &self.far.later & universe;
                self.cost_from_positions(ctx, &later)?;
            }
            self.next += 1;
            let mut docs = if self.later_costed {
                self.sets.exactly(cost, &(universe - &self.far.later))
            } else {
                self.sets.exactly(cost, universe)
            };
            docs |= &self.costed[cost as usize] & universe;
            if !docs.is_empty() {
                return Ok(Some((cost, docs)));
            }
        }
        Ok(None)
    }
}
