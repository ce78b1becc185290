//! Where the query terms occur inside documents, for the rules that look at positions
//! (proximity, attribute, word position, exactness). Positions are read only for the documents
//! of the bucket being split: from the segment's forward positions when it has them (long
//! documents), else from postings walked once per call in document order. What was read is kept
//! for the rules that come next in the chain.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use roaring::RoaringBitmap;
use tantivy::postings::Postings;
use tantivy::DocSet;

use super::cache::GroupOrds;
use super::context::{SearchContext, SegmentView};
use super::derivations::{sequence_starts, Derivation, Query, Shape};
use super::forward_positions::ForwardPositions;
use super::forward_words::ForwardWords;
use super::segment_tables::{prefetch_ahead, ready_table};
use crate::error::Result;

/// What a ranking rule may count: the terms still in play, and the most typos one match may
/// have. Once the `typo` rule has put a document in its "t typos" bucket, the rules after it
/// must not credit the document for a match with more typos than that (a typo'd word in the
/// title must not win the attribute rule for a document that matched without typos elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub mask: u16,
    pub typo_limit: u8,
}

/// One match of one query term in a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub term: u8,
    /// Packed position (attribute rank << 16 | word position) of the first and last word.
    pub start: u32,
    pub end: u32,
    pub typos: u8,
    /// The term as typed (no typo, prefix, split, synonym...).
    pub exact: bool,
    /// How many letters the matched word has beyond what was typed (a prefix completed).
    pub extra: u8,
    /// The terms the derivation stands for; usable only if they are all still in the query.
    pub covers: u16,
}

impl Occurrence {
    /// The order of a document's occurrences. Every field is in it: the order is then the same
    /// whichever way (postings or forward positions) and in whatever order they were found.
    #[allow(clippy::type_complexity)]
    pub fn order_key(&self) -> (u8, u32, u8, u32, bool, u8, u16) {
        (
            self.term,
            self.start,
            self.typos,
            self.end,
            self.exact,
            self.extra,
            self.covers,
        )
    }

    /// Whether this match may count for a ranking rule working within `scope`.
    pub fn usable(&self, scope: Scope) -> bool {
        scope.mask & (1 << self.term) != 0
            && self.covers & !scope.mask == 0
            && self.typos <= scope.typo_limit
    }
}

/// Hashes document ids by multiplying them: they are already well spread, and SipHash costs
/// more than the lookups it protects here (no untrusted keys).
#[derive(Default)]
pub struct DocIdHasher(u64);

impl Hasher for DocIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by document id, hashed with [`DocIdHasher`].
pub(crate) type DocMap<V> = HashMap<u32, V, BuildHasherDefault<DocIdHasher>>;

/// Derivations of at least this many words may find their words in the targets through the
/// segment's forward words (`forward_words.rs`) instead of one set intersection per word.
const FORWARD_MIN_WORDS: usize = 8;
/// The forward words serve when the targets hold at most this many words (of the segment's
/// average document) per word of the derivation and per container the targets span: a word
/// looked up in a document costs a binary search among the derivation's words, and a set
/// intersection per word costs about a merge of small arrays per container. Measured with
/// callgrind on PyPI (a dozen words a document, targets spread over 14 containers: the lookups
/// win) and Debian (49 words a document, one container: the intersections win unless the
/// targets are a handful).
const FORWARD_LOOKUPS_PER_CONTAINER: u64 = 16;

/// The documents of `targets` (of one segment) each word of a derivation occurs in, through the
/// segment's forward words, in the order of `words`; `None` when intersecting each word's
/// documents costs less, or the table is not ready (the caller intersects).
fn targets_by_word(
    ctx: &SearchContext,
    view: &SegmentView,
    query: &Query,
    d: &Derivation,
    words: &[u32],
    targets: &RoaringBitmap,
) -> Result<Option<Vec<Vec<u32>>>> {
    // The reference path of the ranking tests intersects sets, so that both ways are checked.
    if words.len() < FORWARD_MIN_WORDS
        || super::ranking::ranking_mode() == super::ranking::RankingMode::Reference
    {
        return Ok(None);
    }
    let Some(forward) = ready_table::<ForwardWords>(ctx, view) else {
        return Ok(None);
    };
    // A set intersection per word costs about the number of containers (ranges of 2^16 ids)
    // the targets span; looking the targets' words up costs about how many words they hold.
    let span = match (targets.min(), targets.max()) {
        (Some(low), Some(high)) => u64::from((high >> 16) - (low >> 16) + 1).min(targets.len()),
        _ => return Ok(None),
    };
    if targets.len() * forward.words_per_document()
        > words.len() as u64 * span * FORWARD_LOOKUPS_PER_CONTAINER
    {
        return Ok(None);
    }
    let ords = derivation_ords(ctx, view, query, d, words)?;
    let Some(by_ord) = ords.get() else {
        return Ok(None);
    };
    let mut lists = vec![Vec::new(); words.len()];
    // As a list, to ask for the words of the documents ahead.
    let docs: Vec<u32> = targets.iter().collect();
    for (i, &doc) in docs.iter().enumerate() {
        prefetch_ahead(forward.as_ref(), &docs, i, view.base);
        for ord in forward.of(doc - view.base) {
            if let Ok(at) = by_ord.binary_search_by_key(ord, |&(o, _)| o) {
                lists[by_ord[at].1 as usize].push(doc);
            }
        }
    }
    Ok(Some(lists))
}

