//! Cutting text into word and separator pieces. The plain path is Unicode's word boundaries
//! (UAX #29), which also cuts Chinese and Japanese text into single ideographs and kana runs; the
//! path with rules adds the index's `dictionary` (kept whole), `separatorTokens` (cut even inside
//! words) and `nonSeparatorTokens` (glued to the words they touch).

use unicode_segmentation::UnicodeSegmentation;

use super::is_hard_separator;

/// One piece of text, in order.
pub(super) enum Piece<'a> {
    Word {
        start: usize,
        end: usize,
        text: &'a str,
    },
    Separator {
        hard: bool,
    },
}

fn is_wordlike(segment: &str) -> bool {
    segment.chars().any(char::is_alphanumeric)
}

fn separator(segment: &str) -> Piece<'static> {
    Piece::Separator {
        hard: segment.chars().any(is_hard_separator),
    }
}

/// Apostrophes join words for Unicode (`pete's`, `l'avion`) but users type them apart or not
/// at all, so they cut words here, softly.
fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// Unicode word boundaries, and apostrophes.
pub(super) fn plain<'a>(text: &'a str, emit: &mut impl FnMut(Piece<'a>)) {
    if text.is_ascii() {
        ascii_words(text, emit)
    } else {
        unicode_words(text, emit)
    }
}

fn unicode_words<'a>(text: &'a str, emit: &mut impl FnMut(Piece<'a>)) {
    for (start, segment) in text.split_word_bound_indices() {
        word_piece(text, start, start + segment.len(), emit);
    }
}

/// The classes of UAX #29's word break property that ASCII characters have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AsciiClass {
    /// `A-Z a-z`.
    Letter,
    /// `0-9`.
    Numeric,
    /// `_`.
    ExtendNumLet,
    /// `:` (MidLetter).
    MidLetter,
    /// `,` and `;` (MidNum).
    MidNum,
    /// `.` (MidNumLet).
    MidNumLet,
    /// `'` (Single_Quote, which the rules treat as MidNumLet).
    SingleQuote,
    /// Everything else: spaces, line breaks, other punctuation and controls.
    Other,
}

fn ascii_class(b: u8) -> AsciiClass {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' => AsciiClass::Letter,
        b'0'..=b'9' => AsciiClass::Numeric,
        b'_' => AsciiClass::ExtendNumLet,
        b':' => AsciiClass::MidLetter,
        b',' | b';' => AsciiClass::MidNum,
        b'.' => AsciiClass::MidNumLet,
        b'\'' => AsciiClass::SingleQuote,
        _ => AsciiClass::Other,
    }
}

/// [`plain`] on ASCII text without the Unicode tables: the rules of UAX #29 that can apply to
/// ASCII, which `unicode_segmentation` implements for all of Unicode (the test
/// `ascii_words_are_unicode_words` compares the two). A word is a run of letters, digits and
/// `_` (WB5, WB8 to WB10, WB13a, WB13b), in which a `:`, `.` or `'` between two letters (WB6,
/// WB7) and a `,`, `;`, `.` or `'` between two digits (WB11, WB12) do not cut. Everything else
/// separates; a run of separators is one piece (the rules only ask whether it holds a hard one).
fn ascii_words<'a>(text: &'a str, emit: &mut impl FnMut(Piece<'a>)) {
    use AsciiClass::*;
    let bytes = text.as_bytes();
    let class = |i: usize| bytes.get(i).map_or(Other, |b| ascii_class(*b));
    let is_core = |c: AsciiClass| matches!(c, Letter | Numeric | ExtendNumLet);
    let mut i = 0;
    while i < bytes.len() {
        if !is_core(class(i)) {
            let mut hard = false;
            while i < bytes.len() && !is_core(class(i)) {
                hard |= is_hard_separator(char::from(bytes[i]));
                i += 1;
            }
            emit(Piece::Separator { hard });
            continue;
        }
        let start = i;
        i += 1;
        loop {
            let (prev, next) = (class(i - 1), class(i));
            if is_core(prev) && is_core(next) {
                i += 1;
                continue;
            }
            let after = class(i + 1);
            let joins = match (prev, next) {
                (Letter, MidLetter | MidNumLet | SingleQuote) => after == Letter,
                (Numeric, MidNum | MidNumLet | SingleQuote) => after == Numeric,
                _ => false,
            };
            if !joins {
                break;
            }
            i += 2;
        }
        word_piece(text, start, i, emit);
    }
}

