//! Turning one JSON document into the tantivy document that indexes it: searchable words with
//! their attribute and position, the list of field names it has, and the facet terms of its
//! filterable, sortable and distinct attributes.

use std::collections::HashMap;

use serde_json::{Map, Value};
use tantivy::tokenizer::{PreTokenizedString, Token as TantivyToken};
use tantivy::TantivyDocument;

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
    ) -> TantivyDocument {
        let mut doc = TantivyDocument::new();
        doc.add_text(self.schema.id, id);
        doc.add_bytes(self.schema.source, source);
        let mut state = WalkState {
            tokens: Vec::new(),
            next_position: HashMap::new(),
            facet_terms: Vec::new(),
        };
        let mut path = String::new();
        for (key, value) in document {
            path.clear();
            path.push_str(key);
            self.walk(&mut path, value, fields, &mut doc, &mut state);
        }
        for term in &state.facet_terms {
            doc.add_text(self.schema.field_names, term);
        }
        if !state.tokens.is_empty() {
            // Positions of a term must increase within a document, whatever the key order was.
            state.tokens.sort_by_key(|t| t.position);
            doc.add_pre_tokenized_text(
                self.schema.text,
                PreTokenizedString {
                    text: String::new(),
                    tokens: state.tokens,
                },
            );
        }
        doc
    }

    fn walk(
        &self,
        path: &mut String,
        value: &Value,
        fields: &mut FieldsMap,
        doc: &mut TantivyDocument,
        state: &mut WalkState,
    ) {
        if fields.insert(path).is_some() {
            doc.add_text(self.schema.field_names, path.as_str());
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
    /// Facet terms of the document (see `crate::facet`), added to `_fields`.
    facet_terms: Vec<String>,
    next_position: HashMap<u16, u32>,
}
