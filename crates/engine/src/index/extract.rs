//! Turning one JSON document into the tantivy document that indexes it: searchable words with
//! their attribute and position, the list of field names it has, and the facet terms of its
//! filterable, sortable and distinct attributes.

use std::collections::HashMap;

use serde_json::{Map, Value};
use tantivy::schema::document::{Document, ReferenceValue, ReferenceValueLeaf};
use tantivy::schema::Field;
use tantivy::tokenizer::{PreTokenizedString, Token as TantivyToken};

use super::schema::{pack_position, SchemaFields};
use crate::analysis::{Analyzer, END_OF_VALUE, HARD_SEPARATOR_GAP};
use crate::facet::{self, FacetedAttributes};
use crate::settings::{attribute_matches, IndexSettings};

/// Every field name an index has seen, in first-seen order. With `searchableAttributes: ["*"]`
/// a field's rank for the attribute ranking rule is its place in this list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldsMap {
    names: Vec<String>,
    ids: HashMap<String, u16>,
}

impl FieldsMap {
    pub fn from_names(names: Vec<String>) -> FieldsMap {
        let ids = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i.min(u16::MAX as usize) as u16))
            .collect();
        FieldsMap { names, ids }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn id(&self, name: &str) -> Option<u16> {
        self.ids.get(name).copied()
    }

    /// The id of `name`, recording it if new. Returns `None` past 65,535 fields.
    pub fn insert(&mut self, name: &str) -> Option<u16> {
        if let Some(id) = self.ids.get(name) {
            return Some(*id);
        }
        if self.names.len() >= u16::MAX as usize {
            return None;
        }
        let id = self.names.len() as u16;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        Some(id)
    }
}

/// How a build meets field names: the batch's own map records the new ones; a snapshot of it
/// (read by the helper threads that build documents ahead of the writer) only knows the names
/// it holds, and notes that it missed one, so that the writer builds that document again with
/// the batch's map: first-seen order stays the order of documents.
trait FieldIds {
    /// The id of `path`, recording it when it is new (`None` past 65,535 fields).
    fn insert(&mut self, path: &str) -> Option<u16>;
    fn map(&self) -> &FieldsMap;
}

impl FieldIds for FieldsMap {
    fn insert(&mut self, path: &str) -> Option<u16> {
        FieldsMap::insert(self, path)
    }

    fn map(&self) -> &FieldsMap {
        self
    }
}

struct Snapshot<'a> {
    map: &'a FieldsMap,
    missed: bool,
}

impl FieldIds for Snapshot<'_> {
    fn insert(&mut self, path: &str) -> Option<u16> {
        let id = self.map.id(path);
        self.missed |= id.is_none();
        id
    }

    fn map(&self) -> &FieldsMap {
        self.map
    }
}

/// Which fields are searchable and with which rank.
#[derive(Debug, Clone)]
pub enum Searchable {
    /// `["*"]`: every field, ranked by first-seen order.
    All,
    /// An explicit list: a field's rank is the first pattern that selects it.
    Listed(Vec<String>),
}

impl Searchable {
    pub fn from_settings(settings: &IndexSettings) -> Searchable {
        match &settings.searchable_attributes {
            Some(list) if !list.iter().any(|a| a == "*") => Searchable::Listed(list.clone()),
            _ => Searchable::All,
        }
    }

    /// The attribute rank of `field`, or `None` if it is not searchable.
    pub fn rank(&self, field: &str, fields: &FieldsMap) -> Option<u16> {
        match self {
            Searchable::All => fields.id(field),
            Searchable::Listed(list) => list
                .iter()
                .position(|pattern| attribute_matches(pattern, field))
                .map(|p| p.min(u16::MAX as usize) as u16),
        }
    }
}

/// What tantivy indexes for one Quarry document: its id, its source, the `_fields` terms (the
/// names of its fields in walk order, then its facet terms) and its searchable words.
///
/// It is handed to tantivy as is (tantivy's `Document` trait): its default document would
/// serialize the words to JSON when the document is built and parse them back on the indexing
/// thread, which cost a quarter of the indexing CPU. Terms and words are packed in one buffer
/// each: a document is built on one thread and dropped on another, and a few large
/// allocations crossing threads cost the allocator much less than one per word.
#[derive(Debug, Clone)]
pub struct IndexedDocument {
    schema: SchemaFields,
    id: String,
    source: Vec<u8>,
    /// The `_fields` terms one after the other, and where each ends.
    terms: String,
    term_ends: Vec<u32>,
    /// The searchable words one after the other, and for each `(start, end, packed position)`,
    /// by position.
    words: String,
    word_spans: Vec<(u32, u32, u32)>,
}

