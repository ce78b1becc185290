//! From the `q` a user typed to the query words the engine looks for: analyzed with the index's
//! analyzer, stop words set aside, at most ten words, and the last word marked as a prefix while
//! the user may still be typing it.

use crate::analysis::Analyzer;

/// Meilisearch reads at most this many words of a query; the rest is ignored.
pub const MAX_QUERY_WORDS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    /// Normalized text.
    pub text: String,
    /// Whether documents may match any word starting with `text`.
    pub is_prefix: bool,
    /// Position of the word in the query.
    pub position: usize,
}

pub fn parse_query(analyzer: &Analyzer, q: &str) -> Vec<QueryWord> {
    let tokens = analyzer.tokenize(q);
    let ends_in_word = tokens.last().is_some_and(|t| t.end == q.len());
    let mut words: Vec<QueryWord> = tokens
        .into_iter()
        .filter(|t| !analyzer.is_stop_word(&t.text))
        .take(MAX_QUERY_WORDS)
        .enumerate()
        .map(|(position, t)| QueryWord {
            text: t.text,
            is_prefix: false,
            position,
        })
        .collect();
    if ends_in_word {
        if let Some(last) = words.last_mut() {
            last.is_prefix = true;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_word_is_a_prefix_only_while_typed() {
        let a = Analyzer::default();
        let typed = parse_query(&a, "star wa");
        assert_eq!(typed.len(), 2);
        assert!(!typed[0].is_prefix);
        assert!(typed[1].is_prefix);
        let done = parse_query(&a, "star wars ");
        assert!(!done[1].is_prefix);
    }

    #[test]
    fn keeps_ten_words() {
        let a = Analyzer::default();
        let q = "a b c d e f g h i j k l";
        let words = parse_query(&a, q);
        assert_eq!(words.len(), MAX_QUERY_WORDS);
        assert_eq!(words[9].text, "j");
    }
}
