//! Where the query terms occur inside documents, for the rules that look at positions
//! (proximity, attribute, word position, exactness). Positions are read only for the documents
//! of the bucket being split, postings are walked once per call in document order, and what was
//! read is kept for the rules that come next in the chain.

use std::collections::HashMap;

use roaring::RoaringBitmap;
use tantivy::postings::Postings;
use tantivy::DocSet;

use super::context::SearchContext;
use super::derivations::{sequence_starts, Query, Shape};
use crate::analysis::END_OF_VALUE;
use crate::error::Result;

/// One match of one query term in a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub term: u8,
    /// Packed position (attribute rank << 16 | word position) of the first and last word.
    pub start: u32,
    pub end: u32,
    pub typos: u8,
    /// The term as typed (no typo, prefix, split, synonym...).
    pub exact: bool,
    /// The terms the derivation stands for; usable only if they are all still in the query.
    pub covers: u16,
}

impl Occurrence {
    pub fn usable(&self, mask: u16) -> bool {
        mask & (1 << self.term) != 0 && self.covers & !mask == 0
    }
}

/// Occurrences read so far, per document.
#[derive(Default)]
pub struct MatchCache {
    done: RoaringBitmap,
    spans: HashMap<u32, (u32, u32)>,
    occurrences: Vec<Occurrence>,
    ends_done: RoaringBitmap,
    ends: HashMap<u32, Vec<u32>>,
}

impl MatchCache {
    /// The occurrences of a document whose positions were read, sorted by term then position.
    pub fn get(&self, doc: u32) -> &[Occurrence] {
        match self.spans.get(&doc) {
            Some((start, end)) => &self.occurrences[*start as usize..*end as usize],
            None => &[],
        }
    }

    /// Positions right after the end of each value of a document (read by [`Self::ensure_ends`]).
    pub fn value_ends(&self, doc: u32) -> &[u32] {
        self.ends.get(&doc).map_or(&[], Vec::as_slice)
    }

    /// Reads the occurrences of every document of `docs` not read yet.
    pub fn ensure(&mut self, ctx: &SearchContext, query: &Query, docs: &RoaringBitmap) -> Result<()> {
        let missing = docs - &self.done;
        if missing.is_empty() {
            return Ok(());
        }
        let mut found: Vec<(u32, Occurrence)> = Vec::new();
        let mut buffers: Vec<Vec<u32>> = Vec::new();
        let mut starts = Vec::new();
        for view in ctx.segments() {
            let range = view.range();
            let in_segment = {
                let mut b = missing.clone();
                b.remove_range(..range.start);
                b.remove_range(range.end..);
                b
            };
            if in_segment.is_empty() {
                continue;
            }
            for d in &query.derivations {
                let targets = &in_segment & &d.docs;
                if targets.is_empty() {
                    continue;
                }
                let covered: Vec<u8> = (0..16u8).filter(|t| d.covers & (1 << t) != 0).collect();
                let exact = d.is_exact();
                let mut record = |doc: u32, start: u32, end: u32| {
                    for &term in &covered {
                        found.push((doc, Occurrence { term, start, end, typos: d.typos, exact, covers: d.covers }));
                    }
                };
                match &d.shape {
                    Shape::Any(words) => {
                        if buffers.is_empty() {
                            buffers.push(Vec::new());
                        }
                        for w in words {
                            let word_targets = &targets & &query.word_docs[*w as usize];
                            if word_targets.is_empty() {
                                continue;
                            }
                            let Some(mut cursor) = ctx.postings(view, &query.words[*w as usize])? else { continue };
                            for doc in &word_targets {
                                let local = doc - view.base;
                                if cursor.doc() > local || cursor.seek(local) != local {
                                    continue;
                                }
                                cursor.positions(&mut buffers[0]);
                                for &p in &buffers[0] {
                                    if d.filter.as_deref().is_none_or(|f| f.allows(p)) {
                                        record(doc, p, p);
                                    }
                                }
                            }
                        }
                    }
                    Shape::Sequence(seq) => {
                        let span = seq.len() as u32;
                        let mut cursors = Vec::with_capacity(seq.len());
                        for w in seq {
                            cursors.push(match w {
                                Some(w) => ctx.postings(view, &query.words[*w as usize])?,
                                None => None,
                            });
                        }
                        buffers.resize(seq.len().max(buffers.len()), Vec::new());
                        for doc in &targets {
                            let local = doc - view.base;
                            let mut complete = true;
                            for (cursor, buffer) in cursors.iter_mut().zip(buffers.iter_mut()) {
                                buffer.clear();
                                if let Some(cursor) = cursor {
                                    if cursor.doc() > local || cursor.seek(local) != local {
                                        complete = false;
                                        break;
                                    }
                                    cursor.positions(buffer);
                                }
                            }
                            if !complete {
                                continue;
                            }
                            let lists: Vec<Option<&[u32]>> =
                                seq.iter().zip(&buffers).map(|(w, b)| w.map(|_| b.as_slice())).collect();
                            sequence_starts(&lists, d.filter.as_deref(), &mut starts);
                            for &s in &starts {
                                record(doc, s, s + span - 1);
                            }
                        }
                    }
                }
            }
        }
        found.sort_unstable_by_key(|(doc, o)| (*doc, o.term, o.start, o.typos));
        let mut i = 0;
        while i < found.len() {
            let doc = found[i].0;
            let begin = self.occurrences.len() as u32;
            while i < found.len() && found[i].0 == doc {
                self.occurrences.push(found[i].1);
                i += 1;
            }
            self.spans.insert(doc, (begin, self.occurrences.len() as u32));
        }
        self.done |= missing;
        Ok(())
    }

    /// Reads where each value ends in the documents of `docs` not read yet.
    pub fn ensure_ends(&mut self, ctx: &SearchContext, docs: &RoaringBitmap) -> Result<()> {
        let missing = docs - &self.ends_done;
        if missing.is_empty() {
            return Ok(());
        }
        for view in ctx.segments() {
            let range = view.range();
            let Some(mut cursor) = ctx.postings(view, END_OF_VALUE)? else { continue };
            for doc in missing.range(range) {
                let local = doc - view.base;
                if cursor.doc() > local || cursor.seek(local) != local {
                    continue;
                }
                let mut positions = Vec::new();
                cursor.positions(&mut positions);
                self.ends.insert(doc, positions);
            }
        }
        self.ends_done |= missing;
        Ok(())
    }
}
