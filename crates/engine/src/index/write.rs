//! A write batch: the operations of consecutive tasks applied to one index and committed once,
//! together with the index state that describes the result.
//!
//! A batch either commits whole or is rolled back whole: when a task in it fails, the caller
//! rolls the batch back and runs it again without that task, so a failed task never leaves a
//! trace.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use parking_lot::MutexGuard;
use serde_json::{Map, Value};
use tantivy::query::AllQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Searcher, Term, TERMINATED};

use super::delete::{Ids, IdsQuery};
use super::extract::{DocumentBuilder, FieldsMap, IndexedDocument, Searchable};
use super::pipeline;
use super::{find_document, read_source, read_source_bytes, Index, IndexState};
use crate::analysis::Analyzer;
use crate::documents::{self, DocumentIdError, PrimaryKeyError};
use crate::error::{EngineError, Result, UserError, UserErrorKind};
use crate::facet::FacetedAttributes;
use crate::settings::IndexSettings;

/// How incoming documents meet documents with the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddMethod {
    /// `POST`: the new document replaces the old one.
    Replace,
    /// `PUT`: top-level fields of the new document replace those of the old one.
    Update,
}

/// What an edit function made of one document.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentEdit {
    /// Nothing changed.
    Keep,
    /// The document becomes this one (same id).
    Replace(Map<String, Value>),
    /// The document is deleted.
    Delete,
}

/// How many documents an edit changed and deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditOutcome {
    pub edited: u64,
    pub deleted: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOutcome {
    pub received: u64,
    pub indexed: u64,
}

/// Document ids to something, hashed with foldhash (randomly seeded, like std's, and several
/// times faster on short ids: every document of a batch goes through these maps).
type IdMap<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// What a batch knows of an id it wrote or deleted.
#[derive(Debug, Clone, Copy)]
struct Presence {
    /// Whether a version of the document is live after the batch's operations so far.
    live: bool,
    /// The [`Group`] that wrote it (0 for a deletion or a write that was not grouped).
    group: u32,
}

/// Documents not handed to tantivy yet, and the ids they replace: given to tantivy as one
/// deletion of those ids followed by the documents, so that a replaced document costs one id
/// in a packed list instead of a delete operation of its own (see `delete.rs`). A group is
/// handed over before it would hold two versions of one id (the deletion must come between
/// them), when it is full, and at the end of every operation of the batch.
#[derive(Default)]
struct Group {
    /// Numbers groups, from 1, so that [`Presence::group`] tells the ids of the open group.
    number: u32,
    deletes: Ids,
    docs: Vec<IndexedDocument>,
}

/// How many documents a group holds at most.
const GROUP_DOCUMENTS: usize = 256;

impl Group {
    fn open_number(&mut self) -> u32 {
        if self.number == 0 {
            self.number = 1;
        }
        self.number
    }

    fn holds(&self, presence: Option<&Presence>) -> bool {
        presence.is_some_and(|p| p.live && p.group == self.number && self.number != 0)
    }

    fn is_empty(&self) -> bool {
        self.deletes.is_empty() && self.docs.is_empty()
    }

    /// Hands the group to tantivy and opens the next one.
    fn flush(
        &mut self,
        writer: &super::IndexWriter,
        id_field: tantivy::schema::Field,
    ) -> Result<()> {
        if !self.deletes.is_empty() {
            let ids = std::mem::take(&mut self.deletes);
            writer.delete_query(Box::new(IdsQuery::new(id_field, ids)))?;
        }
        // One operation batch: tantivy hands it whole to one of its indexing threads, so the
        // group's documents land in one segment, in the order they were sent (documents added
        // one by one were spread over the threads, and listed out of order).
        if !self.docs.is_empty() {
            writer.run(
                self.docs
                    .drain(..)
                    .map(tantivy::indexer::UserOperation::Add),
            )?;
        }
        self.number = self.number.max(1) + 1;
        Ok(())
    }
}

