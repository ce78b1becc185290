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

/// One document's ordinal in a single-valued column, in the narrowest width that holds every
/// ordinal of the column plus `NONE`. Searches read these at scattered documents (a facet
/// count, a filter or a sort over a query's candidates), so most reads are cache misses: a
/// field of a few hundred values (a year, a category) in one byte costs a quarter of the
/// memory traffic it would in four.
trait Slot: Copy + Eq + Ord {
    /// A document without a value. Never a valid ordinal: a column holding this many values
    /// or more is stored wider.
    const NONE: Self;
    fn from_ord(ord: u32) -> Self;
    fn ord(self) -> u32;
    /// `self - other`, wrapping, in the slot's own width.
    fn minus(self, other: Self) -> Self;
}

macro_rules! slot {
    ($t:ty) => {
        impl Slot for $t {
            const NONE: $t = <$t>::MAX;
            fn from_ord(ord: u32) -> $t {
                debug_assert!(ord < u32::from(Self::NONE));
                ord as $t
            }
            fn ord(self) -> u32 {
                u32::from(self)
            }
            fn minus(self, other: $t) -> $t {
                self.wrapping_sub(other)
            }
        }
    };
}
slot!(u8);
slot!(u16);
slot!(u32);

/// Bytes of columns kept at once, over every index and segment.
const BUDGET_BYTES: usize = 512 * 1024 * 1024;

/// Which values each document of a segment has, as ordinals ascending.
#[derive(Debug)]
enum DocOrds {
    /// At most one value per document (`Slot::NONE` for none): the common case, one slot a
    /// document, as narrow as the number of values allows.
    Single8(Vec<u8>),
    Single16(Vec<u16>),
    Single32(Vec<u32>),
    /// Document `d` has `ords[starts[d]..starts[d + 1]]`.
    Multi {
        starts: Vec<u32>,
        ords: Vec<u32>,
    },
}

/// Runs `$body` with `$values` bound to the slots of a single-valued column, whatever their
/// width, or `$multi` for a multi-valued one.
macro_rules! with_slots {
    ($docs:expr, $values:ident => $body:expr, multi => $multi:expr) => {
        match $docs {
            DocOrds::Single8($values) => $body,
            DocOrds::Single16($values) => $body,
            DocOrds::Single32($values) => $body,
            DocOrds::Multi { .. } => $multi,
        }
    };
}

/// The ordinals of one document's values, ascending: read as a slice.
#[derive(Debug, Clone, Copy)]
pub enum Ords<'a> {
    /// A single-valued column's ordinal, widened to `u32`.
    One([u32; 1]),
    /// A multi-valued column's ordinals, or none.
    Many(&'a [u32]),
}

impl std::ops::Deref for Ords<'_> {
    type Target = [u32];

    fn deref(&self) -> &[u32] {
        match self {
            Ords::One(one) => one,
            Ords::Many(many) => many,
        }
    }
}

impl Ords<'_> {
    fn single<T: Slot>(slot: Option<&T>) -> Ords<'static> {
        match slot {
            Some(&slot) if slot != T::NONE => Ords::One([slot.ord()]),
            _ => Ords::Many(&[]),
        }
    }
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

/// A single-valued column's documents in the order of their values: what a sort of many
/// documents walks, a page needing only the first few values. Built on first use with one
/// counting pass over the column, and cached like columns.
#[derive(Debug)]
pub struct ValueOrder {
    /// The segment doc ids having a value (deleted ones included), by ordinal, then by id.
    docs: Vec<u32>,
    /// `docs[starts[o]..starts[o + 1]]` have ordinal `o`.
    starts: Vec<u32>,
}

impl ValueOrder {
    /// The segment doc ids whose value has ordinal `ord`, ascending.
    pub fn docs_of(&self, ord: u32) -> &[u32] {
        let ord = ord as usize;
        match (self.starts.get(ord), self.starts.get(ord + 1)) {
            (Some(&from), Some(&to)) => &self.docs[from as usize..to as usize],
            _ => &[],
        }
    }

    fn bytes(&self) -> usize {
        (self.docs.len() + self.starts.len()) * 4 + 64
    }
}

