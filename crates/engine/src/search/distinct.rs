//! Distinct: of the documents sharing a value of the distinct attribute, only the best ranked
//! one is kept. Documents without a value are all kept; a document with several values (an
//! array) excludes every other document sharing any of them, as Meilisearch does.
//!
//! The values come from the attribute's facet columns (`columns.rs`; the distinct attribute and
//! every filterable attribute have facet terms): one pass over the candidates. The
//! bucket sort calls `keep` on each document it returns, in rank order, so the first document of
//! a value wins; `reduce` then applies the same rule to the candidates the page did not reach,
//! in document order, which is what the hit counts and the facet distribution are computed on.

use std::collections::HashMap;

use roaring::RoaringBitmap;

use super::columns::ColumnValue;
use super::context::SearchContext;
use crate::error::{Result, UserError, UserErrorKind};
use crate::settings::{attribute_matches, FilterableRule, IndexSettings};

/// A value of the distinct attribute: numbers and strings are different values, strings are
/// compared in their normalized form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ValueKey {
    Number(u64),
    String(Vec<u8>),
}

pub struct Distinct {
    /// The candidates of each value.
    value_docs: Vec<RoaringBitmap>,
    /// The first value of each document having one.
    first_value: HashMap<u32, u32>,
    /// The other values of documents having several.
    more_values: HashMap<u32, Vec<u32>>,
    /// Documents that lost to a better one sharing a value.
    excluded: RoaringBitmap,
}

impl Distinct {
    /// Reads the values of `field` for the documents of `universe`, from the field's
    /// columns: one pass over the universe, whatever the number of values.
    pub fn new(ctx: &SearchContext, field: &str, universe: &RoaringBitmap) -> Result<Distinct> {
        let mut ids: HashMap<ValueKey, u32> = HashMap::new();
        let mut value_docs: Vec<RoaringBitmap> = Vec::new();
        let mut first_value: HashMap<u32, u32> = HashMap::new();
        let mut more_values: HashMap<u32, Vec<u32>> = HashMap::new();
        for view in ctx.segments() {
            let in_segment = universe.range_cardinality(view.range());
            if in_segment == 0 {
                continue;
            }
            let column = ctx.column(view, field)?;
            if column.is_empty() {
                continue;
            }
            // The value id of each ordinal of this segment, found on first use.
            let mut local = LocalIds::new(column.len(), in_segment);
            for doc in universe.range(view.range()) {
                for (i, ord) in column.ords(doc - view.base).iter().enumerate() {
                    let id = local.get_or_insert(*ord, || {
                        let key = match column.value(*ord) {
                            ColumnValue::Number(n) => ValueKey::Number(n.to_bits()),
                            ColumnValue::Text(normalized, _) => {
                                ValueKey::String(normalized.to_vec())
                            }
                        };
                        let next = value_docs.len() as u32;
                        let id = *ids.entry(key).or_insert(next);
                        if id == next {
                            value_docs.push(RoaringBitmap::new());
                        }
                        id
                    });
                    value_docs[id as usize].insert(doc);
                    if i == 0 {
                        first_value.insert(doc, id);
                    } else {
                        more_values.entry(doc).or_default().push(id);
                    }
                }
            }
        }
        Ok(Distinct {
            value_docs,
            first_value,
            more_values,
            excluded: RoaringBitmap::new(),
        })
    }

    /// The documents excluded so far.
    pub fn excluded(&self) -> &RoaringBitmap {
        &self.excluded
    }

    /// Keeps `doc`, excluding every other document sharing one of its values. Returns false
    /// when `doc` itself was already excluded.
    pub fn keep(&mut self, doc: u32) -> bool {
        if self.excluded.contains(doc) {
            return false;
        }
        let Some(&first) = self.first_value.get(&doc) else {
            return true;
        };
        self.excluded |= &self.value_docs[first as usize];
        if let Some(more) = self.more_values.get(&doc) {
            for value in more {
                self.excluded |= &self.value_docs[*value as usize];
            }
        }
        self.excluded.remove(doc);
        true
    }

    /// What remains of `candidates` once every value keeps one document: those already kept
    /// stay, the others are taken in id order.
    pub fn reduce(&mut self, candidates: &RoaringBitmap) -> RoaringBitmap {
        if self.more_values.is_empty() {
            // One value per document: per value, keep its first remaining document.
            for docs in &self.value_docs {
                let remaining = docs - &self.excluded;
                let alive = &remaining & candidates;
                if let Some(winner) = alive.min() {
                    let mut lost = remaining;
                    lost.remove(winner);
                    self.excluded |= lost;
                }
            }
            return candidates - &self.excluded;
        }
        let with_values: RoaringBitmap = self.first_value.keys().copied().collect();
        for doc in &(candidates & &with_values) {
            self.keep(doc);
        }
        candidates - &self.excluded
    }
}

/// Value ids by segment ordinal: a table when the universe covers a good part of the
/// segment's values, else a map, so that a small universe over a field of a million values
/// does not allocate for all of them.
enum LocalIds {
    Table(Vec<u32>),
    Map(HashMap<u32, u32>),
}

impl LocalIds {
    fn new(values: usize, docs: u64) -> LocalIds {
        if docs.saturating_mul(8) >= values as u64 {
            LocalIds::Table(vec![u32::MAX; values])
        } else {
            LocalIds::Map(HashMap::new())
        }
    }

    fn get_or_insert(&mut self, ord: u32, make: impl FnOnce() -> u32) -> u32 {
        match self {
            LocalIds::Table(table) => {
                let slot = &mut table[ord as usize];
                if *slot == u32::MAX {
                    *slot = make();
                }
                *slot
            }
            LocalIds::Map(map) => *map.entry(ord).or_insert_with(make),
        }
    }
}

/// The `distinct` search parameter must name a filterable attribute; the error lists the
/// patterns that are, in Meilisearch's words.
pub fn check_distinct_parameter(field: &str, settings: &IndexSettings) -> Result<()> {
    if crate::filter::filterable_rule(settings, field).is_some() {
        return Ok(());
    }
    let mut patterns: Vec<&str> = Vec::new();
    let mut disabled_rule = None;
    for (i, rule) in settings.filterable_attributes.iter().enumerate() {
        match rule {
            FilterableRule::Field(name) => patterns.push(name),
            FilterableRule::Patterns {
                attribute_patterns,
                equality,
                comparison,
                ..
            } => {
                let filters = *equality || *comparison;
                if filters {
                    patterns.extend(attribute_patterns.iter().map(String::as_str));
                } else if disabled_rule.is_none()
                    && attribute_patterns
                        .iter()
                        .any(|p| attribute_matches(p, field))
                {
                    disabled_rule = Some(i);
                }
            }
        }
    }
    patterns.sort_unstable();
    patterns.dedup();
    let reason = match (patterns.is_empty(), disabled_rule) {
        (_, Some(rule)) => format!(
            "Note: this attribute matches rule #{rule} in filterableAttributes, but this rule does not enable filtering.\nHint: enable filtering in rule #{rule} by adding appropriate filter features.\nHint: prepend another rule matching {field} with filter features before rule #{rule}"
        ),
        (true, None) => "This index does not have configured filterable attributes.".to_string(),
        (false, None) => format!(
            "Available filterable attributes patterns are: `{}`.",
            patterns.join(", ")
        ),
    };
    Err(UserError::new(
        UserErrorKind::InvalidSearchDistinct,
        format!("Attribute `{field}` is not filterable and thus, cannot be used as distinct attribute. {reason}"),
    )
    .into())
}
