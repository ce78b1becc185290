//! Quarry's scheduler: the durable task queue and the single writer that applies tasks to
//! indexes, in batches.
//!
//! **Invariant**: a task is acknowledged (returned from [`Scheduler::register`]) only after its
//! record and its payload are fsync'd. **Invariant**: only the writer thread changes indexes.

pub mod dump;
pub mod dynamic_search_rules;
pub mod edit;
pub mod export;
pub mod features;
pub mod metrics;
pub mod network;
mod processing;
pub use processing::engine_error;
mod registry;
pub mod settings_apply;
pub mod snapshot;
mod store;
pub mod task;
pub mod view;
pub mod webhooks;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};
use quarry_api_types::tasks::TaskFilter;
use quarry_api_types::{Code, ResponseError};
use quarry_engine::Index;
use time::OffsetDateTime;

pub use dump::{KeyStore, Keys, NoKeys};
pub use features::{ExperimentalFeatures, Feature};
pub use quarry_engine::IndexOptions;
pub use registry::IndexInfo;
pub use store::IndexEntry;
pub use task::{Batch, DocumentMethod, PayloadSeal, Status, Swap, Task, TaskError, TaskKind};

use registry::Registry;
use store::{Changes, Store};

/// Version of the layout of a data directory; checked at start.
pub const DB_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    pub db_path: PathBuf,
    pub index: IndexOptions,
    /// Most tasks one batch may hold.
    pub max_batch_tasks: usize,
    /// Where `dumpCreation` tasks write `<dumpUid>.dump`.
    pub dump_dir: PathBuf,
    /// Where `snapshotCreation` tasks write `<name>.snapshot`.
    pub snapshot_dir: PathBuf,
    /// The API keys a dump carries (empty until the key store is plugged in).
    pub keys: Keys,
    /// The webhook given on the command line (`--task-webhook-url`), not editable.
    pub cli_webhook: Option<webhooks::Webhook>,
}

impl SchedulerOptions {
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        SchedulerOptions {
            db_path: db_path.into(),
            index: IndexOptions::default(),
            max_batch_tasks: 1000,
            dump_dir: PathBuf::from("dumps"),
            snapshot_dir: PathBuf::from("snapshots"),
            keys: Keys::none(),
            cli_webhook: None,
        }
    }
}

/// The in-memory mirror of the queue; the store is the truth on disk.
pub(crate) struct Queue {
    pub tasks: BTreeMap<u32, Task>,
    pub batches: BTreeMap<u32, Batch>,
    pub enqueued: BTreeSet<u32>,
    pub processing: Vec<u32>,
    pub processing_batch: Option<Batch>,
    pub next_task_uid: u32,
    pub next_batch_uid: u32,
}

pub(crate) struct Inner {
    pub options: SchedulerOptions,
    pub store: Store,
    pub queue: Mutex<Queue>,
    pub wake: Condvar,
    pub registry: Registry,
    pub shutdown: AtomicBool,
    /// Set when a cancelation targets the batch being processed: the writer rolls it back.
    pub abort_processing: AtomicBool,
    /// While set, the writer starts no new batch (tests use it to hold tasks in the queue).
    pub paused: AtomicBool,
    pub metrics: metrics::WriterMetrics,
    /// Instance-wide records (experimental features, webhooks) as the store holds them.
    pub instance: parking_lot::RwLock<BTreeMap<String, serde_json::Value>>,
    /// The experimental features, decoded from `instance` (read on hot paths).
    pub features: parking_lot::RwLock<ExperimentalFeatures>,
    /// The registered webhooks, decoded from `instance`; the notifier reads them too.
    pub webhooks: Arc<parking_lot::RwLock<webhooks::Registered>>,
    /// Where finished tasks go to be sent to the webhooks.
    pub(crate) notifier: Option<webhooks::Notifier>,
    /// The dynamic search rules, compiled from `instance`; searches read them.
    pub dynamic_search_rules: parking_lot::RwLock<Arc<dynamic_search_rules::RuleSet>>,
}

#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
}

pub(crate) fn internal(context: &str, e: impl std::fmt::Display) -> ResponseError {
    tracing::error!(error = %e, "{context}");
    ResponseError::new(Code::Internal, format!("{context}: {e}"))
}