pub struct WriteBatch<'a> {
    index: &'a Index,
    writer: MutexGuard<'a, Option<super::IndexWriter>>,
    state: IndexState,
    fields_map: FieldsMap,
    analyzer: Analyzer,
    searchable: Searchable,
    faceted: FacetedAttributes,
    /// The committed documents, for lookups; ignored after a clear in this batch.
    searcher: Searcher,
    committed_cleared: bool,
    /// Ids written or deleted in this batch: whether they exist after it, and the group of
    /// their last write.
    presence: IdMap<Presence>,
    /// Writes not handed to tantivy yet.
    group: Group,
    /// Documents written in this batch, kept when a later update may need to merge into them.
    kept: Option<IdMap<Vec<u8>>>,
    live_documents: u64,
    changed: bool,
    /// Documents whose id is not in the index are skipped instead of created
    /// (`skipCreation=true`).
    skip_creation: bool,
}

impl<'a> WriteBatch<'a> {
    pub(super) fn new(index: &'a Index, keep_documents: bool) -> Result<WriteBatch<'a>> {
        let mut writer = index.writer.lock();
        let tantivy_writer =
            super::Index::ensure_writer(&index.tantivy, &mut writer, index.options)?;
        // A writer just opened on this index, or just rolled back, numbers its first operation
        // with the opstamp of the last commit. If that operation is a deletion and a segment
        // merge starts before the next commit, tantivy (0.27) skips it in the segments whose
        // deletions already carry that opstamp, and the merged segment brings the deleted
        // document back. Spend that opstamp on a deletion that matches nothing: no document
        // has an empty id. (Test: `the_first_deletion_after_reopening_survives_a_merge`.)
        tantivy_writer.delete_term(Term::from_field_text(index.schema_fields().id, ""));
        let state = (*index.state()).clone();
        let searcher = index.searcher();
        Ok(WriteBatch {
            fields_map: FieldsMap::from_names(state.fields.clone()),
            analyzer: Analyzer::new(&state.settings),
            searchable: Searchable::from_settings(&state.settings),
            faceted: FacetedAttributes::from_settings(&state.settings),
            live_documents: searcher.num_docs(),
            searcher,
            committed_cleared: false,
            presence: IdMap::default(),
            group: Group::default(),
            kept: keep_documents.then(IdMap::default),
            index,
            writer,
            state,
            changed: false,
            skip_creation: false,
        })
    }

    /// From now on, [`WriteBatch::add_documents`] only updates documents the index (or this
    /// batch) already holds and skips the others.
    pub fn set_skip_creation(&mut self, skip: bool) {
        self.skip_creation = skip;
    }

    /// The writer itself, for tests that drive tantivy (merges) inside a batch.
    #[cfg(test)]
    pub(super) fn writer_mut(&mut self) -> &mut super::IndexWriter {
        self.writer
            .as_mut()
            .expect("the writer is created with the batch")
    }

    fn writer(&self) -> &super::IndexWriter {
        self.writer
            .as_ref()
            .expect("the writer is created with the batch")
    }

    /// The state this batch will commit.
    pub fn state(&self) -> &IndexState {
        &self.state
    }

    /// Live documents after the operations so far.
    pub fn number_of_documents(&self) -> u64 {
        self.live_documents
    }

    /// Sets the primary key of an index that has none yet (or the same one).
    pub fn set_primary_key(&mut self, primary_key: &str) -> Result<()> {
        match &self.state.primary_key {
            Some(existing) if existing != primary_key => {
                Err(already_has_primary_key(existing).into())
            }
            Some(_) => Ok(()),
            None => {
                self.state.primary_key = Some(primary_key.to_string());
                self.changed = true;
                Ok(())
            }
        }
    }

    /// Changes the primary key, which is only allowed while the index holds no document.
    pub fn change_primary_key(&mut self, primary_key: Option<String>) -> Result<()> {
        if self.state.primary_key == primary_key {
            return Ok(());
        }
        if self.live_documents > 0 {
            let existing = self.state.primary_key.clone().unwrap_or_default();
            return Err(already_has_primary_key(&existing).into());
        }
        self.state.primary_key = primary_key;
        self.changed = true;
        Ok(())
    }

    /// Whether documents committed before this batch may still be live.
    fn may_hold_committed_documents(&self) -> bool {
        !self.committed_cleared && self.searcher.num_docs() > 0
    }

    fn exists(&self, id: &str) -> Result<bool> {
        if let Some(present) = self.presence.get(id) {
            return Ok(present.live);
        }
        if !self.may_hold_committed_documents() {
            return Ok(false);
        }
        Ok(find_document(&self.searcher, self.index.schema_fields(), id)?.is_some())
    }

    fn current_document(&self, id: &str) -> Result<Option<Map<String, Value>>> {
        if let Some(present) = self.presence.get(id) {
            if !present.live {
                return Ok(None);
            }
            let kept = self.kept.as_ref().and_then(|k| k.get(id)).ok_or_else(|| {
                EngineError::Corrupted("a document merged twice in one batch was not kept".into())
            })?;
            return Ok(Some(serde_json::from_slice(kept)?));
        }
        if self.committed_cleared {
            return Ok(None);
        }
        let fields = self.index.schema_fields();
        match find_document(&self.searcher, fields, id)? {
            Some(address) => Ok(Some(read_source(&self.searcher, fields, address)?)),
            None => Ok(None),
        }
    }

    /// Applies one task's documents, read from a normalized payload file.
    ///
    /// Helper threads parse and build the documents ahead of the writer, chunk by chunk
    /// (`Preparer`); the writer takes their work in the order of the payload and does what
    /// depends on that order: which ids exist after the documents before, updates merging into
    /// an earlier version, new field names (a document holding a field the helpers' snapshot of
    /// the fields map did not know is built again here, so first-seen order is the payload's).
    pub fn add_documents(
        &mut self,
        payload: &Path,
        method: AddMethod,
        primary_key: Option<&str>,
    ) -> Result<AddOutcome> {
        let primary_key = self.resolve_primary_key(payload, primary_key)?;
        let Some(primary_key) = primary_key else {
            return Ok(AddOutcome {
                received: 0,
                indexed: 0,
            });
        };
        let (analyzer, searchable, faceted, searcher) = (
            self.analyzer.clone(),
            self.searchable.clone(),
            self.faceted.clone(),
            self.searcher.clone(),
        );
        let preparer = Preparer::new(
            DocumentBuilder {
                analyzer: &analyzer,
                searchable: &searchable,
                faceted: &faceted,
                schema: self.index.schema_fields(),
            },
            &primary_key,
            &searcher,
            method == AddMethod::Update,
        )?;
        let workers = self.index.options.indexing_threads.max(1);
        let mut adding = Adding {
            reader: std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(payload)?),
            lines_read: 0,
            exhausted: false,
            snapshot: Arc::new(self.fields_map.clone()),
            batch: self,
            method,
            received: 0,
            skipped: 0,
            merged: Vec::with_capacity(1024),
        };
        pipeline::ordered_parallel(
            &mut adding,
            workers,
            2 * workers + 2,
            Adding::next_chunk,
            |chunk: Chunk| {
                let documents = preparer.prepare_chunk(&chunk);
                (documents, chunk.error)
            },
            Adding::apply,
        )?;
        let (received, skipped) = (adding.received, adding.skipped);
        self.flush_group()?;
        self.changed = true;
        Ok(AddOutcome {
            received,
            indexed: received - skipped,
        })
    }

