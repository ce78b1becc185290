//! The `exactness` ranking rule: documents with a searchable value that is exactly the query
//! come first, then those with a value starting with it, then the others by how many query terms
//! they contain as typed (no typo, not a longer word). Value ends are read from the
//! end-of-value marker the indexer writes after every value.
//!
//! Beyond Meilisearch, each of the first two classes is split: a value that is the query as
//! typed, then a value that is the query once its words are completed or corrected ("madagasca"
//! finds the film "Madagascar" before "Madagascar: Escape 2 Africa"); and within a class, words
//! completed by fewer letters come first. Known-item searches typed in a hurry land on the item.
//!
//! With one term in play (most keystrokes), every class is a set operation on the digests of
//! the term's words (`search/digest.rs`: where each word starts a value or is a whole value),
//! but for the documents of a word cut in two (`cligen` as `cli gen`), costed from positions;
//! several terms must follow each other, which positions tell, but only where the first term's
//! word starts a value: every other document is in the last classes, which only count the
//! words it contains, and those are set operations too (`SeveralTerms`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use roaring::RoaringBitmap;

use super::cost::{active_terms, cost_from_matches, per_term, CostBuckets};
use super::{Bucket, Detail, MatchType, RankCtx, RankingRule, TermDigests};
use crate::analysis::HARD_SEPARATOR_GAP;
use crate::error::Result;
use crate::index::word_position_of;
use crate::search::context::sorted_set;
use crate::search::derivations::Shape;
use crate::search::digest::{
    union, union_within, word_digest, Digest, POSITION_SLOTS, PROXIMITY_RANKS,
};
use crate::search::positions::{DocMap, Occurrence, Scope};

/// Costs are `class * CLASS + letters completed`.
const CLASS: u32 = 64;
/// The first class of documents without a value equal to or starting with the query.
const NO_EXACT_MATCH: u32 = 4;

#[derive(Default)]
pub struct ExactnessRule {
    mask: u16,
    terms: Vec<u8>,
    buckets: CostBuckets,
    /// With one term whose derivations all have digests: its classes from sets.
    single: Option<SingleTerm>,
    /// With several terms: which documents need positions, and the words for the others.
    several: Option<SeveralTerms>,
}

/// One class of a single term, in cost order.
#[derive(Debug, Clone, Copy)]
enum Class {
    /// A value is the word as typed.
    ExactWhole,
    /// A value is a word of the term adding this many letters.
    Whole(u32),
    /// A value starts with the word as typed.
    ExactStart,
    /// A value starts with a word of the term adding this many letters.
    Start(u32),
    /// The word as typed is somewhere.
    ExactAnywhere,
    /// No word as typed; the fewest letters added by a word of the term is 0 (or no word of
    /// the term counts here).
    AddingNone,
    /// No word as typed; the fewest letters added by a word of the term is this many.
    Adding(u32),
}

/// The words of a single term, grouped by how they may rank it, and the classes still to hand
/// out.
struct SingleTerm {
    /// The term as typed.
    exact: Vec<u32>,
    /// Every word of the term, by the letters it adds to what was typed.
    by_extra: BTreeMap<u32, Vec<u32>>,
    classes: std::vec::IntoIter<Class>,
    /// Documents of a sequence in play (a word cut in two), which no set places: left out of
    /// the classes, costed from their positions when the rule starts...
    sequences: RoaringBitmap,
    /// ... and handed out by cost among the classes.
    costed: BTreeMap<u32, RoaringBitmap>,
}

