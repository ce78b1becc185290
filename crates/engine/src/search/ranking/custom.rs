//! Custom ranking rules, `field:asc` and `field:desc`, and each criterion of the `sort` search
//! parameter: documents ordered by the value of one field, numbers before strings, documents
//! without the field last. When the field has facet terms (it is sortable, filterable or the
//! distinct attribute), a large universe is ordered by walking its terms in order (lazily, as
//! far as the page needs) and a small one, or each bucket of a rule before, by ordering its
//! documents by the values of the field's column (`search/columns.rs`), sorted a chunk at a time
//! as far as the page needs; otherwise values are read from the stored documents of the bucket
//! being split.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::sync::Arc;

use roaring::RoaringBitmap;
use serde_json::Value;
use tantivy::postings::TermInfo;

use super::{Bucket, Detail, RankCtx, RankingRule};
use crate::error::Result;
use crate::facet::{self, FacetedAttributes};
use crate::index::read_source;
use crate::search::columns::{self, ColumnValue, FieldColumn, ValueOrder};
use crate::search::context::for_each_batch;

pub struct CustomRule {
    field: String,
    ascending: bool,
    mask: u16,
    /// Groups of equal values not handed out yet, best last; `None` until the first bucket is
    /// asked for.
    groups: Option<Vec<(Value, RoaringBitmap)>>,
    /// The walk over the field's facet terms that produces more groups, when it is faceted.
    walk: Option<TermWalk>,
    /// The universe ordered by the field's columns, producing more groups, when it is faceted
    /// and the walk is not taken.
    column_order: Option<ColumnOrder>,
    /// The universe walked in the order of the field's values, producing more groups, when
    /// the field is faceted and single-valued and the universe dense enough.
    order_walk: Option<OrderWalk>,
    universe: RoaringBitmap,
    /// How many times the rule was started in this search: a rule after another one is
    /// started once per bucket of the rule before.
    starts: u32,
}

impl CustomRule {
    pub fn new(field: String, ascending: bool) -> CustomRule {
        CustomRule {
            field,
            ascending,
            mask: 0,
            groups: None,
            walk: None,
            column_order: None,
            order_walk: None,
            universe: RoaringBitmap::new(),
            starts: 0,
        }
    }
}

/// The sortable value of `path` (dotted) in a document: a number or a string.
fn value_at(document: &serde_json::Map<String, Value>, path: &str) -> Option<Value> {
    if let Some(v) = document.get(path) {
        return sortable(v);
    }
    let (head, rest) = path.split_once('.')?;
    match document.get(head)? {
        Value::Object(inner) => value_at(inner, rest),
        _ => None,
    }
}

fn sortable(v: &Value) -> Option<Value> {
    match v {
        Value::Number(_) | Value::String(_) => Some(v.clone()),
        Value::Bool(b) => Some(Value::String(b.to_string())),
        Value::Array(items) => items.iter().find_map(sortable),
        _ => None,
    }
}

/// Numbers before strings, each in their natural order.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::Number(_), _) => Ordering::Less,
        (_, Value::Number(_)) => Ordering::Greater,
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// A universe holding more than 1/WALK_ABOVE of the live documents is sorted by walking the
/// field's terms (a page needs few of them); a smaller one by sorting its documents' values.
const WALK_ABOVE: u64 = 16;

/// Facet terms read from a segment the first time, then twice as many at each read, up to
/// [`MAX_TERMS_PER_READ`]: a page sorted by a field of unique values (a rank) needs about as many
/// terms as it shows, spread over the segments, so a first read of a few dozen per segment
/// fills it; a universe that most terms miss (a filter) reads further in fewer, larger steps.
const FIRST_TERMS_PER_READ: usize = 32;
const MAX_TERMS_PER_READ: usize = 1024;

/// Which terms of the field a walk is reading: numbers come before strings both ways, documents
/// without a value come last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Numbers,
    Strings,
    Missing,
    Done,
}

/// The terms of one segment read ahead and not consumed yet.
#[derive(Debug, Clone, Default)]
struct SegmentTerms {
    buffer: VecDeque<(Vec<u8>, TermInfo)>,
    /// The last key read, to read on from.
    last: Option<Vec<u8>>,
    exhausted: bool,
    /// How many terms the previous read asked for (0 before the first).
    read: usize,
}

