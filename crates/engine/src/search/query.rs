//! From the `q` a user typed to what the engine looks for: words and `"quoted phrases"`, each
//! possibly negated with a leading `-`, analyzed with the index's analyzer, stop words set aside,
//! at most ten words, and the last word marked as a prefix while the user may still be typing it.

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

/// One thing the documents must contain, in query order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryPart {
    Word(QueryWord),
    /// Words that must follow each other. A `None` is a stop word: it is not indexed, but it
    /// still takes its place between the others.
    Phrase(Vec<Option<String>>),
}

impl QueryPart {
    /// The words of the part, stop words left out.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        let (word, phrase) = match self {
            QueryPart::Word(w) => (Some(w.text.as_str()), None),
            QueryPart::Phrase(words) => (None, Some(words.iter().flatten().map(String::as_str))),
        };
        word.into_iter().chain(phrase.into_iter().flatten())
    }
}

/// A query, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    /// What documents should contain, in query order.
    pub parts: Vec<QueryPart>,
    /// Documents containing one of these (`-word`, `-"a phrase"`) are left out.
    pub negations: Vec<QueryPart>,
}

impl ParsedQuery {
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty() && self.negations.is_empty()
    }
}

/// A piece of the raw query: plain text, or the inside of quotes.
struct Chunk<'a> {
    text: &'a str,
    quoted: bool,
    negated: bool,
    /// Whether the query ends inside this chunk, right after its last character.
    at_end: bool,
}

fn chunks(q: &str) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    let mut rest = q;
    while !rest.is_empty() {
        match rest.find('"') {
            None => {
                out.push(Chunk {
                    text: rest,
                    quoted: false,
                    negated: false,
                    at_end: true,
                });
                break;
            }
            Some(open) => {
                let before = &rest[..open];
                // `-"..."` negates the phrase when the dash starts a word.
                let negated = before.ends_with('-')
                    && before[..before.len() - 1]
                        .chars()
                        .next_back()
                        .is_none_or(char::is_whitespace);
                let plain = if negated {
                    &before[..before.len() - 1]
                } else {
                    before
                };
                if !plain.is_empty() {
                    out.push(Chunk {
                        text: plain,
                        quoted: false,
                        negated: false,
                        at_end: false,
                    });
                }
                let inside = &rest[open + 1..];
                match inside.find('"') {
                    Some(close) => {
                        out.push(Chunk {
                            text: &inside[..close],
                            quoted: true,
                            negated,
                            at_end: false,
                        });
                        rest = &inside[close + 1..];
                    }
                    None => {
                        // An unclosed quote runs to the end of the query.
                        out.push(Chunk {
                            text: inside,
                            quoted: true,
                            negated,
                            at_end: true,
                        });
                        break;
                    }
                }
            }
        }
    }
    out
}

/// Parses `q` with the index's analyzer.
pub fn parse(analyzer: &Analyzer, q: &str) -> ParsedQuery {
    let mut parsed = ParsedQuery::default();
    let mut count = 0usize;
    let mut last_word_may_be_prefix = false;
    for chunk in chunks(q) {
        if count >= MAX_QUERY_WORDS {
            break;
        }
        let tokens = analyzer.tokenize(chunk.text);
        if chunk.quoted {
            let words: Vec<Option<String>> = tokens
                .into_iter()
                .map(|t| (!analyzer.is_stop_word(&t.text)).then_some(t.text))
                .collect();
            if words.iter().all(Option::is_none) {
                continue;
            }
            if chunk.negated {
                parsed.negations.push(QueryPart::Phrase(words));
            } else {
                count += words.len();
                parsed.parts.push(QueryPart::Phrase(words));
                last_word_may_be_prefix = false;
            }
            continue;
        }
        for token in tokens {
            let dash = chunk.text[..token.start].ends_with('-')
                && chunk.text[..token.start - 1]
                    .chars()
                    .next_back()
                    .is_none_or(char::is_whitespace);
            if dash {
                parsed.negations.push(QueryPart::Word(QueryWord {
                    text: token.text,
                    is_prefix: false,
                    position: 0,
                }));
                last_word_may_be_prefix = false;
                continue;
            }
            if analyzer.is_stop_word(&token.text) {
                continue;
            }
            if count >= MAX_QUERY_WORDS {
                break;
            }
            last_word_may_be_prefix = chunk.at_end && token.end == chunk.text.len();
            parsed.parts.push(QueryPart::Word(QueryWord {
                text: token.text,
                is_prefix: false,
                position: count,
            }));
            count += 1;
        }
    }
    if last_word_may_be_prefix {
        if let Some(QueryPart::Word(last)) = parsed.parts.last_mut() {
            last.is_prefix = true;
        }
    }
    parsed
}

/// The words of `q` outside phrases and negations, as the engine looks for them.
pub fn parse_query(analyzer: &Analyzer, q: &str) -> Vec<QueryWord> {
    parse(analyzer, q)
        .parts
        .into_iter()
        .filter_map(|p| match p {
            QueryPart::Word(w) => Some(w),
            QueryPart::Phrase(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::IndexSettings;

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

    fn show(parsed: &ParsedQuery) -> String {
        let part = |p: &QueryPart| match p {
            QueryPart::Word(w) => format!("{}{}", w.text, if w.is_prefix { "*" } else { "" }),
            QueryPart::Phrase(ws) => {
                let words: Vec<&str> = ws.iter().map(|w| w.as_deref().unwrap_or("_")).collect();
                format!("\"{}\"", words.join(" "))
            }
        };
        let mut out: Vec<String> = parsed.parts.iter().map(part).collect();
        out.extend(parsed.negations.iter().map(|p| format!("-{}", part(p))));
        out.join(" ")
    }

    #[test]
    fn phrases_negations_and_stop_words() {
        let settings = IndexSettings {
            stop_words: ["the".to_string(), "of".to_string()].into(),
            ..Default::default()
        };
        let a = Analyzer::new(&settings);
        let cases = [
            ("the lord of the rings", "lord rings*"),
            ("\"lord of the rings\" movie", "\"lord _ _ rings\" movie*"),
            ("batman -robin", "batman -robin"),
            ("batman -\"the joker\" dark", "batman dark* -\"_ joker\""),
            ("spider-man", "spider man*"),
            ("\"unclosed phrase", "\"unclosed phrase\""),
            ("-alone", "-alone"),
            ("a \"b c\" ", "a \"b c\""),
            ("", ""),
        ];
        for (q, expected) in cases {
            assert_eq!(show(&parse(&a, q)), expected, "{q:?}");
        }
    }
}