/// A derivation's words as term ordinals of one segment: kept with its group, or found now.
enum DerivationOrds {
    Kept(Arc<GroupOrds>, usize),
    Fresh(Vec<(u32, u32)>),
}

impl DerivationOrds {
    /// (term ordinal, place in the derivation's words), ascending; `None` when the kept
    /// ordinals have no list for the segment.
    fn get(&self) -> Option<&[(u32, u32)]> {
        match self {
            DerivationOrds::Kept(kept, segment) => kept.get(*segment).map(Vec::as_slice),
            DerivationOrds::Fresh(ords) => Some(ords),
        }
    }
}

/// The term ordinals of a derivation's `words` in the dictionary of segment `view`. A group's
/// words are the same list, in the same order, in every query that has it (as for its kept
/// unions and digests), so their ordinals in every segment are kept with it.
fn derivation_ords(
    ctx: &SearchContext,
    view: &SegmentView,
    query: &Query,
    d: &Derivation,
    words: &[u32],
) -> Result<DerivationOrds> {
    let group = d
        .group
        .as_ref()
        .and_then(|(found, group)| Some((found, found.forward_ords.get(*group)?)));
    let Some((found, slot)) = group else {
        return Ok(DerivationOrds::Fresh(words_by_ord(view, query, words)?));
    };
    let kept = match slot.get() {
        Some(ords) => ords.clone(),
        None => {
            let ords = Arc::new(
                ctx.segments()
                    .iter()
                    .map(|v| words_by_ord(v, query, words))
                    .collect::<Result<Vec<_>>>()?,
            );
            if slot.set(ords.clone()).is_ok() {
                let bytes = ords.iter().map(|o| o.len() as u64 * 8 + 24).sum();
                ctx.cache.charge_derivations(&found.key, bytes);
            }
            ords
        }
    };
    Ok(DerivationOrds::Kept(kept, view.ord as usize))
}

/// The term ordinals of `words` in one segment's dictionary, ascending, each with the word's
/// place in `words` (words the segment lacks are left out).
fn words_by_ord(view: &SegmentView, query: &Query, words: &[u32]) -> Result<Vec<(u32, u32)>> {
    let terms = view.inverted.terms();
    let mut by_ord = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        if let Some(ord) = terms.term_ord(query.words[*w as usize].as_bytes())? {
            if let Ok(ord) = u32::try_from(ord) {
                by_ord.push((ord, i as u32));
            }
        }
    }
    by_ord.sort_unstable();
    Ok(by_ord)
}

/// The documents one word's positions are read for, ascending: a set, or a list found through
/// the forward words.
enum WordTargets<'a> {
    Set(roaring::bitmap::Iter<'a>),
    Listed(std::slice::Iter<'a, u32>),
}

impl WordTargets<'_> {
    fn is_empty(&self) -> bool {
        match self {
            WordTargets::Set(docs) => docs.len() == 0,
            WordTargets::Listed(docs) => docs.len() == 0,
        }
    }
}

impl Iterator for WordTargets<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match self {
            WordTargets::Set(docs) => docs.next(),
            WordTargets::Listed(docs) => docs.next().copied(),
        }
    }
}

/// Occurrences [`MatchCache::ensure`] makes room for per document before reading any: a query
/// of two or three terms on long texts finds about that many in each (8.7 on average in the
/// documents read for Debian's 60 slowest keystrokes).
const OCCURRENCES_RESERVED_PER_DOCUMENT: usize = 8;
/// At most that much room made beforehand (20 MB), however many documents are read.
const MAX_OCCURRENCES_RESERVED: usize = 1 << 20;

