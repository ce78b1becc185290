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
/// thread, which cost a quarter of the indexing CPU.
#[derive(Debug, Clone)]
pub struct IndexedDocument {
    schema: SchemaFields,
    id: String,
    source: Vec<u8>,
    field_names: Vec<String>,
    facet_terms: Vec<String>,
    /// Sorted by position; `None` when the document has no searchable word.
    text: Option<PreTokenizedString>,
}

/// One value of an [`IndexedDocument`].
#[derive(Debug, Clone, Copy)]
pub enum IndexedValue<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
    Tokens(&'a PreTokenizedString),
}

impl<'a> tantivy::schema::Value<'a> for IndexedValue<'a> {
    type ArrayIter = std::iter::Empty<Self>;
    type ObjectIter = std::iter::Empty<(&'a str, Self)>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        ReferenceValue::Leaf(match *self {
            IndexedValue::Str(text) => ReferenceValueLeaf::Str(text),
            IndexedValue::Bytes(bytes) => ReferenceValueLeaf::Bytes(bytes),
            IndexedValue::Tokens(tokens) => ReferenceValueLeaf::PreTokStr(Box::new(tokens.clone())),
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
        let names = doc.field_names.len();
        let facets = doc.facet_terms.len();
        match i {
            0 => Some((doc.schema.id, IndexedValue::Str(&doc.id))),
            1 => Some((doc.schema.source, IndexedValue::Bytes(&doc.source))),
            i if i < 2 + names => Some((
                doc.schema.field_names,
                IndexedValue::Str(&doc.field_names[i - 2]),
            )),
            i if i < 2 + names + facets => Some((
                doc.schema.field_names,
                IndexedValue::Str(&doc.facet_terms[i - 2 - names]),
            )),
            i if i == 2 + names + facets => doc
                .text
                .as_ref()
                .map(|text| (doc.schema.text, IndexedValue::Tokens(text))),
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

/// Builds tantivy documents for one batch under one set of settings.
pub struct DocumentBuilder<'a> {
    pub analyzer: &'a Analyzer,
    pub searchable: &'a Searchable,
    pub faceted: &'a FacetedAttributes,
    pub schema: SchemaFields,
}

impl DocumentBuilder<'_> {
    pub fn build(
        &self,
        id: &str,
        document: &Map<String, Value>,
        source: &[u8],
        fields: &mut FieldsMap,
    ) -> IndexedDocument {
        let mut state = WalkState {
            tokens: Vec::new(),
            next_position: HashMap::new(),
            field_names: Vec::new(),
            facet_terms: Vec::new(),
        };
        let mut path = String::new();
        for (key, value) in document {
            path.clear();
            path.push_str(key);
            self.walk(&mut path, value, fields, &mut state);
        }
        let text = (!state.tokens.is_empty()).then(|| {
            // Positions of a term must increase within a document, whatever the key order was.
            state.tokens.sort_by_key(|t| t.position);
            PreTokenizedString {
                text: String::new(),
                tokens: state.tokens,
            }
        });
        IndexedDocument {
            schema: self.schema,
            id: id.to_string(),
            source: source.to_vec(),
            field_names: state.field_names,
            facet_terms: state.facet_terms,
            text,
        }
    }

    fn walk(
        &self,
        path: &mut String,
        value: &Value,
        fields: &mut FieldsMap,
        state: &mut WalkState,
    ) {
        if fields.insert(path).is_some() {
            state.field_names.push(path.clone());
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
                    self.walk(path, child, fields, state);
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(_) | Value::Array(_) => self.walk(path, item, fields, state),
                        leaf => {
                            if faceted {
                                facet::value_terms(path, leaf, &mut state.facet_terms);
                            }
                            self.index_leaf(path, leaf, fields, state)
                        }
                    }
                }
            }
            leaf => self.index_leaf(path, leaf, fields, state),
        }
    }

    fn index_leaf(&self, path: &str, value: &Value, fields: &FieldsMap, state: &mut WalkState) {
        let text = match value {
            Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
            Value::Number(n) => std::borrow::Cow::Owned(n.to_string()),
            Value::Bool(b) => std::borrow::Cow::Borrowed(if *b { "true" } else { "false" }),
            _ => return,
        };
        let Some(rank) = self.searchable.rank(path, fields) else {
            return;
        };
        let next = state.next_position.entry(rank).or_insert(0);
        let base = *next;
        let mut last = None;
        self.analyzer.for_each_token(&text, |token| {
            let position = base + token.position;
            last = Some(position);
            if position > u32::from(u16::MAX) || self.analyzer.is_stop_word(&token.text) {
                return;
            }
            state.tokens.push(TantivyToken {
                offset_from: 0,
                offset_to: 0,
                position: pack_position(rank, position) as usize,
                text: token.text,
                position_length: 1,
            });
        });
        if let Some(last) = last {
            if last < u32::from(u16::MAX) {
                state.tokens.push(TantivyToken {
                    offset_from: 0,
                    offset_to: 0,
                    position: pack_position(rank, last + 1) as usize,
                    text: END_OF_VALUE.to_string(),
                    position_length: 1,
                });
            }
            *next = last + HARD_SEPARATOR_GAP;
        }
    }
}

struct WalkState {
    tokens: Vec<TantivyToken>,
    /// The names of the document's fields, in walk order, for `_fields`.
    field_names: Vec<String>,
    /// Facet terms of the document (see `crate::facet`), added to `_fields`.
    facet_terms: Vec<String>,
    next_position: HashMap<u16, u32>,
}
