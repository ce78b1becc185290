//! Deleting documents by id, many ids per tantivy delete operation.
//!
//! tantivy's `IndexWriter::delete_term` turns each id into a `TermQuery` weight that carries a
//! BM25 table (1 KiB, computed) and keeps it in the delete queue until the next commit has
//! applied it to every segment: replacing the 886,323 documents of PyPI held over a gigabyte
//! that way. Here the ids of a group are packed in one buffer and matched by direct lookups in
//! each segment's `_id` term dictionary.

use std::sync::Arc;

use tantivy::query::{ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TantivyError, TERMINATED};

/// Ids, one after the other, and where each ends.
#[derive(Debug, Default, Clone)]
pub(super) struct Ids {
    bytes: String,
    ends: Vec<u32>,
}

impl Ids {
    pub(super) fn push(&mut self, id: &str) {
        self.bytes.push_str(id);
        self.ends.push(self.bytes.len() as u32);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(start, end)| &self.bytes.as_bytes()[start as usize..end as usize])
    }
}

/// The documents whose `_id` is one of `ids` (a query for `IndexWriter::delete_query`).
#[derive(Debug, Clone)]
pub(super) struct IdsQuery {
    field: Field,
    ids: Arc<Ids>,
}

impl IdsQuery {
    pub(super) fn new(field: Field, ids: Ids) -> IdsQuery {
        IdsQuery {
            field,
            ids: Arc::new(ids),
        }
    }
}

impl Query for IdsQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(IdsWeight {
            field: self.field,
            ids: self.ids.clone(),
        }))
    }
}

struct IdsWeight {
    field: Field,
    ids: Arc<Ids>,
}

impl IdsWeight {
    /// Calls `f` with every document of `reader` holding one of the ids, deleted or not, in the
    /// order of the ids.
    fn for_each_match(
        &self,
        reader: &SegmentReader,
        mut f: impl FnMut(DocId),
    ) -> tantivy::Result<()> {
        let inverted = reader.inverted_index(self.field)?;
        for id in self.ids.iter() {
            let Some(info) = inverted.terms().get(id)? else {
                continue;
            };
            let mut postings =
                inverted.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                f(doc);
                doc = postings.advance();
            }
        }
        Ok(())
    }

    fn sorted_matches(&self, reader: &SegmentReader) -> tantivy::Result<Vec<DocId>> {
        let mut docs = Vec::new();
        self.for_each_match(reader, |doc| docs.push(doc))?;
        docs.sort_unstable();
        docs.dedup();
        Ok(docs)
    }
}

impl Weight for IdsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let docs = SortedDocs {
            docs: self.sorted_matches(reader)?,
            cursor: 0,
        };
        Ok(Box::new(ConstScorer::new(docs, boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.sorted_matches(reader)?.binary_search(&doc).is_ok() {
            Ok(Explanation::new("document id", 1.0))
        } else {
            Err(TantivyError::InvalidArgument(format!(
                "document {doc} holds none of the ids"
            )))
        }
    }

    /// What a deletion calls, per segment: the matches, without sorting them.
    fn for_each_no_score(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(&[DocId]),
    ) -> tantivy::Result<()> {
        let mut buffer = Vec::with_capacity(64);
        self.for_each_match(reader, |doc| {
            buffer.push(doc);
            if buffer.len() == buffer.capacity() {
                callback(&buffer);
                buffer.clear();
            }
        })?;
        if !buffer.is_empty() {
            callback(&buffer);
        }
        Ok(())
    }
}

/// Sorted doc ids as a `DocSet`.
struct SortedDocs {
    docs: Vec<DocId>,
    cursor: usize,
}

impl DocSet for SortedDocs {
    fn advance(&mut self) -> DocId {
        self.cursor = (self.cursor + 1).min(self.docs.len());
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.cursor).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.cursor) as u32
    }
}