/// A lazy walk over the facet terms of the field in sort order (forwards, or backwards for
/// `desc`): each step consumes, from every segment, the terms up to the nearest key all segments
/// have read to, and turns them into groups of equal values. Every term is read once, and a page
/// sorted by a field with a million distinct values reads only the values it shows.
#[derive(Debug, Clone)]
struct TermWalk {
    phase: Phase,
    segments: Vec<SegmentTerms>,
    /// Documents already handed out in a group (a multi-valued field's better value won).
    placed: RoaringBitmap,
}

impl TermWalk {
    fn new() -> TermWalk {
        TermWalk {
            phase: Phase::Numbers,
            segments: Vec::new(),
            placed: RoaringBitmap::new(),
        }
    }
}

impl CustomRule {
    /// The next groups of the walk, best first, or an empty list when it is over.
    fn walk_step(
        &self,
        ctx: &RankCtx<'_>,
        walk: &mut TermWalk,
    ) -> Result<Vec<(Value, RoaringBitmap)>> {
        loop {
            let prefix = match walk.phase {
                Phase::Numbers => facet::number_prefix(&self.field),
                Phase::Strings => facet::string_prefix(&self.field),
                Phase::Missing => {
                    walk.phase = Phase::Done;
                    let missing = &self.universe - &walk.placed;
                    return Ok(if missing.is_empty() {
                        Vec::new()
                    } else {
                        vec![(Value::Null, missing)]
                    });
                }
                Phase::Done => return Ok(Vec::new()),
            };
            match self.read_terms(ctx, walk, &prefix)? {
                Some(groups) if groups.is_empty() => continue,
                Some(groups) => return Ok(groups),
                None => {
                    walk.segments.clear();
                    walk.phase = match walk.phase {
                        Phase::Numbers => Phase::Strings,
                        _ => Phase::Missing,
                    };
                }
            }
        }
    }

    /// Reads ahead in `segment` if its buffer is empty.
    fn refill(
        &self,
        view: &crate::search::context::SegmentView,
        state: &mut SegmentTerms,
        prefix: &str,
    ) -> Result<()> {
        if !state.buffer.is_empty() || state.exhausted {
            return Ok(());
        }
        let upper = crate::search::context_prefix_upper(prefix);
        let mut range = view.facets.terms().range();
        if self.ascending {
            range = match &state.last {
                Some(key) => range.gt(key),
                None => range.ge(prefix.as_bytes()),
            };
            range = range.lt(&upper);
        } else {
            range = range.ge(prefix.as_bytes());
            range = match &state.last {
                Some(key) => range.lt(key),
                None => range.lt(&upper),
            };
            range = range.backward();
        }
        let mut stream = range.into_stream()?;
        let want = (state.read * 2).clamp(FIRST_TERMS_PER_READ, MAX_TERMS_PER_READ);
        state.read = want;
        while state.buffer.len() < want && stream.advance() {
            state
                .buffer
                .push_back((stream.key().to_vec(), stream.value().clone()));
        }
        state.exhausted = state.buffer.len() < want;
        state.last = state.buffer.back().map(|(k, _)| k.clone());
        Ok(())
    }