    fn resolve_primary_key(
        &mut self,
        payload: &Path,
        requested: Option<&str>,
    ) -> Result<Option<String>> {
        if let Some(existing) = self.state.primary_key.clone() {
            if let Some(requested) = requested {
                if requested != existing {
                    return Err(already_has_primary_key(&existing).into());
                }
            }
            return Ok(Some(existing));
        }
        let chosen = match requested {
            Some(requested) => requested.to_string(),
            None => {
                let file = std::io::BufReader::new(std::fs::File::open(payload)?);
                let Some(first) = documents::read_normalized(file).next() else {
                    return Ok(None);
                };
                let first = first.map_err(payload_error)?;
                documents::infer_primary_key(&first).map_err(inference_error)?
            }
        };
        self.state.primary_key = Some(chosen.clone());
        self.changed = true;
        Ok(Some(chosen))
    }

    /// Deletes documents by id; returns how many existed.
    pub fn delete_documents(&mut self, ids: &[String]) -> Result<u64> {
        self.flush_group()?;
        let mut deleted = 0;
        for id in ids {
            if self.exists(id)? {
                self.group.deletes.push(id);
                self.presence.insert(
                    id.clone(),
                    Presence {
                        live: false,
                        group: 0,
                    },
                );
                self.live_documents -= 1;
                deleted += 1;
            }
        }
        self.flush_group()?;
        self.changed = true;
        Ok(deleted)
    }

