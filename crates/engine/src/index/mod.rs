//! One Quarry index on disk: a tantivy index whose commits carry the index's own state
//! (settings, primary key, known fields, last applied task) so that what is searchable and the
//! state that describes it are always committed together.
//!
//! **Invariant**: the commit payload is the truth about an index. After a crash, the last
//! commit's payload says exactly which task was applied last.

mod delete;
mod extract;
pub mod merge_policy;
mod pipeline;
mod schema;
pub(crate) mod source_cache;
mod write;

#[cfg(test)]
mod fingerprint;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tantivy::collector::Count;
use tantivy::query::AllQuery;
use tantivy::schema::{IndexRecordOption, Value as _};
use tantivy::tokenizer::{RawTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, DocSet, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term, TERMINATED,
};

pub use extract::{FieldsMap, Searchable};
pub use schema::{attribute_of, pack_position, word_position_of, SchemaFields};
pub use write::{AddMethod, AddOutcome, DocumentEdit, EditOutcome, WriteBatch};

use crate::error::{EngineError, Result};
use crate::settings::IndexSettings;

/// The on-disk format of an index directory. Bumped whenever a released format changes.
/// Format 2 added facet terms (see `crate::facet`); a format-1 index is re-indexed from its
/// stored sources when opened.
pub const INDEX_FORMAT_VERSION: u32 = 2;

/// The writer of an index: it takes Quarry's own documents (`extract::IndexedDocument`).
pub(crate) type IndexWriter = tantivy::IndexWriter<extract::IndexedDocument>;

/// Tuning for the writer side of an index.
#[derive(Debug, Clone, Copy)]
pub struct IndexOptions {
    /// Threads tantivy uses to build segments.
    pub indexing_threads: usize,
    /// Memory tantivy may buffer before flushing a segment, for all threads together.
    pub indexing_memory_bytes: usize,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            indexing_threads: 2,
            indexing_memory_bytes: 256 * 1024 * 1024,
        }
    }
}

/// What an index knows about itself, committed with its documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexState {
    pub format_version: u32,
    pub primary_key: Option<String>,
    pub settings: IndexSettings,
    /// Every field name seen, in first-seen order (flattened: `a.b` for nested objects).
    pub fields: Vec<String>,
    /// The last task whose effects this commit contains.
    pub last_task_uid: Option<u32>,
    /// The outcome of each task of the batch this commit applied, by task uid.
    #[serde(default)]
    pub task_results: BTreeMap<u32, Value>,
}

impl IndexState {
    fn new(primary_key: Option<String>) -> IndexState {
        IndexState {
            format_version: INDEX_FORMAT_VERSION,
            primary_key,
            settings: IndexSettings::default(),
            fields: Vec::new(),
            last_task_uid: None,
            task_results: BTreeMap::new(),
        }
    }
}

/// An open index: readers for searches, and the writer used by the single writer thread.
pub struct Index {
    path: PathBuf,
    tantivy: tantivy::Index,
    reader: IndexReader,
    fields: SchemaFields,
    state: RwLock<Arc<IndexState>>,
    writer: Mutex<Option<IndexWriter>>,
    options: IndexOptions,
    /// Whether a background merge is running (one at a time; see [`Index::merge_in_background`]).
    merging: Arc<AtomicBool>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("path", &self.path).finish()
    }
}

