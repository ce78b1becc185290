//! Which words of a document count as matches of the query, as the formatter (highlight, crop,
//! `_matchesPosition`) needs to know: exact words, typo derivations, and prefixes.

/// One query word and the document words that match it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchingWord {
    /// The normalized query word.
    pub query: String,
    /// Normalized document words that match exactly or through typos, synonyms, splits...
    pub derivations: Vec<String>,
    /// Whether a document word starting with `query` matches (the word being typed).
    pub is_prefix: bool,
}

/// Every matching word of a search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchingWords {
    pub words: Vec<MatchingWord>,
}

impl MatchingWords {
    /// If the normalized document word `token` matches, how many of its characters matched
    /// (a prefix match highlights only the typed part).
    pub fn match_len(&self, token: &str) -> Option<usize> {
        let mut best: Option<usize> = None;
        for word in &self.words {
            let len = if word.derivations.iter().any(|d| d == token) {
                Some(token.chars().count())
            } else if word.is_prefix && token.starts_with(word.query.as_str()) {
                Some(word.query.chars().count())
            } else {
                None
            };
            if let Some(len) = len {
                best = Some(best.map_or(len, |b: usize| b.max(len)));
            }
        }
        best
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_typo_and_prefix_matches() {
        let words = MatchingWords {
            words: vec![
                MatchingWord {
                    query: "batmn".into(),
                    derivations: vec!["batman".into()],
                    is_prefix: false,
                },
                MatchingWord {
                    query: "rob".into(),
                    derivations: vec!["rob".into()],
                    is_prefix: true,
                },
            ],
        };
        assert_eq!(words.match_len("batman"), Some(6));
        assert_eq!(words.match_len("robin"), Some(3));
        assert_eq!(words.match_len("rob"), Some(3));
        assert_eq!(words.match_len("joker"), None);
    }
}