/// Occurrences read so far, per document.
#[derive(Default)]
pub struct MatchCache {
    done: RoaringBitmap,
    spans: DocMap<(u32, u32)>,
    occurrences: Vec<Occurrence>,
    ends_done: RoaringBitmap,
    /// Per document, the range of its value ends in `end_positions`.
    ends: DocMap<(u32, u32)>,
    end_positions: Vec<u32>,
}

impl MatchCache {
    /// The occurrences of a document whose positions were read, sorted by term then position.
    pub fn get(&self, doc: u32) -> &[Occurrence] {
        match self.spans.get(&doc) {
            Some((start, end)) => &self.occurrences[*start as usize..*end as usize],
            None => &[],
        }
    }

    /// Positions right after the end of each value of a document (read by [`Self::ensure_ends`]).
    pub fn value_ends(&self, doc: u32) -> &[u32] {
        match self.ends.get(&doc) {
            Some((start, end)) => &self.end_positions[*start as usize..*end as usize],
            None => &[],
        }
    }

    /// The documents of `docs` whose occurrences are not read yet.
    pub fn unread(&self, docs: &RoaringBitmap) -> RoaringBitmap {
        docs - &self.done
    }

    /// Reads the occurrences of every document of `docs` not read yet.
    pub fn ensure(
        &mut self,
        ctx: &SearchContext,
        query: &Query,
        docs: &RoaringBitmap,
    ) -> Result<()> {
        let missing = docs - &self.done;
        if missing.is_empty() {
            return Ok(());
        }
        // Each missing document's slot is its rank among them: occurrences are found word by
        // word, each word's documents ascending, and gathered per slot at the end.
        let order: Vec<u32> = missing.iter().collect();
        let slot_from = |at: &mut usize, doc: u32| {
            *at = gallop(&order, *at, doc);
            *at as u32
        };
        let mut found: Vec<(u32, Occurrence)> = Vec::new();
        let mut buffers: Vec<Vec<u32>> = Vec::new();
        let mut starts = Vec::new();
        // Without a sequence (a phrase, a split word) every occurrence of a scanned segment's
        // documents comes from its scan, a document at a time, in order: they go straight
        // into the cache, not through `found` and the sort by slot below.
        let scans_complete = query
            .derivations
            .iter()
            .all(|d| matches!(d.shape, Shape::Any(_)));
        let mut scanned_alone: Vec<Occurrence> = Vec::new();
        for view in ctx.segments() {
            let range = view.range();
            let in_segment = {
                let mut b = missing.clone();
                b.remove_range(..range.start);
                b.remove_range(range.end..);
                b
            };
            if in_segment.is_empty() {
                continue;
            }
            let segment_order =
                &order[order.partition_point(|&d| d < range.start)..][..in_segment.len() as usize];
            // With the segment's word positions in memory, every one-word derivation is found
            // in one scan of each document's words.
            let scanned = match ForwardScan::new(ctx, view, query)? {
                Some(scan) if scans_complete => {
                    let (occurrences, spans) = (&mut self.occurrences, &mut self.spans);
                    occurrences.reserve(
                        (in_segment.len() as usize * OCCURRENCES_RESERVED_PER_DOCUMENT)
                            .min(MAX_OCCURRENCES_RESERVED),
                    );
                    spans.reserve(in_segment.len() as usize);
                    scan.record(
                        query,
                        segment_order,
                        occurrences,
                        |doc, begin, occurrences| {
                            occurrences[begin..].sort_unstable_by_key(Occurrence::order_key);
                            spans.insert(doc, (begin as u32, occurrences.len() as u32));
                        },
                    );
                    true
                }
                Some(scan) => {
                    let mut at = 0;
                    scan.record(
                        query,
                        segment_order,
                        &mut scanned_alone,
                        |doc, _, occurrences| {
                            let slot = slot_from(&mut at, doc);
                            found.extend(occurrences.drain(..).map(|o| (slot, o)));
                        },
                    );
                    true
                }
                None => false,
            };
            if !(scanned && scans_complete) && found.capacity() == 0 {
                // Room for a few occurrences a document from the start: growing the list by
                // doubling copied it over and over (5% of Debian's slowest keystrokes, in
                // reallocations).
                found.reserve(
                    (order.len() * OCCURRENCES_RESERVED_PER_DOCUMENT).min(MAX_OCCURRENCES_RESERVED),
                );
            }
            for d in &query.derivations {
                if scanned && matches!(d.shape, Shape::Any(_)) {
                    continue;
                }
                let targets = &in_segment & d.docs.as_ref();
                if targets.is_empty() {
                    continue;
                }
                let covered: Vec<u8> = (0..16u8).filter(|t| d.covers & (1 << t) != 0).collect();
                let exact = d.is_exact();
                // The letters typed for this derivation, to tell how much a match completes them.
                let typed = query.letters_typed(d.covers);
                let mut record = |slot: u32, start: u32, end: u32, extra: u8| {
                    for &term in &covered {
                        let typos = d.typos;
                        found.push((
                            slot,
                            Occurrence {
                                term,
                                start,
                                end,
                                typos,
                                exact,
                                extra,
                                covers: d.covers,
                            },
                        ));
                    }
                };
                match &d.shape {
                    Shape::Any(words) => {
                        if buffers.is_empty() {
                            buffers.push(Vec::new());
                        }
                        let listed = targets_by_word(ctx, view, query, d, words, &targets)?;
                        for (i, w) in words.iter().enumerate() {
                            // A derivation of one word matches that word's documents: the
                            // targets are all its documents here (no set to intersect).
                            let shared;
                            let word_targets = match &listed {
                                Some(lists) => WordTargets::Listed(lists[i].iter()),
                                None if words.len() == 1 => WordTargets::Set(targets.iter()),
                                None => {
                                    shared = &targets & query.word_docs[*w as usize].as_ref();
                                    WordTargets::Set(shared.iter())
                                }
                            };
                            if word_targets.is_empty() {
                                continue;
                            }
                            let word = &query.words[*w as usize];
                            let extra = word.chars().count().saturating_sub(typed).min(255) as u8;
                            let Some(mut cursor) = ctx.postings(view, word)? else {
                                continue;
                            };
                            let mut at = 0;
                            for doc in word_targets {
                                let local = doc - view.base;
                                if cursor.doc() > local || cursor.seek(local) != local {
                                    continue;
                                }
                                let slot = slot_from(&mut at, doc);
                                cursor.positions(&mut buffers[0]);
                                for &p in &buffers[0] {
                                    if d.filter.as_deref().is_none_or(|f| f.allows(p)) {
                                        record(slot, p, p, extra);
                                    }
                                }
                            }
                        }
                    }
                    Shape::Sequence(seq) => {
                        let span = seq.len() as u32;
                        let mut cursors = Vec::with_capacity(seq.len());
                        for w in seq {
                            cursors.push(match w {
                                Some(w) => ctx.postings(view, &query.words[*w as usize])?,
                                None => None,
                            });
                        }
                        buffers.resize(seq.len().max(buffers.len()), Vec::new());
                        let mut at = 0;
                        for doc in &targets {
                            let local = doc - view.base;
                            if !positions_at(&mut cursors, &mut buffers, local) {
                                continue;
                            }
                            let slot = slot_from(&mut at, doc);
                            let lists: Vec<Option<&[u32]>> = seq
                                .iter()
                                .zip(&buffers)
                                .map(|(w, b)| w.map(|_| b.as_slice()))
                                .collect();
                            sequence_starts(&lists, d.filter.as_deref(), &mut starts);
                            for &s in &starts {
                                record(slot, s, s + span - 1, 0);
                            }
                        }
                    }
                }
            }
        }
        // A counting sort by slot: each document's occurrences together, documents ascending,
        // each document's in the order they were found (as a stable sort by document would
        // leave them; sorting the whole list was a fifth of this function on two-word
        // keystrokes ending in a short prefix). Each document's few occurrences are then put in
        // order on their own.
        if let Some(&(_, filler)) = found.first() {
            let mut bounds = vec![0u32; order.len() + 1];
            for (slot, _) in &found {
                bounds[*slot as usize + 1] += 1;
            }
            for i in 1..bounds.len() {
                bounds[i] += bounds[i - 1];
            }
            let base = self.occurrences.len();
            self.occurrences.resize(base + found.len(), filler);
            let mut next = bounds.clone();
            for (slot, occurrence) in found {
                let at = &mut next[slot as usize];
                self.occurrences[base + *at as usize] = occurrence;
                *at += 1;
            }
            self.spans.reserve(order.len());
            for (slot, &doc) in order.iter().enumerate() {
                let (begin, end) = (base as u32 + bounds[slot], base as u32 + bounds[slot + 1]);
                if begin == end {
                    continue;
                }
                self.occurrences[begin as usize..end as usize]
                    .sort_unstable_by_key(Occurrence::order_key);
                self.spans.insert(doc, (begin, end));
            }
        }
        self.done |= missing;
        Ok(())
    }

