//! What one search reads: a searcher snapshot, the index settings at that moment, and the
//! mapping between tantivy's per-segment doc ids and the single id space ranking works in.
//! Reading postings (document sets, positions) goes through here, so that deleted documents and
//! attribute restrictions are applied in one place.

use std::sync::{Arc, OnceLock};

use roaring::RoaringBitmap;
use tantivy::directory::{CompositeFile, FileSlice};
use tantivy::index::{InvertedIndexReader, SegmentComponent};
use tantivy::positions::PositionReader;
use tantivy::postings::{BlockSegmentPostings, Postings, SegmentPostings, TermInfo};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Searcher, SegmentReader, Term, TERMINATED};

use super::cache::SnapshotCache;
use crate::error::Result;
use crate::index::{attribute_of, Index, IndexState, SchemaFields};
use crate::settings::IndexSettings;

/// One segment of the snapshot, with its inverted index for the text field opened once.
pub struct SegmentView {
    pub ord: u32,
    /// The global id of the segment's document 0.
    pub base: u32,
    pub max_doc: u32,
    pub inverted: Arc<InvertedIndexReader>,
    /// The keyword field: field names and facet terms (`crate::facet`).
    pub facets: Arc<InvertedIndexReader>,
    /// The positions of the text field, opened when first needed (`None`: not available).
    positions: OnceLock<Option<FileSlice>>,
}

impl SegmentView {
    /// The global id range of this segment.
    pub fn range(&self) -> std::ops::Range<u32> {
        self.base..self.base + self.max_doc
    }
}

/// Which attributes (by rank) a match may come from; `None` everywhere means all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeFilter {
    allowed: Vec<bool>,
}

impl AttributeFilter {
    pub fn new(allowed: Vec<bool>) -> AttributeFilter {
        AttributeFilter { allowed }
    }

    pub fn allows(&self, position: u32) -> bool {
        self.allowed
            .get(attribute_of(position) as usize)
            .copied()
            .unwrap_or(false)
    }
}

pub struct SearchContext {
    pub searcher: Searcher,
    pub fields: SchemaFields,
    pub settings: IndexSettings,
    pub state: Arc<IndexState>,
    /// What searches on the same snapshot share.
    pub cache: Arc<SnapshotCache>,
    segments: Vec<SegmentView>,
}