    /// One step within a phase: consumes the terms of every segment up to the nearest key all
    /// segments have read to, and groups equal values (strings by their normalized form).
    /// `None` when the phase has no terms left.
    fn read_terms(
        &self,
        ctx: &RankCtx<'_>,
        walk: &mut TermWalk,
        prefix: &str,
    ) -> Result<Option<Vec<(Value, RoaringBitmap)>>> {
        let search = ctx.search;
        let views = search.segments();
        if walk.segments.is_empty() {
            walk.segments = vec![SegmentTerms::default(); views.len()];
        }
        // The bound: the nearest last buffered key of a segment that has more to read.
        let mut bound: Option<Vec<u8>> = None;
        for (view, state) in views.iter().zip(walk.segments.iter_mut()) {
            self.refill(view, state, prefix)?;
            if !state.exhausted {
                let last = &state.buffer.back().expect("a segment with more terms").0;
                let nearer = match &bound {
                    None => true,
                    Some(b) => (self.ascending && last < b) || (!self.ascending && last > b),
                };
                if nearer {
                    bound = Some(last.clone());
                }
            }
        }
        let strings = walk.phase == Phase::Strings;
        let group_key = |key: &[u8]| -> Vec<u8> {
            let rest = &key[prefix.len()..];
            if strings {
                facet::split_string_rest(rest).0.to_vec()
            } else {
                rest.to_vec()
            }
        };
        // A string value whose spellings straddle the bound waits for the next step, so that it
        // stays one group, unless nothing else is before the bound.
        let limit_group = bound.as_deref().map(group_key);
        let within = |key: &[u8], whole_group: bool| -> bool {
            match (&bound, &limit_group) {
                (None, _) => true,
                (Some(b), Some(g)) => {
                    let before_bound = if self.ascending {
                        key <= b.as_slice()
                    } else {
                        key >= b.as_slice()
                    };
                    before_bound && (!strings || !whole_group || group_key(key) != *g)
                }
                _ => true,
            }
        };
        let mut taken: Vec<(Vec<u8>, RoaringBitmap)> = Vec::new();
        let mut any = false;
        for whole_group in [true, false] {
            for (view, state) in views.iter().zip(walk.segments.iter_mut()) {
                while let Some((key, _)) = state.buffer.front() {
                    if !within(key, whole_group) {
                        break;
                    }
                    let (key, info) = state.buffer.pop_front().expect("front exists");
                    any = true;
                    let mut docs = RoaringBitmap::new();
                    search.push_keyword_docs(view, &info, &mut docs)?;
                    docs &= &self.universe;
                    docs -= &walk.placed;
                    if !docs.is_empty() {
                        taken.push((key, docs));
                    }
                }
            }
            if any {
                break;
            }
        }
        if !any
            && walk
                .segments
                .iter()
                .all(|s| s.exhausted && s.buffer.is_empty())
        {
            return Ok(None);
        }
        taken.sort_by(|a, b| {
            if self.ascending {
                a.0.cmp(&b.0)
            } else {
                b.0.cmp(&a.0)
            }
        });
        let mut groups: Vec<(Vec<u8>, Value, RoaringBitmap)> = Vec::new();
        for (key, docs) in taken {
            let gk = group_key(&key);
            match groups.last_mut() {
                Some((last, _, d)) if *last == gk => *d |= docs,
                _ => {
                    let rest = &key[prefix.len()..];
                    let value = if strings {
                        let original = facet::split_string_rest(rest).1;
                        Value::String(String::from_utf8_lossy(original).into_owned())
                    } else {
                        match std::str::from_utf8(rest)
                            .ok()
                            .and_then(facet::decode_number)
                        {
                            Some(n) => serde_json::json!(n),
                            None => continue,
                        }
                    };
                    groups.push((gk, value, docs));
                }
            }
        }
        let mut out = Vec::with_capacity(groups.len());
        for (_, value, mut docs) in groups {
            docs -= &walk.placed;
            if docs.is_empty() {
                continue;
            }
            walk.placed |= &docs;
            out.push((value, docs));
        }
        Ok(Some(out))
    }
}

/// Documents are sorted this many at a time at first, twice as many each time more are needed.
const FIRST_SORTED: usize = 64;

/// Where a document's best value sorts: numbers before strings both ways, documents without a
/// value last. Strings compare by normalized form, looked up in their column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SortClass {
    /// An order-preserving encoding of the number (inverted for a descending sort).
    Number(u64),
    Text,
    Missing,
}

/// One document of the universe with where its best value sorts, and where that value is
/// (column and ordinal).
#[derive(Debug, Clone, Copy)]
struct Keyed {
    class: SortClass,
    doc: u32,
    at: u32,
    ord: u32,
}

/// The universe of a sort ordered by the field's columns, sorted lazily: a page asks for a few
/// groups, so the documents are put in order a chunk at a time (a selection, then a sort of the
/// chunk) and the rest is left unsorted until a group needs it. A page of a large universe then
/// costs about one pass over it instead of a full sort.
struct ColumnOrder {
    columns: Vec<Arc<FieldColumn>>,
    ascending: bool,
    keyed: Vec<Keyed>,
    /// `keyed[..sorted]` is in final order.
    sorted: usize,
    /// The first document not handed out in a group yet.
    next: usize,
    /// How many documents the next chunk sorts.
    chunk: usize,
}