    /// Reads where each value ends in the documents of `docs` not read yet.
    pub fn ensure_ends(&mut self, ctx: &SearchContext, docs: &RoaringBitmap) -> Result<()> {
        let missing = docs - &self.ends_done;
        if missing.is_empty() {
            return Ok(());
        }
        for view in ctx.segments() {
            let range = view.range();
            if missing.range(range.clone()).next().is_none() {
                continue;
            }
            let value_ends = ctx.value_ends(view)?;
            for doc in missing.range(range) {
                let ends = value_ends.of(doc - view.base);
                if ends.is_empty() {
                    continue;
                }
                let start = self.end_positions.len() as u32;
                self.end_positions.extend_from_slice(ends);
                self.ends
                    .insert(doc, (start, self.end_positions.len() as u32));
            }
        }
        self.ends_done |= missing;
        Ok(())
    }
}

/// The one-word derivations of a query in the dictionary of one segment that has its word
/// positions in memory (`forward_positions.rs`), to find their occurrences in a scan of each
/// document's words instead of reading each word's postings.
struct ForwardScan {
    table: Arc<ForwardPositions>,
    base: u32,
    /// The ordinals of the derivations' words, a bit each (up to the largest)...
    bits: Vec<u64>,
    /// ... how many bits are set in the words before each...
    ranks: Vec<u32>,
    /// ... and, per ordinal in that order, where its entries start (one more at the end).
    starts: Vec<u32>,
    /// Per ordinal, ascending: (derivation, letters the word has beyond those typed).
    entries: Vec<(u32, u8)>,
    /// The ordinals in runs (first, last), each run's ordinals at most [`RUN_GAP`] apart: a
    /// document's ordinals between runs are skipped by galloping instead of tested one by one.
    runs: Vec<(u32, u32)>,
}