/// One value of an [`IndexedDocument`].
#[derive(Debug, Clone, Copy)]
pub enum IndexedValue<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
    /// The searchable words: the document, turned into tantivy tokens when tantivy reads it.
    Words(&'a IndexedDocument),
}

impl<'a> tantivy::schema::Value<'a> for IndexedValue<'a> {
    type ArrayIter = std::iter::Empty<Self>;
    type ObjectIter = std::iter::Empty<(&'a str, Self)>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        ReferenceValue::Leaf(match *self {
            IndexedValue::Str(text) => ReferenceValueLeaf::Str(text),
            IndexedValue::Bytes(bytes) => ReferenceValueLeaf::Bytes(bytes),
            IndexedValue::Words(doc) => ReferenceValueLeaf::PreTokStr(Box::new(doc.tokens())),
        })
    }
}

/// The fields and values of an [`IndexedDocument`], in the order a `TantivyDocument` built the
/// same way would hold them.
pub struct IndexedValues<'a> {
    doc: &'a IndexedDocument,
    next: usize,
}

impl<'a> Iterator for IndexedValues<'a> {
    type Item = (Field, IndexedValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let doc = self.doc;
        let i = self.next;
        self.next += 1;
        let terms = doc.term_ends.len();
        match i {
            0 => Some((doc.schema.id, IndexedValue::Str(&doc.id))),
            1 => Some((doc.schema.source, IndexedValue::Bytes(&doc.source))),
            i if i < 2 + terms => {
                Some((doc.schema.field_names, IndexedValue::Str(doc.term(i - 2))))
            }
            i if i == 2 + terms && !doc.word_spans.is_empty() => {
                Some((doc.schema.text, IndexedValue::Words(doc)))
            }
            _ => None,
        }
    }
}

impl Document for IndexedDocument {
    type Value<'a> = IndexedValue<'a>;
    type FieldsValuesIter<'a> = IndexedValues<'a>;

    fn iter_fields_and_values(&self) -> IndexedValues<'_> {
        IndexedValues { doc: self, next: 0 }
    }
}

impl IndexedDocument {
    /// The document's compact JSON, as stored.
    pub fn source(&self) -> &[u8] {
        &self.source
    }

    fn term(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.term_ends[i - 1] };
        &self.terms[start as usize..self.term_ends[i] as usize]
    }

    fn push_term(&mut self, term: &str) {
        self.terms.push_str(term);
        self.term_ends.push(self.terms.len() as u32);
    }

    /// The searchable words as tantivy tokens.
    fn tokens(&self) -> PreTokenizedString {
        PreTokenizedString {
            text: String::new(),
            tokens: self
                .word_spans
                .iter()
                .map(|&(start, end, position)| TantivyToken {
                    offset_from: 0,
                    offset_to: 0,
                    position: position as usize,
                    text: self.words[start as usize..end as usize].to_string(),
                    position_length: 1,
                })
                .collect(),
        }
    }
}

/// Builds tantivy documents for one batch under one set of settings.
pub struct DocumentBuilder<'a> {
    pub analyzer: &'a Analyzer,
    pub searchable: &'a Searchable,
    pub faceted: &'a FacetedAttributes,
    pub schema: SchemaFields,
}

