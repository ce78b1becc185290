//! Which words each document of a segment holds, as term ordinals of the segment's dictionary.
//! Reading positions for a few documents (`MatchCache::ensure`) must first find which words of a
//! derivation each of them holds; a one-letter prefix stands for 150 words, and intersecting
//! each word's documents with a few hundred documents spread over the whole index was most of
//! what the slowest keystrokes ("django d") cost. With this table, the words of each of those
//! documents (a dozen in a PyPI summary) are looked up among the derivation's words instead.
//!
//! One pass over the segment's postings (documents only) builds the table. A segment never
//! changes its documents' words, so a table serves every snapshot holding the segment, from a
//! process-wide cache keyed by segment id within a byte budget. It is read on the background
//! thread of the segment tables: a search that finds it not ready intersects sets as before.
//! Ids are the segment's own doc ids, deleted ones included.

use std::sync::LazyLock;

use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::InvertedIndexReader;

use super::segment_tables::{
    for_each_term_block, DocLists, PrefetchedLists, SegmentTables, TextFieldTable,
};
use crate::error::Result;

/// Bytes of tables kept at once, over every index and segment.
const BUDGET_BYTES: usize = 256 * 1024 * 1024;
/// Largest table of one segment (32 M words in all: about 3 M PyPI packages, or 650,000
/// Debian descriptions). A larger segment gets none and its searches intersect sets: the cache
/// keeps its newest table even past the budget, and such a table would be most of it.
const MAX_TABLE_BYTES: usize = BUDGET_BYTES / 2;

/// The words of every document of one segment: term ordinals, ascending per document.
#[derive(Debug, Default)]
pub struct ForwardWords {
    words: DocLists,
    /// The segment holds too many words for a table ([`MAX_TABLE_BYTES`]): this one is empty
    /// and stands in the cache so that the segment is not counted again.
    too_large: bool,
}

impl ForwardWords {
    /// The term ordinals of the words of a document (segment doc id), ascending.
    pub fn of(&self, doc: u32) -> &[u32] {
        self.words.of(doc)
    }

    /// How many words a document holds on average (rounded up; at least 1).
    pub fn words_per_document(&self) -> u64 {
        let docs = self.words.documents().max(1) as u64;
        (self.words.total() as u64).div_ceil(docs).max(1)
    }
}

/// Finding a derivation's words in a few hundred target documents (`positions.rs`) asks for
/// each document's words ahead.
impl PrefetchedLists for ForwardWords {
    #[inline]
    fn prefetch(&self, doc: u32) {
        self.words.prefetch(doc);
    }

    #[inline]
    fn prefetch_bounds(&self, doc: u32) {
        self.words.prefetch_bounds(doc);
    }
}

/// Read on the segment tables' background thread ([`super::segment_tables::ready_table`]): until
/// it is ready, and always for a segment too large for a table, the search intersects sets.
impl TextFieldTable for ForwardWords {
    const NAME: &'static str = "forward words";
    const MAX_BYTES: usize = MAX_TABLE_BYTES;

    fn cache() -> &'static SegmentTables<SegmentId, Self> {
        static CACHE: LazyLock<SegmentTables<SegmentId, ForwardWords>> =
            LazyLock::new(|| SegmentTables::of_segments(BUDGET_BYTES));
        &CACHE
    }

    fn size(&self) -> usize {
        self.words.bytes()
    }

    /// Two passes over every term's documents: one counts each document's words, the other
    /// writes them. Terms come in ordinal order, so each document's list is ascending.
    fn read(inverted: &InvertedIndexReader, max_doc: u32, max_bytes: usize) -> Result<Self> {
        let mut counts = vec![0u32; max_doc as usize + 1];
        for_each_term_block(inverted, IndexRecordOption::Basic, |_, docs, _| {
            for &doc in docs {
                if let Some(count) = counts.get_mut(doc as usize + 1) {
                    *count += 1;
                }
            }
        })?;
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let total = *counts.last().unwrap_or(&0) as usize;
        if (total + counts.len()) * 4 > max_bytes {
            return Ok(ForwardWords {
                too_large: true,
                ..ForwardWords::default()
            });
        }
        let starts = counts;
        let mut next = starts.clone();
        let mut ords = vec![0u32; total];
        for_each_term_block(inverted, IndexRecordOption::Basic, |ord, docs, _| {
            for &doc in docs {
                if let Some(at) = next.get_mut(doc as usize) {
                    ords[*at as usize] = ord;
                    *at += 1;
                }
            }
        })?;
        Ok(ForwardWords {
            words: DocLists::new(starts, ords),
            too_large: false,
        })
    }

    fn is_none(&self) -> bool {
        self.too_large
    }

    fn entries(&self) -> usize {
        self.words.total()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::context::SearchContext;
    use crate::search::segment_tables::{read_tables_now, ready_table};

    /// On a real corpus, a document's words in the table are exactly the terms whose postings
    /// hold it: every (term, document) pair of the postings is in the table, and nothing else.
    #[test]
    fn tables_hold_exactly_the_words_of_each_document() {
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::ranking_equivalence::corpus_index("debian", 3000, dir.path());
        read_tables_now::<ForwardWords>(&index);
        let ctx = SearchContext::new(&index).unwrap();
        let mut checked = 0u64;
        for view in ctx.segments() {
            let table = ready_table::<ForwardWords>(&ctx, view).expect("read above");
            let mut pairs = 0u64;
            for_each_term_block(&view.inverted, IndexRecordOption::Basic, |ord, docs, _| {
                for &doc in docs {
                    assert!(
                        table.of(doc).binary_search(&ord).is_ok(),
                        "term {ord} in {doc}"
                    );
                    pairs += 1;
                }
            })
            .unwrap();
            let listed: u64 = (0..view.max_doc).map(|d| table.of(d).len() as u64).sum();
            assert_eq!(listed, pairs);
            for d in 0..view.max_doc {
                assert!(table.of(d).windows(2).all(|w| w[0] < w[1]));
            }
            assert!(
                table.words_per_document() > 10,
                "Debian descriptions are long"
            );
            checked += pairs;
            // Below the room it needs, a segment gets an empty table marked too large, which
            // searches never use.
            let needed = table.size() - 64;
            let refused = ForwardWords::read(&view.inverted, view.max_doc, needed - 1).unwrap();
            assert!(refused.too_large && refused.words.total() == 0);
            let fits = ForwardWords::read(&view.inverted, view.max_doc, needed).unwrap();
            assert!(!fits.too_large && (0..view.max_doc).all(|d| fits.of(d) == table.of(d)));
        }
        assert!(checked > 100_000);
    }
}