    /// Hands the open group of writes to tantivy.
    fn flush_group(&mut self) -> Result<()> {
        if self.group.is_empty() {
            return Ok(());
        }
        let id_field = self.index.schema_fields().id;
        let writer = self
            .writer
            .as_ref()
            .expect("the writer is created with the batch");
        self.group.flush(writer, id_field)
    }

    /// Adds a document (replacing the version `existed` says there is) to the open group.
    fn write_document(&mut self, id: String, doc: IndexedDocument, existed: bool) -> Result<()> {
        if existed && self.group.holds(self.presence.get(&id)) {
            self.flush_group()?;
        }
        if existed {
            self.group.deletes.push(&id);
        } else {
            self.live_documents += 1;
        }
        let kept_source = self.kept.is_some().then(|| doc.source().to_vec());
        self.group.docs.push(doc);
        if let (Some(kept), Some(source)) = (self.kept.as_mut(), kept_source) {
            kept.insert(id.clone(), source);
        }
        let group = self.group.open_number();
        self.presence.insert(id, Presence { live: true, group });
        if self.group.docs.len() >= GROUP_DOCUMENTS {
            self.flush_group()?;
        }
        Ok(())
    }

    /// Deletes the documents `filter` selects; returns how many. The filter is evaluated on
    /// the committed documents, so this must be the batch's first operation (the scheduler
    /// starts a batch with it).
    pub fn delete_by_filter(&mut self, filter: &crate::filter::FilterExpr) -> Result<u64> {
        if self.committed_cleared || !self.presence.is_empty() {
            return Err(EngineError::Corrupted(
                "a deletion by filter must come first in its batch".into(),
            ));
        }
        let Some(primary_key) = self.state.primary_key.clone() else {
            return Ok(0);
        };
        let ctx = crate::search::SearchContext::new(self.index)?;
        let selected = crate::filter::FilterEvaluator::new(&ctx).evaluate(filter)?;
        let fields = self.index.schema_fields();
        let mut ids = Vec::with_capacity(selected.len() as usize);
        for doc in &selected {
            let document = read_source(&ctx.searcher, fields, ctx.address(doc))?;
            ids.push(documents::extract_document_id(&document, &primary_key).map_err(id_error)?);
        }
        self.delete_documents(&ids)
    }

    /// Deletes every document; returns how many there were.
    pub fn clear(&mut self) -> Result<u64> {
        self.flush_group()?;
        let deleted = self.live_documents;
        self.writer().delete_query(Box::new(AllQuery))?;
        self.committed_cleared = true;
        self.presence.clear();
        if let Some(kept) = self.kept.as_mut() {
            kept.clear();
        }
        self.live_documents = 0;
        self.changed = true;
        Ok(deleted)
    }

