//! Where each document's values end, for one segment: the positions of the end-of-value marker
//! the indexer writes after every value, read once for the whole segment and kept. Digests
//! (`digest.rs`) and exactness need them for every document a word occurs in; reading them
//! from the marker's postings with one seek per document walks that list's skip entries again
//! for every word (the marker is in every document), which cost more than the word's own
//! postings. One sequential pass over the marker's postings builds the table instead.
//!
//! A segment never changes its documents' positions (deletes only hide documents), so a table
//! serves every snapshot that holds its segment, and is kept in a process-wide cache keyed by
//! segment id, within a byte budget. Ids are the segment's own doc ids, deleted ones included.

use std::sync::{Arc, LazyLock};

use tantivy::index::SegmentId;

use super::context::{SearchContext, SegmentView};
use super::segment_tables::{DocLists, SegmentTables};
use crate::analysis::END_OF_VALUE;
use crate::error::Result;

/// Bytes of tables kept at once, over every index and segment.
const BUDGET_BYTES: usize = 256 * 1024 * 1024;

/// The value ends of every document of one segment: packed positions right after the last
/// word of each value, ascending per document.
#[derive(Debug, Default)]
pub struct ValueEnds {
    ends: DocLists,
}

impl ValueEnds {
    /// The ends of the values of a document (segment doc id), ascending.
    pub fn of(&self, doc: u32) -> &[u32] {
        self.ends.of(doc)
    }

    fn bytes(&self) -> usize {
        self.ends.bytes()
    }

    /// Reads the table from the marker's postings: one pass over its documents and positions.
    fn read(ctx: &SearchContext, view: &SegmentView) -> Result<ValueEnds> {
        let mut starts = Vec::with_capacity(view.max_doc as usize + 1);
        let mut positions = Vec::with_capacity(view.max_doc as usize * 2);
        ctx.for_each_positions(view, END_OF_VALUE, |doc, ends| {
            if doc < view.max_doc {
                // Documents without a value (none before `doc`) have no ends.
                starts.resize(doc as usize + 1, positions.len() as u32);
                positions.extend_from_slice(ends);
            }
        })?;
        starts.resize(view.max_doc as usize + 1, positions.len() as u32);
        Ok(ValueEnds {
            ends: DocLists::new(starts, positions),
        })
    }
}

static CACHE: LazyLock<SegmentTables<SegmentId, ValueEnds>> =
    LazyLock::new(|| SegmentTables::of_segments(BUDGET_BYTES));

/// The value ends of the segment, read the first time they are asked for. Concurrent first uses
/// read them once.
pub fn value_ends(ctx: &SearchContext, view: &SegmentView) -> Result<Arc<ValueEnds>> {
    let segment = ctx.segment_reader(view).segment_id();
    CACHE.get_or_read(segment, || ValueEnds::read(ctx, view), ValueEnds::bytes)
}

/// Whether the value ends of a segment are at hand.
#[cfg(test)]
pub(super) fn is_ready(segment: &SegmentId) -> bool {
    CACHE.is_ready(segment)
}
