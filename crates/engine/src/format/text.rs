//! Formatting one string value: find the words that match the query (one pass over the
//! analyzer's tokens), choose the crop window, and write the highlighted and/or cropped text.
//! Offsets are byte offsets in the original string throughout, so that accents, case folding
//! and multi-byte scripts never shift a highlight.

use crate::analysis::{normalize_word, Analyzer, Token};
use crate::search::MatchingWords;

/// What to do with one string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextFormat<'a> {
    pub highlight: bool,
    /// Number of words to keep; `None` (or 0) keeps the whole text.
    pub crop: Option<usize>,
    pub pre_tag: &'a str,
    pub post_tag: &'a str,
    pub crop_marker: &'a str,
}

/// A word of the text, as far as cropping needs to know it.
#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    /// The analyzer's position: a jump of more than one means a hard separator (end of a
    /// sentence, a comma...) lies between this word and the previous one.
    position: u32,
}

/// A word that matches the query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Match {
    /// Byte range of the matched part in the original text: the whole word, or the typed part
    /// of a prefix match.
    pub start: usize,
    pub end: usize,
    /// Index of the word among the text's words.
    word: usize,
    position: u32,
    /// Which query words this word matches, one bit each.
    query_words: u64,
}

impl Match {
    /// The first query word it matches, to tell whether matches come in the query's order;
    /// `None` when the word matched through something `MatchingWords` did not itemize.
    fn query_order(&self) -> Option<u32> {
        let first = self.query_words.trailing_zeros();
        (first < UNLISTED_BITS_START).then_some(first)
    }
}

/// Bits from here on stand for matches that `MatchingWords::match_len` accepts but that no
/// listed query word explains (hashed by word, so that distinct words stay distinct).
const UNLISTED_BITS_START: u32 = 48;

/// The words and matches of one text.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    words: Vec<Word>,
    pub matches: Vec<Match>,
}

/// Tokenizes `text` once, recording matches, and every word too when `keep_words` (cropping
/// needs them; highlighting and match positions do not).
pub(crate) fn analyze(
    text: &str,
    analyzer: &Analyzer,
    matching: &MatchingWords,
    keep_words: bool,
) -> Analysis {
    let mut analysis = Analysis::default();
    let check_matches = !matching.is_empty();
    if !keep_words && !check_matches {
        return analysis;
    }
    let mut index = 0usize;
    analyzer.for_each_token(text, |token| {
        if check_matches {
            if let Some(m) = match_token(text, &token, index, matching) {
                analysis.matches.push(m);
            }
        }
        if keep_words {
            analysis.words.push(Word {
                start: token.start,
                end: token.end,
                position: token.position,
            });
        }
        index += 1;
    });
    analysis
}

fn match_token(text: &str, token: &Token, word: usize, matching: &MatchingWords) -> Option<Match> {
    let matched_chars = matching.match_len(&token.text).filter(|&n| n > 0)?;
    let original = &text[token.start..token.end];
    let end = if matched_chars >= token.text.chars().count() {
        token.end
    } else {
        token.start + original_prefix_len(original, matched_chars)
    };
    let mut query_words = 0u64;
    for (i, word) in matching
        .words
        .iter()
        .enumerate()
        .take(UNLISTED_BITS_START as usize)
    {
        let matches = word.derivations.contains(&token.text)
            || (word.is_prefix && token.text.starts_with(word.query.as_str()));
        if matches {
            query_words |= 1 << i;
        }
    }
    if query_words == 0 {
        query_words = 1 << (UNLISTED_BITS_START + unlisted_bit(&token.text));
    }
    Some(Match {
        start: token.start,
        end,
        word,
        position: token.position,
        query_words,
    })
}

fn unlisted_bit(word: &str) -> u32 {
    // FNV-1a: stable and dependency-free; collisions only merge two "distinct" matches.
    let hash = word.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (hash % u64::from(64 - UNLISTED_BITS_START)) as u32
}

/// Length in bytes of the shortest prefix of `original` (one word) whose normalized form has
/// `normalized_chars` characters. A character is never split: one that normalizes to several
/// (ß → ss) is taken whole, and combining marks that follow the last character stay with it.
fn original_prefix_len(original: &str, normalized_chars: usize) -> usize {
    if original.is_ascii() {
        return normalized_chars.min(original.len());
    }
    let mut count = 0usize;
    for (i, c) in original.char_indices() {
        let width = normalized_width(c);
        if count >= normalized_chars && width > 0 {
            return i;
        }
        count += width;
    }
    original.len()
}

/// How many characters `c` becomes once normalized (0 for a combining mark).
fn normalized_width(c: char) -> usize {
    if c.is_ascii() {
        return 1;
    }
    let mut buf = [0u8; 4];
    normalize_word(c.encode_utf8(&mut buf)).chars().count()
}

