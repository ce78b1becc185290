//! Where a word occurs, summarized as document sets: per attribute rank, per attribute and
//! early word position, at the start of a value, as a whole value. The attribute, word-position and
//! exactness rules need exactly these facts; reading them from positions costs a postings seek
//! per word and document, which is what made huge buckets (a one-letter prefix over a million
//! documents) slow. A word's digest is built once per snapshot, in one sequential pass over its
//! postings, and cached; a derivation's digest is the union of its words' digests, cached too.
//! The rules then split buckets with set operations, and read positions only for what the sets
//! cannot tell (see each rule's fallback).

use std::sync::Arc;

use roaring::{MultiOps, RoaringBitmap};

use super::context::{sorted_set, SearchContext};
use super::derivations::{Derivation, Query, Shape};
use crate::analysis::HARD_SEPARATOR_GAP;
use crate::error::Result;
use crate::index::{attribute_of, word_position_of};

/// Word positions within an attribute that digests keep one set each for. A document with the
/// word further on is `far`: the rules read its positions.
pub const POSITION_SLOTS: usize = 32;
/// Attribute ranks that digests keep one set each for. The attribute rule uses the sets only
/// when the index has at most this many ranks.
pub const RANK_SLOTS: usize = 64;
/// Attribute ranks whose first positions digests keep, rank by rank, for the proximity rule.
pub const PROXIMITY_RANKS: usize = 16;

/// Where one word (or any word of a group) occurs. Sets hold ids of the snapshot, deleted
/// documents included: every user intersects them with a universe of live documents.
#[derive(Debug, Default, Clone)]
pub struct Digest {
    /// Per attribute rank below [`RANK_SLOTS`]: documents with the word in that attribute.
    pub ranks: Vec<RoaringBitmap>,
    /// Per attribute rank below [`PROXIMITY_RANKS`], then per word position below
    /// [`POSITION_SLOTS`]: documents with the word there.
    pub rank_positions: Vec<Vec<RoaringBitmap>>,
    /// Documents with the word somewhere `rank_positions` does not reach (a later position or
    /// rank): only positions can tell how close it is to other words there.
    pub far: RoaringBitmap,
    /// Of those, the documents with the word in a rank `rank_positions` does not reach (at any
    /// position, even the first).
    pub far_ranks: RoaringBitmap,
    /// Documents where the word starts a value (an attribute's first word, or the first word
    /// after the end of a value of the same attribute).
    pub starts: RoaringBitmap,
    /// Documents where a value is exactly this one word.
    pub whole: RoaringBitmap,
}

impl Digest {
    /// Bytes the sets take in memory, with the lists holding them, for the cache budget.
    pub fn bytes(&self) -> u64 {
        let sets = self
            .ranks
            .iter()
            .chain(self.rank_positions.iter().flatten())
            .chain([&self.starts, &self.whole, &self.far, &self.far_ranks]);
        let lists = std::mem::size_of::<Vec<RoaringBitmap>>() * (self.rank_positions.len() + 1);
        sets.map(super::cache::set_bytes).sum::<u64>() + lists as u64
    }

    /// The union of several digests.
    pub fn union<'a>(digests: impl Iterator<Item = &'a Digest> + Clone) -> Digest {
        let ranks = digests.clone().map(|d| d.ranks.len()).max().unwrap_or(0);
        let proximity_ranks = digests
            .clone()
            .map(|d| d.rank_positions.len())
            .max()
            .unwrap_or(0);
        let rank_positions = (0..proximity_ranks)
            .map(|r| {
                let slots = digests
                    .clone()
                    .filter_map(|d| d.rank_positions.get(r).map(Vec::len))
                    .max()
                    .unwrap_or(0);
                (0..slots)
                    .map(|p| {
                        union(
                            digests
                                .clone()
                                .filter_map(|d| d.rank_positions.get(r)?.get(p)),
                        )
                    })
                    .collect()
            })
            .collect();
        Digest {
            ranks: (0..ranks)
                .map(|r| union(digests.clone().filter_map(|d| d.ranks.get(r))))
                .collect(),
            rank_positions,
            far: union(digests.clone().map(|d| &d.far)),
            far_ranks: union(digests.clone().map(|d| &d.far_ranks)),
            starts: union(digests.clone().map(|d| &d.starts)),
            whole: union(digests.map(|d| &d.whole)),
        }
    }
}