impl SingleTerm {
    /// The classes of a single term from its words' digests, in cost order: a value that is the
    /// word as typed, a value that is one of its words (fewest letters added first), a value
    /// starting with the word as typed, then with one of its words, then documents containing
    /// it as typed, then the others by the fewest letters their words add. `None` when a
    /// derivation in play other than a sequence needs positions, or the sequences' documents
    /// are many.
    fn new(
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
        mask: u16,
        term: u8,
    ) -> Result<Option<SingleTerm>> {
        let Some((per_term, sequences)) = ctx.term_digests(&[term], mask, false, universe)? else {
            return Ok(None);
        };
        let query = ctx.query;
        let mut exact = Vec::new();
        let mut by_extra: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (i, _) in &per_term[0].derivations {
            let d = &query.derivations[*i];
            let Shape::Any(words) = &d.shape else {
                return Ok(None);
            };
            let typed = query.letters_typed(d.covers);
            for &w in words {
                let letters = query.words[w as usize].chars().count();
                let extra = (letters.saturating_sub(typed).min(255) as u32).min(CLASS - 1);
                if d.is_exact() {
                    exact.push(w);
                }
                by_extra.entry(extra).or_default().push(w);
            }
        }
        let extras: Vec<u32> = by_extra.keys().copied().collect();
        let mut classes = vec![Class::ExactWhole];
        classes.extend(extras.iter().map(|e| Class::Whole(*e)));
        classes.push(Class::ExactStart);
        classes.extend(extras.iter().map(|e| Class::Start(*e)));
        classes.push(Class::ExactAnywhere);
        classes.push(Class::AddingNone);
        classes.extend(extras.iter().filter(|e| **e > 0).map(|e| Class::Adding(*e)));
        let mut costed: BTreeMap<u32, RoaringBitmap> = BTreeMap::new();
        if !sequences.is_empty() {
            let terms = [term];
            let cost = |occurrences: &[Occurrence], ends: &[u32], scope: Scope| {
                document_cost(occurrences, ends, scope, &terms)
            };
            let mut costs = Vec::with_capacity(sequences.len() as usize);
            cost_from_matches(ctx, &sequences, mask, true, &cost, &mut costs)?;
            for (doc, c) in costs {
                costed.entry(c).or_default().insert(doc);
            }
        }
        Ok(Some(SingleTerm {
            exact,
            by_extra,
            classes: classes.into_iter(),
            sequences,
            costed,
        }))
    }

    fn cost(class: Class) -> u32 {
        match class {
            Class::ExactWhole => 0,
            Class::Whole(extra) => CLASS + extra,
            Class::ExactStart => 2 * CLASS,
            Class::Start(extra) => 3 * CLASS + extra,
            Class::ExactAnywhere => NO_EXACT_MATCH * CLASS,
            Class::AddingNone => (NO_EXACT_MATCH + 1) * CLASS,
            Class::Adding(extra) => (NO_EXACT_MATCH + 1) * CLASS + extra,
        }
    }

    /// The union of one of the digest's sets over `words`.
    fn union(
        ctx: &RankCtx<'_>,
        words: &[u32],
        set: fn(&Digest) -> &RoaringBitmap,
    ) -> Result<RoaringBitmap> {
        let digests = words
            .iter()
            .map(|w| word_digest(ctx.search, &ctx.query.words[*w as usize]))
            .collect::<Result<Vec<_>>>()?;
        Ok(union(digests.iter().map(|d| set(d))))
    }

    /// The documents of `words`.
    fn docs(ctx: &RankCtx<'_>, words: &[u32]) -> RoaringBitmap {
        union(
            words
                .iter()
                .map(|w| ctx.query.word_docs[*w as usize].as_ref()),
        )
    }

    /// The documents of `universe` in one class.
    fn class_docs(
        &self,
        ctx: &RankCtx<'_>,
        class: Class,
        universe: &RoaringBitmap,
    ) -> Result<RoaringBitmap> {
        let group = |extra: u32| self.by_extra.get(&extra).map(Vec::as_slice).unwrap_or(&[]);
        fn whole(d: &Digest) -> &RoaringBitmap {
            &d.whole
        }
        fn starts(d: &Digest) -> &RoaringBitmap {
            &d.starts
        }
        Ok(match class {
            Class::ExactWhole => Self::union(ctx, &self.exact, whole)? & universe,
            Class::Whole(extra) => Self::union(ctx, group(extra), whole)? & universe,
            Class::ExactStart => Self::union(ctx, &self.exact, starts)? & universe,
            Class::Start(extra) => Self::union(ctx, group(extra), starts)? & universe,
            Class::ExactAnywhere => Self::docs(ctx, &self.exact) & universe,
            Class::AddingNone => {
                let mut adding = RoaringBitmap::new();
                for (_, words) in self.by_extra.iter().filter(|(e, _)| **e > 0) {
                    adding |= Self::docs(ctx, words) & universe;
                }
                adding -= Self::docs(ctx, group(0));
                universe - adding
            }
            Class::Adding(extra) => Self::docs(ctx, group(extra)) & universe,
        })
    }