impl ColumnOrder {
    /// Keys every document of `universe` by the best of its values in the field's column.
    fn new(
        ctx: &RankCtx<'_>,
        field: &str,
        ascending: bool,
        universe: &RoaringBitmap,
    ) -> Result<Self> {
        let search = ctx.search;
        let mut columns = Vec::new();
        let mut keyed: Vec<Keyed> = Vec::with_capacity(universe.len() as usize);
        for view in search.segments() {
            if universe.range_cardinality(view.range()) == 0 {
                continue;
            }
            let column = search.column(view, field)?;
            let at = columns.len() as u32;
            for_each_batch(universe, view.range(), |docs| {
                keyed.extend(docs.iter().map(|&doc| {
                    let ords = column.ords(doc - view.base);
                    let (class, ord) = best_value(&column, &ords, ascending);
                    Keyed {
                        class,
                        doc,
                        at,
                        ord,
                    }
                }))
            });
            columns.push(column);
        }
        Ok(ColumnOrder {
            columns,
            ascending,
            keyed,
            sorted: 0,
            next: 0,
            chunk: FIRST_SORTED,
        })
    }

    fn text(&self, k: &Keyed) -> &[u8] {
        match self.columns[k.at as usize].value(k.ord) {
            ColumnValue::Text(normalized, _) => normalized,
            ColumnValue::Number(_) => &[],
        }
    }

    /// Whether `a`'s value sorts before, with or after `b`'s.
    fn compare_values(&self, a: &Keyed, b: &Keyed) -> Ordering {
        match (a.class, b.class) {
            (SortClass::Text, SortClass::Text) => {
                // Within one column, ordinals follow the normalized strings.
                let order = if a.at == b.at {
                    a.ord.cmp(&b.ord)
                } else {
                    self.text(a).cmp(self.text(b))
                };
                if self.ascending {
                    order
                } else {
                    order.reverse()
                }
            }
            (x, y) => x.cmp(&y),
        }
    }

    /// Puts the next chunk of the unsorted documents in final order.
    fn sort_more(&mut self) {
        let mut keyed = std::mem::take(&mut self.keyed);
        let rest = &mut keyed[self.sorted..];
        let take = self.chunk.min(rest.len());
        // Documents of equal values in increasing id: the order is total, so a chunk boundary
        // never leaves the order in doubt.
        let order = |a: &Keyed, b: &Keyed| self.compare_values(a, b).then(a.doc.cmp(&b.doc));
        if take < rest.len() {
            rest.select_nth_unstable_by(take - 1, order);
        }
        rest[..take].sort_unstable_by(order);
        self.keyed = keyed;
        self.sorted += take;
        self.chunk = self.chunk.saturating_mul(2);
    }

    /// The next group of documents of equal value, best first, or `None` when every document
    /// was handed out.
    fn next_group(&mut self) -> Option<(Value, RoaringBitmap)> {
        if self.next == self.keyed.len() {
            return None;
        }
        if self.sorted == self.next {
            self.sort_more();
        }
        let first = self.keyed[self.next];
        let mut end = self.next + 1;
        loop {
            while end < self.sorted
                && self.compare_values(&self.keyed[end], &first) == Ordering::Equal
            {
                end += 1;
            }
            // The group may go on among the documents not sorted yet.
            if end < self.sorted || self.sorted == self.keyed.len() {
                break;
            }
            self.sort_more();
        }
        let docs: Vec<u32> = self.keyed[self.next..end].iter().map(|k| k.doc).collect();
        self.next = end;
        let value = match first.class {
            SortClass::Missing => Value::Null,
            SortClass::Number(_) | SortClass::Text => {
                match self.columns[first.at as usize].value(first.ord) {
                    ColumnValue::Number(n) => serde_json::json!(n),
                    ColumnValue::Text(_, original) => Value::String(original.to_string()),
                }
            }
        };
        Some((value, crate::search::context::sorted_set(&docs)))
    }
}

/// A universe holding at least 1/ORDER_WALK_ABOVE of the live documents, sorted by a
/// single-valued field, is walked in the order of the field's values (`OrderWalk`).
const ORDER_WALK_ABOVE: u64 = 256;