    /// Replaces the settings, indexing every document again when what is indexed changes.
    pub fn set_settings(&mut self, settings: IndexSettings) -> Result<()> {
        let t = &settings.typo_tolerance;
        if t.one_typo_min_len > t.two_typos_min_len {
            return Err(UserError::new(
                UserErrorKind::InvalidSettingsTypoTolerance,
                format!(
                    "`minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should be between `0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` but found `oneTypo: {}` and twoTypos: {}`.",
                    t.one_typo_min_len, t.two_typos_min_len
                ),
            )
            .into());
        }
        let reindex = self.state.settings.needs_reindex(&settings);
        self.state.settings = settings;
        self.analyzer = Analyzer::new(&self.state.settings);
        self.searchable = Searchable::from_settings(&self.state.settings);
        self.faceted = FacetedAttributes::from_settings(&self.state.settings);
        self.changed = true;
        if reindex {
            self.reindex_all()?;
        }
        Ok(())
    }

    /// Brings an index written by an older format up to this one: every document is indexed
    /// again from its stored source (older formats had no facet terms), then committed with the
    /// same last task and task outcomes.
    pub(super) fn migrate(mut self) -> Result<()> {
        self.reindex_all()?;
        self.state.format_version = super::INDEX_FORMAT_VERSION;
        let last = self.state.last_task_uid;
        let results = std::mem::take(&mut self.state.task_results);
        self.commit_with(last, results)
    }

