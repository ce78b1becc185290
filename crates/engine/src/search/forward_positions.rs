//! Every word position of each document of a segment, as (term ordinal, packed position) pairs.
//! The ranking rules read positions for the documents the digests cannot place (`far`: a
//! matched word beyond the digests' first positions), and on long texts those are most of a
//! bucket: 50 to 85% of the candidates of Debian's slowest keystrokes. Reading them from the
//! postings costs, per word of each derivation, a set intersection to find which of those
//! documents hold it, a seek and a block of positions decoded; that was three quarters of the
//! instructions of Debian's 60 slowest keystrokes. With this table, each document's words are
//! scanned once, in memory, against the query's words (`positions.rs`).
//!
//! One pass over the segment's postings builds it, on the segment tables' background thread,
//! kept per segment id like the forward words. It costs 8 bytes a word position, so only the
//! segments of long documents get one (more positions per document on average than the
//! digests keep per attribute): those are where documents are far. Ids are the segment's own
//! doc ids, deleted ones included.

use std::sync::LazyLock;

use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::InvertedIndexReader;

use super::context::read_positions;
use super::digest::POSITION_SLOTS;
use super::segment_tables::{
    for_each_term_block, DocLists, PrefetchedLists, SegmentTables, TextFieldTable, PER_CACHE_LINE,
};
use crate::error::{EngineError, Result};

/// Bytes of tables kept at once, over every index and segment.
const BUDGET_BYTES: usize = 256 * 1024 * 1024;
/// Largest table of one segment (16 M word positions: about 230,000 Debian descriptions). A
/// larger segment gets none and its searches read postings.
const MAX_TABLE_BYTES: usize = BUDGET_BYTES / 2;
/// A segment gets a table when its documents hold more word positions than this on average:
/// shorter documents are mostly within the digests' positions, and the table would cost
/// memory for few reads (PyPI's summaries).
const MIN_POSITIONS_PER_DOCUMENT: u64 = POSITION_SLOTS as u64;

/// The word positions of every document of one segment: per document, term ordinals
/// ascending, each ordinal's positions ascending.
#[derive(Debug, Default)]
pub struct ForwardPositions {
    /// Per document, the term ordinal of each of its pairs...
    ords: DocLists,
    /// ... and the pair's position, laid out alongside.
    positions: Vec<u32>,
    /// The segment has none (too many positions, or too few per document): this empty one
    /// stands in the cache so that the segment is not counted again.
    none: bool,
}

impl ForwardPositions {
    /// The term ordinals and the packed positions (attribute rank << 16 | word position) of a
    /// document (segment doc id), pair by pair.
    pub fn of(&self, doc: u32) -> (&[u32], &[u32]) {
        let range = self.ords.range(doc);
        (&self.ords.items()[range.clone()], &self.positions[range])
    }
}

/// The scan of far documents (`positions.rs`) asks for each document's pairs ahead: waiting for
/// them from memory was most of its time over thousands of documents.
impl PrefetchedLists for ForwardPositions {
    #[inline]
    fn prefetch(&self, doc: u32) {
        // A line of ordinals and the line of their positions, in turn: the first of each are
        // read first.
        for at in self.ords.prefetched_range(doc).step_by(PER_CACHE_LINE) {
            quarry_prefetch::prefetch(&self.ords.items()[at]);
            quarry_prefetch::prefetch(&self.positions[at]);
        }
    }

    #[inline]
    fn prefetch_bounds(&self, doc: u32) {
        self.ords.prefetch_bounds(doc);
    }
}

/// Read on the segment tables' background thread ([`super::segment_tables::ready_table`]): until
/// it is ready, and always for a segment without one, the search reads postings.
impl TextFieldTable for ForwardPositions {
    const NAME: &'static str = "forward positions";
    const MAX_BYTES: usize = MAX_TABLE_BYTES;