    /// The next class with documents in `universe` (what is left), with its cost; the
    /// sequences' documents costed from positions join the class of their cost, or come
    /// between classes.
    fn next(
        &mut self,
        ctx: &RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<(u32, RoaringBitmap)>> {
        while !universe.is_empty() {
            let positional = self.costed.first_key_value().map(|(c, _)| *c);
            // The next class, unless positional documents cost less.
            let class = self.classes.as_slice().first().copied();
            let class = class.filter(|c| positional.is_none_or(|p| Self::cost(*c) <= p));
            let (cost, mut docs) = match (class, positional) {
                (Some(class), _) => {
                    self.classes.next();
                    let docs = if self.sequences.is_empty() {
                        self.class_docs(ctx, class, universe)?
                    } else {
                        self.class_docs(ctx, class, &(universe - &self.sequences))?
                    };
                    (Self::cost(class), docs)
                }
                (None, Some(p)) => (p, RoaringBitmap::new()),
                (None, None) => return Ok(None),
            };
            if positional == Some(cost) {
                if let Some(costed) = self.costed.remove(&cost) {
                    docs |= costed & universe;
                }
            }
            if !docs.is_empty() {
                return Ok(Some((cost, docs)));
            }
        }
        Ok(None)
    }
}

/// Buckets with fewer documents whose positions are not read yet are costed from positions:
/// the sets cost a few set operations per word of each term, more than a few hundred documents'
/// positions.
const SETS_FROM: u64 = 1_000;

/// The words one term may count with, for documents costed from sets.
struct TermWords {
    /// The term as typed.
    exact: Vec<u32>,
    /// Every word that may count for the term, by the letters it adds to what was typed, fewest
    /// first.
    by_extra: Vec<(u32, Vec<u32>)>,
    /// The same for the words of `exact` alone.
    exact_by_extra: Vec<(u32, Vec<u32>)>,
}

/// Several terms: a document reaches the first four classes (a value equal to or starting with
/// the query) only with a run of the terms that starts a value, so only where a word of the first
/// term starts a value (its digests' `starts`). Every other document is costed by
/// [`document_cost`]'s last case: how many terms it lacks as typed, and the fewest letters its
/// words add per term, which the words' document sets tell without reading a position. The
/// words are chosen under the typo limit of the rule's level, which the bucket sort keeps from
/// `start` to the last `next_bucket` of a bucket.
struct SeveralTerms {
    /// Documents costed from positions: those of derivations sets cannot place (sequences,
    /// matches restricted to some attributes).
    needs_positions: RoaringBitmap,
    /// Documents where the first term may start a value next to the second ([`run_starts`]):
    /// costed from the digests' first positions when each of their attributes holds one value
    /// ([`RunDigests`]), else from positions.
    runs: RoaringBitmap,
    /// The digest of every word of the terms, when all are at hand.
    run_digests: Option<RunDigests>,
    terms: Vec<TermWords>,
}

/// The runs of several terms at the start of a value, from the words' digests, for documents
/// whose every attribute holds a single value (so values start only at an attribute's first
/// position) within the ranks digests keep positions of: there a run is the terms' words at
/// positions 0, 1, 2... of one attribute, which the digests' first slots tell, and where the
/// value ends tells whether it is the whole value. A long name like `odoo-addon-account-...`
/// under `odoo a` is such a run: reading the positions of the 150 words of `a` in each of
/// thousands of such documents was most of that keystroke.
struct RunDigests {
    /// By the word's index in the query's words.
    digests: Vec<Option<Arc<Digest>>>,
}

impl RunDigests {
    /// `None` unless the digest of every word is at hand (reading one would cost a pass over
    /// the word's postings; positions are cheaper then), but always in the tests' digest mode.
    fn new(ctx: &RankCtx<'_>, terms: &[TermWords]) -> Result<Option<RunDigests>> {
        if terms.len() > POSITION_SLOTS {
            return Ok(None);
        }
        let always = super::ranking_mode() == super::RankingMode::DigestsAlways;
        let mut digests = vec![None; ctx.query.words.len()];
        for term in terms {
            for (_, words) in &term.by_extra {
                for &w in words {
                    let word = &ctx.query.words[w as usize];
                    let digest = match ctx.search.cache.digest(word) {
                        Some(digest) => digest,
                        None if always => word_digest(ctx.search, word)?,
                        None => return Ok(None),
                    };
                    digests[w as usize] = Some(digest);
                }
            }
        }
        Ok(Some(RunDigests { digests }))
    }