/// Many sets holding together at most this many documents are united by sorting their
/// documents (see [`union`]).
const SPARSE_UNION: u64 = 4096;

/// The union of some sets. Roaring's one-pass union builds every container as a bitmap (8 KiB
/// allocated and cleared) and shrinks it back afterwards, which dominates when the sets are
/// sparse (most digest slots: the same early position of a rare word in a few documents
/// spread over the whole index): a handful of sets is merged pairwise instead, and many sets
/// with few documents in all have their documents sorted.
pub fn union<'a>(sets: impl IntoIterator<Item = &'a RoaringBitmap>) -> RoaringBitmap {
    let sets: Vec<&RoaringBitmap> = sets.into_iter().filter(|s| !s.is_empty()).collect();
    match sets.as_slice() {
        [] => RoaringBitmap::new(),
        [one] => (*one).clone(),
        few if few.len() <= 8 => {
            let mut out = few[0].clone();
            for set in &few[1..] {
                out |= *set;
            }
            out
        }
        many if many.iter().map(|s| s.len()).sum::<u64>() <= SPARSE_UNION => {
            let mut docs: Vec<u32> = many.iter().flat_map(|s| s.iter()).collect();
            docs.sort_unstable();
            docs.dedup();
            sorted_set(&docs)
        }
        many => many.iter().copied().union(),
    }
}

/// The documents of `universe` in any of `sets`. Each set is restricted first: a prefix's
/// derivations each hold a large `far` set (every document with one of its words late in a long
/// value), and uniting them before restricting walked all of them in full for a universe that
/// is often a small part of the index.
pub fn union_within<'a>(
    sets: impl IntoIterator<Item = &'a RoaringBitmap>,
    universe: &RoaringBitmap,
) -> RoaringBitmap {
    let restricted: Vec<RoaringBitmap> = sets
        .into_iter()
        .map(|set| set & universe)
        .filter(|set| !set.is_empty())
        .collect();
    match restricted.len() {
        0 => RoaringBitmap::new(),
        1 => restricted.into_iter().next().unwrap_or_default(),
        _ => union(&restricted),
    }
}

/// Appends `doc` to a sorted list unless it is already its last element.
fn push_once(list: &mut Vec<u32>, doc: u32) {
    if list.last() != Some(&doc) {
        list.push(doc);
    }
}

fn into_sets(lists: Vec<Vec<u32>>) -> Vec<RoaringBitmap> {
    lists.iter().map(|list| sorted_set(list)).collect()
}

/// Whether the packed position starts a value, given the document's value ends.
pub fn starts_value(position: u32, ends: &[u32]) -> bool {
    word_position_of(position) == 0
        || position
            .checked_sub(HARD_SEPARATOR_GAP - 1)
            .is_some_and(|marker| {
                marker >> 16 == position >> 16 && ends.binary_search(&marker).is_ok()
            })
}

/// Reads the digest of one word from the snapshot's postings: one pass over the word's
/// documents and positions, with the value ends of each segment's documents (`value_ends.rs`).
pub fn read_word_digest(ctx: &SearchContext, word: &str) -> Result<Digest> {
    let mut ranks: Vec<Vec<u32>> = Vec::new();
    let mut rank_positions: Vec<Vec<Vec<u32>>> = Vec::new();
    let mut far = Vec::new();
    let mut far_ranks = Vec::new();
    let mut starts = Vec::new();
    let mut whole = Vec::new();
    for view in ctx.segments() {
        let value_ends = ctx.value_ends(view)?;
        ctx.for_each_positions(view, word, |doc, found| {
            let id = view.base + doc;
            let ends = value_ends.of(doc);
            for &p in found {
                let rank = usize::from(attribute_of(p));
                if rank < RANK_SLOTS {
                    if ranks.len() <= rank {
                        ranks.resize_with(rank + 1, Vec::new);
                    }
                    push_once(&mut ranks[rank], id);
                }
                let position = usize::from(word_position_of(p));
                if position < POSITION_SLOTS && rank < PROXIMITY_RANKS {
                    if rank_positions.len() <= rank {
                        rank_positions.resize_with(rank + 1, Vec::new);
                    }
                    let slots = &mut rank_positions[rank];
                    if slots.len() <= position {
                        slots.resize_with(position + 1, Vec::new);
                    }
                    push_once(&mut slots[position], id);
                } else {
                    push_once(&mut far, id);
                    if rank >= PROXIMITY_RANKS {
                        push_once(&mut far_ranks, id);
                    }
                }
                if starts_value(p, ends) {
                    push_once(&mut starts, id);
                    if ends.binary_search(&(p + 1)).is_ok() {
                        push_once(&mut whole, id);
                    }
                }
            }
        })?;
    }
    Ok(Digest {
        ranks: into_sets(ranks),
        rank_positions: rank_positions.into_iter().map(into_sets).collect(),
        far: sorted_set(&far),
        far_ranks: sorted_set(&far_ranks),
        starts: sorted_set(&starts),
        whole: sorted_set(&whole),
    })
}

