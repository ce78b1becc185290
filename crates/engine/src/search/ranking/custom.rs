//! Custom ranking rules, `field:asc` and `field:desc`, and each criterion of the `sort` search
//! parameter: documents ordered by the value of one field, numbers before strings, documents
//! without the field last. When the field has facet terms (it is sortable, filterable or the
//! distinct attribute) the groups come from iterating its terms in order; otherwise values are
//! read from the stored documents of the bucket being split.

use std::cmp::Ordering;
use std::collections::HashMap;

use roaring::RoaringBitmap;
use serde_json::Value;

use super::{Bucket, Detail, RankCtx, RankingRule};
use crate::error::Result;
use crate::facet::{self, FacetedAttributes};
use crate::index::read_source;

pub struct CustomRule {
    field: String,
    ascending: bool,
    mask: u16,
    /// Groups of equal values, best last; `None` until the first bucket is asked for.
    groups: Option<Vec<(Value, RoaringBitmap)>>,
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

impl CustomRule {
    /// Calls `found` with the rest of every facet term under `prefix` (in every segment) and
    /// the documents of the universe that have it, when there are any.
    fn for_each_term(
        &self,
        ctx: &RankCtx<'_>,
        prefix: &str,
        mut found: impl FnMut(&[u8], RoaringBitmap),
    ) -> Result<()> {
        let search = ctx.search;
        for view in search.segments() {
            let mut stream = view
                .facets
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .lt(crate::search::context_prefix_upper(prefix))
                .into_stream()?;
            while stream.advance() {
                let mut docs = RoaringBitmap::new();
                search.push_keyword_docs(view, stream.value(), &mut docs)?;
                docs &= &self.universe;
                if !docs.is_empty() {
                    found(&stream.key()[prefix.len()..], docs);
                }
            }
        }
        Ok(())
    }

    /// The groups of equal values of the universe, best last, from the facet terms: numbers in
    /// numeric order, then strings in normalized order; documents already placed by a better
    /// value of a multi-valued field are not repeated.
    fn groups_from_terms(&self, ctx: &RankCtx<'_>) -> Result<Vec<(Value, RoaringBitmap)>> {
        let mut numbers: Vec<(f64, RoaringBitmap)> = Vec::new();
        self.for_each_term(ctx, &facet::number_prefix(&self.field), |rest, docs| {
            if let Some(n) = std::str::from_utf8(rest)
                .ok()
                .and_then(facet::decode_number)
            {
                numbers.push((n, docs));
            }
        })?;
        numbers.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut strings: Vec<(Vec<u8>, String, RoaringBitmap)> = Vec::new();
        self.for_each_term(ctx, &facet::string_prefix(&self.field), |rest, docs| {
            let (normalized, original) = facet::split_string_rest(rest);
            strings.push((
                normalized.to_vec(),
                String::from_utf8_lossy(original).into_owned(),
                docs,
            ));
        })?;
        strings.sort_by(|a, b| a.0.cmp(&b.0));
        let mut ordered: Vec<(Value, RoaringBitmap)> = Vec::new();
        let mut number_groups: Vec<(Value, RoaringBitmap)> = Vec::new();
        for (n, docs) in numbers {
            match number_groups.last_mut() {
                Some((Value::Number(last), d)) if last.as_f64() == Some(n) => *d |= docs,
                _ => number_groups.push((serde_json::json!(n), docs)),
            }
        }
        let mut string_groups: Vec<(Vec<u8>, Value, RoaringBitmap)> = Vec::new();
        for (key, original, docs) in strings {
            match string_groups.last_mut() {
                Some((last, _, d)) if *last == key => *d |= docs,
                _ => string_groups.push((key, Value::String(original), docs)),
            }
        }
        let strings: Vec<(Value, RoaringBitmap)> =
            string_groups.into_iter().map(|(_, v, d)| (v, d)).collect();
        // Best first, then reversed so that the best is last (groups are popped).
        if self.ascending {
            ordered.extend(number_groups);
            ordered.extend(strings);
        } else {
            ordered.extend(number_groups.into_iter().rev());
            ordered.extend(strings.into_iter().rev());
        }
        let mut placed = RoaringBitmap::new();
        for (_, docs) in ordered.iter_mut() {
            *docs -= &placed;
            placed |= &*docs;
        }
        ordered.retain(|(_, d)| !d.is_empty());
        let missing = &self.universe - &placed;
        if !missing.is_empty() {
            ordered.push((Value::Null, missing));
        }
        ordered.reverse();
        Ok(ordered)
    }
}

impl CustomRule {
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
                self.groups = Some(self.groups_from_terms(ctx)?);
            } else {
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
        let groups = self.groups.as_mut().expect("groups were just computed");
        while let Some((value, docs)) = groups.pop() {
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
        Ok(None)
    }

    fn end(&mut self) {
        self.groups = None;
    }
}
