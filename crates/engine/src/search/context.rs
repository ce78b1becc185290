//! What one search reads: a searcher snapshot, the index settings at that moment, and the
//! mapping between tantivy's per-segment doc ids and the single id space ranking works in.

use std::sync::Arc;

use roaring::RoaringBitmap;
use tantivy::postings::Postings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Searcher, Term, TERMINATED};

use crate::error::Result;
use crate::index::{Index, IndexState, SchemaFields};
use crate::settings::IndexSettings;

pub struct SearchContext {
    pub searcher: Searcher,
    pub fields: SchemaFields,
    pub settings: IndexSettings,
    pub state: Arc<IndexState>,
    /// The first global id of each segment.
    bases: Vec<u32>,
}

impl SearchContext {
    pub fn new(index: &Index) -> Result<SearchContext> {
        let state = index.state();
        let searcher = index.searcher();
        let mut bases = Vec::with_capacity(searcher.segment_readers().len());
        let mut next = 0u32;
        for segment in searcher.segment_readers() {
            bases.push(next);
            next += segment.max_doc();
        }
        Ok(SearchContext {
            searcher,
            fields: index.schema_fields(),
            settings: state.settings.clone(),
            state,
            bases,
        })
    }

    /// Where the document with global id `id` lives.
    pub fn address(&self, id: u32) -> DocAddress {
        let ord = self.bases.partition_point(|base| *base <= id) - 1;
        DocAddress::new(ord as u32, id - self.bases[ord])
    }

    /// Every live document.
    pub fn universe(&self) -> RoaringBitmap {
        let mut all = RoaringBitmap::new();
        for (segment, base) in self.searcher.segment_readers().iter().zip(&self.bases) {
            match segment.alive_bitset() {
                None => {
                    all.insert_range(*base..*base + segment.max_doc());
                }
                Some(alive) => {
                    all.extend(alive.iter_alive().map(|d| base + d));
                }
            }
        }
        all
    }

    /// Live documents containing the exact word.
    pub fn word_docs(&self, word: &str) -> Result<RoaringBitmap> {
        let term = Term::from_field_text(self.fields.text, word);
        let mut docs = RoaringBitmap::new();
        for (segment, base) in self.searcher.segment_readers().iter().zip(&self.bases) {
            let inverted = segment.inverted_index(self.fields.text)?;
            if let Some(info) = inverted.get_term_info(&term)? {
                let mut postings =
                    inverted.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
                push_alive(&mut docs, &mut postings, segment, *base);
            }
        }
        Ok(docs)
    }

    /// Live documents containing a word that starts with `prefix` (the word itself included).
    pub fn prefix_docs(&self, prefix: &str) -> Result<RoaringBitmap> {
        let mut docs = RoaringBitmap::new();
        let upper = prefix_upper_bound(prefix.as_bytes());
        for (segment, base) in self.searcher.segment_readers().iter().zip(&self.bases) {
            let inverted = segment.inverted_index(self.fields.text)?;
            let mut range = inverted.terms().range().ge(prefix.as_bytes());
            if let Some(upper) = &upper {
                range = range.lt(upper);
            }
            let mut stream = range.into_stream()?;
            while stream.advance() {
                let mut postings = inverted
                    .read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)?;
                push_alive(&mut docs, &mut postings, segment, *base);
            }
        }
        Ok(docs)
    }

    /// Positions of `word` in one document (packed attribute and word position).
    pub fn positions(&self, word: &str, id: u32, out: &mut Vec<u32>) -> Result<()> {
        out.clear();
        let address = self.address(id);
        let segment = self.searcher.segment_reader(address.segment_ord);
        let inverted = segment.inverted_index(self.fields.text)?;
        let term = Term::from_field_text(self.fields.text, word);
        if let Some(mut postings) =
            inverted.read_postings(&term, IndexRecordOption::WithFreqsAndPositions)?
        {
            if postings.seek(address.doc_id) == address.doc_id {
                postings.positions(out);
            }
        }
        Ok(())
    }
}

fn push_alive(
    docs: &mut RoaringBitmap,
    postings: &mut tantivy::postings::SegmentPostings,
    segment: &tantivy::SegmentReader,
    base: u32,
) {
    let alive = segment.alive_bitset();
    let mut doc = postings.doc();
    while doc != TERMINATED {
        if alive.is_none_or(|a| a.is_alive(doc)) {
            docs.insert(base + doc);
        }
        doc = postings.advance();
    }
}

/// The smallest byte string greater than every string starting with `prefix`.
fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut upper = prefix.to_vec();
    while let Some(last) = upper.pop() {
        if last < u8::MAX {
            upper.push(last + 1);
            return Some(upper);
        }
    }
    None
}
