//! Custom ranking rules, `field:asc` and `field:desc`, and each criterion of the `sort` search
//! parameter: documents ordered by the value of one field, numbers before strings, documents
//! without the field last. When the field has facet terms (it is sortable, filterable or the
//! distinct attribute) the groups come from iterating its terms in order; otherwise values are
//! read from the stored documents of the bucket being split.

use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};

use roaring::RoaringBitmap;
use serde_json::Value;
use tantivy::postings::TermInfo;

use super::{Bucket, Detail, RankCtx, RankingRule};
use crate::error::Result;
use crate::facet::{self, FacetedAttributes};
use crate::index::read_source;

pub struct CustomRule {
    field: String,
    ascending: bool,
    mask: u16,
    /// Groups of equal values not handed out yet, best last; `None` until the first bucket is
    /// asked for.
    groups: Option<Vec<(Value, RoaringBitmap)>>,
    /// The walk over the field's facet terms that produces more groups, when it is faceted.
    walk: Option<TermWalk>,
    universe: RoaringBitmap,
    /// How many times the rule was started in this search: a rule after another one is
    /// started once per bucket of the rule before.
    starts: u32,
    /// From the second start on: the rank of every document's best value (and the values by
    /// rank), so that each small bucket is ordered by sorting its documents instead of
    /// scanning every term of the field again.
    ranks: Option<(HashMap<u32, u32>, Vec<Value>)>,
}

impl CustomRule {
    pub fn new(field: String, ascending: bool) -> CustomRule {
        CustomRule {
            field,
            ascending,
            mask: 0,
            groups: None,
            walk: None,
            universe: RoaringBitmap::new(),
            starts: 0,
            ranks: None,
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

/// Facet terms read from a segment at a time: enough to fill a page most of the time, few
/// enough that a page costs a few hundred term reads however many values the field has.
const TERMS_PER_READ: usize = 256;

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
        while state.buffer.len() < TERMS_PER_READ && stream.advance() {
            state
                .buffer
                .push_back((stream.key().to_vec(), stream.value().clone()));
        }
        state.exhausted = state.buffer.len() < TERMS_PER_READ;
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

impl CustomRule {
    /// Every group of the universe, best last: the whole walk at once.
    fn groups_from_terms(&self, ctx: &RankCtx<'_>) -> Result<Vec<(Value, RoaringBitmap)>> {
        let mut walk = TermWalk::new();
        let mut groups = Vec::new();
        loop {
            let step = self.walk_step(ctx, &mut walk)?;
            if step.is_empty() {
                break;
            }
            groups.extend(step);
        }
        groups.reverse();
        Ok(groups)
    }

    /// Ranks every live document by its best value, from one scan of the field's terms.
    fn build_ranks(&mut self, ctx: &RankCtx<'_>) -> Result<()> {
        let universe = std::mem::replace(&mut self.universe, ctx.search.universe());
        let groups = self.groups_from_terms(ctx);
        self.universe = universe;
        let mut ranks = HashMap::new();
        let mut values = Vec::new();
        // Groups come best last: rank 0 is the best.
        for (rank, (value, docs)) in groups?.into_iter().rev().enumerate() {
            for doc in &docs {
                ranks.insert(doc, rank as u32);
            }
            values.push(value);
        }
        self.ranks = Some((ranks, values));
        Ok(())
    }

    /// The groups of the universe, best last, from the ranks.
    fn groups_from_ranks(&self) -> Vec<(Value, RoaringBitmap)> {
        let (ranks, values) = self.ranks.as_ref().expect("ranks are built first");
        let mut pairs: Vec<(u32, u32)> = self
            .universe
            .iter()
            .map(|doc| (ranks.get(&doc).copied().unwrap_or(u32::MAX), doc))
            .collect();
        pairs.sort_unstable();
        let mut groups: Vec<(Value, RoaringBitmap)> = Vec::new();
        let mut last_rank = None;
        for (rank, doc) in pairs {
            if last_rank != Some(rank) {
                let value = values.get(rank as usize).cloned().unwrap_or(Value::Null);
                groups.push((value, RoaringBitmap::new()));
                last_rank = Some(rank);
            }
            if let Some((_, docs)) = groups.last_mut() {
                docs.insert(doc);
            }
        }
        groups.reverse();
        groups
    }
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
            if self.starts < 2 {
                // One universe: walk the terms only as far as the page needs.
                self.groups = Some(Vec::new());
                self.walk = Some(TermWalk::new());
            } else {
                // The rule is splitting bucket after bucket: rank every document once, then
                // order each bucket by rank.
                if self.ranks.is_none() {
                    self.build_ranks(ctx)?;
                }
                self.groups = Some(self.groups_from_ranks());
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
    }
}