    /// Indexes every live document again under the current settings, in one commit.
    fn reindex_all(&mut self) -> Result<()> {
        if self.live_documents == 0 {
            return Ok(());
        }
        if !self.presence.is_empty() {
            return Err(EngineError::Corrupted(
                "settings that reindex must be applied in a batch of their own".into(),
            ));
        }
        let schema = self.index.schema_fields();
        self.writer().delete_query(Box::new(AllQuery))?;
        let searcher = self.searcher.clone();
        let builder = DocumentBuilder {
            analyzer: &self.analyzer,
            searchable: &self.searchable,
            faceted: &self.faceted,
            schema,
        };
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            for doc in segment.doc_ids_alive() {
                let address = tantivy::DocAddress::new(ord as u32, doc);
                let source = read_source_bytes(&searcher, schema, address)?;
                let document: Map<String, Value> = serde_json::from_slice(&source)?;
                let primary_key = self.state.primary_key.as_deref().unwrap_or("id");
                let id =
                    documents::extract_document_id(&document, primary_key).map_err(id_error)?;
                let tantivy_doc = builder.build(&id, &document, &source, &mut self.fields_map);
                self.writer
                    .as_ref()
                    .expect("writer")
                    .add_document(tantivy_doc)?;
            }
        }
        Ok(())
    }

    /// Commits everything, recording `last_task_uid` and the outcome of each task.
    pub fn commit(
        self,
        last_task_uid: u32,
        task_results: std::collections::BTreeMap<u32, Value>,
    ) -> Result<()> {
        self.commit_with(Some(last_task_uid), task_results)
    }

    fn commit_with(
        mut self,
        last_task_uid: Option<u32>,
        task_results: std::collections::BTreeMap<u32, Value>,
    ) -> Result<()> {
        self.flush_group()?;
        self.state.fields = self.fields_map.names().to_vec();
        self.state.format_version = super::INDEX_FORMAT_VERSION;
        self.state.last_task_uid = last_task_uid;
        self.state.task_results = task_results;
        let payload = serde_json::to_string(&self.state)?;
        let writer = self.writer.as_mut().expect("writer");
        let committed = writer.prepare_commit().and_then(|mut prepared| {
            prepared.set_payload(&payload);
            prepared.commit()
        });
        if let Err(e) = committed {
            // Whatever the failed commit buffered must not ride along with the next batch.
            let _ = super::Index::discard_writer(&mut self.writer);
            return Err(e.into());
        }
        self.index.reload_reader()?;
        *self.index.state.write() = std::sync::Arc::new(self.state);
        Ok(())
    }

    /// Runs `edit` on every committed document `filter` selects (every document without one),
    /// in index order, and applies what it returns. An error stops the edit; the caller then
    /// aborts the batch. The edit sees documents as they were committed, so an edit runs in a
    /// batch of its own.
    pub fn edit_documents(
        &mut self,
        filter: Option<&crate::filter::FilterExpr>,
        mut edit: impl FnMut(&Map<String, Value>) -> Result<DocumentEdit>,
    ) -> Result<EditOutcome> {
        let ctx = crate::search::SearchContext::new(self.index)?;
        let selected = match filter {
            Some(filter) => crate::filter::FilterEvaluator::new(&ctx).evaluate(filter)?,
            None => ctx.universe(),
        };
        let Some(primary_key) = self.state.primary_key.clone() else {
            return Ok(EditOutcome::default());
        };
        let schema = self.index.schema_fields();
        let mut outcome = EditOutcome::default();
        for global in &selected {
            let document = read_source(&ctx.searcher, schema, ctx.address(global))?;
            let id = documents::extract_document_id(&document, &primary_key).map_err(id_error)?;
            match edit(&document)? {
                DocumentEdit::Keep => {}
                DocumentEdit::Replace(new) => {
                    let source = serde_json::to_vec(&new)?;
                    let builder = DocumentBuilder {
                        analyzer: &self.analyzer,
                        searchable: &self.searchable,
                        faceted: &self.faceted,
                        schema,
                    };
                    let doc = builder.build(&id, &new, &source, &mut self.fields_map);
                    let existed = self.exists(&id)?;
                    self.write_document(id, doc, existed)?;
                    outcome.edited += 1;
                }
                DocumentEdit::Delete => {
                    if self.group.holds(self.presence.get(&id)) {
                        self.flush_group()?;
                    }
                    self.group.deletes.push(&id);
                    self.presence.insert(
                        id,
                        Presence {
                            live: false,
                            group: 0,
                        },
                    );
                    self.live_documents -= 1;
                    outcome.deleted += 1;
                }
            }
        }
        self.flush_group()?;
        self.changed = true;
        Ok(outcome)
    }

    /// Rewrites every committed segment into one, leaving deleted documents out
    /// (`indexCompaction`); takes effect with the batch's commit. Returns whether there was
    /// anything to rewrite (several segments, or deleted documents).
    pub fn merge_all_segments(&mut self) -> Result<bool> {
        let metas = self.index.tantivy.searchable_segment_metas()?;
        if metas.is_empty() || (metas.len() == 1 && !metas[0].has_deletes()) {
            return Ok(false);
        }
        let ids: Vec<_> = metas.iter().map(|m| m.id()).collect();
        let writer = self.writer.as_mut().expect("writer");
        writer.merge(&ids).wait()?;
        self.changed = true;
        Ok(true)
    }

    /// Throws away every operation of this batch, and its writer (`Index::discard_writer`).
    pub fn abort(mut self) -> Result<()> {
        super::Index::discard_writer(&mut self.writer)
    }

    /// Whether anything was written.
    pub fn has_changes(&self) -> bool {
        self.changed
    }
}

/// How many bytes of payload (at most) a helper thread takes at a time.
const CHUNK_BYTES: usize = 128 * 1024;
/// How many lines (at most) a helper thread takes at a time.
const CHUNK_LINES: u64 = 1024;

/// Whole lines of a payload, for a helper thread.
struct Chunk {
    lines: Vec<u8>,
    /// The number of the first line (from 1), for error messages.
    first_line: u64,
    /// The fields map when the chunk was cut: the helper builds documents with it.
    fields: Arc<FieldsMap>,
    /// Reading the payload failed after these lines.
    error: Option<std::io::Error>,
}

/// A document as a helper thread leaves it for the writer.
struct Prepared {
    id: String,
    /// Whether the committed index holds a live document with this id.
    committed: bool,
    /// Built with the chunk's fields map, or `None` when it has a field that map did not know.
    built: Option<IndexedDocument>,
    /// The parsed document, when the writer may need it (an update, or a build to do again).
    document: Option<Map<String, Value>>,
    /// The document's compact JSON when it is not built.
    source: Option<Vec<u8>>,
}

