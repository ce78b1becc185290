//! The most frequent words under each short prefix, per segment. A one- or two-letter prefix
//! ("p", "py") stands for a large part of the dictionary, and finding its most frequent words
//! (the prefix derivations, `derivations.rs`) meant walking all of them on every snapshot's
//! first keystroke of that prefix: the largest cost left on cold search-as-you-type queries.
//! One pass over a segment's dictionary finds the top words of every short prefix at once.
//!
//! A table holds, for each prefix of up to [`MAX_PREFIX_CHARS`] characters under which the
//! segment has at least [`MIN_WORDS`] longer words, the [`MAX_PREFIX_DERIVATIONS`] of them with
//! the highest document frequencies (ties: the smaller word first), which is exactly what the
//! walk keeps per segment; prefixes with fewer words are walked at query time, which is cheap.
//! A segment's dictionary never changes, so a table serves every snapshot holding its segment,
//! from a process-wide cache keyed by segment id within a byte budget.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use tantivy::index::SegmentId;
use tantivy::InvertedIndexReader;

use super::context::{SearchContext, SegmentView};
use super::derivations::{TopK, MAX_PREFIX_DERIVATIONS};
use super::segment_tables::SegmentTables;
use crate::error::Result;

/// Longest prefix (in characters) with a table entry.
pub const MAX_PREFIX_CHARS: usize = 3;
/// Fewest longer words a prefix needs in a segment for an entry; below, walking them costs
/// less than keeping them.
pub const MIN_WORDS: usize = 512;
/// Bytes of tables kept at once, over every index and segment.
const BUDGET_BYTES: usize = 128 * 1024 * 1024;

/// The top words of the short prefixes of one segment.
#[derive(Debug, Default)]
pub struct PrefixTops {
    /// Prefix -> its range in `entries`.
    prefixes: HashMap<Box<[u8]>, (u32, u32)>,
    /// (document frequency, word's range in `bytes`), best first within a prefix.
    entries: Vec<(u32, u32, u32)>,
    bytes: Vec<u8>,
}

impl PrefixTops {
    /// The top words of `prefix` with their document frequencies, best first; `None` when the
    /// table has no entry for it (too long, or too few words: walk the dictionary).
    pub fn words(&self, prefix: &[u8]) -> Option<impl Iterator<Item = (u64, &[u8])>> {
        let &(from, to) = self.prefixes.get(prefix)?;
        Some(
            self.entries[from as usize..to as usize]
                .iter()
                .map(|&(freq, start, len)| {
                    (
                        u64::from(freq),
                        &self.bytes[start as usize..(start + len) as usize],
                    )
                }),
        )
    }

    /// Every prefix with an entry, with the summed document frequencies of its top words (a
    /// measure of how much of the index the prefix reaches).
    pub fn prefixes(&self) -> impl Iterator<Item = (&[u8], u64)> {
        self.prefixes.iter().map(|(prefix, &(from, to))| {
            let reach = self.entries[from as usize..to as usize]
                .iter()
                .map(|&(freq, _, _)| u64::from(freq))
                .sum();
            (&prefix[..], reach)
        })
    }

    fn size(&self) -> usize {
        self.entries.len() * 12 + self.bytes.len() + self.prefixes.len() * 48 + 64
    }

    /// One pass over the dictionary: the words under a prefix are contiguous in it, so each
    /// prefix length keeps one running group, closed when a word with another prefix comes.
    fn read(inverted: &InvertedIndexReader) -> Result<PrefixTops> {
        let mut table = PrefixTops::default();
        let mut groups: [Group; MAX_PREFIX_CHARS] = Default::default();
        let mut stream = inverted.terms().stream()?;
        while stream.advance() {
            let key = stream.key();
            let freq = stream.value().doc_freq;
            let (ends, count) = char_ends(key);
            for (group, &end) in groups.iter_mut().zip(&ends[..count]) {
                let prefix = &key[..end];
                if group.prefix != prefix {
                    group.close(&mut table);
                    group.prefix.extend_from_slice(prefix);
                }
                if key.len() > end {
                    group.offer(freq, key);
                }
            }
        }
        for group in &mut groups {
            group.close(&mut table);
        }
        Ok(table)
    }
}

/// The byte ends of a word's first [`MAX_PREFIX_CHARS`] characters, and how many there are
/// (fewer when the word is shorter or stops being UTF-8).
fn char_ends(key: &[u8]) -> ([usize; MAX_PREFIX_CHARS], usize) {
    let mut ends = [0; MAX_PREFIX_CHARS];
    let mut count = 0;
    let mut at = 0;
    while count < MAX_PREFIX_CHARS && at < key.len() {
        let width = match key[at] {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => break,
        };
        if at + width > key.len() || std::str::from_utf8(&key[at..at + width]).is_err() {
            break;
        }
        at += width;
        ends[count] = at;
        count += 1;
    }
    (ends, count)
}

/// The running group of one prefix length: its prefix, how many longer words it has, and the
/// best of them so far.
struct Group {
    prefix: Vec<u8>,
    words: usize,
    best: TopK,
}

impl Default for Group {
    fn default() -> Group {
        Group {
            prefix: Vec::new(),
            words: 0,
            best: TopK::new(MAX_PREFIX_DERIVATIONS),
        }
    }
}