    /// Splits `docs` into those whose values all start at an attribute's first position
    /// within [`PROXIMITY_RANKS`] (one value end per attribute at most), and the others.
    fn single_valued(
        &self,
        ctx: &mut RankCtx<'_>,
        docs: &RoaringBitmap,
    ) -> Result<(RoaringBitmap, RoaringBitmap)> {
        ctx.matches.ensure_ends(ctx.search, docs)?;
        let mut placed = Vec::new();
        let mut others = Vec::new();
        for doc in docs {
            let ends = ctx.matches.value_ends(doc);
            let single = ends.iter().all(|m| (m >> 16) < PROXIMITY_RANKS as u32)
                && ends.windows(2).all(|pair| pair[0] >> 16 != pair[1] >> 16);
            if single { &mut placed } else { &mut others }.push(doc);
        }
        Ok((sorted_set(&placed), sorted_set(&others)))
    }

    /// The documents of `docs` with the terms' words at positions `0..terms` of attribute
    /// `rank`, by the letters those words add in all (each position's fewest).
    fn runs_at<'t>(
        &self,
        levels: impl Iterator<Item = &'t [(u32, Vec<u32>)]>,
        rank: usize,
        docs: &RoaringBitmap,
    ) -> BTreeMap<u32, RoaringBitmap> {
        let mut groups: BTreeMap<u32, RoaringBitmap> = BTreeMap::new();
        groups.insert(0, docs.clone());
        for (position, term_levels) in levels.enumerate() {
            let mut left = union(groups.values());
            let mut found: Vec<(u32, RoaringBitmap)> = Vec::new();
            for (extra, words) in term_levels {
                if left.is_empty() {
                    break;
                }
                // Each word's slot met with the few documents left, rather than the union
                // of the slots (most of a frequent word's documents are not in play).
                let mut at = RoaringBitmap::new();
                for w in words {
                    if let Some(slot) = self.digests[*w as usize]
                        .as_ref()
                        .and_then(|d| d.rank_positions.get(rank)?.get(position))
                    {
                        at |= slot & &left;
                    }
                }
                if !at.is_empty() {
                    left -= &at;
                    found.push((*extra, at));
                }
            }
            let mut next: BTreeMap<u32, RoaringBitmap> = BTreeMap::new();
            for (sum, group) in &groups {
                for (extra, at) in &found {
                    let both = group & at;
                    if !both.is_empty() {
                        *next.entry(sum + extra).or_default() |= both;
                    }
                }
            }
            groups = next;
            if groups.is_empty() {
                break;
            }
        }
        groups
    }

    /// Costs the documents of `docs` (from [`Self::single_valued`]) with a run as
    /// [`document_cost`] would, and returns those without one (costed by sets).
    fn cost(
        &self,
        ctx: &RankCtx<'_>,
        terms: &SeveralTerms,
        docs: &RoaringBitmap,
        out: &mut Vec<(u32, u32)>,
    ) -> RoaringBitmap {
        let ranks = self
            .digests
            .iter()
            .flatten()
            .map(|d| d.rank_positions.len())
            .max()
            .unwrap_or(0);
        let length = terms.terms.len() as u32;
        // Per document, the best run of exact words, then of any words, as `best_run` keeps.
        let mut best: [DocMap<(bool, u32)>; 2] = std::array::from_fn(|_| {
            DocMap::with_capacity_and_hasher(docs.len() as usize, Default::default())
        });
        for (kept, exact_only) in best.iter_mut().zip([true, false]) {
            for rank in 0..ranks {
                let levels = terms.terms.iter().map(|t| {
                    if exact_only {
                        t.exact_by_extra.as_slice()
                    } else {
                        t.by_extra.as_slice()
                    }
                });
                for (extra, group) in self.runs_at(levels, rank, docs) {
                    let end = (rank as u32) << 16 | length;
                    for doc in &group {
                        let whole = ctx.matches.value_ends(doc).binary_search(&end).is_ok();
                        let entry = kept.entry(doc).or_insert((whole, extra));
                        if (whole && !entry.0) || (whole == entry.0 && extra < entry.1) {
                            *entry = (whole, extra);
                        }
                    }
                }
            }
        }
        let class = |c: u32, extra: u32| c * CLASS + extra.min(CLASS - 1);
        let mut without = Vec::new();
        for doc in docs {
            let cost = match (best[0].get(&doc), best[1].get(&doc)) {
                (Some(&(true, extra)), _) => class(0, extra),
                (_, Some(&(true, extra))) => class(1, extra),
                (Some(&(false, extra)), _) => class(2, extra),
                (_, Some(&(false, extra))) => class(3, extra),
                _ => {
                    without.push(doc);
                    continue;
                }
            };
            out.push((doc, cost));
        }
        sorted_set(&without)
    }
}