/// Ordinals further apart than this start a new run of [`ForwardScan::runs`]. A prefix's
/// derivations sit together in the dictionary's order, a word's far from the others: a
/// document's words in between (most of a long description's) are skipped.
const RUN_GAP: u32 = 64;

impl ForwardScan {
    /// `None` when the segment has no table ready, or for the reference path of the ranking
    /// tests, which reads postings so that both ways are checked.
    fn new(ctx: &SearchContext, view: &SegmentView, query: &Query) -> Result<Option<ForwardScan>> {
        if super::ranking::ranking_mode() == super::ranking::RankingMode::Reference {
            return Ok(None);
        }
        let Some(table) = ready_table::<ForwardPositions>(ctx, view) else {
            return Ok(None);
        };
        let mut by_ord = Vec::new();
        for (i, d) in query.derivations.iter().enumerate() {
            let Shape::Any(words) = &d.shape else {
                continue;
            };
            let typed = query.letters_typed(d.covers);
            let ords = derivation_ords(ctx, view, query, d, words)?;
            for &(ord, at) in ords.get().unwrap_or_default() {
                let word = &query.words[words[at as usize] as usize];
                let extra = word.chars().count().saturating_sub(typed).min(255) as u8;
                by_ord.push((ord, i as u32, extra));
            }
        }
        by_ord.sort_unstable();
        let top = by_ord.last().map_or(0, |e| e.0 as usize);
        let mut bits = vec![0u64; top / 64 + 1];
        let mut starts = Vec::new();
        for (at, &(ord, _, _)) in by_ord.iter().enumerate() {
            let word = &mut bits[ord as usize / 64];
            if *word & (1 << (ord % 64)) == 0 {
                *word |= 1 << (ord % 64);
                starts.push(at as u32);
            }
        }
        starts.push(by_ord.len() as u32);
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for &(ord, _, _) in &by_ord {
            match runs.last_mut() {
                Some((_, last)) if ord <= *last + RUN_GAP => *last = ord,
                _ => runs.push((ord, ord)),
            }
        }
        let mut ranks = Vec::with_capacity(bits.len());
        let mut before = 0;
        for word in &bits {
            ranks.push(before);
            before += word.count_ones();
        }
        Ok(Some(ForwardScan {
            table,
            base: view.base,
            bits,
            ranks,
            starts,
            entries: by_ord.into_iter().map(|(_, d, extra)| (d, extra)).collect(),
            runs,
        }))
    }