/// Emits the segment `text[start..end]`: a segment holding no letter or digit is a separator,
/// and apostrophes cut words softly.
fn word_piece<'a>(text: &'a str, start: usize, end: usize, emit: &mut impl FnMut(Piece<'a>)) {
    let segment = &text[start..end];
    if !is_wordlike(segment) {
        emit(separator(segment));
    } else if !segment.contains(is_apostrophe) {
        emit(Piece::Word {
            start,
            end,
            text: segment,
        });
    } else {
        let mut from = 0;
        for (i, c) in segment.char_indices().filter(|(_, c)| is_apostrophe(*c)) {
            if i > from {
                emit(Piece::Word {
                    start: start + from,
                    end: start + i,
                    text: &segment[from..i],
                });
            }
            emit(Piece::Separator { hard: false });
            from = i + c.len_utf8();
        }
        if from < segment.len() {
            emit(Piece::Word {
                start: start + from,
                end,
                text: &segment[from..],
            });
        }
    }
}

/// The length in bytes of `text`'s start if it equals `word` ignoring case (`word` is lowercase).
fn starts_with_ignoring_case(text: &str, word: &str) -> Option<usize> {
    let mut expected = word.chars();
    let mut len = 0;
    let mut pending: Vec<char> = Vec::new();
    for c in text.chars() {
        pending.clear();
        pending.extend(c.to_lowercase());
        for lower in &pending {
            if expected.next() != Some(*lower) {
                return None;
            }
        }
        len += c.len_utf8();
        if expected.as_str().is_empty() {
            return Some(len);
        }
    }
    None
}

/// A word being assembled from touching pieces (words and glue).
struct Pending {
    start: usize,
    end: usize,
    /// Whether the last piece was glue, so that a following word joins it.
    ends_with_glue: bool,
}

pub(super) fn with_rules<'a>(
    text: &'a str,
    dictionary: &[String],
    separators: &[String],
    non_separators: &[String],
    emit: &mut impl FnMut(Piece<'a>),
) {
    // Where the custom separators are; they win over everything but the dictionary.
    let mut cuts: Vec<(usize, usize, bool)> = Vec::new();
    for sep in separators {
        let hard = sep.chars().any(is_hard_separator);
        cuts.extend(
            text.match_indices(sep.as_str())
                .map(|(i, s)| (i, i + s.len(), hard)),
        );
    }
    if !non_separators.iter().any(|t| t.contains(is_apostrophe)) {
        cuts.extend(
            text.char_indices()
                .filter(|(_, c)| is_apostrophe(*c))
                .map(|(i, c)| (i, i + c.len_utf8(), false)),
        );
    }
    cuts.sort_unstable();
    let segments: Vec<(usize, &str)> = text.split_word_bound_indices().collect();
    let mut pending: Option<Pending> = None;
    let flush = |pending: &mut Option<Pending>, emit: &mut dyn FnMut(Piece<'a>)| {
        if let Some(p) = pending.take() {
            emit(Piece::Word {
                start: p.start,
                end: p.end,
                text: &text[p.start..p.end],
            });
        }
    };
    let mut i = 0;
    while i < segments.len() {
        let (start, segment) = segments[i];
        // A dictionary word starting here and ending on a boundary is one word, whatever it holds.
        let dict_end = dictionary.iter().find_map(|word| {
            let len = starts_with_ignoring_case(&text[start..], word)?;
            let end = start + len;
            segments
                .iter()
                .any(|(s, seg)| s + seg.len() == end)
                .then_some(end)
        });
        if let Some(end) = dict_end {
            flush(&mut pending, emit);
            emit(Piece::Word {
                start,
                end,
                text: &text[start..end],
            });
            while i < segments.len() && segments[i].0 < end {
                i += 1;
            }
            continue;
        }
        i += 1;
        let end = start + segment.len();
        // Cut the segment around the custom separators inside it.
        let mut at = start;
        while at < end {
            if let Some(&(_, cut_end, hard)) = cuts.iter().find(|(s, e, _)| *s <= at && at < *e) {
                flush(&mut pending, emit);
                emit(Piece::Separator { hard });
                at = cut_end.min(end).max(at + 1);
                while !text.is_char_boundary(at) {
                    at += 1;
                }
                continue;
            }
            let next_cut = cuts
                .iter()
                .filter(|(s, _, _)| *s > at && *s < end)
                .map(|c| c.0)
                .min()
                .unwrap_or(end);
            let piece = &text[at..next_cut];
            let piece_start = at;
            at = next_cut;
            let is_glue = !is_wordlike(piece) && is_made_of(piece, non_separators);
            if is_wordlike(piece) || is_glue {
                match &mut pending {
                    Some(p) if p.end == piece_start && (p.ends_with_glue || is_glue) => {
                        p.end = next_cut;
                        p.ends_with_glue = is_glue;
                    }
                    _ => {
                        flush(&mut pending, emit);
                        pending = Some(Pending {
                            start: piece_start,
                            end: next_cut,
                            ends_with_glue: is_glue,
                        });
                    }
                }
            } else {
                flush(&mut pending, emit);
                emit(separator(piece));
            }
        }
    }
    flush(&mut pending, emit);
}