impl SearchContext {
    pub fn new(index: &Index) -> Result<SearchContext> {
        let state = index.state();
        let searcher = index.searcher();
        let fields = index.schema_fields();
        let mut segments = Vec::with_capacity(searcher.segment_readers().len());
        let mut next = 0u32;
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            segments.push(SegmentView {
                ord: ord as u32,
                base: next,
                max_doc: segment.max_doc(),
                inverted: segment.inverted_index(fields.text)?,
                facets: segment.inverted_index(fields.field_names)?,
                positions: OnceLock::new(),
            });
            next += segment.max_doc();
        }
        Ok(SearchContext {
            cache: SnapshotCache::of(&searcher),
            searcher,
            fields,
            settings: state.settings.clone(),
            state,
            segments,
        })
    }

    pub fn segments(&self) -> &[SegmentView] {
        &self.segments
    }

    pub fn segment_reader(&self, view: &SegmentView) -> &SegmentReader {
        self.searcher.segment_reader(view.ord)
    }

    /// The global id of a document address of this snapshot.
    pub fn global_id(&self, address: DocAddress) -> u32 {
        self.segments[address.segment_ord as usize].base + address.doc_id
    }

    /// Where the document with global id `id` lives.
    pub fn address(&self, id: u32) -> DocAddress {
        let ord = self.segments.partition_point(|s| s.base <= id) - 1;
        DocAddress::new(ord as u32, id - self.segments[ord].base)
    }

    /// Every live document.
    pub fn universe(&self) -> RoaringBitmap {
        let mut all = RoaringBitmap::new();
        for view in &self.segments {
            match self.segment_reader(view).alive_bitset() {
                None => {
                    all.insert_range(view.range());
                }
                Some(alive) => {
                    all.extend(alive.iter_alive().map(|d| view.base + d));
                }
            }
        }
        // Ranges make run containers, from which removing scattered documents (the
        // complements of `NOT`, `!=`...) moves memory on every removal; plain bitmap containers
        // take them in constant time.
        all.remove_run_compression();
        all
    }

    /// Live documents containing the exact word.
    pub fn word_docs(&self, word: &str) -> Result<RoaringBitmap> {
        let mut docs = RoaringBitmap::new();
        for view in &self.segments {
            if let Some(info) = view.inverted.terms().get(word.as_bytes())? {
                self.push_docs(view, &info, None, &mut docs)?;
            }
        }
        Ok(docs)
    }

    /// How many documents contain the exact word (deleted ones included: an estimate).
    pub fn doc_freq(&self, word: &str) -> Result<u64> {
        let mut n = 0u64;
        for view in &self.segments {
            if let Some(info) = view.inverted.terms().get(word.as_bytes())? {
                n += u64::from(info.doc_freq);
            }
        }
        Ok(n)
    }

    /// Live documents containing a word that starts with `prefix` (the word itself included).
    pub fn prefix_docs(&self, prefix: &str) -> Result<RoaringBitmap> {
        let mut docs = RoaringBitmap::new();
        let upper = prefix_upper_bound(prefix.as_bytes());
        for view in &self.segments {
            let mut range = view.inverted.terms().range().ge(prefix.as_bytes());
            if let Some(upper) = &upper {
                range = range.lt(upper);
            }
            let mut stream = range.into_stream()?;
            while stream.advance() {
                self.push_docs(view, stream.value(), None, &mut docs)?;
            }
        }
        Ok(docs)
    }

    /// Adds the live documents of one term of one segment to `docs` (global ids), keeping only
    /// those where the term occurs in an attribute `filter` allows.
    pub fn push_docs(
        &self,
        view: &SegmentView,
        info: &TermInfo,
        filter: Option<&AttributeFilter>,
        docs: &mut RoaringBitmap,
    ) -> Result<()> {
        let alive = self.segment_reader(view).alive_bitset();
        match filter {
            None => {
                let postings = view
                    .inverted
                    .read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
                *docs |= live_docs(view, alive, postings);
            }
            Some(filter) => {
                let file = self.positions_file(view);
                read_positions(&view.inverted, info, file, |doc, positions| {
                    if alive.is_none_or(|a| a.is_alive(doc))
                        && positions.iter().any(|p| filter.allows(*p))
                    {
                        docs.insert(view.base + doc);
                    }
                })?;
            }
        }
        Ok(())
    }

    /// The facet column of `field` in one segment of the snapshot (`columns.rs`).
    pub fn column(
        &self,
        view: &SegmentView,
        field: &str,
    ) -> Result<Arc<super::columns::FieldColumn>> {
        super::columns::column(view, self.segment_reader(view).segment_id(), field)
    }

    /// Live documents with a number of `field` within the bounds. A range over few distinct
    /// values and documents reads their postings; a wider one scans the field's column, which
    /// costs one pass over the segment's documents however many values the range covers, or,
    /// when only the documents of a `scope` sparse in the segment matter, looks up theirs
    /// (the result then holds documents of the scope only, in that segment).
    pub fn number_range_docs(
        &self,
        field: &str,
        low: std::ops::Bound<f64>,
        high: std::ops::Bound<f64>,
        scope: Option<&RoaringBitmap>,
    ) -> Result<RoaringBitmap> {
        let mut docs = RoaringBitmap::new();
        for view in &self.segments {
            let column = self.column(view, field)?;
            let ords = column.number_range(low, high);
            if ords.is_empty() {
                continue;
            }
            if ords.len() <= FEW_TERMS {
                let mut infos = Vec::with_capacity(ords.len());
                for ord in ords.clone() {
                    let Some(&n) = column.numbers.get(ord as usize) else {
                        continue;
                    };
                    let term = crate::facet::number_term(field, n);
                    if let Some(info) = view.facets.terms().get(term.as_bytes())? {
                        infos.push(info);
                    }
                }
                let postings: u64 = infos.iter().map(|i| u64::from(i.doc_freq)).sum();
                if postings * FEW_DOCS_DIVISOR <= u64::from(view.max_doc) {
                    for info in &infos {
                        self.push_keyword_docs(view, info, &mut docs)?;
                    }
                    continue;
                }
            }
            if let Some(scope) = scope {
                let in_scope = scope.range_cardinality(view.range());
                if in_scope * SPARSE_SCOPE_DIVISOR <= u64::from(view.max_doc) {
                    let mut found = Vec::with_capacity(in_scope as usize);
                    for_each_batch(scope, view.range(), |batch| {
                        column.select(batch, view.base, ords.clone(), &mut found)
                    });
                    if let Some(alive) = self.segment_reader(view).alive_bitset() {
                        found.retain(|&doc| alive.is_alive(doc - view.base));
                    }
                    docs |= sorted_set(&found);
                    continue;
                }
            }
            let mut found = DocBits {
                words: column.docs_in(ords, view.max_doc),
            };
            if let Some(alive) = self.segment_reader(view).alive_bitset() {
                found.keep_alive(alive);
            }
            docs |= found.into_bitmap(view.base);
        }
        Ok(docs)
    }

    /// Live documents having the exact facet (keyword) term.
    pub fn facet_term_docs(&self, term: &str) -> Result<RoaringBitmap> {
        let mut docs = RoaringBitmap::new();
        for view in &self.segments {
            if let Some(info) = view.facets.terms().get(term.as_bytes())? {
                self.push_keyword_docs(view, &info, &mut docs)?;
            }
        }
        Ok(docs)
    }

    /// Live documents of the facet terms from `start` (included) that start with `prefix`,
    /// for which `keep` (given the term's bytes after `prefix`) says `Take`; `Stop` ends the
    /// scan of a segment (terms come in byte order).
    pub fn facet_scan(
        &self,
        prefix: &str,
        start: &[u8],
        mut keep: impl FnMut(&[u8]) -> Scan,
    ) -> Result<RoaringBitmap> {
        let mut docs = RoaringBitmap::new();
        let upper = prefix_upper_bound(prefix.as_bytes());
        for view in &self.segments {
            let mut range = view.facets.terms().range().ge(start);
            if let Some(upper) = &upper {
                range = range.lt(upper);
            }
            let mut stream = range.into_stream()?;
            while stream.advance() {
                let rest = stream.key().get(prefix.len()..).unwrap_or_default();
                match keep(rest) {
                    Scan::Take => self.push_keyword_docs(view, stream.value(), &mut docs)?,
                    Scan::Skip => {}
                    Scan::Stop => break,
                }
            }
        }
        Ok(docs)
    }

    /// Calls `found` with the bytes after `prefix` of every facet term starting with it (every
    /// segment; byte order within one) and its live documents among `within`. `wanted`, given
    /// those bytes, skips a term before its postings are read; empty sets are not handed out.
    pub fn for_each_facet_term(
        &self,
        prefix: &str,
        within: &RoaringBitmap,
        mut wanted: impl FnMut(&[u8]) -> bool,
        mut found: impl FnMut(&[u8], RoaringBitmap),
    ) -> Result<()> {
        let upper = prefix_upper_bound(prefix.as_bytes());
        for view in &self.segments {
            let mut range = view.facets.terms().range().ge(prefix.as_bytes());
            if let Some(upper) = &upper {
                range = range.lt(upper);
            }
            let mut stream = range.into_stream()?;
            while stream.advance() {
                let rest = stream.key().get(prefix.len()..).unwrap_or_default();
                if !wanted(rest) {
                    continue;
                }
                let mut docs = RoaringBitmap::new();
                self.push_keyword_docs(view, stream.value(), &mut docs)?;
                docs &= within;
                if !docs.is_empty() {
                    found(rest, docs);
                }
            }
        }
        Ok(())
    }

    /// Adds the live documents of one keyword term of one segment to `docs`.
    pub fn push_keyword_docs(
        &self,
        view: &SegmentView,
        info: &TermInfo,
        docs: &mut RoaringBitmap,
    ) -> Result<()> {
        let alive = self.segment_reader(view).alive_bitset();
        let postings = view
            .facets
            .read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
        *docs |= live_docs(view, alive, postings);
        Ok(())
    }

    /// Where the values of each document of one segment end (`value_ends.rs`).
    pub fn value_ends(&self, view: &SegmentView) -> Result<Arc<super::value_ends::ValueEnds>> {
        super::value_ends::value_ends(self, view)
    }

    /// The positions file of the text field of one segment, opened once per search. `None`
    /// when it cannot be opened on its own (then [`Self::for_each_positions`] reads positions
    /// through the postings).
    fn positions_file(&self, view: &SegmentView) -> Option<FileSlice> {
        view.positions
            .get_or_init(|| {
                let reader = self.segment_reader(view);
                let index = reader.index();
                let meta = index.new_segment_meta(reader.segment_id(), reader.max_doc());
                let file = index.segment(meta).open_read(SegmentComponent::Positions);
                CompositeFile::open(&file.ok()?)
                    .ok()?
                    .open_read(self.fields.text)
            })
            .clone()
    }

    /// Calls `each` with every document of `word` in one segment (segment doc ids, increasing)
    /// and its positions, deleted documents included. The postings are read block by block
    /// and the positions of a block's 128 documents in one run: reading them document by
    /// document (`Postings::positions`) costs a couple hundred instructions each (the offset
    /// summed over the block so far, a positions read per document), which dominated digests
    /// of frequent words.
    pub fn for_each_positions(
        &self,
        view: &SegmentView,
        word: &str,
        each: impl FnMut(u32, &[u32]),
    ) -> Result<()> {
        match view.inverted.terms().get(word.as_bytes())? {
            Some(info) => read_positions(&view.inverted, &info, self.positions_file(view), each),
            None => Ok(()),
        }
    }

    /// A positions-reading cursor on one term of one segment, if the segment has the term.
    pub fn postings(&self, view: &SegmentView, word: &str) -> Result<Option<SegmentPostings>> {
        match view.inverted.terms().get(word.as_bytes())? {
            Some(info) => Ok(Some(view.inverted.read_postings_from_terminfo(
                &info,
                IndexRecordOption::WithFreqsAndPositions,
            )?)),
            None => Ok(None),
        }
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

/// What [`SearchContext::for_each_positions`] does with one term of a segment's text field,
/// given the segment's positions file if it could be opened (else positions are read through
/// the postings).
pub(super) fn read_positions(
    inverted: &InvertedIndexReader,
    info: &TermInfo,
    file: Option<FileSlice>,
    mut each: impl FnMut(u32, &[u32]),
) -> Result<()> {
    let Some(file) = file else {
        let mut cursor =
            inverted.read_postings_from_terminfo(info, IndexRecordOption::WithFreqsAndPositions)?;
        let mut positions = Vec::new();
        let mut doc = cursor.doc();
        while doc != TERMINATED {
            cursor.positions(&mut positions);
            each(doc, &positions);
            doc = cursor.advance();
        }
        return Ok(());
    };
    let mut block = inverted
        .read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqsAndPositions)?;
    let mut reader = PositionReader::open(file.read_bytes_slice(info.positions_range.clone())?)?;
    let mut offset = 0u64;
    let mut remaining = info.doc_freq as usize;
    let mut positions = Vec::new();
    while remaining > 0 {
        let (docs, freqs) = (block.docs(), block.freqs());
        if docs.is_empty() || freqs.len() != docs.len() {
            break;
        }
        let total: usize = freqs.iter().map(|f| *f as usize).sum();
        positions.clear();
        positions.resize(total, 0);
        reader.read(offset, &mut positions);
        offset += total as u64;
        let mut from = 0;
        for (&doc, &freq) in docs.iter().zip(freqs) {
            // Each document's positions are deltas from the previous one, the first from 0.
            let own = &mut positions[from..from + freq as usize];
            let mut position = 0;
            for p in own.iter_mut() {
                position += *p;
                *p = position;
            }
            each(doc, own);
            from += freq as usize;
        }
        remaining = remaining.saturating_sub(docs.len());
        block.advance();
    }
    Ok(())
}

