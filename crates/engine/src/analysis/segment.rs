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
    for (start, segment) in text.split_word_bound_indices() {
        if !is_wordlike(segment) {
            emit(separator(segment));
        } else if !segment.contains(is_apostrophe) {
            emit(Piece::Word {
                start,
                end: start + segment.len(),
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
                    end: start + segment.len(),
                    text: &segment[from..],
                });
            }
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