impl Index {
    /// Creates a new, empty index in `path` (which must not hold one) and commits its state.
    pub fn create(path: &Path, state: IndexState, options: IndexOptions) -> Result<Index> {
        std::fs::create_dir_all(path)?;
        let (schema, _) = schema::build_schema();
        let tantivy = tantivy::Index::builder()
            .schema(schema)
            .create_in_dir(path)?;
        let index = Index::from_tantivy(path, tantivy, state, options)?;
        let mut writer = index.writer.lock();
        let w = Index::ensure_writer(&index.tantivy, &mut writer, options)?;
        let mut prepared = w.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&*index.state())?);
        prepared.commit()?;
        drop(writer);
        index.reader.reload()?;
        Ok(index)
    }

    /// Creates an empty index with nothing but a primary key.
    pub fn create_empty(
        path: &Path,
        primary_key: Option<String>,
        last_task_uid: Option<u32>,
        options: IndexOptions,
    ) -> Result<Index> {
        let mut state = IndexState::new(primary_key);
        state.last_task_uid = last_task_uid;
        Index::create(path, state, options)
    }

    /// Opens an existing index; nothing is rebuilt (files are memory-mapped).
    pub fn open(path: &Path, options: IndexOptions) -> Result<Index> {
        let tantivy = tantivy::Index::open_in_dir(path)?;
        let metas = tantivy.load_metas()?;
        let payload = metas.payload.ok_or_else(|| {
            EngineError::Corrupted(format!("{} has no committed state", path.display()))
        })?;
        let state: IndexState = serde_json::from_str(&payload)?;
        if state.format_version > INDEX_FORMAT_VERSION {
            return Err(EngineError::Corrupted(format!(
                "{} has index format {} but this Quarry reads up to {}",
                path.display(),
                state.format_version,
                INDEX_FORMAT_VERSION
            )));
        }
        let older = state.format_version < INDEX_FORMAT_VERSION;
        let index = Index::from_tantivy(path, tantivy, state, options)?;
        if older {
            tracing::info!(path = %path.display(), "re-indexing an index of an older format");
            index.write(false)?.migrate()?;
            index.close_writer()?;
        }
        Ok(index)
    }

    fn from_tantivy(
        path: &Path,
        tantivy: tantivy::Index,
        state: IndexState,
        options: IndexOptions,
    ) -> Result<Index> {
        tantivy.tokenizers().register(
            schema::RAW_TOKENIZER,
            TextAnalyzer::from(RawTokenizer::default()),
        );
        let fields = schema::fields_of(&tantivy.schema())?;
        let reader = tantivy
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .doc_store_cache_num_blocks(64)
            .try_into()?;
        Ok(Index {
            path: path.to_path_buf(),
            tantivy,
            reader,
            fields,
            state: RwLock::new(Arc::new(state)),
            writer: Mutex::new(None),
            options,
            merging: Arc::new(AtomicBool::new(false)),
        })
    }

    fn ensure_writer<'w>(
        tantivy: &tantivy::Index,
        slot: &'w mut Option<IndexWriter>,
        options: IndexOptions,
    ) -> Result<&'w mut IndexWriter> {
        if slot.is_none() {
            let threads = options.indexing_threads.max(1);
            let budget = options
                .indexing_memory_bytes
                .max(threads * 20 * 1024 * 1024);
            let writer: IndexWriter = tantivy.writer_with_num_threads(threads, budget)?;
            // Merges are chosen by `merge_policy` and started by the scheduler when the writer
            // is idle, not after every commit (they would compete with a load in progress).
            writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
            // A crash between writing a commit's files and its meta.json leaves files that no
            // commit references; the replayed batch would collide with them. Remove them first.
            if let Err(e) = writer.garbage_collect_files().wait() {
                tracing::warn!(error = %e, "removing files left by an interrupted commit");
            }
            *slot = Some(writer);
        }
        Ok(slot.as_mut().expect("writer was just created"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The committed state (settings, primary key...).
    pub fn state(&self) -> Arc<IndexState> {
        self.state.read().clone()
    }

    pub fn settings(&self) -> IndexSettings {
        self.state().settings.clone()
    }

    pub fn primary_key(&self) -> Option<String> {
        self.state().primary_key.clone()
    }

    pub(crate) fn schema_fields(&self) -> SchemaFields {
        self.fields
    }

    /// A consistent snapshot of the committed documents.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    pub fn number_of_documents(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// One document by id, as stored.
    pub fn document(&self, id: &str) -> Result<Option<Map<String, Value>>> {
        let searcher = self.searcher();
        match find_document(&searcher, self.fields, id)? {
            Some(address) => Ok(Some(read_source(&searcher, self.fields, address)?)),
            None => Ok(None),
        }
    }

    /// Documents in primary key order (`search::id_order`), skipping `offset`. Returns the
    /// page and the total count. The order does not depend on segments, so pages read across a
    /// background merge neither repeat nor skip documents.
    pub fn documents_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Map<String, Value>>, u64)> {
        let ctx = crate::search::SearchContext::new(self)?;
        crate::search::documents_in_id_order(&ctx, &ctx.universe(), offset, limit)
    }

    /// Writes every live document's stored source, one compact JSON object a line, in index
    /// order (dumps). Returns how many were written.
    pub fn write_documents(&self, out: &mut dyn std::io::Write) -> Result<u64> {
        let searcher = self.searcher();
        let mut written = 0;
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            for doc in segment.doc_ids_alive() {
                let bytes =
                    read_source_bytes(&searcher, self.fields, DocAddress::new(ord as u32, doc))?;
                out.write_all(&bytes)?;
                out.write_all(b"\n")?;
                written += 1;
            }
        }
        Ok(written)
    }

    /// How many documents have each field, for `fieldDistribution`.
    pub fn field_distribution(&self) -> Result<BTreeMap<String, u64>> {
        let searcher = self.searcher();
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.field_names)?;
            // Facet terms share the field and sort after every field name.
            let facets = crate::facet::FACET_PREFIX.to_string();
            let mut stream = inverted
                .terms()
                .range()
                .lt(facets.as_bytes())
                .into_stream()?;
            while stream.advance() {
                let name = String::from_utf8_lossy(stream.key()).into_owned();
                let mut postings = inverted
                    .read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)?;
                let count = match segment.alive_bitset() {
                    None => u64::from(stream.value().doc_freq),
                    Some(alive) => {
                        let mut n = 0;
                        let mut doc = postings.doc();
                        while doc != TERMINATED {
                            if alive.is_alive(doc) {
                                n += 1;
                            }
                            doc = postings.advance();
                        }
                        n
                    }
                };
                if count > 0 {
                    *counts.entry(name).or_default() += count;
                }
            }
        }
        Ok(counts)
    }

    /// Bytes used by the index's files on disk.
    pub fn size_on_disk(&self) -> u64 {
        dir_size(&self.path)
    }

    /// Bytes of the stored documents (the document store files of the searchable segments):
    /// what Meilisearch reports as `rawDocumentDbSize`, 0 for an index without documents.
    pub fn document_store_size(&self) -> u64 {
        let Ok(metas) = self.tantivy.searchable_segment_metas() else {
            return 0;
        };
        metas
            .iter()
            .map(|meta| {
                let path = self
                    .path
                    .join(meta.relative_path(tantivy::index::SegmentComponent::Store));
                std::fs::metadata(path).map_or(0, |m| m.len())
            })
            .sum()
    }

    /// Counts live documents the slow way; used by tests to cross-check `number_of_documents`.
    pub fn count_all(&self) -> Result<usize> {
        Ok(self.searcher().search(&AllQuery, &Count)?)
    }

    /// Starts a write batch. Only the writer thread calls this; batches never overlap.
    pub fn write(&self, keep_documents: bool) -> Result<WriteBatch<'_>> {
        // A batch never runs beside a background merge: the crash test found documents listed
        // twice after reindexing batches (every document deleted and added again) ran while
        // merges of the same segments were in flight. Closing the writer waits for the merge
        // (and its commit); the batch opens a fresh writer.
        if self.is_merging() {
            self.close_writer()?;
        }
        WriteBatch::new(self, keep_documents)
    }

    /// Drops the writer after a failed write, so that nothing it buffered can reach a later
    /// commit; the next batch opens a fresh one (which cleans up stray files).
    pub fn reset_writer(&self) {
        if let Err(e) = Self::discard_writer(&mut self.writer.lock()) {
            tracing::warn!(error = %e, "rolling back a failed batch");
        }
    }

    /// Rolls back and drops the writer in `slot`: nothing it buffered reaches a commit, and
    /// the next batch opens a fresh writer with Quarry's settings. The rolled-back writer is
    /// never kept: tantivy's rollback builds a new writer with tantivy's default merge policy,
    /// which would merge segments on its own after later commits, beside later batches and
    /// outside [`Index::merge_in_background`].
    fn discard_writer(slot: &mut Option<IndexWriter>) -> Result<()> {
        if let Some(mut writer) = slot.take() {
            writer.rollback()?;
        }
        Ok(())
    }

    /// Removes the files no commit references any more (segments replaced by a merge).
    pub fn garbage_collect(&self) -> Result<()> {
        let mut slot = self.writer.lock();
        let writer = Self::ensure_writer(&self.tantivy, &mut slot, self.options)?;
        writer.garbage_collect_files().wait()?;
        Ok(())
    }

    /// Starts merging segments in the background when [`merge_policy`] says the index is out of
    /// shape: always when the writer is idle (`writer_idle`), else only past
    /// [`merge_policy::BUSY_SEGMENT_LIMIT`] segments. At most one merge runs at a time. The
    /// merge runs on tantivy's merge thread; tantivy commits the merged segment with the last
    /// commit's payload (the index state is unchanged) and removes the replaced files, and a
    /// thread of ours then reloads the reader so that searches use the merged segment.
    /// Returns that thread, which ends with the merge (tests join it; the scheduler does not).
    pub fn merge_in_background(
        self: &Arc<Self>,
        writer_idle: bool,
    ) -> Result<Option<std::thread::JoinHandle<()>>> {
        let Some(claim) = MergeClaim::take(&self.merging) else {
            return Ok(None);
        };
        let Some(future) = self.start_merge(writer_idle)? else {
            return Ok(None);
        };
        let index = Arc::clone(self);
        let handle = std::thread::Builder::new()
            .name("quarry-merge".into())
            .spawn(move || {
                let began = std::time::Instant::now();
                let path = index.path.display();
                match future.wait() {
                    Ok(merged) => {
                        if let Err(e) = index.reload_reader() {
                            tracing::warn!(error = %e, path = %path, "reloading after a merge");
                        }
                        tracing::info!(
                            path = %path,
                            documents = merged.map_or(0, |m| m.num_docs()),
                            duration_ms = began.elapsed().as_millis() as u64,
                            "merged segments"
                        );
                        // The merged segment is new to every per-segment cache and its
                        // snapshot to the search caches; the next merge may start meanwhile.
                        drop(claim);
                        index.warm();
                    }
                    // A rollback or a closed writer cancels a merge; the segments stay as
                    // they were and the next idle moment tries again.
                    Err(e) => {
                        tracing::info!(error = %e, path = %path, "a segment merge did not complete")
                    }
                }
            })?;
        Ok(Some(handle))
    }

    /// Reloads the reader after a commit or a merge, and drops the per-segment tables
    /// (columns, value orders, value ends, prefix tops) of the segments the new snapshot no
    /// longer holds: merged away, or emptied by the commit. Searches still running on the
    /// previous snapshot keep the tables they hold, and read again any other they need.
    pub(crate) fn reload_reader(&self) -> Result<()> {
        let before = self.segment_ids();
        self.reader.reload()?;
        let after = self.segment_ids();
        let gone: HashSet<_> = before.difference(&after).copied().collect();
        if !gone.is_empty() {
            crate::search::forget_segment_tables(&gone);
        }
        Ok(())
    }

    /// Drops the per-segment tables of every segment of this index, which is being deleted
    /// (searches still holding it keep what they hold).
    pub fn forget_segment_tables(&self) {
        crate::search::forget_segment_tables(&self.segment_ids());
    }

    /// The ids of the segments the current searcher snapshot reads.
    pub fn segment_ids(&self) -> HashSet<tantivy::index::SegmentId> {
        self.searcher()
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect()
    }

    /// Segments the current searcher snapshot reads (every search walks each of them).
    pub fn segment_count(&self) -> usize {
        self.searcher().segment_readers().len()
    }

    /// Whether a background merge started by [`Index::merge_in_background`] is running.
    pub fn is_merging(&self) -> bool {
        self.merging.load(Ordering::SeqCst)
    }

    /// Asks tantivy to merge what the policy chooses; `None` when there is nothing to merge.
    fn start_merge(
        &self,
        writer_idle: bool,
    ) -> Result<Option<tantivy::FutureResult<Option<tantivy::SegmentMeta>>>> {
        // Asked after every batch: the searcher's segment count is in memory, the metas are
        // read from meta.json.
        if !writer_idle && self.segment_count() <= merge_policy::BUSY_SEGMENT_LIMIT {
            return Ok(None);
        }
        let metas = self.tantivy.searchable_segment_metas()?;
        let sizes: Vec<_> = metas.iter().map(merge_policy::SegmentSize::of).collect();
        let chosen = merge_policy::segments_to_merge(&sizes);
        if chosen.is_empty() {
            return Ok(None);
        }
        tracing::info!(
            path = %self.path.display(),
            segments = metas.len(),
            merging = chosen.len(),
            "merging segments in the background"
        );
        let mut slot = self.writer.lock();
        let writer = Self::ensure_writer(&self.tantivy, &mut slot, self.options)?;
        Ok(Some(writer.merge(&chosen)))
    }

    /// Releases the writer at shutdown without waiting for a background merge: tantivy drops
    /// the merge's result (the index stays as its last commit left it, and the files the merge
    /// wrote are removed when a writer next opens; the index is merged again after the restart),
    /// so a stop is not held for as long as a big merge takes.
    pub fn release_writer_for_shutdown(&self) {
        drop(self.writer.lock().take());
    }

    /// Releases the writer (its memory and threads), waiting for merges in progress.
    pub fn close_writer(&self) -> Result<()> {
        if let Some(writer) = self.writer.lock().take() {
            writer.wait_merging_threads()?;
        }
        Ok(())
    }
}