/// Counting sort of a single-valued column's documents by ordinal (`values` ordinals).
fn order_slots<T: Slot>(slots: &[T], values: usize) -> ValueOrder {
    let mut starts = vec![0u32; values + 1];
    for &slot in slots {
        if slot != T::NONE {
            starts[slot.ord() as usize + 1] += 1;
        }
    }
    for o in 1..starts.len() {
        starts[o] += starts[o - 1];
    }
    let mut next = starts.clone();
    let mut docs = vec![0u32; starts[values] as usize];
    for (doc, &slot) in slots.iter().enumerate() {
        if slot != T::NONE {
            let at = &mut next[slot.ord() as usize];
            docs[*at as usize] = doc as u32;
            *at += 1;
        }
    }
    ValueOrder { docs, starts }
}

impl FieldColumn {
    /// How many distinct values the segment has for the field.
    pub fn len(&self) -> usize {
        self.numbers.len() + self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether each document has one value at most.
    pub fn is_single_valued(&self) -> bool {
        !matches!(self.docs, DocOrds::Multi { .. })
    }

    /// The documents in the order of their values, for a single-valued column.
    fn value_order(&self) -> Option<ValueOrder> {
        with_slots!(&self.docs, values => Some(order_slots(values, self.len())), multi => None)
    }

    /// The ordinals of a document's values (segment doc id), ascending.
    pub fn ords(&self, doc: u32) -> Ords<'_> {
        let at = doc as usize;
        match &self.docs {
            DocOrds::Single8(values) => Ords::single(values.get(at)),
            DocOrds::Single16(values) => Ords::single(values.get(at)),
            DocOrds::Single32(values) => Ords::single(values.get(at)),
            DocOrds::Multi { starts, ords } => {
                Ords::Many(match (starts.get(at), starts.get(at + 1)) {
                    (Some(&from), Some(&to)) => &ords[from as usize..to as usize],
                    _ => &[],
                })
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

    /// Adds one to `counts[ord]` for each value of each document of `docs` (global ids, the
    /// segment's document 0 being `base`). `counts` has a slot per value of the column.
    pub fn count_ords(&self, docs: &[u32], base: u32, counts: &mut [u32]) {
        with_slots!(&self.docs, values => count_slots(values, docs, base, counts), multi => {
            for &doc in docs {
                for ord in self.ords(doc - base).iter() {
                    counts[*ord as usize] += 1;
                }
            }
        })
    }

    /// Adds one to `counts[ord]` for each value of each document below `max_doc` that `alive`
    /// (the segment's deletes, if any) keeps: every live document of the segment, in one pass
    /// over the column.
    pub fn count_every(
        &self,
        max_doc: u32,
        alive: Option<&tantivy::fastfield::AliveBitSet>,
        counts: &mut [u32],
    ) {
        with_slots!(&self.docs, values => {
            let values = &values[..values.len().min(max_doc as usize)];
            count_every_slot(values, alive, counts)
        }, multi => {
            for doc in (0..max_doc).filter(|d| alive.is_none_or(|a| a.is_alive(*d))) {
                for ord in self.ords(doc).iter() {
                    counts[*ord as usize] += 1;
                }
            }
        })
    }

    /// Pushes onto `out` the documents of `docs` (global ids, the segment's document 0 being
    /// `base`) having a value in `ords`, in the order given.
    pub fn select(&self, docs: &[u32], base: u32, ords: std::ops::Range<u32>, out: &mut Vec<u32>) {
        with_slots!(&self.docs, values => select_slots(values, docs, base, ords, out), multi => {
            out.extend(docs.iter().copied().filter(|&doc| {
                self.ords(doc - base).iter().any(|o| ords.contains(o))
            }))
        })
    }

    /// The segment doc ids below `max_doc` having a value in `ords`, as a bitset of 64
    /// documents a word (deleted documents included). A single-valued column is scanned
    /// without a branch per document, which the compiler vectorizes: a range over a million
    /// documents costs about as much as copying their values once.
    pub fn docs_in(&self, ords: std::ops::Range<u32>, max_doc: u32) -> Vec<u64> {
        let words = (max_doc as usize).div_ceil(64);
        let mut out = with_slots!(&self.docs, values => {
            let values = &values[..values.len().min(max_doc as usize)];
            scan_slots(values, ords)
        }, multi => {
            let mut out = vec![0u64; words];
            for doc in 0..max_doc {
                if self.ords(doc).iter().any(|o| ords.contains(o)) {
                    out[doc as usize / 64] |= 1 << (doc % 64);
                }
            }
            out
        });
        out.resize(words, 0);
        out
    }

    fn bytes(&self) -> usize {
        let docs = match &self.docs {
            DocOrds::Single8(v) => v.len(),
            DocOrds::Single16(v) => v.len() * 2,
            DocOrds::Single32(v) => v.len() * 4,
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
        let values = numbers.len() + strings.len();
        Ok(FieldColumn {
            numbers,
            strings,
            docs: builder.finish(values),
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
            first: vec![u32::NONE; max_doc as usize],
            more: Vec::new(),
        }
    }

    fn add(&mut self, ord: u32, mut postings: tantivy::postings::SegmentPostings) {
        let mut doc = postings.doc();
        while doc != TERMINATED {
            self.push(doc, ord);
            doc = postings.advance();
        }
    }

    fn push(&mut self, doc: u32, ord: u32) {
        match self.first.get_mut(doc as usize) {
            Some(slot) if *slot == u32::NONE => *slot = ord,
            // The same ordinal twice: one value spelt two ways, normalized alike.
            Some(slot) if *slot == ord => {}
            Some(_) => self.more.push((doc, ord)),
            None => {}
        }
    }

    /// The documents' ordinals, `values` being how many distinct values the column has.
    fn finish(self, values: usize) -> DocOrds {
        if self.more.is_empty() {
            return if values < usize::from(u8::NONE) {
                DocOrds::Single8(narrow(&self.first))
            } else if values < usize::from(u16::NONE) {
                DocOrds::Single16(narrow(&self.first))
            } else {
                DocOrds::Single32(self.first)
            };
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
            if *first != u32::NONE {
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

/// Ordinals (`NONE` for none) in a narrower slot, every ordinal being below its `NONE`.
fn narrow<T: Slot>(slots: &[u32]) -> Vec<T> {
    slots
        .iter()
        .map(|&ord| {
            if ord == u32::NONE {
                T::NONE
            } else {
                T::from_ord(ord)
            }
        })
        .collect()
}

/// `count_ords` over a single-valued column.
fn count_slots<T: Slot>(values: &[T], docs: &[u32], base: u32, counts: &mut [u32]) {
    for &doc in docs {
        match values.get((doc - base) as usize) {
            Some(&slot) if slot != T::NONE => counts[slot.ord() as usize] += 1,
            _ => {}
        }
    }
}

/// `count_every` over a single-valued column.
fn count_every_slot<T: Slot>(
    values: &[T],
    alive: Option<&tantivy::fastfield::AliveBitSet>,
    counts: &mut [u32],
) {
    match alive {
        // The common case, no deletes: nothing but the slots to read.
        None => {
            for &slot in values {
                if slot != T::NONE {
                    counts[slot.ord() as usize] += 1;
                }
            }
        }
        Some(alive) => {
            for (doc, &slot) in values.iter().enumerate() {
                if slot != T::NONE && alive.is_alive(doc as u32) {
                    counts[slot.ord() as usize] += 1;
                }
            }
        }
    }
}

/// `select` over a single-valued column.
fn select_slots<T: Slot>(
    values: &[T],
    docs: &[u32],
    base: u32,
    ords: std::ops::Range<u32>,
    out: &mut Vec<u32>,
) {
    for &doc in docs {
        if values
            .get((doc - base) as usize)
            .is_some_and(|slot| *slot != T::NONE && ords.contains(&slot.ord()))
        {
            out.push(doc);
        }
    }
}

/// The documents of a single-valued column whose ordinal is in `ords`, as a bitset of 64
/// documents a word, without a branch per document (which the compiler vectorizes): a range
/// over a million documents costs about as much as reading their slots once.
fn scan_slots<T: Slot>(values: &[T], ords: std::ops::Range<u32>) -> Vec<u64> {
    // Ordinals of a column are below `NONE`, so `NONE` is never inside the range, and the range
    // fits the slots' width. Compared in that width, `slot - start` wraps to at least
    // `NONE - start` for `NONE`, never below `len`.
    if ords.is_empty() {
        return Vec::new();
    }
    let start = T::from_ord(ords.start);
    let len = T::from_ord(ords.end - ords.start);
    let word_of = |chunk: &[T; 64]| {
        // One byte (0 or 1) per document first: comparisons of a known count that the
        // compiler vectorizes. Then each 8 bytes become 8 bits in one multiply: the
        // multiplier's byte `j` is `1 << (7 - j)`, so byte `k` of `x` times byte `7 - k` lands
        // on bit `56 + k`; every byte being 0 or 1, the partial products fall on distinct bits
        // and nothing carries.
        let mut flags = [0u8; 64];
        for (flag, slot) in flags.iter_mut().zip(chunk) {
            *flag = u8::from(slot.minus(start) < len);
        }
        flags
            .chunks_exact(8)
            .enumerate()
            .fold(0u64, |word, (k, eight)| {
                let x = u64::from_le_bytes(eight.try_into().expect("chunks of 8"));
                word | ((x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k))
            })
    };
    let mut out: Vec<u64> = Vec::with_capacity(values.len().div_ceil(64));
    let mut chunks = values.chunks_exact(64);
    out.extend(
        chunks
            .by_ref()
            .map(|chunk| word_of(chunk.try_into().expect("chunks of 64"))),
    );
    if !chunks.remainder().is_empty() {
        // The last documents, padded with documents without a value (never in the range).
        let mut last = [T::NONE; 64];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        out.push(word_of(&last));
    }
    out
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
    LazyLock::new(|| SegmentTables::of_segments(BUDGET_BYTES));

/// Bytes of value orders kept at once, over every index and segment.
const ORDER_BUDGET_BYTES: usize = 256 * 1024 * 1024;

static ORDERS: LazyLock<SegmentTables<(SegmentId, String), ValueOrder>> =
    LazyLock::new(|| SegmentTables::of_segments(ORDER_BUDGET_BYTES));

/// Whether the value order of `field` in the segment is at hand.
#[cfg(test)]
pub(super) fn value_order_is_ready(segment: SegmentId, field: &str) -> bool {
    ORDERS.is_ready(&(segment, field.to_string()))
}

/// The documents of the segment in the order of their values of `field` (`column` being the
/// field's column in that segment), built the first time it is asked for; `None` for a
/// multi-valued column.
pub fn value_order(
    column: &FieldColumn,
    segment: SegmentId,
    field: &str,
) -> Result<Option<Arc<ValueOrder>>> {
    if !column.is_single_valued() {
        return Ok(None);
    }
    ORDERS
        .get_or_read(
            (segment, field.to_string()),
            || Ok(column.value_order().expect("a single-valued column")),
            ValueOrder::bytes,
        )
        .map(Some)
}

/// The column of `field` in the segment, read from its facet terms the first time it is asked
/// for. Concurrent first uses read it once.
pub fn column(view: &SegmentView, segment: SegmentId, field: &str) -> Result<Arc<FieldColumn>> {
    CACHE.get_or_read(
        (segment, field.to_string()),
        || FieldColumn::read(view, field),
        FieldColumn::bytes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column of `values` numbers (0, 1, ...) over `max_doc` documents, document `d` having
    /// the values `of(d)` (ascending), built as a segment's column is.
    fn column(max_doc: u32, values: u32, of: impl Fn(u32) -> Vec<u32>) -> FieldColumn {
        let mut builder = ColumnBuilder::new(max_doc);
        let mut pairs: Vec<(u32, u32)> = (0..max_doc)
            .flat_map(|d| of(d).into_iter().map(move |o| (o, d)))
            .collect();
        // A segment's terms come in ordinal order, each with its documents ascending.
        pairs.sort();
        for (ord, doc) in pairs {
            builder.push(doc, ord);
        }
        FieldColumn {
            numbers: (0..values).map(f64::from).collect(),
            strings: Vec::new(),
            docs: builder.finish(values as usize),
        }
    }

    /// The deletes of a segment of `max_doc` documents, as tantivy reads them from disk.
    fn alive_except(
        max_doc: u32,
        deleted: impl Fn(u32) -> bool,
    ) -> tantivy::fastfield::AliveBitSet {
        let mut bits = tantivy::BitSet::with_max_value(max_doc);
        for d in (0..max_doc).filter(|d| !deleted(*d)) {
            bits.insert(d);
        }
        let mut bytes = Vec::new();
        tantivy::fastfield::write_alive_bitset(&bits, &mut bytes).expect("written to memory");
        tantivy::fastfield::AliveBitSet::open(tantivy::directory::OwnedBytes::new(bytes))
    }

    /// A deterministic scatter of `0..n` (a multiplicative hash), for values and documents.
    fn spread(d: u32, n: u32) -> u32 {
        (d.wrapping_mul(2_654_435_761) >> 7) % n
    }

    /// Every single-valued width and the multi-valued layout answer each question as the
    /// document's values say: ordinals, counts, selections and bitsets over ranges that start,
    /// end and fall strictly inside the values, the empty range and the whole one.
    #[test]
    fn every_width_answers_from_each_documents_values() {
        let max_doc = 5_000 + 37;
        for (values, multi, width) in [
            (40u32, false, "8"),
            (254, false, "8"),
            (255, false, "16"),
            (3_000, false, "16"),
            (70_000, false, "32"),
            (300, true, "multi"),
        ] {
            let of = |d: u32| -> Vec<u32> {
                match spread(d, 7) {
                    // Documents without a value.
                    0 => Vec::new(),
                    // Every document at or above `values` would have the largest value.
                    _ if !multi => vec![spread(d ^ 0x55, values)],
                    _ => {
                        let mut v = vec![spread(d, values), spread(d ^ 0x3c, values)];
                        v.sort();
                        v.dedup();
                        v
                    }
                }
            };
            let col = column(max_doc, values, of);
            let stored = match &col.docs {
                DocOrds::Single8(_) => "8",
                DocOrds::Single16(_) => "16",
                DocOrds::Single32(_) => "32",
                DocOrds::Multi { .. } => "multi",
            };
            assert_eq!(stored, width, "{values} values, multi {multi}");
            for d in 0..max_doc {
                assert_eq!(&*col.ords(d), of(d).as_slice(), "document {d}");
            }
            // Past the last document: no values.
            assert!(col.ords(max_doc).is_empty());
            // The value order lists each value's documents, ascending, and no document
            // without a value; a multi-valued column has none.
            match col.value_order() {
                None => assert!(multi),
                Some(order) => {
                    let mut expected = vec![Vec::new(); values as usize];
                    for d in 0..max_doc {
                        if let [ord] = of(d)[..] {
                            expected[ord as usize].push(d);
                        }
                    }
                    for (ord, docs) in expected.iter().enumerate() {
                        assert_eq!(order.docs_of(ord as u32), docs.as_slice(), "ordinal {ord}");
                    }
                    assert!(order.docs_of(values).is_empty());
                }
            }

            let base = 1_000_000;
            let docs: Vec<u32> = (0..max_doc)
                .filter(|d| spread(*d, 3) != 0)
                .map(|d| base + d)
                .collect();
            let mut counts = vec![0u32; values as usize];
            col.count_ords(&docs, base, &mut counts);
            let mut expected = vec![0u32; values as usize];
            for d in &docs {
                for o in of(d - base) {
                    expected[o as usize] += 1;
                }
            }
            assert_eq!(counts, expected, "{values} values, multi {multi}");

            // Every document, then every live one: all the values of the documents counted.
            let deleted = |d: u32| spread(d, 5) == 1;
            let mut every = vec![0u32; values as usize];
            col.count_every(max_doc, None, &mut every);
            let mut live = vec![0u32; values as usize];
            col.count_every(max_doc, Some(&alive_except(max_doc, deleted)), &mut live);
            let (mut want_every, mut want_live) =
                (vec![0u32; values as usize], vec![0u32; values as usize]);
            for d in 0..max_doc {
                for o in of(d) {
                    want_every[o as usize] += 1;
                    if !deleted(d) {
                        want_live[o as usize] += 1;
                    }
                }
            }
            assert_eq!(every, want_every, "{values} values, multi {multi}");
            assert_eq!(live, want_live, "{values} values, multi {multi}");
            assert!(live.iter().sum::<u32>() < every.iter().sum::<u32>());

            let mid = values / 2;
            for ords in [
                0..values,
                0..1,
                mid..mid + 1,
                3..mid,
                mid..values,
                values - 1..values,
                mid..mid,
            ] {
                let mut selected = Vec::new();
                col.select(&docs, base, ords.clone(), &mut selected);
                let want: Vec<u32> = docs
                    .iter()
                    .copied()
                    .filter(|d| of(d - base).iter().any(|o| ords.contains(o)))
                    .collect();
                assert_eq!(selected, want, "select {ords:?} of {values}");
                // A segment's bitset, read up to fewer documents than the column holds too.
                for limit in [max_doc, max_doc - 37, 64 * 20] {
                    let bits = col.docs_in(ords.clone(), limit);
                    assert_eq!(bits.len(), (limit as usize).div_ceil(64));
                    for d in 0..limit {
                        let set = bits[d as usize / 64] >> (d % 64) & 1 == 1;
                        let want = of(d).iter().any(|o| ords.contains(o));
                        assert_eq!(
                            set, want,
                            "document {d}, range {ords:?} of {values}, limit {limit}"
                        );
                    }
                }
            }
        }
    }
}
