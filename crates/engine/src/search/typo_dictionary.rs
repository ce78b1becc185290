//! Each segment's dictionary of words, copied into an FST this module walks node by node, for
//! the typo walks. A query word of nine letters or more walks the dictionary with two typos
//! allowed, which keeps thousands of the dictionary's branches alive for a few letters; the
//! first keystroke of each such word cost more than a millisecond in tantivy's stream, most of
//! it in stepping into children the automaton had already ruled out (the stream decodes a
//! child's node before it asks whether the automaton can go on). This walk asks first, and only
//! decodes the nodes it enters: the same words, found about twice as fast (PyPI's 543 words of
//! nine letters or more in its keystroke log: 1.26 ms -> 0.55 ms a walk).
//!
//! The copy maps each word to its document frequency (most words are in one document, so the
//! outputs mostly share: PyPI's 620,000 words take 4.4 MB). It is built in one pass over the
//! dictionary (0.33 s for PyPI) on the segment tables' background thread; a search that finds
//! it not ready walks tantivy's stream instead, to the same words.

use std::sync::LazyLock;

use fst::raw::Node;
use tantivy::index::SegmentId;
use tantivy::InvertedIndexReader;
use tantivy_fst::Automaton;

use super::segment_tables::{SegmentTables, TextFieldTable};
use crate::error::{EngineError, Result};

/// Bytes of dictionaries kept at once, over every index and segment.
const BUDGET_BYTES: usize = 128 * 1024 * 1024;
/// Largest copy of one segment's dictionary (PyPI's takes 4.4 MB: this is about 15 times as
/// many words). A larger segment gets none and walks tantivy's stream.
const MAX_TABLE_BYTES: usize = BUDGET_BYTES / 2;

/// A segment's words and their document frequencies (live and deleted documents, as tantivy
/// counts them).
pub struct TypoDictionary {
    /// `None`: the segment's dictionary is too large for a copy ([`MAX_TABLE_BYTES`]), and this
    /// stands in the cache so that it is not read again.
    words: Option<fst::Map<Vec<u8>>>,
}

/// One node on the walk's path: the node, the next of its transitions to try, the automaton's
/// state there and the output gathered on the way (the document frequency, once final).
struct Step<'f, S> {
    node: Node<'f>,
    next: usize,
    state: S,
    output: u64,
}

impl TypoDictionary {
    /// Calls `each` with every word the automaton matches and its document frequency, in
    /// dictionary order: the words tantivy's stream gives for the same automaton.
    pub fn walk<A: Automaton>(&self, automaton: &A, mut each: impl FnMut(&[u8], u32)) {
        let Some(words) = &self.words else {
            return;
        };
        let fst = words.as_fst();
        let root = fst.root();
        let start = automaton.start();
        if !automaton.can_match(&start) {
            return;
        }
        if root.is_final() && automaton.is_match(&start) {
            each(&[], doc_freq(root.final_output().value()));
        }
        let mut word: Vec<u8> = Vec::new();
        let mut path = vec![Step {
            node: root,
            next: 0,
            state: start,
            output: 0,
        }];
        while let Some(step) = path.last_mut() {
            if step.next >= step.node.len() {
                path.pop();
                word.pop();
                continue;
            }
            let transition = step.node.transition(step.next);
            step.next += 1;
            let state = automaton.accept(&step.state, transition.inp);
            if !automaton.can_match(&state) {
                continue;
            }
            let output = step.output + transition.out.value();
            let node = fst.node(transition.addr);
            word.push(transition.inp);
            if node.is_final() && automaton.is_match(&state) {
                each(&word, doc_freq(output + node.final_output().value()));
            }
            path.push(Step {
                node,
                next: 0,
                state,
                output,
            });
        }
    }
}

/// A document frequency the copy was built with (a `u32`, as tantivy keeps them).
fn doc_freq(output: u64) -> u32 {
    u32::try_from(output).unwrap_or(u32::MAX)
}

/// Read on the segment tables' background thread ([`super::segment_tables::ready_table`]): until
/// it is ready, and always for a segment too large for a copy, the typo walk steps through
/// tantivy's stream.
impl TextFieldTable for TypoDictionary {
    const NAME: &'static str = "typo dictionary";
    const MAX_BYTES: usize = MAX_TABLE_BYTES;

    fn cache() -> &'static SegmentTables<SegmentId, Self> {
        static CACHE: LazyLock<SegmentTables<SegmentId, TypoDictionary>> =
            LazyLock::new(|| SegmentTables::of_segments(BUDGET_BYTES));
        &CACHE
    }

    /// One pass over the segment's dictionary, in order; given up once past `max_bytes`.
    fn read(inverted: &InvertedIndexReader, _max_doc: u32, max_bytes: usize) -> Result<Self> {
        let corrupted = |e: fst::Error| EngineError::Corrupted(format!("typo dictionary: {e}"));
        let mut builder = fst::MapBuilder::memory();
        let mut stream = inverted.terms().stream()?;
        while stream.advance() {
            builder
                .insert(stream.key(), u64::from(stream.value().doc_freq))
                .map_err(corrupted)?;
            if builder.bytes_written() > max_bytes as u64 {
                return Ok(TypoDictionary { words: None });
            }
        }
        let words = builder.into_map();
        if words.as_fst().as_bytes().len() > max_bytes {
            return Ok(TypoDictionary { words: None });
        }
        Ok(TypoDictionary { words: Some(words) })
    }

    fn size(&self) -> usize {
        let bytes = self
            .words
            .as_ref()
            .map(|words| words.as_fst().as_bytes().len());
        std::mem::size_of::<Self>() + bytes.unwrap_or(0)
    }

    fn is_none(&self) -> bool {
        self.words.is_none()
    }

    fn entries(&self) -> usize {
        self.words.as_ref().map_or(0, |words| words.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::context::SearchContext;

    /// The copy holds every word of the segment's dictionary with its document frequency, and
    /// a segment past the size limit gets the empty marker.
    #[test]
    fn copies_hold_every_word_and_its_frequency() {
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::ranking_equivalence::corpus_index("debian", 2_000, dir.path());
        let ctx = SearchContext::new(&index).unwrap();
        let mut checked = 0;
        for view in ctx.segments() {
            let copy = TypoDictionary::read(&view.inverted, view.max_doc, MAX_TABLE_BYTES);
            let copy = copy.unwrap();
            let words = copy.words.as_ref().unwrap();
            assert_eq!(words.len(), view.inverted.terms().num_terms());
            let mut stream = view.inverted.terms().stream().unwrap();
            while stream.advance() {
                let freq = words.get(stream.key()).map(doc_freq);
                assert_eq!(freq, Some(stream.value().doc_freq));
                checked += 1;
            }
            let small = TypoDictionary::read(&view.inverted, view.max_doc, 4096).unwrap();
            assert!(small.is_none() && small.entries() == 0);
        }
        assert!(checked > 10_000, "only {checked} words");
    }
}