/// The work of the helper threads, shared by them: what depends only on one document.
struct Preparer<'b> {
    builder: DocumentBuilder<'b>,
    primary_key: &'b str,
    searcher: &'b Searcher,
    /// The `_id` postings of each committed segment; empty when nothing is committed.
    committed_ids: Vec<std::sync::Arc<tantivy::InvertedIndexReader>>,
    /// Updates (`PUT`): documents are kept for merging, and those the index holds are not built.
    keep_documents: bool,
}

impl<'b> Preparer<'b> {
    fn new(
        builder: DocumentBuilder<'b>,
        primary_key: &'b str,
        searcher: &'b Searcher,
        keep_documents: bool,
    ) -> Result<Preparer<'b>> {
        let committed_ids = if searcher.num_docs() > 0 {
            searcher
                .segment_readers()
                .iter()
                .map(|segment| segment.inverted_index(builder.schema.id))
                .collect::<tantivy::Result<_>>()?
        } else {
            Vec::new()
        };
        Ok(Preparer {
            builder,
            primary_key,
            searcher,
            committed_ids,
            keep_documents,
        })
    }

    /// Parses and builds the documents of `chunk`, stopping at the first error.
    fn prepare_chunk(&self, chunk: &Chunk) -> Vec<Result<Prepared>> {
        let mut out = Vec::new();
        let lines = chunk.lines.split_inclusive(|b| *b == b'\n');
        for (line_number, line) in (chunk.first_line..).zip(lines) {
            let Some(parsed) = documents::parse_normalized_line(line, line_number) else {
                continue;
            };
            let prepared = parsed
                .map_err(payload_error)
                .and_then(|(document, source)| self.prepare(document, source, &chunk.fields));
            let failed = prepared.is_err();
            out.push(prepared);
            if failed {
                break;
            }
        }
        out
    }

    fn prepare(
        &self,
        document: Map<String, Value>,
        source: &[u8],
        fields: &FieldsMap,
    ) -> Result<Prepared> {
        let id = documents::extract_document_id(&document, self.primary_key).map_err(id_error)?;
        let committed = self.committed_holds(&id)?;
        // An update of a committed document is merged into it and built on the writer thread;
        // building the partial document here would be thrown away.
        let built = if self.keep_documents && committed {
            None
        } else {
            self.builder.try_build(&id, &document, source, fields)
        };
        let unbuilt = built.is_none();
        Ok(Prepared {
            id,
            committed,
            built,
            document: (self.keep_documents || unbuilt).then_some(document),
            source: unbuilt.then(|| source.to_vec()),
        })
    }

    fn committed_holds(&self, id: &str) -> Result<bool> {
        if self.committed_ids.is_empty() {
            return Ok(false);
        }
        for (segment, ids) in self
            .searcher
            .segment_readers()
            .iter()
            .zip(&self.committed_ids)
        {
            let Some(info) = ids.terms().get(id.as_bytes())? else {
                continue;
            };
            let mut postings = ids.read_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if !segment.is_deleted(doc) {
                    return Ok(true);
                }
                doc = postings.advance();
            }
        }
        Ok(false)
    }
}

/// The writer's side of [`WriteBatch::add_documents`]: it cuts the payload into chunks and
/// applies the prepared documents in order.
struct Adding<'w, 'a> {
    batch: &'w mut WriteBatch<'a>,
    reader: std::io::BufReader<std::fs::File>,
    lines_read: u64,
    exhausted: bool,
    /// The fields map as the helpers see it, renewed when the writer adds names.
    snapshot: Arc<FieldsMap>,
    method: AddMethod,
    received: u64,
    skipped: u64,
    merged: Vec<u8>,
}