/// A superset of the documents where a word of the first term starts a value and a word of the
/// second term follows it (what a run of the terms needs, see [`best_run`]): the first term's
/// value starts, within the documents with the two words side by side at a position the digests
/// keep, or with either word somewhere they do not keep. Only documents of `universe` are
/// looked at: the rule costs no other.
fn run_starts(
    first: &TermDigests,
    second: &TermDigests,
    universe: &RoaringBitmap,
) -> RoaringBitmap {
    let firsts = || first.derivations.iter().map(|(_, d)| d.as_ref());
    let seconds = || second.derivations.iter().map(|(_, d)| d.as_ref());
    let starts = union_within(firsts().map(|d| &d.starts), universe);
    let mut found = union_within(firsts().chain(seconds()).map(|d| &d.far), &starts);
    let ranks = firsts().map(|d| d.rank_positions.len()).max().unwrap_or(0);
    for rank in 0..ranks {
        for position in 0..POSITION_SLOTS - 1 {
            let here = slot_union(firsts(), rank, position).as_ref() & &starts;
            if here.is_empty() {
                continue;
            }
            for next in seconds().filter_map(|d| d.rank_positions.get(rank)?.get(position + 1)) {
                found |= &here & next;
            }
        }
    }
    found
}

/// The documents of some digests with a word at one position of one rank (borrowed when one
/// digest has any).
fn slot_union<'d>(
    digests: impl Iterator<Item = &'d Digest>,
    rank: usize,
    position: usize,
) -> Cow<'d, RoaringBitmap> {
    let sets: Vec<&RoaringBitmap> = digests
        .filter_map(|d| d.rank_positions.get(rank)?.get(position))
        .filter(|set| !set.is_empty())
        .collect();
    match sets.as_slice() {
        [] => Cow::Owned(RoaringBitmap::new()),
        [one] => Cow::Borrowed(*one),
        _ => Cow::Owned(union(sets)),
    }
}

impl SeveralTerms {
    /// `None` when one term is in play, when the bucket is small, when reading positions would
    /// cost less than the digests of the first two terms, or when one of their derivations has no
    /// digest.
    fn new(
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
        mask: u16,
        terms: &[u8],
    ) -> Result<Option<SeveralTerms>> {
        // Both terms' digests are read: worth it on a bucket whose positions cost more than the
        // digests not read yet (a short prefix's digest is the union of its many words').
        if terms.len() < 2
            || (ctx.matches.unread(universe).len() < SETS_FROM
                && super::ranking_mode() != super::RankingMode::DigestsAlways)
            || ctx.prefer_positions(universe, &terms[..2], mask)
        {
            return Ok(None);
        }
        // A sequence's documents (of any term) go to `needs_positions` below.
        let Some((firsts, _)) = ctx.term_digests(&terms[..2], mask, true, universe)? else {
            return Ok(None);
        };

        let runs = run_starts(&firsts[0], &firsts[1], universe);
        let mut needs_positions = RoaringBitmap::new();
        let query = ctx.query;
        let limit = ctx.typo_limit;
        let mut per_term = Vec::with_capacity(terms.len());
        for &term in terms {
            let mut exact = Vec::new();
            let mut by_extra: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
            let mut exact_by_extra: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
            for d in &query.derivations {
                let usable =
                    d.covers & (1 << term) != 0 && d.covers & !mask == 0 && d.typos <= limit;
                if !usable {
                    continue;
                }
                let (Shape::Any(words), None) = (&d.shape, &d.filter) else {
                    needs_positions |= d.docs.as_ref();
                    continue;
                };
                // As `MatchCache::ensure` counts the letters a match adds.
                let typed = query.letters_typed(d.covers);
                for &w in words {
                    let letters = query.words[w as usize].chars().count();
                    let extra = letters.saturating_sub(typed).min(255) as u32;
                    if d.is_exact() {
                        exact.push(w);
                        exact_by_extra.entry(extra).or_default().push(w);
                    }
                    by_extra.entry(extra).or_default().push(w);
                }
            }
            per_term.push(TermWords {
                exact,
                by_extra: by_extra.into_iter().collect(),
                exact_by_extra: exact_by_extra.into_iter().collect(),
            });
        }
        let run_digests = RunDigests::new(ctx, &per_term)?;
        Ok(Some(SeveralTerms {
            needs_positions,
            runs,
            run_digests,
            terms: per_term,
        }))
    }