    /// Appends to `out` every occurrence of a one-word derivation in each document of `docs`
    /// (all in this segment), a document at a time: after each document with any, calls
    /// `done(doc, where its occurrences begin in out, out)`.
    fn record(
        &self,
        query: &Query,
        docs: &[u32],
        out: &mut Vec<Occurrence>,
        mut done: impl FnMut(u32, usize, &mut Vec<Occurrence>),
    ) {
        for (i, &doc) in docs.iter().enumerate() {
            prefetch_ahead(self.table.as_ref(), docs, i, self.base);
            let (ords, positions) = self.table.of(doc - self.base);
            let begin = out.len();
            let mut k = 0;
            for &(first, last) in &self.runs {
                // A document's ordinals ascend: skip to the run's first, stop past its last.
                k = gallop(ords, k, first);
                while k < ords.len() && ords[k] <= last {
                    let ord = ords[k];
                    let position = positions[k];
                    k += 1;
                    let word = self.bits[ord as usize / 64];
                    let bit = 1u64 << (ord % 64);
                    if word & bit == 0 {
                        continue;
                    }
                    let rank =
                        (self.ranks[ord as usize / 64] + (word & (bit - 1)).count_ones()) as usize;
                    let entries = self.starts[rank] as usize..self.starts[rank + 1] as usize;
                    for &(i, extra) in &self.entries[entries] {
                        // A live document with one of the words where the filter allows is one of
                        // the derivation's documents (the union of its words' documents, found with
                        // the same filter): no need to ask its set.
                        let d = &query.derivations[i as usize];
                        if d.filter.as_deref().is_some_and(|f| !f.allows(position)) {
                            continue;
                        }
                        let mut terms = d.covers;
                        while terms != 0 {
                            let term = terms.trailing_zeros() as u8;
                            terms &= terms - 1;
                            out.push(Occurrence {
                                term,
                                start: position,
                                end: position,
                                typos: d.typos,
                                exact: d.is_exact(),
                                extra,
                                covers: d.covers,
                            });
                        }
                    }
                }
                if k == ords.len() {
                    break;
                }
            }
            if out.len() > begin {
                done(doc, begin, out);
            }
        }
    }
}

/// The index of the first value of `sorted[from..]` that is not below `target`, found by steps
/// doubling from `from`, then a binary search within the last step: the documents of one word
/// come in ascending order, each usually a few places after the one before, where a binary
/// search over all the rest took a dozen probes per document (18% of perf's samples of a warm
/// `codeu` search on PyPI).
fn gallop(sorted: &[u32], from: usize, target: u32) -> usize {
    let (mut low, mut high, mut step) = (from, from, 1);
    while high < sorted.len() && sorted[high] < target {
        low = high + 1;
        high += step;
        step *= 2;
    }
    let high = high.min(sorted.len());
    low + sorted[low..high].partition_point(|&d| d < target)
}

/// Moves every cursor to the segment-local document `local` and reads its positions into the
/// matching buffer (a `None` cursor, a word that needs no positions, leaves its buffer empty).
/// Returns false when a cursor's word is not in that document. Cursors only move forward, so
/// documents must be asked in increasing order.
pub(crate) fn positions_at(
    cursors: &mut [Option<tantivy::postings::SegmentPostings>],
    buffers: &mut [Vec<u32>],
    local: u32,
) -> bool {
    for (cursor, buffer) in cursors.iter_mut().zip(buffers.iter_mut()) {
        buffer.clear();
        if let Some(cursor) = cursor {
            if cursor.doc() > local || cursor.seek(local) != local {
                return false;
            }
            cursor.positions(buffer);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::gallop;

    /// Galloping finds what a binary search over the rest finds, from any start, for targets
    /// present, absent, before the start's value and past the end.
    #[test]
    fn gallop_agrees_with_a_binary_search_of_the_rest() {
        let sorted: Vec<u32> = (0..300u32).map(|i| i * 7 + (i % 5)).collect();
        let mut state = 0x2545_F491_u64;
        for _ in 0..5_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let from = (state % (sorted.len() as u64 + 1)) as usize;
            let target = ((state >> 20) % 2_200) as u32;
            let expected = from + sorted[from..].partition_point(|&d| d < target);
            assert_eq!(
                gallop(&sorted, from, target),
                expected,
                "from {from} target {target}"
            );
        }
        assert_eq!(gallop(&[], 0, 5), 0);
        assert_eq!(gallop(&sorted, 0, u32::MAX), sorted.len());
        assert_eq!(gallop(&sorted, 0, 0), 0);
    }
}