/// The universe in the order of the field's values, found by walking each segment's documents
/// in value order (`columns::ValueOrder`) and keeping the universe's: a page of a dense universe
/// looks at a few documents per result, where `ColumnOrder` keys every document of the
/// universe and selects among them. Groups of equal values are merged across segments. The walk
/// gives up (and `ColumnOrder` orders what is left) once it has looked at more documents than
/// keying the universe would cost.
struct OrderWalk {
    segments: Vec<SegmentWalk>,
    ascending: bool,
    /// Documents handed out in a group so far.
    placed: RoaringBitmap,
    /// Documents of the value orders looked at, and how many may be before giving up.
    looked_at: u64,
    budget: u64,
    /// Every value was walked; only the documents without one are left.
    values_done: bool,
    gave_up: bool,
}

/// One segment's part of an [`OrderWalk`].
struct SegmentWalk {
    base: u32,
    column: Arc<FieldColumn>,
    order: Arc<ValueOrder>,
    /// The next ordinal to look at, counted in the direction of the sort.
    step: u32,
    /// The best value not handed out yet with documents in the universe, and those documents
    /// (global ids, ascending).
    found: Option<(u32, Vec<u32>)>,
}

impl SegmentWalk {
    /// The ordinal at `step` in the direction of the sort: numbers before strings both ways,
    /// each ascending or descending.
    fn ord_at(&self, step: u32, ascending: bool) -> u32 {
        if ascending {
            return step;
        }
        let numbers = self.column.numbers.len() as u32;
        if step < numbers {
            numbers - 1 - step
        } else {
            self.column.len() as u32 - 1 - (step - numbers)
        }
    }

    /// Finds the next value with documents in the universe, unless one is found already or
    /// more than `budget` documents were looked at; returns how many it looked at.
    fn find(&mut self, universe: &RoaringBitmap, ascending: bool, budget: u64) -> u64 {
        let mut looked_at = 0u64;
        let values = self.column.len() as u32;
        while self.found.is_none() && self.step < values && looked_at <= budget {
            let ord = self.ord_at(self.step, ascending);
            self.step += 1;
            let docs = self.order.docs_of(ord);
            looked_at += docs.len() as u64;
            let kept: Vec<u32> = docs
                .iter()
                .map(|&doc| self.base + doc)
                .filter(|&doc| universe.contains(doc))
                .collect();
            if !kept.is_empty() {
                self.found = Some((ord, kept));
            }
        }
        looked_at
    }
}

/// What the next step of an [`OrderWalk`] gives.
enum WalkStep {
    Group(Value, RoaringBitmap),
    /// Every document of the universe was handed out.
    Done,
    /// The walk looked at too many documents: what is left is better sorted by `ColumnOrder`.
    GiveUp,
}

impl OrderWalk {
    /// A walk over the segments holding documents of `universe`, or `None` when the field is
    /// multi-valued in one of them.
    fn new(
        ctx: &RankCtx<'_>,
        field: &str,
        ascending: bool,
        universe: &RoaringBitmap,
    ) -> Result<Option<Self>> {
        let search = ctx.search;
        let mut segments = Vec::new();
        for view in search.segments() {
            if universe.range_cardinality(view.range()) == 0 {
                continue;
            }
            let column = search.column(view, field)?;
            let segment = search.segment_reader(view).segment_id();
            let Some(order) = columns::value_order(&column, segment, field)? else {
                return Ok(None);
            };
            segments.push(SegmentWalk {
                base: view.base,
                column,
                order,
                step: 0,
                found: None,
            });
        }
        // Equal values are handed out together, documents ascending: segments by their ids.
        segments.sort_by_key(|s| s.base);
        Ok(Some(OrderWalk {
            segments,
            ascending,
            placed: RoaringBitmap::new(),
            looked_at: 0,
            budget: 2 * universe.len() + 1024,
            values_done: false,
            gave_up: false,
        }))
    }