    /// Costs the documents of `chunk` into `out`: from positions where sets cannot tell, from
    /// the digests' first positions where a run may start a value, from the words' sets for
    /// the rest.
    fn cost(
        &self,
        ctx: &mut RankCtx<'_>,
        chunk: &RoaringBitmap,
        mask: u16,
        cost: &impl Fn(&[Occurrence], &[u32], Scope) -> u32,
        out: &mut Vec<(u32, u32)>,
    ) -> Result<()> {
        let mut read = chunk & &self.needs_positions;
        let mut by_sets = chunk - &read;
        let runs = &by_sets & &self.runs;
        by_sets -= &runs;
        match &self.run_digests {
            Some(digests) if !runs.is_empty() => {
                let (placed, unplaced) = digests.single_valued(ctx, &runs)?;
                read |= unplaced;
                by_sets |= digests.cost(ctx, self, &placed, out);
            }
            _ => read |= runs,
        }
        cost_from_matches(ctx, &read, mask, true, cost, out)?;
        self.cost_by_sets(ctx, &by_sets, out);
        out.sort_unstable_by_key(|(doc, _)| *doc);
        Ok(())
    }

    /// Costs the documents of `docs` (none of them in `needs_positions`) as [`document_cost`]
    /// would: `(NO_EXACT_MATCH + terms lacking as typed) * CLASS + letters added`.
    fn cost_by_sets(&self, ctx: &RankCtx<'_>, docs: &RoaringBitmap, out: &mut Vec<(u32, u32)>) {
        let word_docs = &ctx.query.word_docs;
        let within = |words: &[u32], of: &RoaringBitmap| {
            let mut found = RoaringBitmap::new();
            for w in words {
                found |= word_docs[*w as usize].as_ref() & of;
            }
            found
        };
        // (terms lacking as typed, letters added) -> documents.
        let mut groups: BTreeMap<(u32, u32), RoaringBitmap> = BTreeMap::new();
        groups.insert((0, 0), docs.clone());
        for term in &self.terms {
            let exact = within(&term.exact, docs);
            // Each document at the fewest letters one of its words adds.
            let mut levels = Vec::new();
            let mut left = docs.clone();
            for (extra, words) in &term.by_extra {
                if left.is_empty() {
                    break;
                }
                let level = within(words, &left);
                if !level.is_empty() {
                    left -= &level;
                    levels.push((*extra, level));
                }
            }
            let mut next: BTreeMap<(u32, u32), RoaringBitmap> = BTreeMap::new();
            for ((lacking, added), group) in groups {
                let with = &group & &exact;
                let without = group - &exact;
                for (lacking, mut part) in [(lacking, with), (lacking + 1, without)] {
                    for (extra, level) in &levels {
                        if part.is_empty() {
                            break;
                        }
                        let at = &part & level;
                        if !at.is_empty() {
                            part -= &at;
                            *next.entry((lacking, added + extra)).or_default() |= at;
                        }
                    }
                    if !part.is_empty() {
                        *next.entry((lacking, added)).or_default() |= part;
                    }
                }
            }
            groups = next;
        }
        for ((lacking, added), group) in groups {
            let cost = (NO_EXACT_MATCH + lacking) * CLASS + added.min(CLASS - 1);
            out.extend(group.iter().map(|doc| (doc, cost)));
        }
    }
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
        self.single = match self.terms.as_slice() {
            [term] if !ctx.prefer_positions(universe, &self.terms, mask) => {
                SingleTerm::new(ctx, universe, mask, *term)?
            }
            _ => None,
        };
        if self.single.is_none() {
            self.several = SeveralTerms::new(ctx, universe, mask, &self.terms)?;
            self.buckets.start(universe, false);
        }
        Ok(())
    }

    fn end(&mut self) {
        self.single = None;
        self.several = None;
    }

    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        let (mask, terms) = (self.mask, &self.terms);
        let cost = |occurrences: &[Occurrence], ends: &[u32], scope: Scope| {
            document_cost(occurrences, ends, scope, terms)
        };
        let next = match (&mut self.single, &self.several) {
            (Some(single), _) => single.next(ctx, universe)?,
            (None, Some(several)) => self.buckets.next(ctx, universe, |ctx, chunk, out| {
                several.cost(ctx, chunk, mask, &cost, out)
            })?,
            (None, None) => self
                .buckets
                .next_by_matches(ctx, universe, mask, true, cost)?,
        };
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
