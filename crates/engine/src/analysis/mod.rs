//! One analyzer for documents and queries: the same text must become the same words on both
//! sides, or nothing matches. Unicode word segmentation (UAX #29), case folding and accent
//! folding, with separators that keep proximity honest, and the index's own word rules
//! (`dictionary`, `separatorTokens`, `nonSeparatorTokens`, `stopWords`).

mod normalize;
mod segment;

pub use normalize::{normalize_word, normalize_word_into};

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::settings::IndexSettings;

/// How far apart two words on either side of a hard separator (`.`, `;`, a line break...) are
/// placed, so that proximity treats them as belonging to different phrases.
pub const HARD_SEPARATOR_GAP: u32 = 8;

/// The term indexed right after the last word of every searchable value (a string, a number...).
/// It lets the exactness rule see where a value ends ("the whole title is the query") by reading
/// one more posting list. No analyzed word can equal it: words always hold a letter or a digit.
pub const END_OF_VALUE: &str = "\u{0}";

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

/// The index's custom word rules, shared by every clone of an analyzer.
#[derive(Debug, Default)]
struct Rules {
    stop_words: BTreeSet<String>,
    /// Strings kept as one word wherever they appear, as typed (matched case-insensitively).
    dictionary: Vec<String>,
    /// Strings that separate words even inside what Unicode calls a word.
    separators: Vec<String>,
    /// Strings that Unicode treats as separators but that belong to words here (`#`, `@`...).
    non_separators: Vec<String>,
}

impl Rules {
    fn is_plain(&self) -> bool {
        self.dictionary.is_empty() && self.separators.is_empty() && self.non_separators.is_empty()
    }
}

/// Turns text into words. Built from an index's settings; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Analyzer {
    rules: Arc<Rules>,
}

impl Analyzer {
    pub fn new(settings: &IndexSettings) -> Analyzer {
        let mut dictionary: Vec<String> = settings
            .dictionary
            .iter()
            .map(|w| w.to_lowercase())
            .filter(|w| !w.trim().is_empty())
            .collect();
        // Longest first, so that `C++` wins over `C` at the same place.
        dictionary.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut separators: Vec<String> = settings
            .separator_tokens
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
        separators.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let non_separators: Vec<String> = settings
            .non_separator_tokens
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
        Analyzer {
            rules: Arc::new(Rules {
                stop_words: settings
                    .stop_words
                    .iter()
                    .map(|w| normalize_word(w))
                    .collect(),
                dictionary,
                separators,
                non_separators,
            }),
        }
    }

    /// Whether a normalized word is one of the index's stop words.
    pub fn is_stop_word(&self, word: &str) -> bool {
        !self.rules.stop_words.is_empty() && self.rules.stop_words.contains(word)
    }

    /// Every word of `text`, stop words included (callers decide what to do with them).
    pub fn tokenize(&self, text: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        self.for_each_token(text, |t| tokens.push(t));
        tokens
    }

    /// Streams the words of `text` to `f`, without collecting them.
    pub fn for_each_token(&self, text: &str, mut f: impl FnMut(Token)) {
        let mut word = String::new();
        self.for_each_word(text, &mut word, |word, start, end, position| {
            f(Token {
                text: word.to_string(),
                start,
                end,
                position,
            })
        });
    }

    /// Streams the words of `text` to `f` as `(normalized word, start, end, position)` (see
    /// [`Token`]), normalizing each into `buffer`: no allocation per word.
    pub fn for_each_word(
        &self,
        text: &str,
        buffer: &mut String,
        mut f: impl FnMut(&str, usize, usize, u32),
    ) {
        let mut position: u32 = 0;
        let mut first = true;
        let mut pending_gap = 0u32;
        let mut emit = |piece: segment::Piece<'_>| match piece {
            segment::Piece::Separator { hard } => {
                if hard {
                    pending_gap = HARD_SEPARATOR_GAP;
                }
            }
            segment::Piece::Word {
                start,
                end,
                text: word,
            } => {
                buffer.clear();
                normalize_word_into(word, buffer);
                if buffer.is_empty() {
                    return;
                }
                if !first {
                    position = position.saturating_add(pending_gap.max(1));
                }
                first = false;
                pending_gap = 0;
                f(buffer, start, end, position);
            }
        };
        if self.rules.is_plain() {
            segment::plain(text, &mut emit);
        } else {
            segment::with_rules(
                text,
                &self.rules.dictionary,
                &self.rules.separators,
                &self.rules.non_separators,
                &mut emit,
            );
        }
    }
}

/// Whether a character ends a phrase: words on either side are not near each other.
pub(crate) fn is_hard_separator(c: char) -> bool {
    matches!(
        c,
        '.' | ';'
            | ','
            | '!'
            | '?'
            | ':'
            | '\n'
            | '\r'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '|'
            | '。'
            | '、'
            | '！'
            | '？'
            | '；'
            | '：'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words_with(settings: &IndexSettings, text: &str) -> Vec<(String, u32)> {
        Analyzer::new(settings)
            .tokenize(text)
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect()
    }

    fn words(text: &str) -> Vec<(String, u32)> {
        words_with(&IndexSettings::default(), text)
    }

    fn owned(expected: &[(&str, u32)]) -> Vec<(String, u32)> {
        expected.iter().map(|(w, p)| (w.to_string(), *p)).collect()
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
            ("北京大学", &[("北", 0), ("京", 1), ("大", 2), ("学", 3)]),
            ("Pete's Dragon", &[("pete", 0), ("s", 1), ("dragon", 2)]),
            ("L’auberge", &[("l", 0), ("auberge", 1)]),
            ("  ", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(words(text), owned(expected), "{text:?}");
        }
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Le Café de Flore";
        for token in Analyzer::default().tokenize(text) {
            assert_eq!(normalize_word(&text[token.start..token.end]), token.text);
        }
    }

    #[test]
    fn custom_word_rules() {
        let settings = IndexSettings {
            dictionary: ["J.R.R.".to_string(), "C++".to_string()].into(),
            separator_tokens: ["&".to_string(), "zz".to_string()].into(),
            non_separator_tokens: ["#".to_string(), "@".to_string()].into(),
            ..Default::default()
        };
        let cases: &[(&str, &[(&str, u32)])] = &[
            ("j.r.r. Tolkien", &[("j.r.r.", 0), ("tolkien", 1)]),
            (
                "I like C++ a lot",
                &[("i", 0), ("like", 1), ("c++", 2), ("a", 3), ("lot", 4)],
            ),
            ("C# and F#", &[("c#", 0), ("and", 1), ("f#", 2)]),
            (
                "mail @quarry now",
                &[("mail", 0), ("@quarry", 1), ("now", 2)],
            ),
            ("fizzbuzz", &[("fi", 0), ("bu", 1)]),
            ("rock&roll", &[("rock", 0), ("roll", 1)]),
        ];
        for (text, expected) in cases {
            assert_eq!(words_with(&settings, text), owned(expected), "{text:?}");
        }
        let analyzer = Analyzer::new(&settings);
        let text = "I like C++ a lot";
        for token in analyzer.tokenize(text) {
            assert_eq!(text[token.start..token.end].to_lowercase(), token.text);
        }
    }
}
