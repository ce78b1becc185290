//! The order the documents routes list documents in: by primary key value, integer ids by
//! value first, then the other ids by byte order. Listing by the documents' places in segments
//! instead would reorder them whenever segments merge, so a client paging through an index
//! while it merged in the background saw some documents twice and others never. A primary key
//! never moves, so pages asked for at different moments stay consistent (as long as the
//! documents themselves do not change in between).
//!
//! Each segment's table lists its documents (deleted ones too: deletes only hide documents) in
//! that order with their ids, read once from the id field's dictionary and kept in a
//! process-wide cache keyed by segment id. Listing merges the tables of the snapshot's
//! segments and keeps the live documents asked for.

use std::cmp::Ordering;
use std::sync::{Arc, LazyLock};

use roaring::RoaringBitmap;
use serde_json::{Map, Value};
use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, TERMINATED};

use super::context::{SearchContext, SegmentView};
use super::segment_tables::SegmentTables;
use crate::error::Result;
use crate::index::read_source;

/// Bytes of tables kept at once, over every index and segment.
const BUDGET_BYTES: usize = 128 * 1024 * 1024;

/// One segment's documents in id order.
#[derive(Debug, Default)]
pub struct IdOrder {
    /// Entry `e` (in id order) is document `docs[e]` with id `keys[starts[e]..starts[e + 1]]`.
    docs: Vec<u32>,
    starts: Vec<u32>,
    keys: Vec<u8>,
}

impl IdOrder {
    fn len(&self) -> usize {
        self.docs.len()
    }

    fn key(&self, entry: usize) -> &[u8] {
        &self.keys[self.starts[entry] as usize..self.starts[entry + 1] as usize]
    }

    fn bytes(&self) -> usize {
        (self.docs.len() + self.starts.len()) * 4 + self.keys.len() + 64
    }

    /// Reads the id field's dictionary of the segment: one entry per (id, document), deleted
    /// documents included.
    fn read(ctx: &SearchContext, view: &SegmentView) -> Result<IdOrder> {
        let inverted = ctx.segment_reader(view).inverted_index(ctx.fields.id)?;
        // In dictionary (byte) order first.
        let mut docs = Vec::with_capacity(view.max_doc as usize);
        let mut starts = Vec::with_capacity(view.max_doc as usize + 1);
        let mut keys = Vec::new();
        let mut stream = inverted.terms().stream()?;
        while stream.advance() {
            let mut postings =
                inverted.read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                starts.push(keys.len() as u32);
                keys.extend_from_slice(stream.key());
                docs.push(doc);
                doc = postings.advance();
            }
        }
        starts.push(keys.len() as u32);
        // Integer ids by value: among ids of digits only, by length then bytes. A stable sort
        // on (class, length) keeps the dictionary's byte order within each length.
        let len = docs.len();
        let mut order: Vec<u32> = (0..len as u32).collect();
        let span = |e: u32| &keys[starts[e as usize] as usize..starts[e as usize + 1] as usize];
        order.sort_by_cached_key(|&e| {
            let key = span(e);
            match is_integer(key) {
                true => (0u8, key.len()),
                false => (1u8, 0),
            }
        });
        let mut sorted = IdOrder {
            docs: Vec::with_capacity(len),
            starts: Vec::with_capacity(len + 1),
            keys: Vec::with_capacity(keys.len()),
        };
        for e in order {
            sorted.starts.push(sorted.keys.len() as u32);
            sorted.keys.extend_from_slice(span(e));
            sorted.docs.push(docs[e as usize]);
        }
        sorted.starts.push(sorted.keys.len() as u32);
        Ok(sorted)
    }
}

fn is_integer(key: &[u8]) -> bool {
    !key.is_empty() && key.iter().all(u8::is_ascii_digit)
}

/// The listing order of two ids: integers (digits only) by value (length, then digits), before
/// every other id, which go by byte order.
fn compare_ids(a: &[u8], b: &[u8]) -> Ordering {
    match (is_integer(a), is_integer(b)) {
        (true, true) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

static CACHE: LazyLock<SegmentTables<SegmentId, IdOrder>> =
    LazyLock::new(|| SegmentTables::of_segments(BUDGET_BYTES));

fn id_order(ctx: &SearchContext, view: &SegmentView) -> Result<Arc<IdOrder>> {
    let segment = ctx.segment_reader(view).segment_id();
    CACHE.get_or_read(segment, || IdOrder::read(ctx, view), IdOrder::bytes)
}

/// A page of a listing: the stored documents of `selected` (live ones) from `offset` on in id
/// order, at most `limit` of them, with how many `selected` holds. Only the page's documents
/// are read.
pub fn documents_in_id_order(
    ctx: &SearchContext,
    selected: &RoaringBitmap,
    offset: usize,
    limit: usize,
) -> Result<(Vec<Map<String, Value>>, u64)> {
    let total = selected.len();
    let mut page = Vec::with_capacity(limit.min(1000));
    if limit > 0 && (offset as u64) < total {
        let mut skipped = 0usize;
        for_each_in_id_order(ctx, selected, |id| {
            if skipped < offset {
                skipped += 1;
                return true;
            }
            page.push(id);
            page.len() < limit
        })?;
    }
    let documents = page
        .into_iter()
        .map(|id| read_source(&ctx.searcher, ctx.fields, ctx.address(id)))
        .collect::<Result<_>>()?;
    Ok((documents, total))
}

/// Calls `visit` with the global id of each document of `selected` (live documents only), in
/// id order, until it returns `false`.
fn for_each_in_id_order(
    ctx: &SearchContext,
    selected: &RoaringBitmap,
    mut visit: impl FnMut(u32) -> bool,
) -> Result<()> {
    let mut heads = Vec::with_capacity(ctx.segments().len());
    for view in ctx.segments() {
        let range = view.range();
        if selected.range_cardinality(range.start..range.end) == 0 {
            continue;
        }
        heads.push((id_order(ctx, view)?, 0usize, view.base));
    }
    loop {
        // The segment whose next id comes first (few segments: a scan beats a heap).
        let mut best: Option<usize> = None;
        for (i, (order, at, _)) in heads.iter().enumerate() {
            if *at >= order.len() {
                continue;
            }
            best = match best {
                Some(b) if compare_ids(heads[b].0.key(heads[b].1), order.key(*at)).is_le() => {
                    Some(b)
                }
                _ => Some(i),
            };
        }
        let Some(best) = best else {
            return Ok(());
        };
        let (order, at, base) = &mut heads[best];
        let id = *base + order.docs[*at];
        *at += 1;
        if selected.contains(id) && !visit(id) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::compare_ids;
    use std::cmp::Ordering;

    #[test]
    fn integers_come_by_value_before_other_ids_by_bytes() {
        let mut ids = vec!["b", "10", "a-1", "9", "007", "100", "A", "2", "9a"];
        ids.sort_by(|a, b| compare_ids(a.as_bytes(), b.as_bytes()));
        assert_eq!(ids, ["2", "9", "10", "007", "100", "9a", "A", "a-1", "b"]);
        assert_eq!(compare_ids(b"42", b"42"), Ordering::Equal);
    }
}
