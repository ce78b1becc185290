//! The writer thread: picks the next batch of compatible tasks, applies it to the index in one
//! commit, then records every task's outcome in one durable transaction. Also the recovery that
//! runs at start, reconciling the queue with what indexes say they committed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::MutexGuard;
use quarry_api_types::settings::Settings;
use quarry_api_types::{Code, ResponseError};
use quarry_engine::{AddMethod, EngineError, Index, UserError, UserErrorKind};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::store::{Changes, IndexEntry};
use crate::task::{Batch, DocumentMethod, Status, Task, TaskError, TaskKind};
use crate::{internal, settings_apply, Inner};

pub(crate) fn payload_path(inner: &Inner, id: uuid::Uuid) -> PathBuf {
    inner
        .options
        .db_path
        .join("payloads")
        .join(format!("{id}.ndjson"))
}

/// Maps an engine failure to the error a user sees.
pub fn engine_error(e: EngineError) -> ResponseError {
    match e {
        EngineError::User(u) => ResponseError::new(user_error_code(u.kind), u.message),
        e if e.is_disk_full() => ResponseError::new(
            Code::NoSpaceLeftOnDevice,
            "There is no more space left on the device. Consider increasing the size of the disk/partition.",
        ),
        e => internal("index operation", e),
    }
}

fn user_error_code(kind: UserErrorKind) -> Code {
    match kind {
        UserErrorKind::MissingDocumentId => Code::MissingDocumentId,
        UserErrorKind::InvalidDocumentId => Code::InvalidDocumentId,
        UserErrorKind::PrimaryKeyInferenceFailed => Code::IndexPrimaryKeyNoCandidateFound,
        UserErrorKind::PrimaryKeyMultipleCandidates => Code::IndexPrimaryKeyMultipleCandidatesFound,
        UserErrorKind::PrimaryKeyAlreadyExists => Code::IndexPrimaryKeyAlreadyExists,
        UserErrorKind::InvalidPrimaryKey => Code::InvalidIndexPrimaryKey,
        UserErrorKind::DocumentNotFound => Code::DocumentNotFound,
        UserErrorKind::MalformedPayload => Code::MalformedPayload,
        UserErrorKind::InvalidSettingsTypoTolerance => Code::InvalidSettingsTypoTolerance,
        UserErrorKind::InvalidFilter => Code::InvalidSearchFilter,
        UserErrorKind::InvalidSort => Code::InvalidSearchSort,
        UserErrorKind::InvalidFacets => Code::InvalidSearchFacets,
        UserErrorKind::InvalidSearchAttributesToSearchOn => Code::InvalidSearchAttributesToSearchOn,
        UserErrorKind::InvalidSearchDistinct => Code::InvalidSearchDistinct,
        UserErrorKind::InvalidDocumentFilter => Code::InvalidDocumentFilter,
        UserErrorKind::InvalidFacetSearchFacetName => Code::InvalidFacetSearchFacetName,
        UserErrorKind::FacetSearchDisabled => Code::FacetSearchDisabled,
        UserErrorKind::MaxFieldsLimitExceeded => Code::MaxFieldsLimitExceeded,
        UserErrorKind::EditDocumentsByFunction => Code::EditDocumentsByFunctionError,
    }
}

/// How one task ended.
#[derive(Debug, Clone)]
struct Outcome {
    status: Status,
    details: Option<Value>,
    error: Option<TaskError>,
    canceled_by: Option<u32>,
}

impl Outcome {
    fn succeeded(details: Value) -> Outcome {
        Outcome {
            status: Status::Succeeded,
            details: Some(details),
            error: None,
            canceled_by: None,
        }
    }

    fn succeeded_without_details() -> Outcome {
        Outcome {
            status: Status::Succeeded,
            details: None,
            error: None,
            canceled_by: None,
        }
    }

    fn failed(details: Option<Value>, error: &ResponseError) -> Outcome {
        Outcome {
            status: Status::Failed,
            details,
            error: Some(TaskError {
                code: error.code.name().to_string(),
                message: error.message.clone(),
            }),
            canceled_by: None,
        }
    }

    /// The form stored in an index's commit payload, read back by recovery.
    fn to_json(&self) -> Value {
        json!({"status": self.status, "details": self.details, "error": self.error})
    }

    fn from_json(value: &Value) -> Option<Outcome> {
        Some(Outcome {
            status: serde_json::from_value(value.get("status")?.clone()).ok()?,
            details: value.get("details").cloned().filter(|d| !d.is_null()),
            error: value
                .get("error")
                .and_then(|e| serde_json::from_value(e.clone()).ok()),
            canceled_by: None,
        })
    }
}

/// What a batch did beyond the outcome of its tasks.
#[derive(Default)]
struct Effects {
    outcomes: Vec<(u32, Outcome)>,
    put_indexes: Vec<(String, IndexEntry)>,
    delete_indexes: Vec<String>,
    /// Indexes to make visible to readers once the transaction is durable.
    new_indexes: Vec<(String, IndexEntry, Arc<Index>)>,
    /// Index uid changes: (a, b) swaps or renames a to b.
    swaps: Vec<(String, String)>,
    remove_dirs: Vec<PathBuf>,
    delete_tasks: Vec<u32>,
    /// New dynamic search rules: stored with the tasks' outcomes, in the same transaction.
    rules: Option<Arc<crate::dynamic_search_rules::RuleSet>>,
    /// The batch was interrupted by a cancelation: its tasks go back to the queue.
    aborted: bool,
}