/// The right to run an index's one background merge: taken when no merge runs, given back
/// when dropped (the merge ended, or never started).
struct MergeClaim(Arc<AtomicBool>);

impl MergeClaim {
    fn take(merging: &Arc<AtomicBool>) -> Option<MergeClaim> {
        (!merging.swap(true, Ordering::SeqCst)).then(|| MergeClaim(Arc::clone(merging)))
    }
}

impl Drop for MergeClaim {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Where the live document with `id` is, if any.
pub(crate) fn find_document(
    searcher: &Searcher,
    fields: SchemaFields,
    id: &str,
) -> Result<Option<DocAddress>> {
    let term = Term::from_field_text(fields.id, id);
    let mut found = None;
    let mut live_versions = 0;
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let inverted = segment.inverted_index(fields.id)?;
        let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)? else {
            continue;
        };
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if !segment.is_deleted(doc) {
                live_versions += 1;
                found.get_or_insert(DocAddress::new(ord as u32, doc));
            }
            doc = postings.advance();
        }
    }
    if live_versions > 1 {
        // Every write deletes the id before adding it, so this is a broken invariant; say it
        // loudly (the next write of this id deletes every version).
        tracing::error!(
            document_id = id,
            live_versions,
            "the index holds more than one live version of a document"
        );
    }
    Ok(found)
}

/// The raw JSON bytes stored for a document.
pub(crate) fn read_source_bytes(
    searcher: &Searcher,
    fields: SchemaFields,
    address: DocAddress,
) -> Result<Vec<u8>> {
    let doc: TantivyDocument = searcher.doc(address)?;
    doc.get_first(fields.source)
        .and_then(|v| v.as_bytes().map(<[u8]>::to_vec))
        .ok_or_else(|| EngineError::Corrupted(format!("document {address:?} has no source")))
}

pub(crate) fn read_source(
    searcher: &Searcher,
    fields: SchemaFields,
    address: DocAddress,
) -> Result<Map<String, Value>> {
    Ok(serde_json::from_slice(&read_source_bytes(
        searcher, fields, address,
    )?)?)
}

/// Bytes used by the files below `path` (0 when it cannot be read).
pub fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