/// The digest of one word, from the snapshot's cache when another search already read it.
pub fn word_digest(ctx: &SearchContext, word: &str) -> Result<Arc<Digest>> {
    if let Some(found) = ctx.cache.digest(word) {
        return Ok(found);
    }
    let digest = Arc::new(read_word_digest(ctx, word)?);
    ctx.cache.put_digest(word, digest.clone());
    Ok(digest)
}

/// The words of a derivation whose matches a digest can summarize: one word among several, in
/// any attribute. A sequence (phrase, split, multi-word synonym) needs positions.
fn digestible(d: &Derivation) -> Option<&[u32]> {
    match &d.shape {
        Shape::Any(words) => Some(words),
        Shape::Sequence(_) => None,
    }
}

/// Per derivation of one query, its digest once asked for (`None` inside: not digestible).
#[derive(Default)]
pub struct DigestMemo {
    digests: Vec<Option<Option<Arc<Digest>>>>,
}

impl DigestMemo {
    /// The documents whose positions reading the digests of the derivations `usable` accepts
    /// would cost, that no search has read yet: for each word of a derivation whose digest is
    /// neither known to this search nor kept by its group, the word's documents unless its own
    /// digest is cached. 0 when everything is at hand.
    pub fn unread_documents(
        &self,
        ctx: &SearchContext,
        query: &Query,
        usable: impl Fn(&Derivation) -> bool,
    ) -> u64 {
        let mut total = 0;
        for (i, d) in query.derivations.iter().enumerate() {
            if !usable(d) || self.digests.get(i).is_some_and(Option::is_some) {
                continue;
            }
            let kept = d
                .group
                .as_ref()
                .and_then(|(found, group)| found.digests.get(*group))
                .is_some_and(|slot| slot.get().is_some());
            let Some(words) = digestible(d).filter(|_| !kept) else {
                continue;
            };
            for w in words {
                let word = &query.words[*w as usize];
                if !ctx.cache.has_digest(word) {
                    total += query.word_docs[*w as usize].len();
                }
            }
        }
        total
    }

    /// The digest of derivation `index` of `query`, or `None` when it is a sequence.
    pub fn derivation(
        &mut self,
        ctx: &SearchContext,
        query: &Query,
        index: usize,
    ) -> Result<Option<Arc<Digest>>> {
        if self.digests.len() < query.derivations.len() {
            self.digests.resize(query.derivations.len(), None);
        }
        if let Some(known) = &self.digests[index] {
            return Ok(known.clone());
        }
        let d = &query.derivations[index];
        let cached = d
            .group
            .as_ref()
            .and_then(|(found, group)| Some((found, found.digests.get(*group)?)));
        let digest = match (digestible(d), cached) {
            (None, _) => None,
            (Some(words), Some((found, slot))) => match slot.get() {
                Some(digest) => Some(digest.clone()),
                None => {
                    let digest = Arc::new(union_of_words(ctx, query, words)?);
                    if slot.set(digest.clone()).is_ok() {
                        ctx.cache.charge_derivations(&found.key, digest.bytes());
                    }
                    Some(digest)
                }
            },
            (Some(words), None) => Some(derivation_digest(ctx, query, words)?),
        };
        self.digests[index] = Some(digest.clone());
        Ok(digest)
    }
}

/// The union of the digests of some words, cached under the list of words.
fn derivation_digest(ctx: &SearchContext, query: &Query, words: &[u32]) -> Result<Arc<Digest>> {
    if let [word] = words {
        return word_digest(ctx, &query.words[*word as usize]);
    }
    let key = query.words_key(words.iter().map(|w| Some(*w)));
    if let Some(found) = ctx.cache.digest_union(&key) {
        return Ok(found);
    }
    let union = Arc::new(union_of_words(ctx, query, words)?);
    ctx.cache.put_digest_union(&key, union.clone());
    Ok(union)
}