pub(crate) fn io_error(e: std::io::Error) -> ResponseError {
    if e.raw_os_error() == Some(28) || e.kind() == std::io::ErrorKind::StorageFull {
        disk_full()
    } else {
        internal("io", e)
    }
}

/// The error every write answers when the disk is full.
pub fn disk_full() -> ResponseError {
    ResponseError::new(
        Code::NoSpaceLeftOnDevice,
        "There is no more space left on the device. Consider increasing the size of the disk/partition.",
    )
}

/// Whether an error (or anything it wraps) is the operating system saying the disk is full.
/// redb wraps its I/O errors in its own types, so the message is the reliable witness.
pub(crate) fn is_disk_full_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.raw_os_error() == Some(28) || io.kind() == std::io::ErrorKind::StorageFull {
                return true;
            }
        }
        let text = err.to_string();
        if text.contains("os error 28") || text.contains("No space left on device") {
            return true;
        }
        current = err.source();
    }
    false
}

/// A store failure as the user sees it: `no_space_left_on_device` when the disk is full.
pub(crate) fn store_error(context: &str, e: store::StoreError) -> ResponseError {
    if is_disk_full_error(&e) {
        tracing::warn!(error = %e, "{context}: the disk is full");
        disk_full()
    } else {
        internal(context, e)
    }
}

impl Scheduler {
    /// Opens (or creates) the data directory, recovers from any crash, and starts the writer.
    pub fn open(options: SchedulerOptions) -> Result<Scheduler, ResponseError> {
        let dir = options.db_path.clone();
        std::fs::create_dir_all(dir.join("indexes")).map_err(io_error)?;
        std::fs::create_dir_all(dir.join("payloads")).map_err(io_error)?;
        check_version(&dir)?;
        let store = Store::open(&dir.join("meta.redb"))
            .map_err(|e| internal("opening the task store", e))?;
        let loaded = store
            .load()
            .map_err(|e| internal("reading the task store", e))?;
        let registry = Registry::open(&dir.join("indexes"), &loaded.indexes, options.index)?;
        let next_task_uid = loaded.tasks.keys().next_back().map_or(0, |u| u + 1);
        let features = loaded
            .instance
            .get(features::FEATURES_KEY)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let registered = Arc::new(parking_lot::RwLock::new(webhooks::registered_from(
            loaded.instance.get(webhooks::WEBHOOKS_KEY).cloned(),
        )));
        let notifier = {
            let registered = registered.clone();
            let cli = options.cli_webhook.clone();
            webhooks::Notifier::start(move || {
                cli.iter()
                    .cloned()
                    .chain(registered.read().values().cloned())
                    .collect()
            })
            .map_err(io_error)?
        };
        let rules = dynamic_search_rules::RuleSet::from_record(
            loaded.instance.get(dynamic_search_rules::RULES_KEY),
        );
        let next_batch_uid = loaded.batches.keys().next_back().map_or(0, |u| u + 1);
        let queue = Queue {
            enqueued: BTreeSet::new(),
            tasks: loaded.tasks,
            batches: loaded.batches,
            processing: Vec::new(),
            processing_batch: None,
            next_task_uid,
            next_batch_uid,
        };
        let inner = Arc::new(Inner {
            options,
            store,
            queue: Mutex::new(queue),
            wake: Condvar::new(),
            registry,
            shutdown: AtomicBool::new(false),
            abort_processing: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            metrics: metrics::WriterMetrics::default(),
            instance: parking_lot::RwLock::new(loaded.instance),
            features: parking_lot::RwLock::new(features),
            webhooks: registered,
            notifier: Some(notifier),
            dynamic_search_rules: parking_lot::RwLock::new(Arc::new(rules)),
        });
        processing::recover(&inner)?;
        let worker = inner.clone();
        let handle = std::thread::Builder::new()
            .name("quarry-writer".into())
            .spawn(move || processing::run(worker))
            .map_err(io_error)?;
        Ok(Scheduler {
            inner,
            writer: Arc::new(Mutex::new(Some(handle))),
        })
    }