impl DocumentBuilder<'_> {
    /// The tantivy document of `document`, recording its new field names in `fields`.
    pub fn build(
        &self,
        id: &str,
        document: &Map<String, Value>,
        source: &[u8],
        fields: &mut FieldsMap,
    ) -> IndexedDocument {
        self.build_with(id, document, source, fields)
    }

    /// What [`DocumentBuilder::build`] would give with a map holding `fields`, or `None` when
    /// the document has a field `fields` does not know (then only `build`, in document order,
    /// may give its answer).
    pub fn try_build(
        &self,
        id: &str,
        document: &Map<String, Value>,
        source: &[u8],
        fields: &FieldsMap,
    ) -> Option<IndexedDocument> {
        let mut snapshot = Snapshot {
            map: fields,
            missed: false,
        };
        let doc = self.build_with(id, document, source, &mut snapshot);
        (!snapshot.missed).then_some(doc)
    }

    fn build_with(
        &self,
        id: &str,
        document: &Map<String, Value>,
        source: &[u8],
        fields: &mut impl FieldIds,
    ) -> IndexedDocument {
        let mut doc = IndexedDocument {
            schema: self.schema,
            id: id.to_string(),
            source: source.to_vec(),
            terms: String::new(),
            term_ends: Vec::new(),
            words: String::new(),
            word_spans: Vec::new(),
        };
        let mut state = WalkState {
            next_position: Vec::new(),
            facet_terms: Vec::new(),
            word: String::new(),
        };
        let mut path = String::new();
        for (key, value) in document {
            path.clear();
            path.push_str(key);
            self.walk(&mut path, value, fields, &mut doc, &mut state);
        }
        for term in &state.facet_terms {
            doc.push_term(term);
        }
        // Positions of a term must increase within a document, whatever the key order was.
        doc.word_spans.sort_by_key(|&(_, _, position)| position);
        doc
    }

    fn walk(
        &self,
        path: &mut String,
        value: &Value,
        fields: &mut impl FieldIds,
        doc: &mut IndexedDocument,
        state: &mut WalkState,
    ) {
        if fields.insert(path).is_some() {
            doc.push_term(path);
        }
        let faceted = !self.faceted.is_empty() && self.faceted.contains(path);
        if faceted {
            facet::value_terms(path, value, &mut state.facet_terms);
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let len = path.len();
                    path.push('.');
                    path.push_str(key);
                    self.walk(path, child, fields, doc, state);
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(_) | Value::Array(_) => {
                            self.walk(path, item, fields, doc, state)
                        }
                        leaf => {
                            if faceted {
                                facet::value_terms(path, leaf, &mut state.facet_terms);
                            }
                            self.index_leaf(path, leaf, fields.map(), doc, state)
                        }
                    }
                }
            }
            leaf => self.index_leaf(path, leaf, fields.map(), doc, state),
        }
    }

    fn index_leaf(
        &self,
        path: &str,
        value: &Value,
        fields: &FieldsMap,
        doc: &mut IndexedDocument,
        state: &mut WalkState,
    ) {
        let text = match value {
            Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
            Value::Number(n) => std::borrow::Cow::Owned(n.to_string()),
            Value::Bool(b) => std::borrow::Cow::Borrowed(if *b { "true" } else { "false" }),
            _ => return,
        };
        let Some(rank) = self.searchable.rank(path, fields) else {
            return;
        };
        let next = match state.next_position.iter().position(|(r, _)| *r == rank) {
            Some(i) => &mut state.next_position[i].1,
            None => {
                state.next_position.push((rank, 0));
                &mut state.next_position.last_mut().expect("just pushed").1
            }
        };
        let base = *next;
        let mut last = None;
        let (words, spans) = (&mut doc.words, &mut doc.word_spans);
        self.analyzer
            .for_each_word(&text, &mut state.word, |word, _, _, position| {
                let position = base + position;
                last = Some(position);
                if position > u32::from(u16::MAX) || self.analyzer.is_stop_word(word) {
                    return;
                }
                let start = words.len() as u32;
                words.push_str(word);
                spans.push((start, words.len() as u32, pack_position(rank, position)));
            });
        if let Some(last) = last {
            if last < u32::from(u16::MAX) {
                let start = words.len() as u32;
                words.push_str(END_OF_VALUE);
                spans.push((start, words.len() as u32, pack_position(rank, last + 1)));
            }
            *next = last + HARD_SEPARATOR_GAP;
        }
    }
}

struct WalkState {
    /// Facet terms of the document (see `crate::facet`), added to `_fields` after its names.
    facet_terms: Vec<String>,
    /// The next word position of each attribute rank met so far.
    next_position: Vec<(u16, u32)>,
    /// The word being normalized.
    word: String,
}
