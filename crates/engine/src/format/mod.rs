//! Presenting a hit the way Meilisearch's search parameters ask: `_formatted` (matches wrapped in
//! highlight tags, long texts cropped around the best matches) and `_matchesPosition` (where each
//! match lies, in bytes of the original strings). The engine knows which words match
//! ([`MatchingWords`]) and how text splits into words ([`Analyzer`]); this module turns both into
//! the response fields, walking nested objects and arrays.
//!
//! Behaviour follows Meilisearch's documentation of `attributesToHighlight`, `highlightPreTag`,
//! `highlightPostTag`, `attributesToCrop`, `cropLength`, `cropMarker` and `showMatchesPosition`:
//! - `_formatted` holds every field of the given document; numbers are written as strings there
//!   (formatted or not), booleans and nulls are kept as they are.
//! - Highlighting wraps each matching word, or the typed part of a prefix match.
//! - Cropping keeps `cropLength` words around the best window of matches (or the first words
//!   without matches), adding the crop marker on each side where words were cut off. A crop
//!   length of 0 keeps the whole text.
//! - `_matchesPosition` lists, per field path (`author.name`), `{start, length}` in bytes, with
//!   `indices` (the array indices leading to the value) for values inside arrays. It covers every
//!   field of the document, highlighted or not.

mod selector;
mod text;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::analysis::Analyzer;
use crate::search::MatchingWords;

use selector::{applies, Specificity};
use text::{analyze, render, TextFormat};

/// What a search asked of `_formatted` and `_matchesPosition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatOptions {
    /// Attributes (names or patterns like `*`, `title`, `author.*`) to highlight.
    pub highlight: Vec<String>,
    /// Attributes to crop, each with an optional own crop length ("overview:20" is parsed by the
    /// caller into ("overview", Some(20))).
    pub crop: Vec<(String, Option<usize>)>,
    /// Words kept by a crop without its own length; 0 disables those crops.
    pub crop_length: usize,
    pub crop_marker: String,
    pub pre_tag: String,
    pub post_tag: String,
    pub show_matches_position: bool,
}

impl Default for FormatOptions {
    /// Meilisearch's defaults: nothing highlighted or cropped, 10 words, `…`, `<em>`/`</em>`.
    fn default() -> Self {
        FormatOptions {
            highlight: Vec::new(),
            crop: Vec::new(),
            crop_length: 10,
            crop_marker: "…".to_string(),
            pre_tag: "<em>".to_string(),
            post_tag: "</em>".to_string(),
            show_matches_position: false,
        }
    }
}

/// The presentation fields of one hit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Formatted {
    /// `_formatted`: present when `highlight` or `crop` is non-empty; every field of the
    /// document, strings highlighted/cropped where asked, numbers as strings.
    pub formatted: Option<Map<String, Value>>,
    /// `_matchesPosition`: present when `show_matches_position`; field path ->
    /// `[{start, length[, indices]}]`, byte offsets into the original strings, paths sorted.
    pub matches_position: Option<Map<String, Value>>,
}

/// Formats one hit. `document` holds the fields to show in `_formatted` (the retrieved
/// attributes, plus the highlighted and cropped ones, already restricted to displayed
/// attributes).
pub fn format_document(
    document: &Map<String, Value>,
    analyzer: &Analyzer,
    matching: &MatchingWords,
    options: &FormatOptions,
) -> Formatted {
    let formatting = !options.highlight.is_empty() || !options.crop.is_empty();
    let positions = options.show_matches_position;
    if !formatting && !positions {
        return Formatted::default();
    }
    let mut walker = Walker {
        analyzer,
        matching,
        options,
        formatting,
        positions: positions.then(BTreeMap::new),
        path: String::new(),
        indices: Vec::new(),
    };
    let mut formatted = Map::new();
    for (key, value) in document {
        walker.path.clear();
        walker.path.push_str(key);
        if let Some(value) = walker.value(value) {
            formatted.insert(key.clone(), value);
        }
    }
    Formatted {
        formatted: formatting.then_some(formatted),
        matches_position: walker
            .positions
            .map(|p| p.into_iter().map(|(k, v)| (k, Value::Array(v))).collect()),
    }
}