    pub fn db_path(&self) -> &Path {
        &self.inner.options.db_path
    }

    /// The experimental features as they are now.
    pub fn experimental_features(&self) -> ExperimentalFeatures {
        *self.inner.features.read()
    }

    /// Changes the experimental features with `edit` (which sees the current ones), stores
    /// the result durably, then makes it current. Concurrent updates apply one after another.
    pub fn update_experimental_features(
        &self,
        edit: impl FnOnce(&ExperimentalFeatures) -> Result<ExperimentalFeatures, ResponseError>,
    ) -> Result<ExperimentalFeatures, ResponseError> {
        let mut current = self.inner.features.write();
        let next = edit(&current)?;
        let value = serde_json::to_value(next).map_err(|e| internal("features", e))?;
        self.put_instance_record(features::FEATURES_KEY, value)?;
        *current = next;
        Ok(next)
    }

    /// The webhook of the command line, if any, and the registered ones.
    pub fn webhooks(&self) -> (Option<webhooks::Webhook>, webhooks::Registered) {
        (
            self.inner.options.cli_webhook.clone(),
            self.inner.webhooks.read().clone(),
        )
    }

    /// Changes the registered webhooks with `edit`, stores the result durably, then makes it
    /// current (the next batch is sent to the new set). Concurrent updates apply in turn.
    pub fn update_webhooks<R>(
        &self,
        edit: impl FnOnce(&mut webhooks::Registered) -> Result<R, ResponseError>,
    ) -> Result<R, ResponseError> {
        let mut current = self.inner.webhooks.write();
        let mut next = current.clone();
        let result = edit(&mut next)?;
        let value = serde_json::to_value(&next).map_err(|e| internal("webhooks", e))?;
        self.put_instance_record(webhooks::WEBHOOKS_KEY, value)?;
        *current = next;
        Ok(result)
    }

    /// An instance-wide record (webhooks, ...) by name.
    pub fn instance_record(&self, name: &str) -> Option<serde_json::Value> {
        self.inner.instance.read().get(name).cloned()
    }

    /// Stores an instance-wide record durably (fsync'd before this returns).
    pub fn put_instance_record(
        &self,
        name: &str,
        value: serde_json::Value,
    ) -> Result<(), ResponseError> {
        self.update_instance_record(name, |_| Ok((value, ())))
    }

    /// Replaces an instance-wide record by what `edit` makes of the current one (which it
    /// sees), durably; concurrent updates of the instance records apply one after the other.
    pub fn update_instance_record<R>(
        &self,
        name: &str,
        edit: impl FnOnce(Option<&serde_json::Value>) -> Result<(serde_json::Value, R), ResponseError>,
    ) -> Result<R, ResponseError> {
        let mut records = self.inner.instance.write();
        let (value, result) = edit(records.get(name))?;
        let changes = Changes {
            put_instance: vec![(name.to_string(), value.clone())],
            ..Default::default()
        };
        self.inner
            .store
            .apply(&changes)
            .map_err(|e| store_error("recording an instance setting", e))?;
        records.insert(name.to_string(), value);
        Ok(result)
    }

    /// Creates a payload file for a task about to be registered.
    pub fn create_payload(&self) -> Result<(uuid::Uuid, File), ResponseError> {
        let id = uuid::Uuid::new_v4();
        let file = File::create(self.payload_path(id)).map_err(io_error)?;
        Ok((id, file))
    }

    pub fn payload_path(&self, id: uuid::Uuid) -> PathBuf {
        processing::payload_path(&self.inner, id)
    }

    /// Removes a payload that was written but never registered (its request failed).
    pub fn discard_payload(&self, id: uuid::Uuid) {
        let _ = std::fs::remove_file(self.payload_path(id));
    }

    /// Makes a payload durable: its bytes and its directory entry.
    pub fn persist_payload(&self, mut file: File) -> Result<(), ResponseError> {
        file.flush().map_err(io_error)?;
        file.sync_all().map_err(io_error)?;
        File::open(self.inner.options.db_path.join("payloads"))
            .and_then(|d| d.sync_all())
            .map_err(io_error)?;
        Ok(())
    }

