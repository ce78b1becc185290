//! Facet terms: how the values of filterable, sortable and distinct attributes are written into
//! the index so that filters, facet counts and sorting are term-dictionary lookups and range
//! scans instead of reads of stored documents.
//!
//! Facet terms live in the `_fields` keyword field next to the field names, behind a prefix
//! character no field name starts with (U+10FFFF, which also sorts after every field name):
//!
//! ```text
//! P s <field> \0 <normalized string> \0 <original string>   a string (and a boolean, as text)
//! P n <field> \0 <16 hex digits>                            a number, order-preserving
//! P z <field>                                               the value is null
//! P e <field>                                               the value is "", [] or {}
//! P g <16 hex lat><16 hex lng>                              the `_geo` point
//! ```
//!
//! Strings are compared the way Meilisearch compares facet values: trimmed and lowercased. The
//! original spelling rides along in the term so that facet distributions can show it.

use serde_json::Value;

use crate::settings::{attribute_matches, FilterableRule, IndexSettings};

/// Starts every facet term; no field name starts with it, and it sorts after all of them.
pub const FACET_PREFIX: char = '\u{10FFFF}';

/// Longest normalized or original string kept in a term, in bytes.
pub const MAX_FACET_STRING: usize = 240;

/// The form facet strings are compared in.
pub fn normalize(value: &str) -> String {
    let lowered: String = value
        .trim()
        .chars()
        .filter(|c| *c != '\0')
        .flat_map(char::to_lowercase)
        .collect();
    truncate(lowered)
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_FACET_STRING {
        let mut end = MAX_FACET_STRING;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// An `f64` as 16 hex digits whose byte order is the numeric order.
pub fn encode_number(value: f64) -> String {
    format!("{:016x}", ordered_bits(value))
}

/// An `f64` as a `u64` whose integer order is the numeric order (`-0.0` as `0.0`).
pub fn ordered_bits(value: f64) -> u64 {
    let value = if value == 0.0 { 0.0 } else { value };
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

pub fn decode_number(hex: &str) -> Option<f64> {
    let ordered = u64::from_str_radix(hex.get(..16)?, 16).ok()?;
    let bits = if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    };
    Some(f64::from_bits(bits))
}

/// The start of every string term of `field`.
pub fn string_prefix(field: &str) -> String {
    format!("{FACET_PREFIX}s{field}\0")
}

/// The start of the string terms of `field` whose normalized value is `normalized`.
pub fn string_value_prefix(field: &str, normalized: &str) -> String {
    format!("{FACET_PREFIX}s{field}\0{normalized}\0")
}

pub fn string_term(field: &str, original: &str) -> String {
    let kept = original.len().min(MAX_FACET_STRING);
    let mut term = String::with_capacity(field.len() + 2 * kept + 7);
    term.push(FACET_PREFIX);
    term.push('s');
    term.push_str(field);
    term.push('\0');
    if original.is_ascii() {
        // `normalize` and `truncate` without their intermediate strings (terms are written
        // for every faceted value of every document).
        let start = term.len();
        term.extend(
            original
                .trim()
                .chars()
                .filter(|c| *c != '\0')
                .take(MAX_FACET_STRING),
        );
        term[start..].make_ascii_lowercase();
        term.push('\0');
        term.extend(
            original
                .chars()
                .filter(|c| *c != '\0')
                .take(MAX_FACET_STRING),
        );
    } else {
        term.push_str(&normalize(original));
        term.push('\0');
        term.push_str(&truncate(original.replace('\0', "")));
    }
    term
}

/// Splits the part of a string term after its prefix into (normalized, original).
pub fn split_string_rest(rest: &[u8]) -> (&[u8], &[u8]) {
    match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, rest),
    }
}

/// The start of every number term of `field`.
pub fn number_prefix(field: &str) -> String {
    format!("{FACET_PREFIX}n{field}\0")
}

pub fn number_term(field: &str, value: f64) -> String {
    let mut term = String::with_capacity(field.len() + 22);
    term.push(FACET_PREFIX);
    term.push('n');
    term.push_str(field);
    term.push('\0');
    // Writing into the String allocates nothing more than `push_str` would.
    let _ = std::fmt::Write::write_fmt(&mut term, format_args!("{:016x}", ordered_bits(value)));
    term
}

pub fn null_term(field: &str) -> String {
    format!("{FACET_PREFIX}z{field}")
}

pub fn empty_term(field: &str) -> String {
    format!("{FACET_PREFIX}e{field}")
}

pub fn geo_prefix() -> String {
    format!("{FACET_PREFIX}g")
}

pub fn geo_term(lat: f64, lng: f64) -> String {
    format!(
        "{FACET_PREFIX}g{}{}",
        encode_number(lat),
        encode_number(lng)
    )
}