impl Group {
    fn offer(&mut self, freq: u32, key: &[u8]) {
        self.words += 1;
        self.best.offer(u64::from(freq), key);
    }

    /// Puts the group's best words in the table when it has enough words, and starts over.
    fn close(&mut self, table: &mut PrefixTops) {
        let group = std::mem::take(self);
        if group.words < MIN_WORDS {
            return;
        }
        let from = table.entries.len() as u32;
        for (freq, word) in group.best.into_items() {
            // Counts are tantivy's u32 document frequencies.
            let freq = u32::try_from(freq).unwrap_or(u32::MAX);
            table
                .entries
                .push((freq, table.bytes.len() as u32, word.len() as u32));
            table.bytes.extend_from_slice(&word);
        }
        let to = table.entries.len() as u32;
        table
            .prefixes
            .insert(group.prefix.into_boxed_slice(), (from, to));
    }
}

static CACHE: LazyLock<SegmentTables<SegmentId, PrefixTops>> =
    LazyLock::new(|| SegmentTables::of_segments(BUDGET_BYTES));

/// The prefix table of the segment when it is ready. The first ask queues its reading in the
/// background and gets `None`: the search walks the dictionary meanwhile, so no search pays for
/// a pass over a whole dictionary.
pub fn ready_prefix_tops(ctx: &SearchContext, view: &SegmentView) -> Option<Arc<PrefixTops>> {
    let segment = ctx.segment_reader(view).segment_id();
    let inverted = view.inverted.clone();
    CACHE.get_or_read_in_background(
        segment,
        move || PrefixTops::read(&inverted),
        PrefixTops::size,
    )
}

/// Whether the prefix table of a segment has been read.
#[cfg(test)]
pub(super) fn is_ready(segment: &SegmentId) -> bool {
    CACHE.is_ready(segment)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::search::context::prefix_upper_bound;
    use crate::search::derivations::{find_derivations, longer_words, walk_prefix};

    /// On a real dictionary, every short prefix's table entry is exactly what walking its
    /// words keeps, and prefixes without an entry have fewer than [`MIN_WORDS`] longer words.
    #[test]
    fn tables_keep_what_the_walk_keeps() {
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::ranking_equivalence::corpus_index("debian", 6000, dir.path());
        let ctx = SearchContext::new(&index).unwrap();
        let mut with_entry = 0;
        for view in ctx.segments() {
            let table = PrefixTops::read(&view.inverted).unwrap();
            let mut prefixes = BTreeSet::new();
            let mut stream = view.inverted.terms().stream().unwrap();
            while stream.advance() {
                let key = stream.key();
                let (ends, count) = char_ends(key);
                for &end in &ends[..count] {
                    prefixes.insert(key[..end].to_vec());
                }
            }
            for prefix in &prefixes {
                let word = std::str::from_utf8(prefix).unwrap();
                let upper = prefix_upper_bound(prefix);
                let walked = walk_prefix(view, word, upper.as_deref()).unwrap();
                match table.words(prefix) {
                    Some(words) => {
                        with_entry += 1;
                        let kept: Vec<(u64, Vec<u8>)> =
                            words.map(|(freq, key)| (freq, key.to_vec())).collect();
                        assert_eq!(kept, walked, "prefix {word:?}");
                    }
                    None => {
                        let mut stream = longer_words(view, prefix, upper.as_deref()).unwrap();
                        let mut longer = 0;
                        while stream.advance() {
                            longer += 1;
                        }
                        assert!(longer < MIN_WORDS, "prefix {word:?} has {longer} words");
                    }
                }
            }
        }
        assert!(with_entry >= 20, "only {with_entry} prefixes have an entry");
    }

    /// A search that finds no table ready walks the dictionary and queues the table; once it
    /// is read, the same prefixes derive the same words from it.
    #[test]
    fn prefixes_derive_the_same_words_before_and_after_the_tables_are_read() {
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::ranking_equivalence::corpus_index("debian", 6000, dir.path());
        let ctx = SearchContext::new(&index).unwrap();
        let prefixes = ["s", "li", "pyt", "x", "é"];
        let walked: Vec<_> = prefixes
            .iter()
            .map(|p| find_derivations(&ctx, p, true, 0).unwrap().prefixes)
            .collect();
        let waited = std::time::Instant::now();
        while ctx
            .segments()
            .iter()
            .any(|view| ready_prefix_tops(&ctx, view).is_none())
        {
            assert!(
                waited.elapsed().as_secs() < 120,
                "tables never became ready"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // The second derivation of "s" reads every segment's table, not the walk again.
        for view in ctx.segments() {
            let table = ready_prefix_tops(&ctx, view).unwrap();
            assert!(table.words(b"s").is_some(), "no table entry for \"s\"");
        }
        let from_tables: Vec<_> = prefixes
            .iter()
            .map(|p| find_derivations(&ctx, p, true, 0).unwrap().prefixes)
            .collect();
        assert_eq!(walked, from_tables);
        assert_eq!(
            walked[0].len(),
            crate::search::derivations::MAX_PREFIX_DERIVATIONS
        );
        assert!(walked[1].iter().all(|w| w.starts_with("li") && w != "li"));
    }
}