    /// Where the value a segment found sorts, for comparing across segments: its class, and
    /// the normalized string of a text value (borrowed from the segment's column).
    fn found_key<'s>(&self, segment: &'s SegmentWalk) -> Option<(SortClass, &'s [u8])> {
        let (ord, _) = segment.found.as_ref()?;
        let (class, _) = best_value(&segment.column, &[*ord], self.ascending);
        let text: &[u8] = match segment.column.value(*ord) {
            ColumnValue::Text(normalized, _) => normalized,
            ColumnValue::Number(_) => &[],
        };
        Some((class, text))
    }

    /// Orders two keys as [`ColumnOrder::compare_values`] orders documents.
    fn compare(&self, a: (SortClass, &[u8]), b: (SortClass, &[u8])) -> Ordering {
        match (a.0, b.0) {
            (SortClass::Text, SortClass::Text) if self.ascending => a.1.cmp(b.1),
            (SortClass::Text, SortClass::Text) => b.1.cmp(a.1),
            (x, y) => x.cmp(&y),
        }
    }

    fn next_group(&mut self, universe: &RoaringBitmap) -> WalkStep {
        if self.gave_up {
            return WalkStep::GiveUp;
        }
        if self.values_done {
            return WalkStep::Done;
        }
        for segment in &mut self.segments {
            let budget = self.budget.saturating_sub(self.looked_at);
            self.looked_at += segment.find(universe, self.ascending, budget);
        }
        if self.looked_at > self.budget {
            // Nothing was handed out in this step: what is left is every document not placed
            // (a filter on the sorted field leaves the universe at the far end of the values,
            // and the walk would cross every value before it).
            self.gave_up = true;
            return WalkStep::GiveUp;
        }
        // The best value any segment found, and the segments that found it.
        let mut best: Option<(SortClass, &[u8])> = None;
        for key in self.segments.iter().filter_map(|s| self.found_key(s)) {
            if best.is_none_or(|b| self.compare(key, b) == Ordering::Less) {
                best = Some(key);
            }
        }
        let Some(best) = best else {
            // Every value was walked: the documents without one come last, together.
            self.values_done = true;
            let missing = universe - &self.placed;
            return if missing.is_empty() {
                WalkStep::Done
            } else {
                WalkStep::Group(Value::Null, missing)
            };
        };
        let holders: Vec<usize> = (0..self.segments.len())
            .filter(|&i| {
                self.found_key(&self.segments[i])
                    .is_some_and(|key| self.compare(key, best) == Ordering::Equal)
            })
            .collect();
        // Every such segment's documents of that value, the first segment's spelling.
        let mut docs: Vec<u32> = Vec::new();
        let mut value = None;
        for i in holders {
            let segment = &mut self.segments[i];
            let (ord, found) = segment.found.take().expect("a holder found a value");
            docs.extend_from_slice(&found);
            value.get_or_insert_with(|| match segment.column.value(ord) {
                ColumnValue::Number(n) => serde_json::json!(n),
                ColumnValue::Text(_, original) => Value::String(original.to_string()),
            });
        }
        let group = crate::search::context::sorted_set(&docs);
        self.placed |= &group;
        WalkStep::Group(value.unwrap_or(Value::Null), group)
    }
}

/// Where the best of a document's values (ordinals ascending) sorts, and its ordinal:
/// ascending takes the smallest; descending the largest number, or else the last string.
fn best_value(column: &FieldColumn, ords: &[u32], ascending: bool) -> (SortClass, u32) {
    let numbers = column.numbers.len() as u32;
    let best = if ascending {
        ords.first().copied()
    } else {
        ords.iter()
            .rev()
            .find(|o| **o < numbers)
            .or(ords.last())
            .copied()
    };
    let Some(ord) = best else {
        return (SortClass::Missing, 0);
    };
    let class = match column.value(ord) {
        ColumnValue::Number(n) => {
            let encoded = facet::ordered_bits(n);
            SortClass::Number(if ascending { encoded } else { !encoded })
        }
        ColumnValue::Text(..) => SortClass::Text,
    };
    (class, ord)
}