    /// Enqueues a task durably and returns it.
    pub fn register(&self, kind: TaskKind) -> Result<Task, ResponseError> {
        self.register_with_metadata(kind, None)
    }

    /// [`Scheduler::register`] with the client's `customMetadata` kept on the task.
    pub fn register_with_metadata(
        &self,
        kind: TaskKind,
        custom_metadata: Option<String>,
    ) -> Result<Task, ResponseError> {
        if self.inner.shutdown.load(Ordering::SeqCst) {
            return Err(ResponseError::new(
                Code::Internal,
                "Quarry is shutting down.",
            ));
        }
        // The payload is sealed before the task exists: a payload damaged later on disk is
        // then detected when the task runs.
        let payload_seal = match &kind {
            TaskKind::DocumentAdditionOrUpdate { payload, .. } => {
                Some(PayloadSeal::of_file(&self.payload_path(*payload)).map_err(io_error)?)
            }
            _ => None,
        };
        let mut queue = self.inner.queue.lock();
        let uid = queue.next_task_uid;
        let task = Task {
            uid,
            batch_uid: None,
            status: Status::Enqueued,
            details: kind.initial_details(),
            index_uid: kind.index_uid().map(str::to_string),
            kind,
            error: None,
            canceled_by: None,
            enqueued_at: OffsetDateTime::now_utc(),
            started_at: None,
            finished_at: None,
            payload_seal,
            custom_metadata,
        };
        let changes = Changes {
            put_tasks: vec![task.clone()],
            ..Default::default()
        };
        self.inner
            .store
            .apply(&changes)
            .map_err(|e| store_error("recording a task", e))?;
        if let TaskKind::TaskCancelation { tasks, .. } = &task.kind {
            if queue.processing.iter().any(|uid| tasks.contains(uid)) {
                self.inner.abort_processing.store(true, Ordering::SeqCst);
            }
        }
        queue.next_task_uid += 1;
        queue.enqueued.insert(uid);
        queue.tasks.insert(uid, task.clone());
        drop(queue);
        self.inner.wake.notify_all();
        tracing::info!(task_uid = uid, task_type = task.kind.type_name(), index_uid = ?task.index_uid, "task enqueued");
        Ok(task)
    }

    pub fn task(&self, uid: u32) -> Option<Task> {
        self.inner.queue.lock().tasks.get(&uid).cloned()
    }

    /// Tasks matching `filter`, newest first (oldest first with `reverse`), paginated. Returns
    /// the page, the total number of matching tasks, and the uid of the next page's first task.
    pub fn tasks(&self, filter: &TaskFilter) -> (Vec<Task>, usize, Option<u32>) {
        self.tasks_where(filter, |_| true)
    }

    /// [`Scheduler::tasks`] among the tasks for which `visible` holds (an API key sees only
    /// the tasks of the indexes it covers).
    pub fn tasks_where(
        &self,
        filter: &TaskFilter,
        visible: impl Fn(&Task) -> bool,
    ) -> (Vec<Task>, usize, Option<u32>) {
        let queue = self.inner.queue.lock();
        let keep = |t: &&Task| filter_matches(filter, t) && visible(t);
        let matching: Vec<&Task> = if filter.reverse {
            queue.tasks.values().filter(keep).collect()
        } else {
            queue.tasks.values().rev().filter(keep).collect()
        };
        let total = matching.len();
        let start = match filter.from {
            None => 0,
            Some(from) if filter.reverse => matching.partition_point(|t| t.uid < from),
            Some(from) => matching.partition_point(|t| t.uid > from),
        };
        let limit = filter.limit as usize;
        let page: Vec<Task> = matching
            .iter()
            .skip(start)
            .take(limit)
            .map(|t| (*t).clone())
            .collect();
        let next = matching.get(start + limit).map(|t| t.uid);
        (page, total, next)
    }

    /// Uids of tasks matching `filter`, whatever their number (for cancel and delete).
    pub fn matching_task_uids(&self, filter: &TaskFilter) -> Vec<u32> {
        self.matching_task_uids_where(filter, |_| true)
    }

