//! Facet columns: for one segment and one faceted field, the values of every document, so that
//! facet counts, wide numeric ranges and sorting a small set of documents cost a pass over the
//! documents concerned instead of one postings read per distinct value of the field.
//!
//! A column is read once from the field's facet terms (`crate::facet`), which stay the stored
//! form: nothing changes on disk and no indexing time is spent on it. A segment never changes
//! its documents' values (deletes only hide documents), so a column serves every snapshot that
//! holds its segment, and is kept in a process-wide cache keyed by segment id and field, within a
//! byte budget. Ids inside a column are the segment's own doc ids, deleted ones included: callers
//! always restrict to live documents through the sets they iterate.
//!
//! Values are numbered in the order the engine sorts and lists facet values: numbers ascending,
//! then strings by normalized form. An ordinal is only meaningful within its segment.

use std::sync::{Arc, LazyLock};

use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, TERMINATED};

use super::context::{prefix_upper_bound, SegmentView};
use super::segment_tables::SegmentTables;
use crate::error::Result;
use crate::facet;

/// A document without a value, in a single-valued column.
const NONE: u32 = u32::MAX;

/// Bytes of columns kept at once, over every index and segment.
const BUDGET_BYTES: usize = 512 * 1024 * 1024;

/// Which values each document of a segment has, as ordinals ascending.
#[derive(Debug)]
enum DocOrds {
    /// At most one value per document (`NONE` for none): the common case, one slot a document.
    Single(Vec<u32>),
    /// Document `d` has `ords[starts[d]..starts[d + 1]]`.
    Multi { starts: Vec<u32>, ords: Vec<u32> },
}

/// The values of one field in one segment.
#[derive(Debug)]
pub struct FieldColumn {
    /// The distinct numbers, ascending: ordinals `0..numbers.len()`.
    pub numbers: Vec<f64>,
    /// The distinct strings, by normalized form, with the first original spelling: ordinals
    /// from `numbers.len()` on.
    pub strings: Vec<(Box<[u8]>, Box<str>)>,
    docs: DocOrds,
}

/// One value of a column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColumnValue<'a> {
    Number(f64),
    /// Normalized form and original spelling.
    Text(&'a [u8], &'a str),
}

impl FieldColumn {
    /// How many distinct values the segment has for the field.
    pub fn len(&self) -> usize {
        self.numbers.len() + self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ordinals of a document's values (segment doc id), ascending.
    pub fn ords(&self, doc: u32) -> &[u32] {
        match &self.docs {
            DocOrds::Single(ords) => match ords.get(doc as usize) {
                Some(o) if *o != NONE => std::slice::from_ref(o),
                _ => &[],
            },
            DocOrds::Multi { starts, ords } => {
                let (Some(&from), Some(&to)) =
                    (starts.get(doc as usize), starts.get(doc as usize + 1))
                else {
                    return &[];
                };
                &ords[from as usize..to as usize]
            }
        }
    }

    pub fn value(&self, ord: u32) -> ColumnValue<'_> {
        let ord = ord as usize;
        match self.numbers.get(ord) {
            Some(n) => ColumnValue::Number(*n),
            None => {
                let (normalized, original) = &self.strings[ord - self.numbers.len()];
                ColumnValue::Text(normalized, original)
            }
        }
    }