/// Reconciles the queue with the indexes after a start: tasks an index says it committed get
/// the outcome it recorded; other unfinished tasks are enqueued again.
pub(crate) fn recover(inner: &Inner) -> Result<(), ResponseError> {
    let mut queue = inner.queue.lock();
    let mut changes = Changes::default();
    let mut live_payloads = std::collections::HashSet::new();
    let mut enqueued = Vec::new();
    for task in queue.tasks.values_mut() {
        if task.status.is_finished() {
            continue;
        }
        let recorded = task
            .kind
            .index_uid()
            .and_then(|uid| inner.registry.get(uid))
            .and_then(|index| {
                index
                    .state()
                    .task_results
                    .get(&task.uid)
                    .and_then(Outcome::from_json)
            });
        match recorded {
            Some(outcome) => {
                let now = OffsetDateTime::now_utc();
                task.status = outcome.status;
                task.details = outcome.details;
                task.error = outcome.error;
                task.started_at.get_or_insert(now);
                task.finished_at = Some(now);
                changes.put_tasks.push(task.clone());
                tracing::info!(
                    task_uid = task.uid,
                    "task outcome recovered from its index commit"
                );
            }
            None => {
                task.status = Status::Enqueued;
                task.started_at = None;
                task.batch_uid = None;
                enqueued.push(task.uid);
                if let TaskKind::DocumentAdditionOrUpdate { payload, .. } = &task.kind {
                    live_payloads.insert(format!("{payload}.ndjson"));
                }
            }
        }
    }
    queue.enqueued.extend(enqueued);
    if !changes.put_tasks.is_empty() {
        inner
            .store
            .apply(&changes)
            .map_err(|e| internal("recording recovered tasks", e))?;
    }
    let payload_dir = inner.options.db_path.join("payloads");
    if let Ok(entries) = std::fs::read_dir(&payload_dir) {
        for entry in entries.flatten() {
            if !live_payloads.contains(&*entry.file_name().to_string_lossy()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

/// The writer loop; returns when the scheduler shuts down.
pub(crate) fn run(inner: Arc<Inner>) {
    // Indexes written since the writer was last idle: their segments may need merging. At
    // start, every index (one left out of shape by a stop during a merge gets merged).
    let mut written: BTreeSet<String> = inner
        .registry
        .all()
        .into_iter()
        .map(|(info, _)| info.uid)
        .collect();
    loop {
        let (batch_uid, tasks) = {
            let mut queue = inner.queue.lock();
            while (queue.enqueued.is_empty() || inner.paused.load(Ordering::SeqCst))
                && !inner.shutdown.load(Ordering::SeqCst)
            {
                if written.is_empty() || inner.paused.load(Ordering::SeqCst) {
                    inner.wake.wait(&mut queue);
                    continue;
                }
                // Idle: once nothing has arrived for a moment, merge what the batches wrote.
                let waited = inner.wake.wait_for(&mut queue, IDLE_BEFORE_MERGING);
                if waited.timed_out() && queue.enqueued.is_empty() {
                    // An index still merging is looked at again once that merge is done.
                    written =
                        MutexGuard::unlocked(&mut queue, || merge_segments(&inner, &written, true));
                }
            }
            if inner.shutdown.load(Ordering::SeqCst) {
                return;
            }
            let uids = select_batch(&queue, inner.options.max_batch_tasks);
            let batch_uid = queue.next_batch_uid;
            let now = OffsetDateTime::now_utc();
            let mut tasks = Vec::with_capacity(uids.len());
            for uid in &uids {
                queue.enqueued.remove(uid);
                let task = queue.tasks.get_mut(uid).expect("selected tasks exist");
                task.status = Status::Processing;
                task.started_at = Some(now);
                task.batch_uid = Some(batch_uid);
                tasks.push(task.clone());
            }
            queue.processing = uids;
            queue.processing_batch = Some(Batch {
                uid: batch_uid,
                task_uids: queue.processing.clone(),
                details: json!({}),
                stats: batch_stats(&tasks, None),
                started_at: now,
                finished_at: None,
                batch_strategy: batch_strategy(&tasks),
            });
            (batch_uid, tasks)
        };
        inner.abort_processing.store(false, Ordering::SeqCst);
        let span = tracing::info_span!("batch", batch_uid, tasks = tasks.len());
        let _guard = span.enter();
        tracing::info!(
            batch_uid,
            task_uids = ?tasks.iter().map(|t| t.uid).collect::<Vec<_>>(),
            task_type = tasks[0].kind.type_name(),
            index_uid = ?tasks[0].kind.index_uid(),
            "processing batch"
        );
        let started = std::time::Instant::now();
        let effects = execute(&inner, &tasks);
        let touched: BTreeSet<String> = tasks
            .iter()
            .filter_map(|t| t.kind.index_uid())
            .map(str::to_string)
            .collect();
        finish_batch(&inner, batch_uid, tasks, effects, started);
        // A writer that never pauses still merges once an index piles up segments.
        merge_segments(&inner, &touched, false);
        written.extend(touched);
    }
}

/// How long the queue must stay empty before the writer merges segments: a client sending
/// batches one after the other (waiting for each task) does not get a merge between each.
const IDLE_BEFORE_MERGING: std::time::Duration = std::time::Duration::from_millis(500);

/// Starts a background merge in the first of these indexes that the merge policy says is out
/// of shape (`engine::index::merge_policy`); `idle`: the queue is empty. One merge runs at a
/// time across all indexes (each holds a few hundred MB at its peak on a big index), so the
/// indexes not looked at yet, or whose turn has not come, are returned to be looked at again.
fn merge_segments(inner: &Inner, uids: &BTreeSet<String>, idle: bool) -> BTreeSet<String> {
    if inner.registry.any_merging() {
        return uids.clone();
    }
    let mut left = uids.clone();
    for uid in uids {
        left.remove(uid);
        let Some(index) = inner.registry.get(uid) else {
            continue;
        };
        match index.merge_in_background(idle) {
            Ok(Some(_)) => return left,
            Ok(None) => {}
            Err(e) => tracing::warn!(index_uid = %uid, error = %e, "starting a segment merge"),
        }
    }
    left
}

/// Chooses the tasks of the next batch: cancelations and deletions first, then the oldest task
/// with every later compatible task of the same index.
fn select_batch(queue: &crate::Queue, max: usize) -> Vec<u32> {
    let task = |uid: &u32| &queue.tasks[uid];
    for wanted in ["taskCancelation", "taskDeletion"] {
        if let Some(uid) = queue
            .enqueued
            .iter()
            .find(|u| task(u).kind.type_name() == wanted)
        {
            return vec![*uid];
        }
    }
    let first_uid = *queue
        .enqueued
        .iter()
        .next()
        .expect("the queue is not empty");
    let first = task(&first_uid);
    let mut batch = vec![first_uid];
    let Some(index) = first.kind.index_uid() else {
        return batch;
    };
    // A deletion by filter selects among the committed documents, so it only ever starts a
    // batch: the tasks before it must be committed first.
    let batchable = |kind: &TaskKind| match &first.kind {
        k if k.is_document_operation() => {
            kind.is_document_operation()
                && !matches!(kind, TaskKind::DocumentDeletionByFilter { .. })
        }
        TaskKind::SettingsUpdate { .. } => matches!(kind, TaskKind::SettingsUpdate { .. }),
        // Rule changes go together; a clear ends the batch (what follows it starts another).
        TaskKind::DynamicSearchRulesClear => false,
        k if k.is_rules_change() => kind.is_rules_change(),
        _ => false,
    };
    for uid in queue.enqueued.iter().skip(1) {
        if batch.len() >= max {
            break;
        }
        let next = task(uid);
        if !next.kind.indexes().contains(&index) {
            continue;
        }
        if next.kind.index_uid() == Some(index) && batchable(&next.kind) {
            batch.push(*uid);
            if matches!(next.kind, TaskKind::DynamicSearchRulesClear) {
                break;
            }
        } else {
            break;
        }
    }
    batch
}

fn execute(inner: &Inner, tasks: &[Task]) -> Effects {
    let first = &tasks[0];
    match &first.kind {
        TaskKind::TaskCancelation { tasks: targets, .. } => cancel_tasks(inner, first, targets),
        TaskKind::TaskDeletion { tasks: targets, .. } => delete_tasks(inner, first, targets),
        TaskKind::IndexCreation {
            index_uid,
            primary_key,
        } => create_index(inner, first.uid, index_uid, primary_key.clone()),
        TaskKind::IndexDeletion { index_uid } => delete_index(inner, first.uid, index_uid),
        TaskKind::IndexUpdate {
            index_uid,
            primary_key,
            new_index_uid,
        } => update_index(
            inner,
            first.uid,
            index_uid,
            primary_key.clone(),
            new_index_uid.clone(),
        ),
        TaskKind::IndexSwap { swaps } => swap_indexes(inner, first.uid, swaps),
        TaskKind::SettingsUpdate { index_uid, .. } => update_settings(inner, tasks, index_uid),
        TaskKind::IndexCompaction { index_uid } => compact_index(inner, first.uid, index_uid),
        TaskKind::DocumentEdition {
            index_uid,
            filter,
            context,
            function,
        } => edit_documents(
            inner,
            first.uid,
            index_uid,
            filter.as_ref(),
            context.as_ref(),
            function,
        ),
        TaskKind::TaskCompaction => {
            let file = inner.options.db_path.join("meta.redb");
            let size = || std::fs::metadata(&file).map_or(0, |m| m.len());
            let before = size();
            match inner.store.compact() {
                Ok(()) => single(
                    first.uid,
                    Outcome::succeeded(json!({
                        "preCompactionSize": human_size(before),
                        "postCompactionSize": human_size(size()),
                    })),
                ),
                Err(e) => single(
                    first.uid,
                    Outcome::failed(Some(json!({})), &internal("compacting the task store", e)),
                ),
            }
        }
        TaskKind::DumpCreation => {
            let dump_uid = crate::dump::new_dump_uid();
            let details = json!({"dumpUid": dump_uid});
            match crate::dump::create(inner, first.uid, &dump_uid) {
                Ok(path) => {
                    tracing::info!(path = %path.display(), "dump written");
                    single(first.uid, Outcome::succeeded(details))
                }
                Err(e) => single(first.uid, Outcome::failed(Some(details), &e)),
            }
        }
        TaskKind::Export { .. } => match crate::export::run(inner, first) {
            Ok(details) => single(first.uid, Outcome::succeeded(details)),
            Err(crate::export::Stop::Failed(e)) => {
                single(first.uid, Outcome::failed(first.kind.initial_details(), &e))
            }
            Err(crate::export::Stop::Canceled) => Effects {
                aborted: true,
                ..Default::default()
            },
        },
        kind if kind.is_rules_change() => change_rules(inner, tasks),
        TaskKind::SnapshotCreation => match crate::snapshot::create(inner, first.uid) {
            Ok(path) => {
                tracing::info!(path = %path.display(), "snapshot written");
                single(first.uid, Outcome::succeeded_without_details())
            }
            Err(e) => single(first.uid, Outcome::failed(None, &e)),
        },
        _ => {
            let index_uid = first
                .kind
                .index_uid()
                .expect("document tasks name an index")
                .to_string();
            apply_documents(inner, tasks, &index_uid)
        }
    }
}

/// Checks the filter against the settings the batch runs with (they may have changed since the
/// task was enqueued), then deletes what it selects among the committed documents.
fn delete_by_filter(
    batch: &mut quarry_engine::WriteBatch<'_>,
    filter: &Value,
) -> quarry_engine::Result<u64> {
    let parsed = quarry_engine::filter::parse_filter_checked(filter, &batch.state().settings)
        .map_err(|e| UserError::new(UserErrorKind::InvalidDocumentFilter, e.message))?;
    match parsed {
        Some(expr) => batch.delete_by_filter(&expr),
        None => Ok(0),
    }
}

/// Applies a batch of dynamic search rule changes; the new rules are stored by
/// `finish_batch`, with the outcomes.
fn change_rules(inner: &Inner, tasks: &[Task]) -> Effects {
    let current = inner.dynamic_search_rules.read().clone();
    let (rules, details) = current.apply(tasks);
    Effects {
        outcomes: details
            .into_iter()
            .map(|(uid, details)| (uid, Outcome::succeeded(details)))
            .collect(),
        rules: Some(Arc::new(rules)),
        ..Default::default()
    }
}

fn single(task_uid: u32, outcome: Outcome) -> Effects {
    Effects {
        outcomes: vec![(task_uid, outcome)],
        ..Default::default()
    }
}

fn fail_all(tasks: &[Task], error: &ResponseError) -> Effects {
    Effects {
        outcomes: tasks
            .iter()
            .map(|t| (t.uid, Outcome::failed(failed_details(&t.kind), error)))
            .collect(),
        ..Default::default()
    }
}

/// The details a task shows when it failed: what it received, nothing applied.
fn failed_details(kind: &TaskKind) -> Option<Value> {
    let mut details = kind.initial_details()?;
    if let Some(obj) = details.as_object_mut() {
        for key in ["indexedDocuments", "deletedDocuments"] {
            if obj.contains_key(key) {
                obj.insert(key.into(), json!(0));
            }
        }
    }
    Some(details)
}

/// The index a task works on, created on the fly when the task may create it.
fn open_or_create(
    inner: &Inner,
    uid: &str,
    allow_creation: bool,
    task_uid: u32,
    effects: &mut Effects,
) -> Result<Arc<Index>, ResponseError> {
    if let Some(index) = inner.registry.get(uid) {
        return Ok(index);
    }
    if !allow_creation {
        return Err(crate::index_not_found(uid));
    }
    let (entry, index) = new_index(inner, None, task_uid)?;
    effects.put_indexes.push((uid.to_string(), entry.clone()));
    effects
        .new_indexes
        .push((uid.to_string(), entry, index.clone()));
    Ok(index)
}

fn new_index(
    inner: &Inner,
    primary_key: Option<String>,
    task_uid: u32,
) -> Result<(IndexEntry, Arc<Index>), ResponseError> {
    let dir = uuid::Uuid::new_v4().to_string();
    let index = Index::create_empty(
        &inner.registry.root().join(&dir),
        primary_key,
        Some(task_uid),
        inner.registry.options(),
    )
    .map_err(engine_error)?;
    let now = OffsetDateTime::now_utc();
    Ok((
        IndexEntry {
            dir,
            created_at: now,
            updated_at: now,
        },
        Arc::new(index),
    ))
}

fn touch(inner: &Inner, uid: &str, effects: &mut Effects) {
    let now = OffsetDateTime::now_utc();
    if let Some((_, entry)) = effects.put_indexes.iter_mut().find(|(u, _)| u == uid) {
        entry.updated_at = now;
        return;
    }
    if let Some(mut entry) = inner.registry.entry(uid) {
        entry.updated_at = now;
        effects.put_indexes.push((uid.to_string(), entry));
    }
}

fn apply_documents(inner: &Inner, tasks: &[Task], index_uid: &str) -> Effects {
    let mut effects = Effects::default();
    let allow_creation = tasks.iter().any(|t| {
        matches!(
            t.kind,
            TaskKind::DocumentAdditionOrUpdate {
                allow_index_creation: true,
                ..
            }
        )
    });
    let index = match open_or_create(inner, index_uid, allow_creation, tasks[0].uid, &mut effects) {
        Ok(index) => index,
        Err(e) => return fail_all(tasks, &e),
    };
    let keep = tasks.iter().any(|t| {
        matches!(
            t.kind,
            TaskKind::DocumentAdditionOrUpdate {
                method: DocumentMethod::Update,
                ..
            }
        )
    });
    let mut failed: BTreeMap<u32, ResponseError> = BTreeMap::new();
    // A payload that no longer holds what was acknowledged fails its task alone.
    for task in tasks {
        if let Err(e) = check_payload(inner, task) {
            tracing::error!(task_uid = task.uid, error = %e.message, "a task payload is damaged");
            failed.insert(task.uid, e);
        }
    }
    // An internal failure (I/O, a commit that could not be written) gets one more try with a
    // fresh writer before the tasks are failed.
    let mut retried = false;
    'attempt: loop {
        let mut batch = match index.write(keep) {
            Ok(b) => b,
            Err(e) => return fail_all(tasks, &engine_error(e)),
        };
        let mut outcomes = Vec::new();
        for task in tasks.iter().filter(|t| !failed.contains_key(&t.uid)) {
            if inner.abort_processing.load(Ordering::SeqCst) {
                let _ = batch.abort();
                return Effects {
                    aborted: true,
                    ..Default::default()
                };
            }
            let result = match &task.kind {
                TaskKind::DocumentAdditionOrUpdate {
                    primary_key,
                    method,
                    payload,
                    skip_creation,
                    ..
                } => {
                    let method = match method {
                        DocumentMethod::Replace => AddMethod::Replace,
                        DocumentMethod::Update => AddMethod::Update,
                    };
                    batch.set_skip_creation(*skip_creation);
                    let added = batch.add_documents(
                        &payload_path(inner, *payload),
                        method,
                        primary_key.as_deref(),
                    );
                    batch.set_skip_creation(false);
                    added.map(|o| json!({"receivedDocuments": o.received, "indexedDocuments": o.indexed}))
                }
                TaskKind::DocumentDeletion { document_ids, .. } => batch
                    .delete_documents(document_ids)
                    .map(|n| json!({"providedIds": document_ids.len(), "deletedDocuments": n})),
                TaskKind::DocumentClear { .. } => {
                    batch.clear().map(|n| json!({"deletedDocuments": n}))
                }
                TaskKind::DocumentDeletionByFilter { filter, .. } => {
                    delete_by_filter(&mut batch, filter).map(|n| {
                        json!({"providedIds": 0, "deletedDocuments": n, "originalFilter": filter.to_string()})
                    })
                }
                other => unreachable!("{} is not a document task", other.type_name()),
            };
            match result {
                Ok(details) => outcomes.push((task.uid, Outcome::succeeded(details))),
                Err(EngineError::User(e)) => {
                    let _ = batch.abort();
                    failed.insert(task.uid, engine_error(EngineError::User(e)));
                    continue 'attempt;
                }
                Err(e) => {
                    // Aborting drops the writer: the retry opens a fresh one.
                    let _ = batch.abort();
                    if !retried && !e.is_disk_full() {
                        tracing::warn!(error = %e, "retrying a batch after an internal error");
                        retried = true;
                        continue 'attempt;
                    }
                    let error = engine_error(e);
                    let mut all = fail_all(tasks, &error);
                    all.put_indexes = effects.put_indexes;
                    all.new_indexes = effects.new_indexes;
                    return all;
                }
            }
        }
        for task in tasks {
            if let Some(error) = failed.get(&task.uid) {
                outcomes.push((task.uid, Outcome::failed(failed_details(&task.kind), error)));
            }
        }
        let results = outcomes
            .iter()
            .map(|(uid, o)| (*uid, o.to_json()))
            .collect();
        let last = tasks
            .iter()
            .map(|t| t.uid)
            .max()
            .expect("a batch has tasks");
        if let Err(e) = batch.commit(last, results) {
            if !retried && !e.is_disk_full() {
                tracing::warn!(error = %e, "retrying a batch whose commit failed");
                retried = true;
                continue 'attempt;
            }
            let error = engine_error(e);
            let mut all = fail_all(tasks, &error);
            all.put_indexes = effects.put_indexes;
            all.new_indexes = effects.new_indexes;
            return all;
        }
        effects.outcomes = outcomes;
        touch(inner, index_uid, &mut effects);
        return effects;
    }
}

/// Checks that a document task's payload file still has the length and checksum it had when
/// the task was acknowledged.
fn check_payload(inner: &Inner, task: &Task) -> Result<(), ResponseError> {
    let TaskKind::DocumentAdditionOrUpdate { payload, .. } = &task.kind else {
        return Ok(());
    };
    let path = payload_path(inner, *payload);
    let found = match crate::PayloadSeal::of_file(&path) {
        Ok(found) => found,
        Err(e) => {
            return Err(ResponseError::new(
                Code::Internal,
                format!(
                "The payload of task {} cannot be read ({e}): the documents it received are lost.",
                task.uid
            ),
            ))
        }
    };
    match task.payload_seal {
        Some(expected) if expected != found => Err(ResponseError::new(
            Code::Internal,
            format!(
                "The payload of task {} is corrupted: it held {} bytes with CRC-32 {:08x} when the task was enqueued, and now holds {} bytes with CRC-32 {:08x}.",
                task.uid, expected.len, expected.crc32, found.len, found.crc32
            ),
        )),
        _ => Ok(()),
    }
}

fn update_settings(inner: &Inner, tasks: &[Task], index_uid: &str) -> Effects {
    let mut effects = Effects::default();
    let allow_creation = tasks.iter().any(|t| {
        matches!(
            t.kind,
            TaskKind::SettingsUpdate {
                allow_index_creation: true,
                ..
            }
        )
    });
    let index = match open_or_create(inner, index_uid, allow_creation, tasks[0].uid, &mut effects) {
        Ok(index) => index,
        Err(e) => return fail_all(tasks, &e),
    };
    let mut settings = index.settings();
    let mut outcomes = Vec::new();
    for task in tasks {
        let TaskKind::SettingsUpdate { settings: raw, .. } = &task.kind else {
            unreachable!()
        };
        let patch = match Settings::from_json(raw) {
            Ok(p) => p,
            Err(e) => {
                outcomes.push((task.uid, Outcome::failed(Some(raw.clone()), &e)));
                continue;
            }
        };
        let next = settings_apply::apply_patch(&settings, &patch);
        let typo = &next.typo_tolerance;
        if typo.one_typo_min_len > typo.two_typos_min_len {
            let e = ResponseError::new(
                Code::InvalidSettingsTypoTolerance,
                format!(
                    "`minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should be between `0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` but found `oneTypo: {}` and twoTypos: {}`.",
                    typo.one_typo_min_len, typo.two_typos_min_len
                ),
            );
            outcomes.push((task.uid, Outcome::failed(Some(raw.clone()), &e)));
            continue;
        }
        settings = next;
        outcomes.push((task.uid, Outcome::succeeded(raw.clone())));
    }
    let mut batch = match index.write(false) {
        Ok(b) => b,
        Err(e) => return fail_all(tasks, &engine_error(e)),
    };
    if let Err(e) = batch.set_settings(settings) {
        let _ = batch.abort();
        return fail_all(tasks, &engine_error(e));
    }
    let results = outcomes
        .iter()
        .map(|(uid, o)| (*uid, o.to_json()))
        .collect();
    let last = tasks
        .iter()
        .map(|t| t.uid)
        .max()
        .expect("a batch has tasks");
    if let Err(e) = batch.commit(last, results) {
        return fail_all(tasks, &engine_error(e));
    }
    effects.outcomes = outcomes;
    touch(inner, index_uid, &mut effects);
    effects
}

fn create_index(inner: &Inner, task_uid: u32, uid: &str, primary_key: Option<String>) -> Effects {
    let details = json!({"primaryKey": primary_key});
    if inner.registry.contains(uid) {
        let e = ResponseError::new(
            Code::IndexAlreadyExists,
            format!("Index `{uid}` already exists."),
        );
        return Effects {
            outcomes: vec![(task_uid, Outcome::failed(Some(details), &e))],
            ..Default::default()
        };
    }
    match new_index(inner, primary_key, task_uid) {
        Ok((entry, index)) => Effects {
            outcomes: vec![(task_uid, Outcome::succeeded(details))],
            put_indexes: vec![(uid.to_string(), entry.clone())],
            new_indexes: vec![(uid.to_string(), entry, index)],
            ..Default::default()
        },
        Err(e) => Effects {
            outcomes: vec![(task_uid, Outcome::failed(Some(details), &e))],
            ..Default::default()
        },
    }
}

fn delete_index(inner: &Inner, task_uid: u32, uid: &str) -> Effects {
    let Some(index) = inner.registry.get(uid) else {
        let e = crate::index_not_found(uid);
        return Effects {
            outcomes: vec![(
                task_uid,
                Outcome::failed(Some(json!({"deletedDocuments": 0})), &e),
            )],
            ..Default::default()
        };
    };
    let deleted = index.number_of_documents();
    Effects {
        outcomes: vec![(
            task_uid,
            Outcome::succeeded(json!({"deletedDocuments": deleted})),
        )],
        delete_indexes: vec![uid.to_string()],
        remove_dirs: vec![index.path().to_path_buf()],
        ..Default::default()
    }
}

/// `documentEdition`: runs the task's function on the documents its filter selects, in one
/// commit that records the task's outcome (so recovery after a crash finds it).
fn edit_documents(
    inner: &Inner,
    task_uid: u32,
    uid: &str,
    filter: Option<&Value>,
    context: Option<&Value>,
    function: &str,
) -> Effects {
    let details = |edited, deleted| {
        crate::task::edition_details(filter, context, function, Some(edited), Some(deleted))
    };
    let fail = |e: &ResponseError| single(task_uid, Outcome::failed(Some(details(0, 0)), e));
    let Some(index) = inner.registry.get(uid) else {
        return fail(&crate::index_not_found(uid));
    };
    let filter = match filter.map(|f| {
        quarry_engine::filter::parse_filter_checked(f, &index.settings())
            .map_err(|e| ResponseError::new(Code::InvalidDocumentFilter, e.message))
    }) {
        Some(Err(e)) => return fail(&e),
        Some(Ok(parsed)) => parsed,
        None => None,
    };
    let editor = match crate::edit::DocumentEditor::new(function, context, index.primary_key()) {
        Ok(editor) => editor,
        Err(e) => return fail(&engine_error(e)),
    };
    let mut batch = match index.write(false) {
        Ok(batch) => batch,
        Err(e) => return fail(&engine_error(e)),
    };
    let edited = batch.edit_documents(filter.as_ref(), |document| {
        if inner.abort_processing.load(Ordering::SeqCst) {
            return Err(EngineError::Corrupted("canceled".into()));
        }
        editor.edit(document)
    });
    if inner.abort_processing.load(Ordering::SeqCst) {
        let _ = batch.abort();
        return Effects {
            aborted: true,
            ..Default::default()
        };
    }
    let outcome = match edited {
        Ok(counts) => Outcome::succeeded(details(counts.edited, counts.deleted)),
        Err(e) => {
            let _ = batch.abort();
            return fail(&engine_error(e));
        }
    };
    if let Err(e) = batch.commit(task_uid, BTreeMap::from([(task_uid, outcome.to_json())])) {
        return fail(&engine_error(e));
    }
    let mut effects = single(task_uid, outcome);
    touch(inner, uid, &mut effects);
    effects
}

/// `indexCompaction`: merges the index's segments into one (deleted documents are dropped),
/// commits that with the task's outcome, then removes the files of the replaced segments.
/// The details give the index's size on disk before and after.
fn compact_index(inner: &Inner, task_uid: u32, uid: &str) -> Effects {
    let Some(index) = inner.registry.get(uid) else {
        return single(
            task_uid,
            Outcome::failed(Some(json!({})), &crate::index_not_found(uid)),
        );
    };
    let before = index.size_on_disk();
    let compacted = merge_and_collect(&index, task_uid, before);
    match compacted {
        Ok(()) => {
            let after = index.size_on_disk();
            tracing::info!(index_uid = uid, before, after, "index compacted");
            single(
                task_uid,
                Outcome::succeeded(json!({
                    "preCompactionSize": human_size(before),
                    "postCompactionSize": human_size(after),
                })),
            )
        }
        Err(e) => {
            index.reset_writer();
            single(task_uid, Outcome::failed(Some(json!({})), &engine_error(e)))
        }
    }
}

/// The work of `indexCompaction`: one segment, committed with the task's outcome (the size
/// after is not known yet), then the replaced files removed.
fn merge_and_collect(index: &Index, task_uid: u32, before: u64) -> Result<(), EngineError> {
    // Merges the writer started in the background must end before all segments can be merged
    // together.
    index.close_writer()?;
    let mut batch = index.write(false)?;
    batch.merge_all_segments()?;
    let recorded = Outcome::succeeded(json!({
        "preCompactionSize": human_size(before),
        "postCompactionSize": null,
    }));
    batch.commit(task_uid, BTreeMap::from([(task_uid, recorded.to_json())]))?;
    index.garbage_collect()?;
    index.close_writer()
}

/// A size as the compaction details show it: `512 B`, `1.25 KiB`, `3.5 MiB`, ...
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        let text = format!("{value:.2}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!("{text} {}", UNITS[unit])
    }
}

fn update_index(
    inner: &Inner,
    task_uid: u32,
    uid: &str,
    primary_key: Option<String>,
    new_uid: Option<String>,
) -> Effects {
    let details = match &new_uid {
        Some(new) => json!({"primaryKey": primary_key, "oldIndexUid": uid, "newIndexUid": new}),
        None => json!({"primaryKey": primary_key}),
    };
    let fail = |e: ResponseError| Effects {
        outcomes: vec![(task_uid, Outcome::failed(Some(details.clone()), &e))],
        ..Default::default()
    };
    let Some(index) = inner.registry.get(uid) else {
        return fail(crate::index_not_found(uid));
    };
    if let Some(new) = &new_uid {
        if new != uid && inner.registry.contains(new) {
            return fail(ResponseError::new(
                Code::IndexAlreadyExists,
                format!("Index `{new}` already exists."),
            ));
        }
    }
    let mut effects = Effects::default();
    if primary_key.is_some() {
        let mut batch = match index.write(false) {
            Ok(b) => b,
            Err(e) => return fail(engine_error(e)),
        };
        if let Err(e) = batch.change_primary_key(primary_key.clone()) {
            let _ = batch.abort();
            return fail(engine_error(e));
        }
        let outcome = Outcome::succeeded(details.clone());
        if let Err(e) = batch.commit(task_uid, BTreeMap::from([(task_uid, outcome.to_json())])) {
            return fail(engine_error(e));
        }
    }
    touch(inner, uid, &mut effects);
    if let Some(new) = new_uid.filter(|n| n != uid) {
        let entry = effects
            .put_indexes
            .pop()
            .map(|(_, e)| e)
            .or_else(|| inner.registry.entry(uid))
            .expect("index exists");
        effects.delete_indexes.push(uid.to_string());
        effects.put_indexes.push((new.clone(), entry));
        effects.swaps.push((uid.to_string(), new));
    }
    effects
        .outcomes
        .push((task_uid, Outcome::succeeded(details)));
    effects
}

fn swap_indexes(inner: &Inner, task_uid: u32, swaps: &[crate::task::Swap]) -> Effects {
    let details = json!({"swaps": swaps.iter().map(|s| json!({"indexes": s.indexes, "rename": s.rename})).collect::<Vec<_>>()});
    let fail = |e: ResponseError| Effects {
        outcomes: vec![(task_uid, Outcome::failed(Some(details.clone()), &e))],
        ..Default::default()
    };
    let mut missing = Vec::new();
    for swap in swaps {
        let [a, b] = &swap.indexes;
        if !inner.registry.contains(a) {
            missing.push(a.clone());
        }
        if swap.rename {
            if inner.registry.contains(b) {
                return fail(ResponseError::new(Code::IndexAlreadyExists, format!("Cannot rename `{a}` to `{b}` as the index already exists. Hint: You can remove `{b}` first and then do your remove.")));
            }
        } else if !inner.registry.contains(b) {
            missing.push(b.clone());
        }
    }
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let message = if missing.len() == 1 {
            format!("Index {list} not found.")
        } else {
            format!("Indexes {list} not found.")
        };
        return fail(ResponseError::new(Code::IndexNotFound, message));
    }
    let mut effects = Effects::default();
    for swap in swaps {
        let [a, b] = &swap.indexes;
        let entry_a = inner.registry.entry(a).expect("checked above");
        match inner.registry.entry(b) {
            Some(entry_b) => effects.put_indexes.push((a.clone(), entry_b)),
            None => effects.delete_indexes.push(a.clone()),
        }
        effects.put_indexes.push((b.clone(), entry_a));
        effects.swaps.push((a.clone(), b.clone()));
    }
    effects
        .outcomes
        .push((task_uid, Outcome::succeeded(details)));
    effects
}

fn cancel_tasks(inner: &Inner, task: &Task, targets: &[u32]) -> Effects {
    let queue = inner.queue.lock();
    let canceled: Vec<u32> = targets
        .iter()
        .filter(|uid| queue.enqueued.contains(uid) && **uid != task.uid)
        .copied()
        .collect();
    drop(queue);
    let TaskKind::TaskCancelation { query, .. } = &task.kind else {
        unreachable!()
    };
    let mut effects = Effects::default();
    for uid in &canceled {
        effects.outcomes.push((
            *uid,
            Outcome {
                status: Status::Canceled,
                details: None,
                error: None,
                canceled_by: Some(task.uid),
            },
        ));
    }
    effects.outcomes.push((
        task.uid,
        Outcome::succeeded(json!({"matchedTasks": targets.len(), "canceledTasks": canceled.len(), "originalFilter": query})),
    ));
    effects
}

fn delete_tasks(inner: &Inner, task: &Task, targets: &[u32]) -> Effects {
    let queue = inner.queue.lock();
    let deleted: Vec<u32> = targets
        .iter()
        .filter(|uid| queue.tasks.get(uid).is_some_and(|t| t.status.is_finished()))
        .copied()
        .collect();
    drop(queue);
    let TaskKind::TaskDeletion { query, .. } = &task.kind else {
        unreachable!()
    };
    Effects {
        outcomes: vec![(
            task.uid,
            Outcome::succeeded(
                json!({"matchedTasks": targets.len(), "deletedTasks": deleted.len(), "originalFilter": query}),
            ),
        )],
        delete_tasks: deleted,
        ..Default::default()
    }
}

/// Records the outcome of a batch durably, then shows it to readers.
fn finish_batch(
    inner: &Inner,
    batch_uid: u32,
    tasks: Vec<Task>,
    effects: Effects,
    started: std::time::Instant,
) {
    let mut queue = inner.queue.lock();
    if effects.aborted {
        for task in &tasks {
            if let Some(t) = queue.tasks.get_mut(&task.uid) {
                t.status = Status::Enqueued;
                t.started_at = None;
                t.batch_uid = None;
            }
            queue.enqueued.insert(task.uid);
        }
        queue.processing.clear();
        queue.processing_batch = None;
        drop(queue);
        inner.wake.notify_all();
        tracing::info!("batch interrupted by a task cancelation");
        return;
    }
    let now = OffsetDateTime::now_utc();
    let mut changes = Changes::default();
    let mut finished = Vec::new();
    let outcomes: HashMap<u32, Outcome> = effects.outcomes.into_iter().collect();
    for (uid, outcome) in &outcomes {
        let Some(task) = queue.tasks.get(uid) else {
            continue;
        };
        let mut task = task.clone();
        task.status = outcome.status;
        task.details = outcome.details.clone().or(task.details);
        task.error = outcome.error.clone();
        task.canceled_by = outcome.canceled_by;
        task.finished_at = Some(now);
        if outcome.status == Status::Canceled {
            task.details = failed_details(&task.kind);
            task.started_at = None;
            task.batch_uid = Some(batch_uid);
        }
        finished.push(task.clone());
        changes.put_tasks.push(task);
    }
    // Swaps and renames: the history of an index follows it, as Meilisearch shows it. Tasks
    // enqueued after the swap name the index they meant and are left alone.
    if !effects.swaps.is_empty() {
        let first_uid = tasks[0].uid;
        for task in queue.tasks.values().filter(|t| t.uid < first_uid) {
            let Some(current) = &task.index_uid else {
                continue;
            };
            let mut renamed = None;
            for (a, b) in &effects.swaps {
                if current == a {
                    renamed = Some(b.clone());
                } else if current == b {
                    renamed = Some(a.clone());
                }
            }
            if let Some(new_uid) = renamed {
                let mut task = finished
                    .iter()
                    .find(|t| t.uid == task.uid)
                    .cloned()
                    .unwrap_or_else(|| task.clone());
                task.index_uid = Some(new_uid);
                changes.put_tasks.retain(|t| t.uid != task.uid);
                finished.retain(|t| t.uid != task.uid);
                finished.push(task.clone());
                changes.put_tasks.push(task);
            }
        }
    }
    let done: Vec<Task> = finished.clone();
    let started_at = queue
        .processing_batch
        .as_ref()
        .map_or(now, |b| b.started_at);
    let mut stats = batch_stats(&done, Some(&outcomes));
    // Meilisearch's `progressTrace` names each step it timed; the writer times the batch as a
    // whole, written the way Meilisearch writes durations (`12.34ms`).
    let elapsed = std::time::Duration::try_from(now - started_at).unwrap_or_default();
    stats["progressTrace"] = json!({ "processing tasks": format!("{elapsed:.2?}") });
    let batch = Batch {
        uid: batch_uid,
        task_uids: tasks.iter().map(|t| t.uid).collect(),
        details: batch_details(&done),
        stats,
        started_at,
        finished_at: Some(now),
        batch_strategy: batch_strategy(&tasks),
    };
    changes.put_batches.push(batch.clone());
    changes.put_indexes = effects.put_indexes;
    changes.delete_indexes = effects.delete_indexes;
    changes.delete_tasks = effects.delete_tasks.clone();
    // A batch goes with the last of its tasks.
    let deleted: std::collections::HashSet<u32> = effects.delete_tasks.iter().copied().collect();
    let emptied_batches: Vec<u32> = if deleted.is_empty() {
        Vec::new()
    } else {
        queue
            .batches
            .values()
            .filter(|b| b.task_uids.iter().all(|uid| deleted.contains(uid)))
            .map(|b| b.uid)
            .collect()
    };
    changes.delete_batches = emptied_batches.clone();
    // The rules and the outcomes of the tasks that changed them are one transaction; the
    // instance records are locked meanwhile, so that readers see the rules once they are stored.
    let mut instance = effects.rules.as_ref().map(|rules| {
        let record = rules.to_record();
        changes.put_instance.push((
            crate::dynamic_search_rules::RULES_KEY.to_string(),
            record.clone(),
        ));
        (inner.instance.write(), record)
    });
    if let Err(e) = inner.store.apply(&changes) {
        // The indexes recorded the outcome in their commits; recovery reconciles at restart.
        // Rule changes are not recorded either: their tasks run again at restart.
        tracing::error!(error = %e, "recording a batch outcome failed");
    }
    if let (Some((records, record)), Some(rules)) = (instance.as_mut(), effects.rules) {
        records.insert(
            crate::dynamic_search_rules::RULES_KEY.to_string(),
            record.clone(),
        );
        *inner.dynamic_search_rules.write() = rules;
    }
    drop(instance);
    for (uid, entry, index) in effects.new_indexes {
        inner.registry.insert(&uid, entry, index);
    }
    for uid in &changes.delete_indexes {
        if !changes.put_indexes.iter().any(|(u, _)| u == uid)
            && !effects.swaps.iter().any(|(a, _)| a == uid)
        {
            if let Some((_, index)) = inner.registry.remove(uid) {
                let _ = index.close_writer();
                index.forget_segment_tables();
            }
        }
    }
    for (a, b) in &effects.swaps {
        inner.registry.swap(a, b);
    }
    for (uid, entry) in &changes.put_indexes {
        inner.registry.set_entry(uid, entry.clone());
    }
    let notified: Vec<Value> = if inner.notifier.is_some() {
        finished.iter().map(crate::view::task_view).collect()
    } else {
        Vec::new()
    };
    for task in finished {
        if let TaskKind::DocumentAdditionOrUpdate { payload, .. } = &task.kind {
            let _ = std::fs::remove_file(payload_path(inner, *payload));
        }
        queue.enqueued.remove(&task.uid);
        queue.tasks.insert(task.uid, task);
    }
    for uid in &effects.delete_tasks {
        queue.tasks.remove(uid);
    }
    for uid in &emptied_batches {
        queue.batches.remove(uid);
    }
    queue.batches.insert(batch_uid, batch);
    queue.next_batch_uid = batch_uid + 1;
    queue.processing.clear();
    queue.processing_batch = None;
    drop(queue);
    for dir in effects.remove_dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    inner.wake.notify_all();
    if let Some(notifier) = &inner.notifier {
        notifier.notify(notified);
    }
    let elapsed = started.elapsed();
    let mut indexed = 0;
    for (uid, outcome) in &outcomes {
        let task_type = tasks
            .iter()
            .find(|t| t.uid == *uid)
            .map_or("", |t| t.kind.type_name());
        if let Some(n) = outcome
            .details
            .as_ref()
            .and_then(|d| d.get("indexedDocuments"))
            .and_then(Value::as_u64)
        {
            indexed += n;
        }
        match outcome.status {
            Status::Failed => tracing::warn!(
                task_uid = uid,
                task_type,
                batch_uid,
                duration_ms = elapsed.as_millis() as u64,
                error_code = outcome.error.as_ref().map_or("", |e| e.code.as_str()),
                error = outcome.error.as_ref().map_or("", |e| e.message.as_str()),
                "task failed"
            ),
            status => tracing::info!(
                task_uid = uid,
                task_type,
                batch_uid,
                duration_ms = elapsed.as_millis() as u64,
                status = status.as_str(),
                "task {}",
                status.as_str()
            ),
        }
    }
    inner.metrics.record_batch(elapsed.as_secs_f64(), indexed);
    tracing::info!(
        batch_uid,
        duration_ms = elapsed.as_millis() as u64,
        "batch finished"
    );
}

fn batch_strategy(tasks: &[Task]) -> String {
    match tasks[0].kind.index_uid() {
        Some(uid) if tasks.len() > 1 => format!(
            "batched {} consecutive compatible tasks of index `{uid}`",
            tasks.len()
        ),
        _ => format!(
            "a {} task runs in a batch of its own",
            tasks[0].kind.type_name()
        ),
    }
}

fn batch_details(tasks: &[Task]) -> Value {
    let mut details = serde_json::Map::new();
    for task in tasks {
        let Some(Value::Object(d)) = &task.details else {
            continue;
        };
        for (k, v) in d {
            match (details.get_mut(k), v) {
                (Some(Value::Number(acc)), Value::Number(n)) => {
                    let sum = acc.as_u64().unwrap_or(0) + n.as_u64().unwrap_or(0);
                    details.insert(k.clone(), json!(sum));
                }
                (None, v) => {
                    details.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
    }
    Value::Object(details)
}

fn batch_stats(tasks: &[Task], outcomes: Option<&HashMap<u32, Outcome>>) -> Value {
    let mut status: BTreeMap<&str, u64> = BTreeMap::new();
    let mut types: BTreeMap<&str, u64> = BTreeMap::new();
    let mut index_uids: BTreeMap<String, u64> = BTreeMap::new();
    for task in tasks {
        let s = outcomes
            .and_then(|o| o.get(&task.uid))
            .map_or(task.status, |o| o.status);
        *status.entry(s.as_str()).or_default() += 1;
        *types.entry(task.kind.type_name()).or_default() += 1;
        if let Some(uid) = &task.index_uid {
            *index_uids.entry(uid.clone()).or_default() += 1;
        }
    }
    json!({"totalNbTasks": tasks.len(), "status": status, "types": types, "indexUids": index_uids})
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::Queue;

    fn doc_add(index: &str) -> TaskKind {
        TaskKind::DocumentAdditionOrUpdate {
            index_uid: index.into(),
            primary_key: None,
            method: DocumentMethod::Replace,
            payload: uuid::Uuid::nil(),
            documents_count: 1,
            allow_index_creation: true,
            skip_creation: false,
        }
    }

    fn settings(index: &str) -> TaskKind {
        TaskKind::SettingsUpdate {
            index_uid: index.into(),
            settings: json!({}),
            allow_index_creation: true,
        }
    }

    fn queue_of(kinds: Vec<TaskKind>) -> Queue {
        let mut tasks = BTreeMap::new();
        for (uid, kind) in kinds.into_iter().enumerate() {
            let uid = uid as u32;
            tasks.insert(
                uid,
                Task {
                    uid,
                    batch_uid: None,
                    status: Status::Enqueued,
                    details: None,
                    index_uid: kind.index_uid().map(str::to_string),
                    kind,
                    error: None,
                    canceled_by: None,
                    enqueued_at: OffsetDateTime::UNIX_EPOCH,
                    started_at: None,
                    finished_at: None,
                    payload_seal: None,
                    custom_metadata: None,
                },
            );
        }
        Queue {
            enqueued: tasks.keys().copied().collect::<BTreeSet<u32>>(),
            tasks,
            batches: BTreeMap::new(),
            processing: Vec::new(),
            processing_batch: None,
            next_task_uid: 0,
            next_batch_uid: 0,
        }
    }

    fn rule_update() -> TaskKind {
        TaskKind::DynamicSearchRuleUpdate {
            uid: "r".into(),
            update: json!({}),
        }
    }

    fn rule_delete() -> TaskKind {
        TaskKind::DynamicSearchRuleDeletion { uid: "r".into() }
    }

    #[test]
    fn batches_follow_meilisearch_autobatching() {
        let swap = TaskKind::IndexSwap {
            swaps: vec![crate::task::Swap {
                indexes: ["a".into(), "c".into()],
                rename: false,
            }],
        };
        let cancel = TaskKind::TaskCancelation {
            query: "?uids=0".into(),
            tasks: vec![0],
        };
        let cases: Vec<(&str, Vec<TaskKind>, usize, Vec<u32>)> = vec![
            (
                "consecutive additions of one index",
                vec![doc_add("a"), doc_add("a"), doc_add("a")],
                1000,
                vec![0, 1, 2],
            ),
            (
                "other indexes are skipped, not stopped at",
                vec![doc_add("a"), doc_add("b"), doc_add("a")],
                1000,
                vec![0, 2],
            ),
            (
                "a settings task of the index stops the batch",
                vec![doc_add("a"), settings("a"), doc_add("a")],
                1000,
                vec![0],
            ),
            (
                "settings batch with settings",
                vec![settings("a"), settings("a"), doc_add("a")],
                1000,
                vec![0, 1],
            ),
            (
                "a swap touching the index stops the batch",
                vec![doc_add("a"), swap, doc_add("a")],
                1000,
                vec![0],
            ),
            (
                "the batch size is bounded",
                vec![doc_add("a"), doc_add("a"), doc_add("a")],
                2,
                vec![0, 1],
            ),
            (
                "cancelations go first",
                vec![doc_add("a"), cancel],
                1000,
                vec![1],
            ),
            (
                "index creation runs alone",
                vec![
                    TaskKind::IndexCreation {
                        index_uid: "a".into(),
                        primary_key: None,
                    },
                    doc_add("a"),
                ],
                1000,
                vec![0],
            ),
            (
                "rule changes batch together, other tasks between them are skipped",
                vec![rule_update(), rule_delete(), doc_add("a"), rule_update()],
                1000,
                vec![0, 1, 3],
            ),
            (
                "a rules clear ends its batch",
                vec![
                    rule_update(),
                    TaskKind::DynamicSearchRulesClear,
                    rule_update(),
                ],
                1000,
                vec![0, 1],
            ),
            (
                "a rules clear first runs alone",
                vec![TaskKind::DynamicSearchRulesClear, rule_update()],
                1000,
                vec![0],
            ),
        ];
        for (name, kinds, max, expected) in cases {
            assert_eq!(select_batch(&queue_of(kinds), max), expected, "{name}");
        }
    }

    #[test]
    fn failed_details_zero_the_counters() {
        let details = failed_details(&doc_add("a")).unwrap();
        assert_eq!(
            details,
            json!({"receivedDocuments": 1, "indexedDocuments": 0})
        );
    }
}