/// The union of the digests of some words.
fn union_of_words(ctx: &SearchContext, query: &Query, words: &[u32]) -> Result<Digest> {
    let parts = words
        .iter()
        .map(|w| word_digest(ctx, &query.words[*w as usize]))
        .collect::<Result<Vec<_>>>()?;
    Ok(Digest::union(parts.iter().map(|d| d.as_ref())))
}

/// How much smaller than the universe a set must be for [`TermSlots::meet`] to skip the
/// universe's slot.
const MEET_RATIO: u64 = 8;

/// Where one term's matches are within a universe, attribute by attribute and position by
/// position (`Digest::rank_positions` of its derivations in play, united and restricted to the
/// universe, each slot when first asked), and the documents of the universe where a match lies
/// beyond what digests keep. Built per rule from the cached digests, so no union of a term's
/// groups is ever kept, and a rule that stops early (a page filled by position 0) reads only
/// the slots it reached.
pub struct TermSlots {
    digests: Vec<Arc<Digest>>,
    universe: RoaringBitmap,
    slots: Vec<Vec<std::cell::OnceCell<RoaringBitmap>>>,
    /// Documents of the universe with a match beyond the slots.
    pub far: RoaringBitmap,
}

impl TermSlots {
    pub fn new(derivations: &[(usize, Arc<Digest>)], universe: &RoaringBitmap) -> TermSlots {
        let digests: Vec<Arc<Digest>> = derivations.iter().map(|(_, d)| d.clone()).collect();
        let far = union_within(digests.iter().map(|d| &d.far), universe);
        let ranks = digests
            .iter()
            .map(|d| d.rank_positions.len())
            .max()
            .unwrap_or(0);
        let slots = (0..ranks)
            .map(|r| {
                let positions = digests
                    .iter()
                    .filter_map(|d| d.rank_positions.get(r).map(Vec::len))
                    .max()
                    .unwrap_or(0);
                (0..positions).map(|_| std::cell::OnceCell::new()).collect()
            })
            .collect();
        TermSlots {
            digests,
            universe: universe.clone(),
            slots,
            far,
        }
    }

    /// How many ranks, and positions of each rank, may hold matches.
    pub fn shape(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots.iter().map(Vec::len)
    }

    /// The documents of `within` (part of the universe) with a match at `position` of attribute
    /// `rank`. Restricting a slot to the universe costs about the universe's size, and pays when
    /// the slot is asked for again and again; a `within` much smaller than the universe meets the
    /// digests' slots directly instead, for about its own size (a rare word's few early positions
    /// against a one-letter prefix's slots, each as large as the index).
    pub fn meet(
        &self,
        rank: usize,
        position: i64,
        within: &RoaringBitmap,
    ) -> Option<RoaringBitmap> {
        let at = usize::try_from(position).ok()?;
        let cell = self.slots.get(rank)?.get(at)?;
        if let Some(docs) = cell.get() {
            return Some(docs & within);
        }
        if within.len() * MEET_RATIO >= self.universe.len() {
            return Some(self.at(rank, position)? & within);
        }
        Some(self.gather(rank, at, within))
    }

    /// The documents of the universe with a match at `position` of attribute `rank`.
    pub fn at(&self, rank: usize, position: i64) -> Option<&RoaringBitmap> {
        let position = usize::try_from(position).ok()?;
        let cell = self.slots.get(rank)?.get(position)?;
        Some(cell.get_or_init(|| self.gather(rank, position, &self.universe)))
    }

    /// The documents of `within` at `position` of attribute `rank` in any of the digests: one
    /// intersection per digest holding the slot (a disjointness test first would walk both sets
    /// twice whenever they meet).
    fn gather(&self, rank: usize, position: usize, within: &RoaringBitmap) -> RoaringBitmap {
        let mut docs: Option<RoaringBitmap> = None;
        for digest in &self.digests {
            if let Some(slot) = digest
                .rank_positions
                .get(rank)
                .and_then(|p| p.get(position))
            {
                let found = slot & within;
                match &mut docs {
                    Some(docs) => *docs |= found,
                    None => docs = Some(found),
                }
            }
        }
        docs.unwrap_or_default()
    }
}