/// A numeric range over up to this many distinct values of a segment, holding together at most
/// a `FEW_DOCS_DIVISOR`th of its documents, reads their postings rather than scanning the
/// column: each read is a dictionary lookup plus the value's documents.
const FEW_TERMS: usize = 64;
const FEW_DOCS_DIVISOR: u64 = 16;

/// A scope holding at most 1/SPARSE_SCOPE_DIVISOR of a segment's documents has their values
/// looked up (in batches) instead of the whole column scanned. A scan has no branch and
/// vectorizes; a lookup reads scattered memory. At one document in 13 (`data` over PyPI) the two
/// cost the same instructions with a four-byte column, and narrower columns scan cheaper still.
const SPARSE_SCOPE_DIVISOR: u64 = 32;

/// A plain bit set over one segment's documents, for sets found by scanning every document: it
/// becomes a bitmap in one conversion instead of one insertion a document.
struct DocBits {
    words: Vec<u64>,
}

impl DocBits {
    /// Clears the documents `alive` says are deleted, looking only at the documents set.
    fn keep_alive(&mut self, alive: &tantivy::fastfield::AliveBitSet) {
        for (at, word) in self.words.iter_mut().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                let bit = bits.trailing_zeros();
                if !alive.is_alive(at as u32 * 64 + bit) {
                    *word &= !(1u64 << bit);
                }
                bits &= bits - 1;
            }
        }
    }

    /// The set as global ids, the segment's document 0 being `base`.
    fn into_bitmap(self, base: u32) -> RoaringBitmap {
        let bytes: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        RoaringBitmap::from_lsb0_bytes(base, &bytes)
    }
}