    /// The ordinals of the numbers within the bounds: `start..end`.
    pub fn number_range(
        &self,
        low: std::ops::Bound<f64>,
        high: std::ops::Bound<f64>,
    ) -> std::ops::Range<u32> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let start = match low {
            Included(l) => self.numbers.partition_point(|n| *n < l),
            Excluded(l) => self.numbers.partition_point(|n| *n <= l),
            Unbounded => 0,
        };
        let end = match high {
            Included(h) => self.numbers.partition_point(|n| *n <= h),
            Excluded(h) => self.numbers.partition_point(|n| *n < h),
            Unbounded => self.numbers.len(),
        };
        start as u32..end.max(start) as u32
    }

    /// The segment doc ids below `max_doc` having a value in `ords`, as a bitset of 64
    /// documents a word (deleted documents included). A single-valued column is scanned
    /// without a branch per document, which the compiler vectorizes: a range over a million
    /// documents costs about as much as copying their values once.
    pub fn docs_in(&self, ords: std::ops::Range<u32>, max_doc: u32) -> Vec<u64> {
        let words = (max_doc as usize).div_ceil(64);
        match &self.docs {
            DocOrds::Single(values) => {
                let start = ords.start;
                let len = ords.end.saturating_sub(ords.start);
                let values = &values[..values.len().min(max_doc as usize)];
                let mut out: Vec<u64> = values
                    .chunks(64)
                    .map(|chunk| {
                        // `NONE` wraps to at least `u32::MAX - start`, never below `len`.
                        chunk.iter().enumerate().fold(0u64, |word, (i, ord)| {
                            word | (u64::from(ord.wrapping_sub(start) < len) << i)
                        })
                    })
                    .collect();
                out.resize(words, 0);
                out
            }
            DocOrds::Multi { .. } => {
                let mut out = vec![0u64; words];
                for doc in 0..max_doc {
                    if self.ords(doc).iter().any(|o| ords.contains(o)) {
                        out[doc as usize / 64] |= 1 << (doc % 64);
                    }
                }
                out
            }
        }
    }

    fn bytes(&self) -> usize {
        let docs = match &self.docs {
            DocOrds::Single(v) => v.len() * 4,
            DocOrds::Multi { starts, ords } => (starts.len() + ords.len()) * 4,
        };
        let strings: usize = self
            .strings
            .iter()
            .map(|(n, o)| n.len() + o.len() + 32)
            .sum();
        docs + self.numbers.len() * 8 + strings + 64
    }

    /// Reads the column of `field` from the facet terms of one segment.
    fn read(view: &SegmentView, field: &str) -> Result<FieldColumn> {
        let mut builder = ColumnBuilder::new(view.max_doc);
        let mut numbers = Vec::new();
        scan_terms(view, &facet::number_prefix(field), |rest, postings| {
            let Some(n) = std::str::from_utf8(rest)
                .ok()
                .and_then(facet::decode_number)
            else {
                return Ok(());
            };
            if numbers.last() != Some(&n) {
                numbers.push(n);
            }
            builder.add(numbers.len() as u32 - 1, postings);
            Ok(())
        })?;
        let mut strings: Vec<(Box<[u8]>, Box<str>)> = Vec::new();
        let base = numbers.len() as u32;
        scan_terms(view, &facet::string_prefix(field), |rest, postings| {
            let (normalized, original) = facet::split_string_rest(rest);
            if strings.last().is_none_or(|(n, _)| **n != *normalized) {
                strings.push((
                    normalized.into(),
                    String::from_utf8_lossy(original).into_owned().into(),
                ));
            }
            builder.add(base + strings.len() as u32 - 1, postings);
            Ok(())
        })?;
        Ok(FieldColumn {
            numbers,
            strings,
            docs: builder.finish(),
        })
    }
}

/// Collects (document, ordinal) pairs given in increasing ordinal order.
struct ColumnBuilder {
    first: Vec<u32>,
    /// Second and later values of a document, in the order met (ordinals increasing).
    more: Vec<(u32, u32)>,
}

impl ColumnBuilder {
    fn new(max_doc: u32) -> ColumnBuilder {
        ColumnBuilder {
            first: vec![NONE; max_doc as usize],
            more: Vec::new(),
        }
    }

    fn add(&mut self, ord: u32, mut postings: tantivy::postings::SegmentPostings) {
        let mut doc = postings.doc();
        while doc != TERMINATED {
            match self.first.get_mut(doc as usize) {
                Some(slot) if *slot == NONE => *slot = ord,
                // The same ordinal twice: one value spelt two ways, normalized alike.
                Some(slot) if *slot == ord => {}
                Some(_) => self.more.push((doc, ord)),
                None => {}
            }
            doc = postings.advance();
        }
    }

    fn finish(self) -> DocOrds {
        if self.more.is_empty() {
            return DocOrds::Single(self.first);
        }
        let mut more = self.more;
        // Stable: a document's ordinals stay in increasing order.
        more.sort_by_key(|(doc, _)| *doc);
        more.dedup();
        let mut starts = Vec::with_capacity(self.first.len() + 1);
        let mut ords = Vec::with_capacity(self.first.len() + more.len());
        let mut next = more.iter().peekable();
        for (doc, first) in self.first.iter().enumerate() {
            starts.push(ords.len() as u32);
            if *first != NONE {
                ords.push(*first);
            }
            while let Some((d, ord)) = next.peek() {
                if *d as usize != doc {
                    break;
                }
                if ords.last() != Some(ord) {
                    ords.push(*ord);
                }
                next.next();
            }
        }
        starts.push(ords.len() as u32);
        DocOrds::Multi { starts, ords }
    }
}

/// Calls `each` with the bytes after `prefix` and the postings (all documents) of every facet
/// term of the segment starting with `prefix`, in term order.
fn scan_terms(
    view: &SegmentView,
    prefix: &str,
    mut each: impl FnMut(&[u8], tantivy::postings::SegmentPostings) -> Result<()>,
) -> Result<()> {
    let upper = prefix_upper_bound(prefix.as_bytes());
    let mut range = view.facets.terms().range().ge(prefix.as_bytes());
    if let Some(upper) = &upper {
        range = range.lt(upper);
    }
    let mut stream = range.into_stream()?;
    while stream.advance() {
        let postings = view
            .facets
            .read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)?;
        each(&stream.key()[prefix.len()..], postings)?;
    }
    Ok(())
}

static CACHE: LazyLock<SegmentTables<(SegmentId, String), FieldColumn>> =
    LazyLock::new(|| SegmentTables::new(BUDGET_BYTES));

/// The column of `field` in the segment, read from its facet terms the first time it is asked
/// for. Concurrent first uses read it once.
pub fn column(view: &SegmentView, segment: SegmentId, field: &str) -> Result<Arc<FieldColumn>> {
    CACHE.get_or_read(
        (segment, field.to_string()),
        || FieldColumn::read(view, field),
        FieldColumn::bytes,
    )
}