    /// [`Scheduler::matching_task_uids`] among the tasks for which `visible` holds.
    pub fn matching_task_uids_where(
        &self,
        filter: &TaskFilter,
        visible: impl Fn(&Task) -> bool,
    ) -> Vec<u32> {
        let queue = self.inner.queue.lock();
        queue
            .tasks
            .values()
            .filter(|t| filter_matches(filter, t) && visible(t))
            .map(|t| t.uid)
            .collect()
    }

    pub fn batch(&self, uid: u32) -> Option<Batch> {
        let queue = self.inner.queue.lock();
        queue
            .batches
            .get(&uid)
            .cloned()
            .or_else(|| queue.processing_batch.clone().filter(|b| b.uid == uid))
    }

    /// Batches holding at least one task matching `filter`, like [`Scheduler::tasks`].
    pub fn batches(&self, filter: &TaskFilter) -> (Vec<Batch>, usize, Option<u32>) {
        self.batches_where(filter, |_| true)
    }

    /// [`Scheduler::batches`] counting only the tasks for which `visible` holds.
    pub fn batches_where(
        &self,
        filter: &TaskFilter,
        visible: impl Fn(&Task) -> bool,
    ) -> (Vec<Batch>, usize, Option<u32>) {
        let queue = self.inner.queue.lock();
        let mut all: Vec<&Batch> = queue
            .batches
            .values()
            .chain(queue.processing_batch.iter())
            .collect();
        all.sort_by_key(|b| b.uid);
        if !filter.reverse {
            all.reverse();
        }
        let matching: Vec<&Batch> = all
            .into_iter()
            .filter(|b| {
                filter
                    .batch_uids
                    .as_ref()
                    .is_none_or(|u| u.contains(&b.uid))
                    && b.task_uids.iter().any(|uid| {
                        queue.tasks.get(uid).is_some_and(|t| {
                            visible(t)
                                && filter_matches(
                                    &TaskFilter {
                                        batch_uids: None,
                                        ..filter.clone()
                                    },
                                    t,
                                )
                        })
                    })
            })
            .collect();
        let total = matching.len();
        let start = match filter.from {
            None => 0,
            Some(from) if filter.reverse => matching.partition_point(|b| b.uid < from),
            Some(from) => matching.partition_point(|b| b.uid > from),
        };
        let limit = filter.limit as usize;
        let page = matching
            .iter()
            .skip(start)
            .take(limit)
            .map(|b| (*b).clone())
            .collect();
        let next = matching.get(start + limit).map(|b| b.uid);
        (page, total, next)
    }

    /// An open index, for reading.
    pub fn index(&self, uid: &str) -> Result<Arc<Index>, ResponseError> {
        self.inner
            .registry
            .get(uid)
            .ok_or_else(|| index_not_found(uid))
    }

    pub fn index_info(&self, uid: &str) -> Result<IndexInfo, ResponseError> {
        self.inner
            .registry
            .info(uid)
            .ok_or_else(|| index_not_found(uid))
    }

    /// Every index, sorted by uid.
    pub fn index_infos(&self) -> Vec<IndexInfo> {
        self.inner.registry.infos()
    }

    /// Every index, sorted by uid, with the open index to read it (one consistent listing).
    pub fn indexes(&self) -> Vec<(IndexInfo, Arc<Index>)> {
        self.inner.registry.all()
    }

    /// Whether a task of this index is being processed now.
    pub fn is_indexing(&self, uid: &str) -> bool {
        let queue = self.inner.queue.lock();
        queue.processing.iter().any(|t| {
            queue
                .tasks
                .get(t)
                .is_some_and(|t| t.kind.indexes().contains(&uid))
        })
    }

    /// When the last task finished, for `GET /stats`.
    pub fn last_update(&self) -> Option<OffsetDateTime> {
        let queue = self.inner.queue.lock();
        queue.tasks.values().filter_map(|t| t.finished_at).max()
    }

    /// Holds the writer: the batch in progress finishes, no new one starts until [`resume`].
    ///
    /// [`resume`]: Scheduler::resume
    pub fn pause(&self) {
        self.inner.paused.store(true, Ordering::SeqCst);
    }

    pub fn resume(&self) {
        self.inner.paused.store(false, Ordering::SeqCst);
        self.inner.wake.notify_all();
    }

