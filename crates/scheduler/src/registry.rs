//! The open indexes, by uid. Readers take an `Arc<Index>` and keep searching it even while the
//! writer swaps, renames or deletes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use quarry_api_types::ResponseError;
use quarry_engine::{Index, IndexOptions};
use time::OffsetDateTime;

use crate::store::IndexEntry;
use crate::{internal, io_error};

/// What `GET /indexes` shows of an index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexInfo {
    pub uid: String,
    pub primary_key: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub(crate) struct Registry {
    root: PathBuf,
    options: IndexOptions,
    indexes: RwLock<BTreeMap<String, (IndexEntry, Arc<Index>)>>,
}

/// After a restart, builds the indexes' per-segment tables and warms their first keystrokes
/// (`engine::search::first_keystrokes`) on one background thread, index after index, so that
/// the server answers at once and the first users do not each pay for a cold snapshot.
fn warm_in_background(indexes: Vec<Arc<Index>>) {
    if indexes.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("quarry-warm".into())
        .spawn(move || {
            for index in indexes {
                index.warm();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "the warm-up thread could not start");
    }
}

impl Registry {
    /// Opens every registered index and removes directories no entry points to (left by a
    /// crash between creating an index and registering it).
    pub fn open(
        root: &Path,
        entries: &BTreeMap<String, IndexEntry>,
        options: IndexOptions,
    ) -> Result<Registry, ResponseError> {
        let mut indexes = BTreeMap::new();
        for (uid, entry) in entries {
            let index = Index::open(&root.join(&entry.dir), options)
                .map_err(|e| internal(&format!("opening index `{uid}`"), e))?;
            indexes.insert(uid.clone(), (entry.clone(), Arc::new(index)));
        }
        let known: std::collections::HashSet<&str> =
            entries.values().map(|e| e.dir.as_str()).collect();
        for dir in std::fs::read_dir(root).map_err(io_error)?.flatten() {
            let name = dir.file_name().to_string_lossy().into_owned();
            if !known.contains(name.as_str()) {
                tracing::warn!(dir = %name, "removing an index directory left by an interrupted task");
                let _ = std::fs::remove_dir_all(dir.path());
            }
        }
        warm_in_background(indexes.values().map(|(_, index)| index.clone()).collect());
        Ok(Registry {
            root: root.to_path_buf(),
            options,
            indexes: RwLock::new(indexes),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn options(&self) -> IndexOptions {
        self.options
    }

    pub fn get(&self, uid: &str) -> Option<Arc<Index>> {
        self.indexes.read().get(uid).map(|(_, i)| i.clone())
    }

    pub fn entry(&self, uid: &str) -> Option<IndexEntry> {
        self.indexes.read().get(uid).map(|(e, _)| e.clone())
    }

    pub fn contains(&self, uid: &str) -> bool {
        self.indexes.read().contains_key(uid)
    }

    pub fn info(&self, uid: &str) -> Option<IndexInfo> {
        self.indexes.read().get(uid).map(|(e, i)| info(uid, e, i))
    }

    /// Every index with its description, taken together so that an index deleted meanwhile
    /// cannot be listed without being readable.
    pub fn all(&self) -> Vec<(IndexInfo, Arc<Index>)> {
        self.indexes
            .read()
            .iter()
            .map(|(uid, (e, i))| (info(uid, e, i), i.clone()))
            .collect()
    }

    /// Whether any index is merging segments in the background.
    pub fn any_merging(&self) -> bool {
        self.indexes.read().values().any(|(_, i)| i.is_merging())
    }

    pub fn infos(&self) -> Vec<IndexInfo> {
        self.indexes
            .read()
            .iter()
            .map(|(uid, (e, i))| info(uid, e, i))
            .collect()
    }

    pub fn insert(&self, uid: &str, entry: IndexEntry, index: Arc<Index>) {
        self.indexes.write().insert(uid.to_string(), (entry, index));
    }

    pub fn set_entry(&self, uid: &str, entry: IndexEntry) {
        if let Some(slot) = self.indexes.write().get_mut(uid) {
            slot.0 = entry;
        }
    }

    pub fn remove(&self, uid: &str) -> Option<(IndexEntry, Arc<Index>)> {
        self.indexes.write().remove(uid)
    }

    /// Exchanges two indexes' uids, or renames `a` to `b` when `b` does not exist.
    pub fn swap(&self, a: &str, b: &str) {
        let mut map = self.indexes.write();
        let first = map.remove(a);
        let second = map.remove(b);
        if let Some(v) = first {
            map.insert(b.to_string(), v);
        }
        if let Some(v) = second {
            map.insert(a.to_string(), v);
        }
    }

    /// At shutdown: releases every writer. A background merge still running is abandoned (the
    /// index keeps its last commit; it is merged again after the restart) instead of holding
    /// the stop until it ends.
    pub fn close_all(&self) {
        for (uid, (_, index)) in self.indexes.read().iter() {
            if index.is_merging() {
                tracing::info!(index_uid = %uid, "abandoning a background merge to stop");
            }
            index.release_writer_for_shutdown();
        }
    }
}

fn info(uid: &str, entry: &IndexEntry, index: &Index) -> IndexInfo {
    IndexInfo {
        uid: uid.to_string(),
        primary_key: index.primary_key(),
        created_at: entry.created_at,
        updated_at: entry.updated_at,
    }
}
