//! One analyzer for documents and queries: the same text must become the same words on both
//! sides, or nothing matches. Unicode word segmentation (UAX #29), case folding and accent
//! folding, with separators that keep proximity honest.

mod normalize;

pub use normalize::normalize_word;

use unicode_segmentation::UnicodeSegmentation;

use crate::settings::IndexSettings;

/// How far apart two words on either side of a hard separator (`.`, `;`, a line break...) are
/// placed, so that proximity treats them as belonging to different phrases.
pub const HARD_SEPARATOR_GAP: u32 = 8;

/// A word of a text: its normalized form, where it came from, and its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Normalized text: lowercase, accents removed.
    pub text: String,
    /// Byte range of the original word in the analyzed text.
    pub start: usize,
    pub end: usize,
    /// Word position, counted from 0, with gaps after hard separators.
    pub position: u32,
}

/// Turns text into words. Built from an index's settings; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Analyzer {
    stop_words: std::collections::BTreeSet<String>,
}

impl Analyzer {
    pub fn new(settings: &IndexSettings) -> Analyzer {
        Analyzer {
            stop_words: settings
                .stop_words
                .iter()
                .map(|w| normalize_word(w))
                .collect(),
        }
    }

    /// Whether a normalized word is one of the index's stop words.
    pub fn is_stop_word(&self, word: &str) -> bool {
        self.stop_words.contains(word)
    }

    /// Every word of `text`, stop words included (callers decide what to do with them).
    pub fn tokenize(&self, text: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        self.for_each_token(text, |t| tokens.push(t));
        tokens
    }

    /// Streams the words of `text` to `f`, without collecting them.
    pub fn for_each_token(&self, text: &str, mut f: impl FnMut(Token)) {
        let mut position: u32 = 0;
        let mut first = true;
        let mut pending_gap = 0u32;
        for (start, segment) in text.split_word_bound_indices() {
            if !segment.chars().any(char::is_alphanumeric) {
                if segment.chars().any(is_hard_separator) {
                    pending_gap = HARD_SEPARATOR_GAP;
                }
                continue;
            }
            let normalized = normalize_word(segment);
            if normalized.is_empty() {
                continue;
            }
            if !first {
                position = position.saturating_add(pending_gap.max(1));
            }
            first = false;
            pending_gap = 0;
            f(Token {
                text: normalized,
                start,
                end: start + segment.len(),
                position,
            });
        }
    }
}

fn is_hard_separator(c: char) -> bool {
    matches!(
        c,
        '.' | ';' | ',' | '!' | '?' | ':' | '\n' | '\r' | '(' | ')' | '[' | ']' | '{' | '}' | '|'
            | '。' | '、' | '！' | '？' | '；' | '：'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, u32)> {
        Analyzer::default()
            .tokenize(text)
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect()
    }

    #[test]
    fn segments_folds_and_positions() {
        let cases: &[(&str, &[(&str, u32)])] = &[
            ("Hello World", &[("hello", 0), ("world", 1)]),
            ("Crème Brûlée", &[("creme", 0), ("brulee", 1)]),
            ("STRASSE straße", &[("strasse", 0), ("strasse", 1)]),
            ("end. Next", &[("end", 0), ("next", 8)]),
            ("foo-bar_baz", &[("foo", 0), ("bar_baz", 1)]),
            ("version 3.14", &[("version", 0), ("3.14", 1)]),
            ("東京タワー", &[("東", 0), ("京", 1), ("タワー", 2)]),
            ("  ", &[]),
        ];
        for (text, expected) in cases {
            let expected: Vec<(String, u32)> =
                expected.iter().map(|(w, p)| (w.to_string(), *p)).collect();
            assert_eq!(words(text), expected, "{text:?}");
        }
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Le Café de Flore";
        for token in Analyzer::default().tokenize(text) {
            assert_eq!(normalize_word(&text[token.start..token.end]), token.text);
        }
    }
}