    fn cache() -> &'static SegmentTables<SegmentId, Self> {
        static CACHE: LazyLock<SegmentTables<SegmentId, ForwardPositions>> =
            LazyLock::new(|| SegmentTables::of_segments(BUDGET_BYTES));
        &CACHE
    }

    fn size(&self) -> usize {
        self.ords.bytes() + self.positions.len() * 4
    }

    /// Two passes over every term's postings: one counts each document's positions (term
    /// frequencies), the other writes them. Terms come in ordinal order, so each document's
    /// pairs are ordered by ordinal, then position.
    fn read(inverted: &InvertedIndexReader, max_doc: u32, max_bytes: usize) -> Result<Self> {
        let none = ForwardPositions {
            none: true,
            ..ForwardPositions::default()
        };
        // The segment's token count answers for short documents without reading any postings
        // (after every merge of a sustained reindexing of PyPI, that pass cost 0.2 s).
        let few = |positions: u64| positions <= u64::from(max_doc) * MIN_POSITIONS_PER_DOCUMENT;
        if few(inverted.total_num_tokens()) {
            return Ok(none);
        }
        let mut counts = vec![0u32; max_doc as usize + 1];
        for_each_term_block(inverted, IndexRecordOption::WithFreqs, |_, docs, freqs| {
            for (doc, freq) in docs.iter().zip(freqs) {
                if let Some(count) = counts.get_mut(*doc as usize + 1) {
                    *count += freq;
                }
            }
        })?;
        for i in 1..counts.len() {
            counts[i] = counts[i - 1]
                .checked_add(counts[i])
                .ok_or_else(|| EngineError::Corrupted("a segment with 2^32 positions".into()))?;
        }
        let total = *counts.last().unwrap_or(&0) as usize;
        if few(total as u64) || (2 * total + counts.len()) * 4 > max_bytes {
            return Ok(none);
        }
        let starts = counts;
        let mut next = starts.clone();
        let mut ords = vec![0u32; total];
        let mut positions = vec![0u32; total];
        let mut stream = inverted.terms().stream()?;
        while stream.advance() {
            let ord = u32::try_from(stream.term_ord())
                .map_err(|_| EngineError::Corrupted("a segment with 2^32 words".into()))?;
            read_positions(inverted, stream.value(), None, |doc, found| {
                if let Some(at) = next.get_mut(doc as usize) {
                    let from = *at as usize;
                    let to = (from + found.len()).min(starts[doc as usize + 1] as usize);
                    ords[from..to].fill(ord);
                    positions[from..to].copy_from_slice(&found[..to - from]);
                    *at = to as u32;
                }
            })?;
        }
        Ok(ForwardPositions {
            ords: DocLists::new(starts, ords),
            positions,
            none: false,
        })
    }

    fn is_none(&self) -> bool {
        self.none
    }

    fn entries(&self) -> usize {
        self.positions.len()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::postings::Postings;
    use tantivy::{DocSet, TERMINATED};

    use super::*;
    use crate::search::context::SearchContext;
    use crate::search::segment_tables::{read_tables_now, ready_table};

    /// On a real corpus, a document's pairs in the table are exactly the positions its terms'
    /// postings hold, in (ordinal, position) order.
    #[test]
    fn tables_hold_exactly_the_positions_of_each_document() {
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::ranking_equivalence::corpus_index("debian", 3000, dir.path());
        read_tables_now::<ForwardPositions>(&index);
        let ctx = SearchContext::new(&index).unwrap();
        let mut checked = 0u64;
        for view in ctx.segments() {
            let table = ready_table::<ForwardPositions>(&ctx, view).expect("long descriptions");
            let mut expected: Vec<Vec<(u32, u32)>> = vec![Vec::new(); view.max_doc as usize];
            let mut stream = view.inverted.terms().stream().unwrap();
            let mut buffer = Vec::new();
            while stream.advance() {
                let ord = stream.term_ord() as u32;
                let mut postings = view
                    .inverted
                    .read_postings_from_terminfo(
                        stream.value(),
                        IndexRecordOption::WithFreqsAndPositions,
                    )
                    .unwrap();
                while postings.doc() != TERMINATED {
                    postings.positions(&mut buffer);
                    let doc = postings.doc() as usize;
                    expected[doc].extend(buffer.iter().map(|&p| (ord, p)));
                    postings.advance();
                }
            }
            for (doc, pairs) in expected.iter().enumerate() {
                let (ords, positions) = table.of(doc as u32);
                let listed: Vec<(u32, u32)> = ords
                    .iter()
                    .copied()
                    .zip(positions.iter().copied())
                    .collect();
                assert_eq!(&listed, pairs, "document {doc}");
                assert!(listed.windows(2).all(|w| w[0] < w[1]));
                checked += pairs.len() as u64;
            }
            // Below the room it needs, a segment gets none, which searches never use.
            let needed = table.size() - 64;
            let refused = ForwardPositions::read(&view.inverted, view.max_doc, needed - 1).unwrap();
            assert!(refused.none && refused.positions.is_empty());
            let fits = ForwardPositions::read(&view.inverted, view.max_doc, needed).unwrap();
            assert!(!fits.none && fits.positions == table.positions);
        }
        assert!(checked > 100_000, "{checked} positions");
    }

    /// Short documents get no table: PyPI's names and summaries hold fewer positions on
    /// average than the digests keep.
    #[test]
    fn short_documents_get_no_table() {
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::ranking_equivalence::corpus_index("pypi", 2000, dir.path());
        let ctx = SearchContext::new(&index).unwrap();
        for view in ctx.segments() {
            let table = ForwardPositions::read(&view.inverted, view.max_doc, usize::MAX).unwrap();
            assert!(table.none);
        }
    }
}