/// What a facet scan does with one term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    Take,
    Skip,
    Stop,
}

/// The smallest byte string greater than every string starting with `prefix`.
pub(crate) fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut upper = prefix.to_vec();
    while let Some(last) = upper.pop() {
        if last < u8::MAX {
            upper.push(last + 1);
            return Some(upper);
        }
    }
    None
}

/// How many members of a set [`for_each_batch`] hands over at once.
const BATCH: usize = 256;

/// Calls `f` with the members of `set` within `range`, ascending, a few hundred at a time.
/// The set's own iterator pays a container dispatch and a call per member (no `fold` below
/// its top level); filling a buffer walks each container in a tight loop, and the caller's
/// loop over a plain slice is one the compiler can unroll.
pub(crate) fn for_each_batch(
    set: &RoaringBitmap,
    range: std::ops::Range<u32>,
    mut f: impl FnMut(&[u32]),
) {
    let mut members = set.range(range);
    let mut buffer = [0u32; BATCH];
    loop {
        let batch = members.next_many(&mut buffer);
        if batch.is_empty() {
            return;
        }
        f(batch);
    }
}

/// Sets of fewer documents are built by insertion (see [`sorted_set`]).
const FEW_DOCS: usize = 8;

/// The set of strictly increasing documents, built in one go. Inserting documents one at a
/// time (`RoaringBitmap::append`) costs dozens of instructions each (the container looked up,
/// its kind checked, its storage grown), which made up a quarter of a digest's reading, and as
/// much of reading a word's documents; the sets are written instead in the portable serialized
/// format of Roaring bitmaps (the `RoaringFormatSpec`, without run containers), which `roaring`
/// reads back container by container with one copy.
pub(crate) fn sorted_set(docs: &[u32]) -> RoaringBitmap {
    /// The format's cookie when no container is a run.
    const COOKIE_NO_RUNS: u32 = 12346;
    /// Containers holding up to this many values are arrays, the others bitmaps.
    const ARRAY_LIMIT: usize = 4096;
    debug_assert!(docs.windows(2).all(|w| w[0] < w[1]));
    if docs.len() < FEW_DOCS {
        // Below a handful of documents, writing and reading back costs more than inserting.
        return RoaringBitmap::from_sorted_iter(docs.iter().copied())
            .unwrap_or_else(|_| docs.iter().copied().collect());
    }
    // Containers: the documents sharing their high 16 bits.
    let mut containers: Vec<&[u32]> = Vec::new();
    let mut rest = docs;
    while let Some(&first) = rest.first() {
        let (group, tail) = rest.split_at(rest.partition_point(|d| d >> 16 == first >> 16));
        containers.push(group);
        rest = tail;
    }
    let body = |c: &&[u32]| {
        if c.len() <= ARRAY_LIMIT {
            c.len() * 2
        } else {
            8192
        }
    };
    let header = 8 + containers.len() * 8;
    let mut out = Vec::with_capacity(header + containers.iter().map(body).sum::<usize>());
    out.extend_from_slice(&COOKIE_NO_RUNS.to_le_bytes());
    out.extend_from_slice(&(containers.len() as u32).to_le_bytes());
    for c in &containers {
        out.extend_from_slice(&((c[0] >> 16) as u16).to_le_bytes());
        out.extend_from_slice(&((c.len() - 1) as u16).to_le_bytes());
    }
    let mut offset = header;
    for c in &containers {
        out.extend_from_slice(&(offset as u32).to_le_bytes());
        offset += body(c);
    }
    for c in &containers {
        if c.len() <= ARRAY_LIMIT {
            for &doc in *c {
                out.extend_from_slice(&(doc as u16).to_le_bytes());
            }
        } else {
            let mut words = [0u64; 1024];
            for &doc in *c {
                let low = doc & 0xFFFF;
                words[(low / 64) as usize] |= 1 << (low % 64);
            }
            for word in words {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
    }
    // Keys increase and every container's values are sorted and distinct, as the format asks.
    RoaringBitmap::deserialize_unchecked_from(out.as_slice())
        .expect("a well-formed serialized bitmap")
}

/// The live documents of one term's postings, as global ids: read block by block (128
/// documents at a time) and built into a set in one go.
fn live_docs(
    view: &SegmentView,
    alive: Option<&tantivy::fastfield::AliveBitSet>,
    mut postings: BlockSegmentPostings,
) -> RoaringBitmap {
    let mut docs = Vec::with_capacity(postings.doc_freq() as usize);
    let mut remaining = postings.doc_freq() as usize;
    while remaining > 0 {
        let block = postings.docs();
        if block.is_empty() {
            break;
        }
        docs.extend(
            block
                .iter()
                .filter(|doc| alive.is_none_or(|a| a.is_alive(**doc)))
                .map(|doc| view.base + doc),
        );
        remaining = remaining.saturating_sub(block.len());
        postings.advance();
    }
    sorted_set(&docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::IndexSettings;

    #[test]
    fn positions_read_by_blocks_match_the_postings() {
        // Words in hundreds of documents (several blocks of postings), several times each.
        let lines: Vec<String> = (0..700)
            .map(|i| {
                let repeat = "common ".repeat(1 + i % 5);
                format!(
                    r#"{{"id": {i}, "title": "{repeat} word{} common", "tags": ["w{} common", "x"]}}"#,
                    i % 3,
                    i % 7
                )
            })
            .collect();
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::tests::index_of_lines(
            &dir.path().join("i"),
            IndexSettings::default(),
            &lines,
        );
        let ctx = SearchContext::new(&index).unwrap();
        let mut checked = 0;
        for view in ctx.segments() {
            for word in ["common", "word1", "w3", "x", crate::analysis::END_OF_VALUE] {
                let Some(info) = view.inverted.terms().get(word.as_bytes()).unwrap() else {
                    continue;
                };
                let read = |file: Option<FileSlice>| {
                    let mut out: Vec<(u32, Vec<u32>)> = Vec::new();
                    read_positions(&view.inverted, &info, file, |doc, p| {
                        out.push((doc, p.to_vec()))
                    })
                    .unwrap();
                    out
                };
                let by_blocks = read(Some(ctx.positions_file(view).expect("positions file")));
                assert_eq!(by_blocks, read(None), "{word:?}");
                assert_eq!(by_blocks.len(), info.doc_freq as usize);
                checked += by_blocks.len();
            }
        }
        assert!(checked > 1000);
    }

    /// Batches hold exactly the members within the range, in order, whatever the kind of each
    /// container (array, bitmap, run) and wherever the range cuts them.
    #[test]
    fn batches_hand_over_the_members_within_the_range() {
        let mut set: RoaringBitmap = (0..70_000).step_by(3).collect();
        set.extend(131_072..131_072 + 9_000);
        set.extend((200_000..330_000).step_by(40));
        set.insert(u32::MAX - 1);
        let mut with_runs = set.clone();
        with_runs.insert_range(400_000..500_000);
        with_runs.optimize();
        for set in [&RoaringBitmap::new(), &set, &with_runs] {
            for range in [
                0..u32::MAX,
                0..1,
                5..65_536,
                65_530..140_001,
                131_000..131_100,
                199_999..450_123,
                600_000..700_000,
                u32::MAX - 1..u32::MAX,
            ] {
                let mut got = Vec::new();
                let mut sizes = Vec::new();
                for_each_batch(set, range.clone(), |batch| {
                    sizes.push(batch.len());
                    got.extend_from_slice(batch)
                });
                let want: Vec<u32> = set.range(range.clone()).collect();
                assert_eq!(got, want, "range {range:?}");
                assert!(sizes.iter().all(|n| *n > 0 && *n <= BATCH), "{sizes:?}");
            }
        }
    }

    #[test]
    fn sorted_sets_hold_the_documents_given() {
        // Empty, sparse, array-sized and bitmap-sized containers, in several blocks.
        let mut docs: Vec<u32> = vec![3, 70_000, 70_001];
        docs.extend(131_072..131_072 + 4096);
        docs.extend(196_608..196_608 + 4097);
        docs.extend((300_000..900_000).step_by(7));
        docs.push(u32::MAX);
        for docs in [&docs[..0], &docs[..1], &docs[..3], &docs[..], &docs[4000..]] {
            let expected = RoaringBitmap::from_sorted_iter(docs.iter().copied()).unwrap();
            let built = sorted_set(docs);
            assert_eq!(built, expected);
            assert_eq!(built.len(), docs.len() as u64);
        }
    }
}