    /// How many tasks are in each status now, for `/metrics` (every status is listed).
    pub fn queue_depth(&self) -> Vec<(&'static str, u64)> {
        let queue = self.inner.queue.lock();
        let mut counts: BTreeMap<&'static str, u64> = [
            Status::Enqueued,
            Status::Processing,
            Status::Succeeded,
            Status::Failed,
            Status::Canceled,
        ]
        .into_iter()
        .map(|s| (s.as_str(), 0))
        .collect();
        for task in queue.tasks.values() {
            *counts.entry(task.status.as_str()).or_default() += 1;
        }
        counts.into_iter().collect()
    }

    /// What the writer has done since the start, for `/metrics`.
    pub fn writer_metrics(&self) -> metrics::WriterMetricsSnapshot {
        self.inner.metrics.snapshot()
    }

    /// Waits until no task is enqueued or processing (tests and graceful tooling).
    pub fn wait_idle(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut queue = self.inner.queue.lock();
        while !queue.enqueued.is_empty() || !queue.processing.is_empty() {
            if self.inner.wake.wait_until(&mut queue, deadline).timed_out() {
                return false;
            }
        }
        true
    }

    /// Stops taking tasks, lets the writer finish (and commit) its batch, and waits for it.
    pub fn shutdown(&self) {
        self.inner.shutdown.store(true, Ordering::SeqCst);
        self.inner.wake.notify_all();
        if let Some(handle) = self.writer.lock().take() {
            let _ = handle.join();
        }
        self.inner.registry.close_all();
    }
}

pub(crate) fn index_not_found(uid: &str) -> ResponseError {
    ResponseError::new(Code::IndexNotFound, format!("Index `{uid}` not found."))
}

fn filter_matches(f: &TaskFilter, t: &Task) -> bool {
    let in_list = |list: &Option<Vec<u32>>, v: Option<u32>| {
        list.as_ref()
            .is_none_or(|l| v.is_some_and(|v| l.contains(&v)))
    };
    let before = |bound: &Option<OffsetDateTime>, v: Option<OffsetDateTime>| {
        bound.is_none_or(|b| v.is_some_and(|v| v < b))
    };
    let after = |bound: &Option<OffsetDateTime>, v: Option<OffsetDateTime>| {
        bound.is_none_or(|b| v.is_some_and(|v| v > b))
    };
    in_list(&f.uids, Some(t.uid))
        && in_list(&f.batch_uids, t.batch_uid)
        && in_list(&f.canceled_by, t.canceled_by)
        && f.types.as_ref().is_none_or(|types| types.iter().any(|ty| ty == t.kind.type_name()))
        && f.statuses.as_ref().is_none_or(|s| s.iter().any(|s| s == t.status.as_str()))
        && f.index_uids.as_ref().is_none_or(|uids| t.index_uid.as_ref().is_some_and(|u| uids.contains(u))
            || matches!(&t.kind, TaskKind::IndexSwap { .. } if t.kind.indexes().iter().any(|i| uids.iter().any(|u| u == i))))
        && before(&f.before_enqueued_at, Some(t.enqueued_at))
        && after(&f.after_enqueued_at, Some(t.enqueued_at))
        && before(&f.before_started_at, t.started_at)
        && after(&f.after_started_at, t.started_at)
        && before(&f.before_finished_at, t.finished_at)
        && after(&f.after_finished_at, t.finished_at)
}

fn check_version(dir: &Path) -> Result<(), ResponseError> {
    let path = dir.join("VERSION");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let version: u32 = text
                .trim()
                .parse()
                .map_err(|_| internal("reading VERSION", text.trim()))?;
            if version > DB_FORMAT_VERSION {
                return Err(ResponseError::new(
                    Code::Internal,
                    format!("The database at {} has format {version}; this Quarry reads up to {DB_FORMAT_VERSION}.", dir.display()),
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&path, format!("{DB_FORMAT_VERSION}\n")).map_err(io_error)
        }
        Err(e) => Err(io_error(e)),
    }
}

/// Whether `path` already holds a Quarry database (imports refuse to overwrite one).
pub fn holds_database(path: &Path) -> bool {
    path.join("meta.redb").exists()
}