/// Writes `text` formatted as asked. `analysis` must come from [`analyze`] with words kept if
/// `format.crop` asks for cropping.
pub(crate) fn render(text: &str, analysis: &Analysis, format: &TextFormat) -> String {
    let crop = format.crop.filter(|&n| n > 0);
    let (start, end, cut_before, cut_after, first_word, last_word) = match crop {
        Some(crop_len) if !analysis.words.is_empty() => {
            let words = &analysis.words;
            let (first, last) = crop_window(words, &analysis.matches, crop_len);
            let cut_before = first > 0;
            let cut_after = last + 1 < words.len();
            let start = if cut_before { words[first].start } else { 0 };
            let end = if cut_after {
                words[last].end
            } else {
                text.len()
            };
            (start, end, cut_before, cut_after, first, last)
        }
        // Not cropped: every word, every match.
        _ => (0, text.len(), false, false, 0, usize::MAX),
    };

    let mut out = String::with_capacity(end - start + 16);
    if cut_before {
        out.push_str(format.crop_marker);
    }
    let mut written = start;
    if format.highlight {
        for m in &analysis.matches {
            if m.word < first_word || m.word > last_word {
                continue;
            }
            out.push_str(&text[written..m.start]);
            out.push_str(format.pre_tag);
            out.push_str(&text[m.start..m.end]);
            out.push_str(format.post_tag);
            written = m.end;
        }
    }
    out.push_str(&text[written..end]);
    if cut_after {
        out.push_str(format.crop_marker);
    }
    out
}

/// The words to keep, as an inclusive range of word indices, `crop_len` words long (or every
/// word of a shorter text).
///
/// First the best run of matches that fits in `crop_len` words: the most distinct query words,
/// then the closest together, then the most pairs in query order, then the earliest. Then the
/// run is widened one word at a time, alternating before and after, but never across the end
/// of a sentence (a hard separator) on one side while the other side can still grow within its
/// sentence. Without matches, the text's first words are kept.
fn crop_window(words: &[Word], matches: &[Match], crop_len: usize) -> (usize, usize) {
    let last_index = words.len() - 1;
    let (mut first, mut last) = match best_run(matches, crop_len) {
        Some((a, b)) => (matches[a].word, matches[b].word),
        None => (0, 0),
    };
    let mut remaining = crop_len.saturating_sub(last - first + 1);
    // Whether a hard separator lies between word `i` and word `i + 1`.
    let hard_after = |i: usize| words[i + 1].position.saturating_sub(words[i].position) > 1;
    while remaining > 0 && (first > 0 || last < last_index) {
        let can_before = first > 0;
        let can_after = last < last_index;
        let (grow_before, grow_after) = if can_before && can_after {
            match (hard_after(first - 1), hard_after(last)) {
                (true, false) => (false, true),
                (false, true) => (true, false),
                _ => (true, remaining > 1),
            }
        } else {
            (can_before, can_after)
        };
        if grow_before {
            first -= 1;
            remaining -= 1;
        }
        if grow_after && remaining > 0 {
            last += 1;
            remaining -= 1;
        }
    }
    (first, last)
}

/// The best run of consecutive matches (indices into `matches`) spanning at most `crop_len`
/// words, by (distinct query words, -distance, ordered pairs), the earliest on ties.
fn best_run(matches: &[Match], crop_len: usize) -> Option<(usize, usize)> {
    /// (distinct query words, negated distance, ordered pairs): greater is better.
    type Score = (u32, i64, u32);
    let mut best: Option<(Score, (usize, usize))> = None;
    for i in 0..matches.len() {
        let mut seen = 0u64;
        let mut ordered = 0u32;
        for j in i..matches.len() {
            if matches[j].word - matches[i].word + 1 > crop_len {
                break;
            }
            seen |= matches[j].query_words;
            if j > i {
                if let (Some(a), Some(b)) = (matches[j - 1].query_order(), matches[j].query_order())
                {
                    ordered += u32::from(a < b);
                }
            }
            // Positions (not word indices) so that a sentence break counts as a long distance.
            let distance = i64::from(matches[j].position) - i64::from(matches[i].position);
            let score = (seen.count_ones(), -distance, ordered);
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, (i, j)));
            }
        }
    }
    best.map(|(_, run)| run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths_map_back_to_original_bytes() {
        let cases: &[(&str, usize, &str)] = &[
            ("Batman", 3, "Bat"),
            ("Crème", 3, "Crè"),
            ("Crème", 5, "Crème"),
            ("Cre\u{300}me", 3, "Cre\u{300}"),
            ("Straße", 5, "Straß"),
            ("Straße", 4, "Stra"),
            ("Ångström", 1, "Å"),
            ("ﬁle", 1, "ﬁ"),
            ("東京", 1, "東"),
        ];
        for (word, chars, expected) in cases {
            let len = original_prefix_len(word, *chars);
            assert_eq!(&word[..len], *expected, "{word:?} {chars}");
        }
    }
}
