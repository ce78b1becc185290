//! The durable side of the queue: tasks, batches and the index registry in one redb database.
//! Every change is one redb transaction, committed with immediate durability (fsync) before the
//! caller is answered.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::task::{Batch, Task};

const TASKS: TableDefinition<u32, &[u8]> = TableDefinition::new("tasks");
const BATCHES: TableDefinition<u32, &[u8]> = TableDefinition::new("batches");
const INDEXES: TableDefinition<&str, &[u8]> = TableDefinition::new("indexes");
/// Instance-wide records (experimental features, webhooks), JSON by name.
const INSTANCE: TableDefinition<&str, &[u8]> = TableDefinition::new("instance");

/// Where an index lives and when it was created and last changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Name of the index's directory under `indexes/`.
    pub dir: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("task store: {0}")]
    Redb(#[from] redb::Error),
    #[error("task store record: {0}")]
    Json(#[from] serde_json::Error),
}

macro_rules! redb_from {
    ($($t:ty),*) => { $(impl From<$t> for StoreError { fn from(e: $t) -> Self { StoreError::Redb(e.into()) } })* };
}
redb_from!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

pub struct Store {
    /// Behind a lock so that a compaction (which needs the database alone) can run.
    db: parking_lot::Mutex<Database>,
}

/// Everything the store holds, read once at start.
pub struct Loaded {
    pub tasks: BTreeMap<u32, Task>,
    pub batches: BTreeMap<u32, Batch>,
    pub indexes: BTreeMap<String, IndexEntry>,
    pub instance: BTreeMap<String, serde_json::Value>,
}

/// A set of changes applied in one durable transaction.
#[derive(Default)]
pub struct Changes {
    pub put_tasks: Vec<Task>,
    pub delete_tasks: Vec<u32>,
    pub put_batches: Vec<Batch>,
    pub delete_batches: Vec<u32>,
    pub put_indexes: Vec<(String, IndexEntry)>,
    pub delete_indexes: Vec<String>,
    pub put_instance: Vec<(String, serde_json::Value)>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        txn.open_table(TASKS)?;
        txn.open_table(BATCHES)?;
        txn.open_table(INDEXES)?;
        txn.open_table(INSTANCE)?;
        txn.commit()?;
        Ok(Store {
            db: parking_lot::Mutex::new(db),
        })
    }

    pub fn load(&self) -> Result<Loaded, StoreError> {
        let txn = self.db.lock().begin_read()?;
        let mut tasks = BTreeMap::new();
        for row in txn.open_table(TASKS)?.iter()? {
            let (k, v) = row?;
            tasks.insert(k.value(), serde_json::from_slice(v.value())?);
        }
        let mut batches = BTreeMap::new();
        for row in txn.open_table(BATCHES)?.iter()? {
            let (k, v) = row?;
            batches.insert(k.value(), serde_json::from_slice(v.value())?);
        }
        let mut indexes = BTreeMap::new();
        for row in txn.open_table(INDEXES)?.iter()? {
            let (k, v) = row?;
            indexes.insert(k.value().to_string(), serde_json::from_slice(v.value())?);
        }
        let mut instance = BTreeMap::new();
        for row in txn.open_table(INSTANCE)?.iter()? {
            let (k, v) = row?;
            instance.insert(k.value().to_string(), serde_json::from_slice(v.value())?);
        }
        Ok(Loaded {
            tasks,
            batches,
            indexes,
            instance,
        })
    }

    /// Copies every table, as one read transaction sees them, into a new database at `path`,
    /// passing each task through `edit` first. Returns what the copy holds.
    pub fn copy_to(&self, path: &Path, edit: impl Fn(&mut Task)) -> Result<Loaded, StoreError> {
        let read = self.db.lock().begin_read()?;
        let copy = Database::create(path)?;
        let write = copy.begin_write()?;
        let mut loaded = Loaded {
            tasks: BTreeMap::new(),
            batches: BTreeMap::new(),
            indexes: BTreeMap::new(),
            instance: BTreeMap::new(),
        };
        {
            let mut tasks = write.open_table(TASKS)?;
            for row in read.open_table(TASKS)?.iter()? {
                let (k, v) = row?;
                let mut task: Task = serde_json::from_slice(v.value())?;
                edit(&mut task);
                tasks.insert(k.value(), serde_json::to_vec(&task)?.as_slice())?;
                loaded.tasks.insert(k.value(), task);
            }
            let mut batches = write.open_table(BATCHES)?;
            for row in read.open_table(BATCHES)?.iter()? {
                let (k, v) = row?;
                batches.insert(k.value(), v.value())?;
                loaded
                    .batches
                    .insert(k.value(), serde_json::from_slice(v.value())?);
            }
            let mut indexes = write.open_table(INDEXES)?;
            for row in read.open_table(INDEXES)?.iter()? {
                let (k, v) = row?;
                indexes.insert(k.value(), v.value())?;
                loaded
                    .indexes
                    .insert(k.value().to_string(), serde_json::from_slice(v.value())?);
            }
            let mut instance = write.open_table(INSTANCE)?;
            for row in read.open_table(INSTANCE)?.iter()? {
                let (k, v) = row?;
                instance.insert(k.value(), v.value())?;
                loaded
                    .instance
                    .insert(k.value().to_string(), serde_json::from_slice(v.value())?);
            }
        }
        write.commit()?;
        Ok(loaded)
    }

    /// Rewrites the database file without its free pages (`taskCompaction`).
    pub fn compact(&self) -> Result<(), StoreError> {
        self.db
            .lock()
            .compact()
            .map_err(|e| StoreError::Redb(e.into()))?;
        Ok(())
    }

    /// Applies `changes` atomically and durably.
    pub fn apply(&self, changes: &Changes) -> Result<(), StoreError> {
        let db = self.db.lock();
        let txn = db.begin_write()?;
        {
            let mut tasks = txn.open_table(TASKS)?;
            for task in &changes.put_tasks {
                tasks.insert(task.uid, serde_json::to_vec(task)?.as_slice())?;
            }
            for uid in &changes.delete_tasks {
                tasks.remove(uid)?;
            }
            let mut batches = txn.open_table(BATCHES)?;
            for batch in &changes.put_batches {
                batches.insert(batch.uid, serde_json::to_vec(batch)?.as_slice())?;
            }
            for uid in &changes.delete_batches {
                batches.remove(uid)?;
            }
            let mut indexes = txn.open_table(INDEXES)?;
            for (uid, entry) in &changes.put_indexes {
                indexes.insert(uid.as_str(), serde_json::to_vec(entry)?.as_slice())?;
            }
            for uid in &changes.delete_indexes {
                indexes.remove(uid.as_str())?;
            }
            let mut instance = txn.open_table(INSTANCE)?;
            for (name, value) in &changes.put_instance {
                instance.insert(name.as_str(), serde_json::to_vec(value)?.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}