impl Adding<'_, '_> {
    fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        use std::io::BufRead;
        if self.exhausted {
            return Ok(None);
        }
        let first_line = self.lines_read + 1;
        let mut lines = Vec::with_capacity(CHUNK_BYTES + 4096);
        let mut error = None;
        while lines.len() < CHUNK_BYTES && self.lines_read + 1 - first_line < CHUNK_LINES {
            match self.reader.read_until(b'\n', &mut lines) {
                Ok(0) => {
                    self.exhausted = true;
                    break;
                }
                Ok(_) => {
                    self.lines_read += 1;
                    if lines.last() != Some(&b'\n') {
                        lines.push(b'\n');
                    }
                }
                Err(e) => {
                    // Reported once the lines before it are applied, as a sequential read would.
                    self.exhausted = true;
                    error = Some(e);
                    break;
                }
            }
        }
        if lines.is_empty() && error.is_none() {
            return Ok(None);
        }
        Ok(Some(Chunk {
            lines,
            first_line,
            fields: self.snapshot.clone(),
            error,
        }))
    }

    fn apply(&mut self, prepared: (Vec<Result<Prepared>>, Option<std::io::Error>)) -> Result<()> {
        let (documents, error) = prepared;
        for prepared in documents {
            self.apply_one(prepared?)?;
        }
        if let Some(e) = error {
            return Err(EngineError::Io(e));
        }
        if self.batch.fields_map.names().len() != self.snapshot.names().len() {
            self.snapshot = Arc::new(self.batch.fields_map.clone());
        }
        Ok(())
    }

    fn apply_one(&mut self, prepared: Prepared) -> Result<()> {
        self.received += 1;
        let batch = &mut *self.batch;
        let Prepared {
            id,
            committed,
            built,
            document,
            source,
        } = prepared;
        let existed = match batch.presence.get(&id) {
            Some(present) => present.live,
            None => !batch.committed_cleared && committed,
        };
        if batch.skip_creation && !existed {
            self.skipped += 1;
            return Ok(());
        }
        let schema = batch.index.schema_fields();
        let builder = DocumentBuilder {
            analyzer: &batch.analyzer,
            searchable: &batch.searchable,
            faceted: &batch.faceted,
            schema,
        };
        let current = if self.method == AddMethod::Update && existed {
            batch.current_document(&id)?
        } else {
            None
        };
        let doc = match (current, built) {
            (Some(mut current), _) => {
                let update = document.expect("updates keep their parsed document");
                documents::merge_documents(&mut current, update);
                self.merged.clear();
                serde_json::to_writer(&mut self.merged, &current)?;
                builder.build(&id, &current, &self.merged, &mut batch.fields_map)
            }
            (None, Some(built)) => built,
            (None, None) => builder.build(
                &id,
                &document.expect("unbuilt documents are kept"),
                &source.expect("unbuilt documents keep their source"),
                &mut batch.fields_map,
            ),
        };
        batch.write_document(id, doc, existed)
    }
}

fn already_has_primary_key(existing: &str) -> UserError {
    UserError::new(
        UserErrorKind::PrimaryKeyAlreadyExists,
        format!("Index already has a primary key: `{existing}`."),
    )
}

fn payload_error(e: documents::PayloadError) -> EngineError {
    match e {
        documents::PayloadError::Io(e) => EngineError::Io(e),
        other => EngineError::Corrupted(format!("stored task payload is unreadable: {other}")),
    }
}

fn id_error(e: DocumentIdError) -> EngineError {
    let kind = match e {
        DocumentIdError::Missing { .. } => UserErrorKind::MissingDocumentId,
        DocumentIdError::Invalid { .. } => UserErrorKind::InvalidDocumentId,
    };
    UserError::new(kind, e.message()).into()
}

fn inference_error(e: PrimaryKeyError) -> EngineError {
    let kind = match e {
        PrimaryKeyError::InferenceNoCandidate => UserErrorKind::PrimaryKeyInferenceFailed,
        PrimaryKeyError::InferenceMultiple(_) => UserErrorKind::PrimaryKeyMultipleCandidates,
    };
    UserError::new(kind, e.message()).into()
}