/// Decodes the part of a geo term after its prefix.
pub fn decode_geo(rest: &[u8]) -> Option<(f64, f64)> {
    let text = std::str::from_utf8(rest).ok()?;
    Some((
        decode_number(text.get(..16)?)?,
        decode_number(text.get(16..32)?)?,
    ))
}

/// A number of a filter or a document as Meilisearch reads it: finite, from a JSON number or
/// from the text of a filter value.
pub fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

/// How a numeric facet value is shown (facet distributions): integers without a fraction.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// The attributes whose values are written as facet terms.
#[derive(Debug, Clone, Default)]
pub struct FacetedAttributes {
    patterns: Vec<String>,
}

impl FacetedAttributes {
    pub fn from_settings(settings: &IndexSettings) -> FacetedAttributes {
        let mut patterns: Vec<String> = Vec::new();
        for rule in &settings.filterable_attributes {
            match rule {
                FilterableRule::Field(name) => patterns.push(name.clone()),
                FilterableRule::Patterns {
                    attribute_patterns, ..
                } => patterns.extend(attribute_patterns.iter().cloned()),
            }
        }
        patterns.extend(settings.sortable_attributes.iter().cloned());
        patterns.extend(settings.distinct_attribute.iter().cloned());
        patterns.sort();
        patterns.dedup();
        FacetedAttributes { patterns }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn contains(&self, path: &str) -> bool {
        self.patterns.iter().any(|p| attribute_matches(p, path))
    }
}

/// The facet terms of one value found at `path` (see the module doc). Arrays and objects are
/// not walked here: the caller visits their items under the right paths.
pub fn value_terms(path: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Null => out.push(null_term(path)),
        Value::Bool(b) => out.push(string_term(path, if *b { "true" } else { "false" })),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| f.is_finite()) {
                out.push(number_term(path, f));
            }
        }
        Value::String(s) => {
            if s.is_empty() {
                out.push(empty_term(path));
            }
            out.push(string_term(path, s));
        }
        Value::Array(items) => {
            if items.is_empty() {
                out.push(empty_term(path));
            }
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push(empty_term(path));
            }
        }
    }
    if path == "_geo" {
        if let Some((lat, lng)) = geo_point(value) {
            out.push(geo_term(lat, lng));
        }
    }
}

/// The point of a `_geo` value: `{lat, lng}` as numbers or numeric strings.
pub fn geo_point(value: &Value) -> Option<(f64, f64)> {
    let map = value.as_object()?;
    let read = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s),
        _ => None,
    };
    Some((read(map.get("lat")?)?, read(map.get("lng")?)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `string_term` and `number_term` as they were first written, with `format!`.
    #[test]
    fn terms_are_written_as_formatted() {
        let strings = [
            "",
            " ",
            "2017-08",
            "  Mixed Case  ",
            "a\0b",
            "\u{b}vt\u{b}",
            "Crème Brûlée",
            "  ÉTÉ ",
            "ǅ",
            "x\0",
            &"long ".repeat(100),
            &"é".repeat(200),
            &"a".repeat(240),
            "\u{85}x\u{a0}",
        ];
        for field in ["released", "a.b", ""] {
            for s in strings {
                let expected = format!(
                    "{FACET_PREFIX}s{field}\0{}\0{}",
                    normalize(s),
                    truncate(s.replace('\0', ""))
                );
                assert_eq!(string_term(field, s), expected, "{s:?}");
            }
            for v in [0.0, -0.0, 1.0, -2.5, 1e300, f64::MIN, 2017.0, 0.1] {
                let expected = format!("{FACET_PREFIX}n{field}\0{}", encode_number(v));
                assert_eq!(number_term(field, v), expected, "{v}");
            }
        }
    }

    #[test]
    fn numbers_keep_their_order() {
        let values = [
            f64::MIN,
            -1e10,
            -2.5,
            -1.0,
            -0.0,
            0.0,
            1e-9,
            1.0,
            2.5,
            1998.0,
            1e10,
            f64::MAX,
        ];
        for pair in values.windows(2) {
            assert!(encode_number(pair[0]) <= encode_number(pair[1]), "{pair:?}");
        }
        for v in values {
            assert_eq!(
                decode_number(&encode_number(v)),
                Some(if v == 0.0 { 0.0 } else { v })
            );
        }
    }

    #[test]
    fn strings_fold_case_and_keep_the_original() {
        assert_eq!(normalize("  Drama "), "drama");
        let term = string_term("genre", "Drama");
        let rest = &term.as_bytes()[string_prefix("genre").len()..];
        assert_eq!(split_string_rest(rest), (&b"drama"[..], &b"Drama"[..]));
    }
}