impl RankingRule for CustomRule {
    fn name(&self) -> &'static str {
        "custom"
    }

    fn start(&mut self, _ctx: &mut RankCtx<'_>, universe: &RoaringBitmap, mask: u16) -> Result<()> {
        self.mask = mask;
        self.universe = universe.clone();
        self.groups = None;
        self.walk = None;
        self.column_order = None;
        self.order_walk = None;
        self.starts += 1;
        Ok(())
    }

    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        if self.groups.is_none()
            && FacetedAttributes::from_settings(&ctx.search.settings).contains(&self.field)
        {
            let live = ctx.search.searcher.num_docs();
            self.groups = Some(Vec::new());
            // A universe dense in the documents, sorted by a single-valued field: walk the
            // documents in the order of their values (the reference ranking never does).
            let dense = self.universe.len() * ORDER_WALK_ABOVE >= live
                && super::ranking_mode() != super::RankingMode::Reference;
            if dense {
                self.order_walk = OrderWalk::new(ctx, &self.field, self.ascending, &self.universe)?;
            }
            if self.order_walk.is_none() {
                if self.starts < 2 && self.universe.len() * WALK_ABOVE > live {
                    // One large universe: walk the terms only as far as the page needs.
                    self.walk = Some(TermWalk::new());
                } else {
                    // A small universe, or the rule splitting bucket after bucket of the rule
                    // before: sort each universe's documents by the value in their column.
                    self.column_order = Some(ColumnOrder::new(
                        ctx,
                        &self.field,
                        self.ascending,
                        &self.universe,
                    )?);
                }
            }
        }
        if self.groups.is_none() {
            let mut values: Vec<(Value, u32)> = Vec::new();
            let mut missing = RoaringBitmap::new();
            for doc in &self.universe {
                let source = read_source(
                    &ctx.search.searcher,
                    ctx.search.fields,
                    ctx.search.address(doc),
                )?;
                match value_at(&source, &self.field) {
                    Some(v) => values.push((v, doc)),
                    None => {
                        missing.insert(doc);
                    }
                }
            }
            values.sort_by(|a, b| compare(&a.0, &b.0));
            let mut groups: Vec<(Value, RoaringBitmap)> = Vec::new();
            for (value, doc) in values {
                match groups.last_mut() {
                    Some((last, docs)) if compare(last, &value) == Ordering::Equal => {
                        docs.insert(doc);
                    }
                    _ => groups.push((value, RoaringBitmap::from_iter([doc]))),
                }
            }
            if self.ascending {
                groups.reverse();
            } else {
                // Descending: numbers from the largest, then strings from the last; the
                // numbers-before-strings order holds both ways.
                let split = groups
                    .iter()
                    .position(|(v, _)| !v.is_number())
                    .unwrap_or(groups.len());
                let strings = groups.split_off(split);
                let mut ordered = strings;
                ordered.extend(groups);
                groups = ordered;
            }
            if !missing.is_empty() {
                groups.insert(0, (Value::Null, missing));
            }
            self.groups = Some(groups);
        }
        loop {
            let groups = self.groups.as_mut().expect("groups were just computed");
            if groups.is_empty() {
                if let Some(walk) = self.order_walk.as_mut() {
                    match walk.next_group(&self.universe) {
                        WalkStep::Group(value, docs) => groups.push((value, docs)),
                        WalkStep::Done => return Ok(None),
                        WalkStep::GiveUp => {
                            let rest = &self.universe - &walk.placed;
                            self.order_walk = None;
                            self.column_order =
                                Some(ColumnOrder::new(ctx, &self.field, self.ascending, &rest)?);
                        }
                    }
                    continue;
                }
                if let Some(order) = self.column_order.as_mut() {
                    match order.next_group() {
                        Some(group) => groups.push(group),
                        None => return Ok(None),
                    }
                    continue;
                }
                let Some(mut walk) = self.walk.take() else {
                    return Ok(None);
                };
                let mut next = self.walk_step(ctx, &mut walk)?;
                if next.is_empty() {
                    return Ok(None);
                }
                self.walk = Some(walk);
                next.reverse();
                *self.groups.as_mut().expect("groups exist") = next;
                continue;
            }
            let (value, docs) = groups.pop().expect("groups is not empty");
            let docs = docs & universe;
            if !docs.is_empty() {
                let detail = Detail::Sort {
                    field: self.field.clone(),
                    ascending: self.ascending,
                    value,
                };
                return Ok(Some(Bucket {
                    docs,
                    mask: self.mask,
                    detail,
                }));
            }
        }
    }

    fn end(&mut self) {
        self.groups = None;
        self.walk = None;
        self.column_order = None;
        self.order_walk = None;
    }
}