/// How one leaf is to be formatted.
#[derive(Debug, Clone, Copy, Default)]
struct LeafFormat {
    highlight: bool,
    /// Words to keep; never `Some(0)`.
    crop: Option<usize>,
}

struct Walker<'a> {
    analyzer: &'a Analyzer,
    matching: &'a MatchingWords,
    options: &'a FormatOptions,
    formatting: bool,
    positions: Option<BTreeMap<String, Vec<Value>>>,
    /// Dotted path of the value being visited (array indices left out, as Meilisearch names
    /// fields).
    path: String,
    /// Indices of the arrays the value being visited is in, outermost first.
    indices: Vec<usize>,
}

impl Walker<'_> {
    /// The formatted value (`None` when only match positions are collected).
    fn value(&mut self, value: &Value) -> Option<Value> {
        match value {
            Value::String(s) => self.text(s),
            Value::Number(n) => {
                let s = n.to_string();
                self.text(&s)
            }
            Value::Object(object) => {
                let mut out = Map::new();
                let parent_len = self.path.len();
                for (key, value) in object {
                    self.path.truncate(parent_len);
                    self.path.push('.');
                    self.path.push_str(key);
                    if let Some(value) = self.value(value) {
                        out.insert(key.clone(), value);
                    }
                }
                self.path.truncate(parent_len);
                self.formatting.then_some(Value::Object(out))
            }
            Value::Array(values) => {
                let mut out = Vec::new();
                for (i, value) in values.iter().enumerate() {
                    self.indices.push(i);
                    if let Some(value) = self.value(value) {
                        out.push(value);
                    }
                    self.indices.pop();
                }
                self.formatting.then_some(Value::Array(out))
            }
            Value::Bool(_) | Value::Null => self.formatting.then(|| value.clone()),
        }
    }

    fn text(&mut self, s: &str) -> Option<Value> {
        let leaf = if self.formatting {
            self.leaf_format()
        } else {
            LeafFormat::default()
        };
        let has_query = !self.matching.is_empty();
        let shape = leaf.crop.is_some() || (leaf.highlight && has_query);
        let locate = self.positions.is_some() && has_query;
        if !shape && !locate {
            return self.formatting.then(|| Value::String(s.to_string()));
        }

        let analysis = analyze(
            s,
            self.analyzer,
            self.matching,
            shape && leaf.crop.is_some(),
        );
        if locate && !analysis.matches.is_empty() {
            let entries = self
                .positions
                .as_mut()
                .expect("locate implies positions")
                .entry(self.path.clone())
                .or_default();
            for m in &analysis.matches {
                let mut entry = Map::new();
                entry.insert("start".into(), m.start.into());
                entry.insert("length".into(), (m.end - m.start).into());
                if !self.indices.is_empty() {
                    entry.insert("indices".into(), self.indices.clone().into());
                }
                entries.push(Value::Object(entry));
            }
        }
        if !self.formatting {
            return None;
        }
        if !shape {
            return Some(Value::String(s.to_string()));
        }
        let format = TextFormat {
            highlight: leaf.highlight,
            crop: leaf.crop,
            pre_tag: &self.options.pre_tag,
            post_tag: &self.options.post_tag,
            crop_marker: &self.options.crop_marker,
        };
        Some(Value::String(render(s, &analysis, &format)))
    }

    /// Highlight and crop settings for the leaf at `self.path`. When several crop patterns
    /// apply, the most specific wins (the leaf's own name, then the closest ancestor, then a
    /// wildcard), and among equals the one listed last.
    fn leaf_format(&self) -> LeafFormat {
        let path = self.path.as_str();
        let highlight = self
            .options
            .highlight
            .iter()
            .any(|p| applies(p, path).is_some());
        let mut best: Option<(Specificity, Option<usize>)> = None;
        for (pattern, own_len) in &self.options.crop {
            if let Some(specificity) = applies(pattern, path) {
                if best.is_none_or(|(s, _)| specificity >= s) {
                    best = Some((specificity, *own_len));
                }
            }
        }
        let crop = best
            .map(|(_, own_len)| own_len.unwrap_or(self.options.crop_length))
            .filter(|&len| len > 0);
        LeafFormat { highlight, crop }
    }
}