/// Whether `piece` is a sequence of the given tokens.
fn is_made_of(piece: &str, tokens: &[String]) -> bool {
    if piece.is_empty() || tokens.is_empty() {
        return false;
    }
    let mut rest = piece;
    while !rest.is_empty() {
        match tokens.iter().find(|t| rest.starts_with(t.as_str())) {
            Some(t) => rest = &rest[t.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the analyzer makes of the pieces: each word's range, and whether a hard separator
    /// came between it and the word before.
    fn words(text: &str, ascii: bool) -> Vec<(usize, usize, bool)> {
        let mut out = Vec::new();
        let mut hard = false;
        let mut emit = |piece: Piece<'_>| match piece {
            Piece::Separator { hard: h } => hard |= h,
            Piece::Word { start, end, .. } => out.push((start, end, std::mem::take(&mut hard))),
        };
        if ascii {
            ascii_words(text, &mut emit);
        } else {
            unicode_words(text, &mut emit);
        }
        out
    }

    #[test]
    fn ascii_words_are_unicode_words() {
        let cases = [
            "version 3.14",
            "a.b.c",
            "e.g. this",
            "1,000.50 and 1:2",
            "a:b c:",
            "a1.b",
            "1.a a.1",
            "_a a_ __ a_1 _1_",
            "Pete's l'avion 'quoted' it''s",
            "a.'b",
            "3.14.15",
            "x,y 1,2,",
            "foo-bar_baz",
            "end. Next",
            "C++ & C#",
            "a\r\nb\n\nc",
            "tab\there",
            "\"q\" (p) [s]",
            "1.",
            ".1",
            "a..b",
            "1..2",
            "a.,b",
            "1,.2",
            "a'1",
            "1'2",
            "a:1",
            "",
            " ",
            "...",
            "http://example.com/a_b?c=d&e=f",
            "O'Reilly's 2.0-beta_3",
            "x86_64-linux-gnu",
        ];
        for text in cases {
            assert_eq!(words(text, true), words(text, false), "{text:?}");
        }
        // Random ASCII, dense in the characters the rules look at.
        let alphabet = b"aZq9_0.,;:'\" -\n\r\t()!?#@/&+";
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..100_000 {
            let len = (next() % 16) as usize;
            let text: String = (0..len)
                .map(|_| char::from(alphabet[(next() % alphabet.len() as u64) as usize]))
                .collect();
            assert_eq!(words(&text, true), words(&text, false), "{text:?}");
        }
    }

    /// Every ASCII string of the shared corpora cuts the same both ways.
    #[test]
    fn ascii_words_are_unicode_words_on_the_corpora() {
        use std::io::BufRead;
        fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::String(s) => out.push(s.clone()),
                serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
                serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
                _ => {}
            }
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        let mut checked = 0;
        for corpus in ["debian", "movies", "airports"] {
            let path = dir.join(format!("{corpus}.ndjson.gz"));
            let file = std::fs::File::open(&path)
                .unwrap_or_else(|e| panic!("the corpus {} is needed: {e}", path.display()));
            let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
            for line in reader.lines().take(20_000) {
                let mut texts = Vec::new();
                strings(&serde_json::from_str(&line.unwrap()).unwrap(), &mut texts);
                for text in texts.iter().filter(|t| t.is_ascii()) {
                    assert_eq!(words(text, true), words(text, false), "{text:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "only {checked} corpus strings compared");
        eprintln!("{checked} corpus strings compared");
    }
}
